"""Code actions as the client receives them: kinds, attached diagnostics, `only` filters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from lsprotocol import types

from samokoder.server import build_server
from samokoder.server.capabilities import ClientFeatures

URI = "file:///ws/app.py"
SELECTION = types.Range(types.Position(3, 0), types.Position(5, 0))
CURSOR = types.Range(types.Position(0, 2), types.Position(0, 2))


def diagnostic(message: str, line: int = 0) -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(types.Position(line, 0), types.Position(line, 9)),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        source="ruff",
        code="F401",
    )


def handler(literals: bool = True) -> Callable[[types.CodeActionParams], list[Any]]:
    server = build_server()
    server.features = ClientFeatures(code_action_literals=literals)
    return server.protocol.fm.features[types.TEXT_DOCUMENT_CODE_ACTION]  # type: ignore[no-any-return]


def params(
    rng: types.Range,
    diagnostics: Sequence[types.Diagnostic] = (),
    only: list[str] | None = None,
) -> types.CodeActionParams:
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        range=rng,
        context=types.CodeActionContext(diagnostics=list(diagnostics), only=only),
    )


def test_selection_offers_edit_explain_and_tests() -> None:
    actions = handler()(params(SELECTION))
    assert [(a.title, a.kind, a.command.command) for a in actions] == [
        ("Edit selection…", "refactor.rewrite", "samokoder.editSelection"),
        ("Explain", "samokoder.explain", "samokoder.explain"),
        ("Write tests", "samokoder.writeTests", "samokoder.writeTests"),
    ]
    for action in actions:
        [arg] = action.command.arguments
        assert arg == {
            "uri": URI,
            "range": {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}},
        }


def test_quick_fix_carries_its_diagnostic() -> None:
    unused = diagnostic("`os` imported but unused")
    [action] = handler()(params(CURSOR, [unused]))
    assert action.title == "Fix with Samokoder" and action.kind == "quickfix"
    assert action.diagnostics == [unused]
    [arg] = action.command.arguments
    assert arg["uri"] == URI and arg["range"]["start"] == {"line": 0, "character": 0}
    assert arg["diagnostics"] == [
        {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 9}},
            "message": "`os` imported but unused",
            "severity": 1,
            "source": "ruff",
            "code": "F401",
        }
    ]


def test_several_diagnostics_are_told_apart_and_capped() -> None:
    many = [diagnostic(f"problem number {i}", i) for i in range(8)]
    actions = handler()(params(CURSOR, many))
    assert len(actions) == 5
    assert actions[0].title == "Fix with Samokoder: problem number 0"


@pytest.mark.parametrize(
    ("only", "titles"),
    [
        (["quickfix"], ["Fix with Samokoder"]),
        (["refactor"], ["Edit selection…"]),
        (["refactor.rewrite"], ["Edit selection…"]),
        (["samokoder"], ["Explain", "Write tests"]),
        (["source"], []),
    ],
)
def test_only_filters_by_kind(only: list[str], titles: list[str]) -> None:
    actions = handler()(params(SELECTION, [diagnostic("x")], only))
    assert [a.title for a in actions] == titles


def test_plain_commands_for_clients_without_literals() -> None:
    actions = handler(literals=False)(params(SELECTION, [diagnostic("x")]))
    assert all(isinstance(a, types.Command) for a in actions)
    assert [a.command for a in actions] == [
        "samokoder.fixDiagnostics",
        "samokoder.editSelection",
        "samokoder.explain",
        "samokoder.writeTests",
    ]
