"""Code actions as the client receives them: kinds, attached diagnostics, `only` filters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from lsprotocol import types

from samokoder.agents import instruction_comments as comments
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


def handler(
    literals: bool = True, *, ask: bool = False, text: str | None = None
) -> Callable[[types.CodeActionParams], list[Any]]:
    """The code action handler; `text` opens URI with that content first."""
    server = build_server()
    server.features = ClientFeatures(code_action_literals=literals, ask=ask)
    if text is not None:
        from pygls.workspace import Workspace

        server.protocol._workspace = Workspace(None)
        server.workspace.put_text_document(
            types.TextDocumentItem(uri=URI, language_id="python", version=1, text=text)
        )
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


APP = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
COMMENTED = APP.replace("def greet", "# samokoder: use an f-string\ndef greet")
GREET_LINES = types.Range(types.Position(4, 0), types.Position(6, 0))  # below the comment


@pytest.mark.parametrize("ask", [False, True])
def test_instruction_comment_is_offered_by_its_title(ask: bool) -> None:
    actions = handler(ask=ask, text=COMMENTED)(params(GREET_LINES))
    first = actions[0]
    assert (first.title, first.kind, first.is_preferred) == (
        "Samokoder: use an f-string",
        "refactor.rewrite",
        True,
    )
    [arg] = first.command.arguments
    assert arg["fromComment"] is True and arg["range"]["start"] == {"line": 4, "character": 0}
    titles = [a.title for a in actions[1:]]
    # a client that can be asked still gets "Edit selection…"; no common instructions here
    expected = ["Edit selection…"] if ask else []
    assert titles == [*expected, "Explain", "Write tests"]


def test_plain_client_without_a_comment_gets_common_instructions() -> None:
    actions = handler(text=APP)(params(SELECTION))
    titles = [a.title for a in actions]
    assert "Edit selection…" not in titles
    edits = [a for a in actions if a.command.command == "samokoder.editSelection"]
    assert [a.title for a in edits] == [
        "Samokoder: add docstrings",
        "Samokoder: add type hints",
        "Samokoder: simplify",
    ]
    for action in edits:
        [arg] = action.command.arguments
        assert arg["instruction"] and arg["range"]["start"] == {"line": 3, "character": 0}


@pytest.mark.parametrize(
    ("path", "text", "lines", "instruction", "left"),
    [
        (
            "a.py",
            "x = 1\n# samokoder: use pathlib\ndef f():\n",
            (2, 2),
            "use pathlib",
            "x = 1\ndef f():\n",
        ),
        (
            "a.py",
            "def f():\n    return 1  # samokoder: cache it\n",
            (0, 1),
            "cache it",
            "def f():\n    return 1\n",
        ),
        (
            "a.ts",
            "// samokoder: add JSDoc\r\nfunction f() {}\r\n",
            (1, 1),
            "add JSDoc",
            "function f() {}\r\n",
        ),
        ("a.c", "/* SAMOKODER: check bounds */\nint f();\n", (1, 1), "check bounds", "int f();\n"),
        (
            "a.lua",
            "-- samokoder: use ipairs\nfor k in t do end",
            (0, 1),
            "use ipairs",
            "for k in t do end",
        ),
        (
            "init.el",
            ";;; samokoder: add a docstring\n(defun f ())\n",
            (1, 1),
            "add a docstring",
            "(defun f ())\n",
        ),
        ("a.html", "<!-- samokoder: add alt text -->\n<img>\n", (1, 1), "add alt text", "<img>\n"),
        ("notes.unknown", "; samokoder: sort\nb\na\n", (1, 2), "sort", "b\na\n"),
        # above a block of comments: still found
        (
            "a.py",
            "# samokoder: rename\n# helper\ndef f(): ...\n",
            (2, 2),
            "rename",
            "# helper\ndef f(): ...\n",
        ),
    ],
)
def test_instruction_comments_in_each_syntax(
    path: str, text: str, lines: tuple[int, int], instruction: str, left: str
) -> None:
    found = comments.find_instruction(text, path, *lines)
    assert found is not None and found.instruction == instruction
    assert comments.without(text, found, 0, 0)[0] == left


@pytest.mark.parametrize(
    ("path", "text", "lines"),
    [
        ("a.py", "x = 1\n\n# samokoder: far away\n\ndef f(): ...\n", (4, 4)),  # blank between
        ("a.py", "# samokoder:\ndef f(): ...\n", (1, 1)),  # no instruction
        ("a.py", "// samokoder: wrong syntax\ndef f(): ...\n", (1, 1)),
        ("a.py", "s = 'samokoder: in a string'\n", (0, 0)),
        ("a.py", "def f(): ...\n# samokoder: below\n", (0, 0)),
    ],
)
def test_what_is_not_an_instruction_comment(path: str, text: str, lines: tuple[int, int]) -> None:
    assert comments.find_instruction(text, path, *lines) is None


def test_offsets_follow_the_removed_comment() -> None:
    text = "a\n# samokoder: x\nb\n"
    found = comments.find_instruction(text, "f.py", 1, 2)
    assert found is not None
    cleaned, start, end = comments.without(text, found, text.index("#"), len(text))
    assert cleaned == "a\nb\n" and cleaned[start:end] == "b\n"
    assert comments.example("f.rs") == "// samokoder: add type hints"
    assert comments.example("page.html") == "<!-- samokoder: add type hints -->"


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_deep_in_a_large_file_with_each_line_break(eol: str) -> None:
    lines = [f"x{i} = {i}  # plain comment" for i in range(5000)]
    lines[4200] = "# samokoder: deep"
    text = eol.join(lines) + eol
    found = comments.find_instruction(text, "big.py", 4201, 4202)
    assert found is not None and (found.instruction, found.line) == ("deep", 4200)
    assert text[found.start : found.end] == "# samokoder: deep" + eol
    inside = comments.find_instruction(text, "big.py", 10, 4999)  # a selection of most lines
    assert inside is not None and inside.line == 4200
    assert comments.find_instruction(text, "big.py", 6000, 6001) is None  # past the end
