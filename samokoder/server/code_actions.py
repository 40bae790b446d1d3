"""Code actions only carry a command; the work is a run (DESIGN §8). They answer at once."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from samokoder.server.app import SamokoderServer

EDIT_TITLE = "Edit selection…"
EXPLAIN_TITLE = "Explain"
TESTS_TITLE = "Write tests"
FIX_TITLE = "Fix with Samokoder"
EXPLAIN_KIND = "samokoder.explain"
TESTS_KIND = "samokoder.writeTests"
MAX_QUICK_FIXES = 5

Action = types.CodeAction | types.Command


def register(server: SamokoderServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                types.CodeActionKind.RefactorRewrite,
                types.CodeActionKind.QuickFix,
                EXPLAIN_KIND,
                TESTS_KIND,
            ],
            resolve_provider=False,
        ),
    )
    def code_action(ls: SamokoderServer, params: types.CodeActionParams) -> list[Action]:
        uri = params.text_document.uri
        only = params.context.only
        actions: list[Action] = []
        if _wanted(types.CodeActionKind.QuickFix, only):
            diagnostics = list(params.context.diagnostics)[:MAX_QUICK_FIXES]
            for d in diagnostics:
                title = FIX_TITLE if len(diagnostics) == 1 else f"{FIX_TITLE}: {_short(d.message)}"
                arg = {"uri": uri, "range": _range(d.range), "diagnostics": [_diagnostic(d)]}
                command = types.Command(title, "samokoder.fixDiagnostics", arguments=[arg])
                actions.append(_action(ls, command, types.CodeActionKind.QuickFix, [d]))
        rng = params.range
        if rng.start != rng.end:
            selection = {"uri": uri, "range": _range(rng)}
            for title, name, kind in (
                (EDIT_TITLE, "samokoder.editSelection", types.CodeActionKind.RefactorRewrite),
                (EXPLAIN_TITLE, "samokoder.explain", EXPLAIN_KIND),
                (TESTS_TITLE, "samokoder.writeTests", TESTS_KIND),
            ):
                if _wanted(kind, only):
                    command = types.Command(title, name, arguments=[dict(selection)])
                    actions.append(_action(ls, command, kind, None))
        return actions


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether the client asked for this kind (`only` names kinds and their parents)."""
    if not only:
        return True
    return any(kind == str(o) or kind.startswith(f"{o}.") for o in only)


def _action(
    ls: SamokoderServer,
    command: types.Command,
    kind: str,
    diagnostics: list[types.Diagnostic] | None,
) -> Action:
    if not ls.features.code_action_literals:
        return command
    return types.CodeAction(
        title=command.title, kind=kind, diagnostics=diagnostics, command=command
    )


def _range(rng: types.Range) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def _diagnostic(d: types.Diagnostic) -> dict[str, object]:
    out: dict[str, object] = {"range": _range(d.range), "message": d.message}
    if d.severity is not None:
        out["severity"] = int(d.severity)
    if d.source:
        out["source"] = d.source
    if d.code is not None:
        out["code"] = d.code
    return out


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
