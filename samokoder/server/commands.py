"""`workspace/executeCommand` handlers: thin, each turns arguments into a domain call."""

from __future__ import annotations

import asyncio
from typing import Any

from samokoder.server.app import SamokoderServer
from samokoder.server.arguments import (
    lsp_range,
    one_object,
    optional_int,
    optional_str,
    require_str,
)
from samokoder.server.errors import rpc_errors

EDIT_SELECTION = "samokoder.editSelection"
CANCEL = "samokoder.cancel"
UNDO = "samokoder.undo"
REDO = "samokoder.redo"
HISTORY = "samokoder.history"
USAGE = "samokoder.usage"


def register(server: SamokoderServer) -> None:
    @server.command(EDIT_SELECTION)
    @rpc_errors
    async def edit_selection(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        return await start_edit_selection(
            ls, one_object(args, EDIT_SELECTION, "{uri, range, instruction?}")
        )

    @server.command(CANCEL)
    @rpc_errors
    async def cancel(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        from samokoder.errors import NotFoundError

        run_id = require_str(one_object(args, CANCEL, "{runId}"), "runId")
        services = await ls.services()
        if not services.runs.cancel(run_id):
            raise NotFoundError(f"No active run {run_id!r}: it has finished or never existed.")
        return {}

    @server.command(UNDO)
    @rpc_errors
    async def undo(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        from samokoder.agents import steps

        one_object(args, UNDO, "{}")
        services = await ls.services()
        return await steps.undo(await ls.project_for(), services.host)

    @server.command(REDO)
    @rpc_errors
    async def redo(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        from samokoder.agents import steps

        one_object(args, REDO, "{}")
        services = await ls.services()
        return await steps.redo(await ls.project_for(), services.host)

    @server.command(HISTORY)
    @rpc_errors
    async def history(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        from samokoder.agents import steps

        arg = one_object(args, HISTORY, "{limit?}")
        limit = optional_int(arg, "limit", 50, 1, 1000)
        return await steps.history(await ls.project_for(), limit)

    @server.command(USAGE)
    @rpc_errors
    async def usage(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        arg = one_object(args, USAGE, "{runId?}")
        run_id = optional_str(arg, "runId")
        project = await ls.project_for()
        result: dict[str, Any] = await asyncio.to_thread(project.store.usage, run_id)
        return result


async def start_edit_selection(ls: SamokoderServer, arg: dict[str, Any]) -> dict[str, Any]:
    from samokoder.agents.edit_selection import AGENT, SelectionRequest, run_edit_selection
    from samokoder.agents.llm_gateway import NO_MODEL
    from samokoder.agents.steps import current_state
    from samokoder.errors import (
        InvalidArgumentError,
        NoModelConfiguredError,
        NotFoundError,
    )
    from samokoder.workspace.textedits import Position, offset_at

    services = await ls.services()
    settings = await ls.settings()
    project, rel = await ls.project_for_uri(arg.get("uri"))
    (sl, sc), (el, ec) = lsp_range(arg.get("range"))
    instruction = optional_str(arg, "instruction")
    if project.is_secret(rel):
        raise InvalidArgumentError(
            f"{rel} looks like a secret or ignored file; Samokoder does not send it to a model."
        )
    if not settings.model_for(AGENT):
        raise NoModelConfiguredError(NO_MODEL)
    if instruction is None and not ls.features.ask:
        raise InvalidArgumentError(
            "'instruction' is required: this client cannot be asked for one "
            "(it does not announce experimental.samokoderAsk)."
        )
    state = await current_state(project, services.host, rel)
    if state.text is None:
        raise NotFoundError(f"{rel} does not exist.")
    try:
        start = offset_at(state.text, Position(sl, sc))
        end = offset_at(state.text, Position(el, ec))
    except ValueError as exc:
        lines = state.text.count("\n") + 1
        raise InvalidArgumentError(f"range is not inside {rel} ({lines} lines): {exc}") from None
    request = SelectionRequest(rel, state.text, start, end, instruction)
    run_id = await services.runs.start(
        kind="editSelection",
        title=f"Samokoder: editing {rel}",
        description=instruction or "",
        project=project,
        settings=settings,
        host=services.host,
        review_mode=ls.review_mode(settings),
        body=lambda ctx: run_edit_selection(ctx, request),
    )
    return {"runId": run_id}
