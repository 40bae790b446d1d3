"""Code actions only carry a command; the work is a run (DESIGN §8). They answer at once."""

from __future__ import annotations

from lsprotocol import types

from samokoder.server.app import SamokoderServer

EDIT_TITLE = "Edit selection…"


def register(server: SamokoderServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.RefactorRewrite], resolve_provider=False
        ),
    )
    def code_action(
        ls: SamokoderServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command]:
        rng = params.range
        if rng.start == rng.end:
            return []
        if params.context.only and not any(
            str(kind).startswith(("refactor", types.CodeActionKind.RefactorRewrite))
            for kind in params.context.only
        ):
            return []
        command = types.Command(
            title=EDIT_TITLE,
            command="samokoder.editSelection",
            arguments=[
                {
                    "uri": params.text_document.uri,
                    "range": {
                        "start": {"line": rng.start.line, "character": rng.start.character},
                        "end": {"line": rng.end.line, "character": rng.end.character},
                    },
                }
            ],
        )
        if not ls.features.code_action_literals:
            return [command]
        return [
            types.CodeAction(
                title=EDIT_TITLE, kind=types.CodeActionKind.RefactorRewrite, command=command
            )
        ]
