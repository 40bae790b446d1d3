"""`workspace/executeCommand`: every command is one row of `COMMANDS`.

A row names the command, the model its one argument must fit (in
`agents/command_args.py`) and what handles it. A command that starts a run is
handled by one `prepare_*` in `agents/prepare.py`, which checks every precondition
and returns the run's request; the handler here is only "parse, prepare, start".
The models and the domain load on the first command, never at startup.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samokoder.server.app import SamokoderServer
from samokoder.server.arguments import one_object
from samokoder.server.errors import rpc_errors

if TYPE_CHECKING:
    from samokoder.agents.command_args import HistoryArgs, RunIdArgs, StepArgs, UsageArgs
    from samokoder.agents.host import Host
    from samokoder.agents.prepare import Session
    from samokoder.agents.project import Project

Handler = Callable[[SamokoderServer, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    """The argument's model, by name in `samokoder.agents.command_args`."""
    handle: Handler
    all_optional: bool = False
    """Every field may be left out, so Neovim's `[]` for an empty table counts as `{}`."""


@dataclass
class EditorSession:
    """The connection as `agents.prepare.Session`: projects, the host, what the client can do."""

    ls: SamokoderServer
    host: Host

    @property
    def ask_supported(self) -> bool:
        return self.ls.features.ask

    async def project_for(self, path: Path | None = None) -> Project:
        return await self.ls.project_for(path)

    async def project_for_uri(self, uri: str) -> tuple[Project, str]:
        return await self.ls.project_for_uri(uri)

    def fs_path(self, uri: str) -> Path:
        from pygls.uris import to_fs_path

        from samokoder.errors import OutsideWorkspaceError

        fs_path = to_fs_path(uri)
        if not fs_path or "\x00" in fs_path:
            raise OutsideWorkspaceError(uri, "it is not a file path")
        return Path(fs_path)

    def active_runs(self) -> list[str]:
        services = self.ls._services
        return services.runs.active() if services is not None else []


def starts_run(prepare: str) -> Handler:
    """A handler that starts the run `agents.prepare.<prepare>` makes ready: {runId}."""

    async def handle(ls: SamokoderServer, args: Any) -> dict[str, Any]:
        module = importlib.import_module("samokoder.agents.prepare")
        services = await ls.services()
        session: Session = EditorSession(ls, services.host)
        request = await getattr(module, prepare)(session, args)
        run_id = await ls.start_run(request)
        if request.resumes is not None:
            return {"runId": run_id, "resumes": request.resumes}
        return {"runId": run_id}

    handle.__name__ = prepare
    return handle


async def cancel(ls: SamokoderServer, args: RunIdArgs) -> dict[str, Any]:
    from samokoder.errors import NotFoundError

    services = await ls.services()
    if not services.runs.cancel(args.run_id):
        raise NotFoundError(f"No active run {args.run_id!r}: it has finished or never existed.")
    return {}


async def undo(ls: SamokoderServer, args: StepArgs) -> dict[str, Any]:
    from samokoder.agents import steps

    services = await ls.services()
    return await steps.undo(await ls.project_for(), services.host, args.step_id)


async def redo(ls: SamokoderServer, args: StepArgs) -> dict[str, Any]:
    from samokoder.agents import steps

    services = await ls.services()
    return await steps.redo(await ls.project_for(), services.host, args.step_id)


async def history(ls: SamokoderServer, args: HistoryArgs) -> dict[str, Any]:
    from samokoder.agents import steps
    from samokoder.agents.command_gate import command_history

    project = await ls.project_for()
    result = await steps.history(project, args.limit)
    result["commands"] = await command_history(project.store, args.limit)
    return result


async def usage(ls: SamokoderServer, args: UsageArgs) -> dict[str, Any]:
    project = await ls.project_for()
    result: dict[str, Any] = await asyncio.to_thread(project.store.usage, args.run_id)
    return result


COMMANDS = (
    Command("samokoder.editSelection", "EditSelectionArgs", starts_run("prepare_edit_selection")),
    Command("samokoder.generate", "GenerateArgs", starts_run("prepare_generate")),
    Command("samokoder.implement", "ImplementArgs", starts_run("prepare_implement")),
    Command("samokoder.resume", "RunIdArgs", starts_run("prepare_resume")),
    Command(
        "samokoder.fixDiagnostics", "FixDiagnosticsArgs", starts_run("prepare_fix_diagnostics")
    ),
    Command("samokoder.writeTests", "FileArgs", starts_run("prepare_write_tests")),
    Command("samokoder.explain", "ExplainArgs", starts_run("prepare_explain")),
    Command("samokoder.cancel", "RunIdArgs", cancel),
    Command("samokoder.undo", "StepArgs", undo, all_optional=True),
    Command("samokoder.redo", "StepArgs", redo, all_optional=True),
    Command("samokoder.history", "HistoryArgs", history, all_optional=True),
    Command("samokoder.usage", "UsageArgs", usage, all_optional=True),
)


def register(server: SamokoderServer) -> None:
    for command in COMMANDS:
        server.command(command.name)(rpc_errors(_executor(command)))


def _executor(command: Command) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Parse the one object argument into the command's model, then handle it."""

    async def execute(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        await ls.services()  # the domain, models included, loads off the event loop
        model = getattr(importlib.import_module("samokoder.agents.command_args"), command.args)
        raw = one_object(args, command.name, model.shape, all_optional=command.all_optional)
        return await command.handle(ls, model.model_validate(raw))

    execute.__name__ = command.handle.__name__
    return execute
