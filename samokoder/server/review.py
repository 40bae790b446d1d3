"""Review handlers: accept, reject, and the file contents a client diffs (DESIGN §4)."""

from __future__ import annotations

from typing import Any

from samokoder.server.app import SamokoderServer
from samokoder.server.arguments import as_plain, one_object
from samokoder.server.errors import rpc_errors

ACCEPT = "samokoder.review.accept"
REJECT = "samokoder.review.reject"
PROPOSAL_FILE = "samokoder/proposalFile"


def register(server: SamokoderServer) -> None:
    @server.command(ACCEPT)
    @rpc_errors
    async def accept(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        arg = one_object(args, ACCEPT, "{proposalId, files?}")
        services = await ls.services()
        return await services.book.accept(arg.get("proposalId"), arg.get("files"), services.host)

    @server.command(REJECT)
    @rpc_errors
    async def reject(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        arg = one_object(args, REJECT, "{proposalId, feedback?}")
        services = await ls.services()
        return await services.book.reject(arg.get("proposalId"), arg.get("feedback"))

    @server.feature(PROPOSAL_FILE)
    @rpc_errors
    async def proposal_file(ls: SamokoderServer, params: Any) -> dict[str, str]:
        from samokoder.errors import InvalidArgumentError

        params = as_plain(params)
        if not isinstance(params, dict):
            raise InvalidArgumentError(f"{PROPOSAL_FILE} takes {{proposalId, path}}")
        services = await ls.services()
        return await services.book.file_view(params.get("proposalId"), params.get("path"))
