"""Code actions only carry a command; the work is a run (DESIGN §8). They answer at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from samokoder.server.app import SamokoderServer

EDIT = "samokoder.editSelection"
EDIT_TITLE = "Edit selection…"
PREFIX = "Samokoder: "
# For clients that cannot be asked for an instruction and have no instruction comment.
COMMON_INSTRUCTIONS = (
    (
        f"{PREFIX}add docstrings",
        "Add docstrings (or this language's documentation comments) to the functions, "
        "classes and methods in the selection. Change no code.",
    ),
    (
        f"{PREFIX}add type hints",
        "Add type annotations to the parameters, return values and variables in the "
        "selection where the type is not obvious. Change no behaviour.",
    ),
    (f"{PREFIX}simplify", "Simplify the selected code without changing what it does."),
)
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
            selection: dict[str, Any] = {"uri": uri, "range": _range(rng)}
            if _wanted(types.CodeActionKind.RefactorRewrite, only):
                actions += _edit_actions(ls, uri, rng, selection)
            for title, name, kind in (
                (EXPLAIN_TITLE, "samokoder.explain", EXPLAIN_KIND),
                (TESTS_TITLE, "samokoder.writeTests", TESTS_KIND),
            ):
                if _wanted(kind, only):
                    command = types.Command(title, name, arguments=[dict(selection)])
                    actions.append(_action(ls, command, kind, None))
        return actions


def _edit_actions(
    ls: SamokoderServer, uri: str, rng: types.Range, selection: dict[str, Any]
) -> list[Action]:
    """Edit actions every client can run: the instruction written in an instruction comment
    (`# samokoder: ...`), "Edit selection…" where the client can be asked for one, else a
    few common instructions. Only the open buffer is read: no disk, no waiting."""
    from samokoder.agents import instruction_comments as comments  # loaded with the domain

    rewrite = types.CodeActionKind.RefactorRewrite
    text = _open_text(ls, uri)
    found = None
    if text is not None:
        lines = comments.selection_lines(rng.start.line, rng.end.line, rng.end.character)
        found = comments.find_instruction(text, uri, *lines)
    actions: list[Action] = []
    if found is not None:
        arg = selection | {"fromComment": True}
        command = types.Command(f"{PREFIX}{_short(found.instruction, 60)}", EDIT, arguments=[arg])
        actions.append(_action(ls, command, rewrite, None, preferred=True))
    if ls.features.ask or text is None:  # unknown text: the server looks for a comment at run
        actions.append(
            _action(ls, types.Command(EDIT_TITLE, EDIT, arguments=[dict(selection)]), rewrite, None)
        )
    elif found is None:
        for title, instruction in COMMON_INSTRUCTIONS:
            arg = selection | {"instruction": instruction}
            actions.append(_action(ls, types.Command(title, EDIT, arguments=[arg]), rewrite, None))
    return actions


def _open_text(ls: SamokoderServer, uri: str) -> str | None:
    """The text of an open document; None for one the client has not opened."""
    try:
        doc = ls.workspace.text_documents.get(uri)
    except RuntimeError:  # before `initialize` there is no workspace, so nothing is open
        return None
    return None if doc is None else doc.source


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
    *,
    preferred: bool = False,
) -> Action:
    if not ls.features.code_action_literals:
        return command
    return types.CodeAction(
        title=command.title,
        kind=kind,
        diagnostics=diagnostics,
        command=command,
        is_preferred=True if preferred else None,
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
