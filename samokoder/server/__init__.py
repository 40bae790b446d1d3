"""The LSP adapter: one pygls server, one module per feature area."""

from __future__ import annotations

from lsprotocol import types

from samokoder.server import code_actions, commands, lifecycle, review
from samokoder.server.app import SamokoderServer


def build_server(*, token: str | None = None) -> SamokoderServer:
    server = SamokoderServer(token=token)
    lifecycle.register(server)
    commands.register(server)
    review.register(server)
    code_actions.register(server)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: SamokoderServer, params: types.WorkDoneProgressCancelParams) -> None:
        run_id = ls.token_runs.get(str(params.token))
        if run_id is not None and ls._services is not None:
            ls._services.runs.cancel(run_id)

    return server
