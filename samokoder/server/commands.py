"""`workspace/executeCommand` handlers: thin, each turns arguments into a domain call."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samokoder.server import instruction_comments as comments
from samokoder.server.app import SamokoderServer
from samokoder.server.arguments import (
    lsp_range,
    one_object,
    optional_int,
    optional_str,
    range_offsets,
    require_str,
)
from samokoder.server.errors import rpc_errors

if TYPE_CHECKING:
    from samokoder.agents.project import Project

EDIT_SELECTION = "samokoder.editSelection"
GENERATE = "samokoder.generate"
IMPLEMENT = "samokoder.implement"
RESUME = "samokoder.resume"
CANCEL = "samokoder.cancel"
UNDO = "samokoder.undo"
REDO = "samokoder.redo"
HISTORY = "samokoder.history"
USAGE = "samokoder.usage"
PIPELINE_AGENT = "developer"  # generate/implement/resume: the model checked before they start


def register(server: SamokoderServer) -> None:
    @server.command(EDIT_SELECTION)
    @rpc_errors
    async def edit_selection(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        return await start_edit_selection(
            ls, one_object(args, EDIT_SELECTION, "{uri, range, instruction?}")
        )

    @server.command(GENERATE)
    @rpc_errors
    async def generate(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        return await start_generate(ls, one_object(args, GENERATE, "{description, folder?}"))

    @server.command(IMPLEMENT)
    @rpc_errors
    async def implement(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        return await start_implement(ls, one_object(args, IMPLEMENT, "{description, files?}"))

    @server.command(RESUME)
    @rpc_errors
    async def resume(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        return await start_resume(ls, require_str(one_object(args, RESUME, "{runId}"), "runId"))

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

        step_id = optional_str(one_object(args, UNDO, "{stepId?}", all_optional=True), "stepId")
        services = await ls.services()
        return await steps.undo(await ls.project_for(), services.host, step_id)

    @server.command(REDO)
    @rpc_errors
    async def redo(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        from samokoder.agents import steps

        step_id = optional_str(one_object(args, REDO, "{stepId?}", all_optional=True), "stepId")
        services = await ls.services()
        return await steps.redo(await ls.project_for(), services.host, step_id)

    @server.command(HISTORY)
    @rpc_errors
    async def history(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        from samokoder.agents import steps
        from samokoder.agents.command_gate import command_history

        arg = one_object(args, HISTORY, "{limit?}", all_optional=True)
        limit = optional_int(arg, "limit", 50, 1, 1000)
        project = await ls.project_for()
        result = await steps.history(project, limit)
        result["commands"] = await command_history(project.store, limit)
        return result

    @server.command(USAGE)
    @rpc_errors
    async def usage(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        arg = one_object(args, USAGE, "{runId?}", all_optional=True)
        run_id = optional_str(arg, "runId")
        project = await ls.project_for()
        result: dict[str, Any] = await asyncio.to_thread(project.store.usage, run_id)
        return result


async def start_edit_selection(ls: SamokoderServer, arg: dict[str, Any]) -> dict[str, Any]:
    from samokoder.agents.edit_selection import AGENT, SelectionRequest, run_edit_selection
    from samokoder.agents.steps import current_state
    from samokoder.errors import (
        InvalidArgumentError,
        NotFoundError,
    )

    services = await ls.services()
    project, rel = await ls.project_for_uri(arg.get("uri"))
    (sl, sc), (el, ec) = lsp_range(arg.get("range"))
    instruction = optional_str(arg, "instruction")
    from_comment = arg.get("fromComment", False)
    if not isinstance(from_comment, bool):
        raise InvalidArgumentError("'fromComment' must be true or false")
    if from_comment and instruction is not None:
        raise InvalidArgumentError("give 'instruction' or 'fromComment', not both")
    if project.is_secret(rel):
        raise InvalidArgumentError(
            f"{rel} looks like a secret or ignored file; Samokoder does not send it to a model."
        )
    state = await current_state(project, services.host, rel)
    if state.text is None:
        raise NotFoundError(f"{rel} does not exist.")
    start, end = range_offsets(state.text, rel, (sl, sc), (el, ec))
    if instruction is None and (from_comment or not ls.features.ask):
        # the instruction written in the file; the edit removes its comment
        found = comments.find_instruction(state.text, rel, *comments.selection_lines(sl, el, ec))
        if found is None:
            raise InvalidArgumentError(_no_instruction(rel, from_comment))
        text, start, end = comments.without(state.text, found, start, end)
        request = SelectionRequest(rel, text, start, end, found.instruction, base=state.text)
        instruction = found.instruction
    else:
        request = SelectionRequest(rel, state.text, start, end, instruction)
    run_id = await ls.start_run(
        kind="editSelection",
        title=f"Samokoder: editing {rel}",
        description=instruction or "",
        project=project,
        body=lambda ctx: run_edit_selection(ctx, request),
        agent=AGENT,
    )
    return {"runId": run_id}


def _no_instruction(rel: str, from_comment: bool) -> str:
    example = f"`{comments.example(rel)}`"
    if from_comment:
        return (
            f"No instruction comment in or just above the selection in {rel}: write one "
            f"such as {example} and try again."
        )
    return (
        "'instruction' is required: this client cannot be asked for one (it does not "
        f"announce experimental.samokoderAsk). Write it as a comment in or just above the "
        f"selection, such as {example}, or pick one of Samokoder's code actions."
    )


def _count_files(path: Path, limit: int = 10_000) -> int:
    """Files under `path` (not .git/.samokoder), counted up to `limit`."""
    count = 0
    if not path.is_dir():
        return 0
    for _dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".samokoder")]
        count += len(filenames)
        if count >= limit:
            break
    return count


async def start_generate(ls: SamokoderServer, arg: dict[str, Any]) -> dict[str, Any]:
    from samokoder.agents.pipeline import GenerateRequest, run_generate
    from samokoder.errors import InvalidArgumentError

    description = _description(arg)
    folder_arg = optional_str(arg, "folder")
    project, folder = await _generate_folder(ls, folder_arg)
    target = project.workspace.resolve(folder) if folder else project.root
    if await asyncio.to_thread(target.is_file):
        raise InvalidArgumentError(f"folder {folder!r} is a file, not a folder")
    existing = await asyncio.to_thread(_count_files, target)
    request = GenerateRequest(description, folder, existing)
    run_id = await ls.start_run(
        kind="generate",
        title=f"Samokoder: generating {folder or project.root.name}",
        description=description,
        project=project,
        body=lambda ctx: run_generate(ctx, request),
        agent=PIPELINE_AGENT,
    )
    return {"runId": run_id}


async def start_implement(ls: SamokoderServer, arg: dict[str, Any]) -> dict[str, Any]:
    from samokoder.agents.pipeline import ImplementRequest, run_implement
    from samokoder.errors import InvalidArgumentError, NotFoundError

    description = _description(arg)
    files_arg = arg.get("files")
    if files_arg is not None and (
        not isinstance(files_arg, list) or not all(isinstance(f, str) for f in files_arg)
    ):
        raise InvalidArgumentError("'files' must be a list of file URIs or workspace paths")
    project = await ls.project_for()
    files: list[str] = []
    for item in files_arg or []:
        if item.startswith("file:"):
            project, rel = await ls.project_for_uri(item)
        else:
            rel = project.workspace.relative(item)
        if not await asyncio.to_thread(project.workspace.resolve(rel).is_file):
            raise NotFoundError(f"{rel} does not exist.")
        if project.is_secret(rel):
            raise InvalidArgumentError(f"{rel} looks like a secret or ignored file.")
        files.append(rel)
    request = ImplementRequest(description, tuple(files))
    run_id = await ls.start_run(
        kind="implement",
        title=f"Samokoder: {description[:40]}",
        description=description,
        project=project,
        body=lambda ctx: run_implement(ctx, request),
        agent=PIPELINE_AGENT,
    )
    return {"runId": run_id}


async def _generate_folder(ls: SamokoderServer, folder_arg: str | None) -> tuple[Project, str]:
    """The project and workspace-relative folder ("" for a workspace root) to generate into."""
    from pygls.uris import to_fs_path

    from samokoder.errors import OutsideWorkspaceError

    if folder_arg is None:
        return await ls.project_for(), ""
    if folder_arg.startswith("file:"):
        fs_path = to_fs_path(folder_arg)
        if not fs_path or "\x00" in fs_path:
            raise OutsideWorkspaceError(folder_arg, "it is not a file path")
        path = Path(fs_path)
    else:
        path = Path(folder_arg)
    if not path.is_absolute():
        project = await ls.project_for()
        return project, project.workspace.relative(folder_arg)
    project = await ls.project_for(path)
    if await asyncio.to_thread(lambda: path.resolve() == project.root):
        return project, ""
    return project, project.workspace.relative(path)


def _description(arg: dict[str, Any]) -> str:
    from samokoder.errors import InvalidArgumentError

    value = arg.get("description")
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(
            "'description' is required: say what to build, in a sentence or more"
        )
    if len(value) > 20_000:
        raise InvalidArgumentError("'description' is too long (over 20,000 characters)")
    return value.strip()


async def start_resume(ls: SamokoderServer, run_id: str) -> dict[str, Any]:
    from samokoder.agents.pipeline import (
        GenerateRequest,
        ImplementRequest,
        run_generate,
        run_implement,
    )
    from samokoder.agents.runs import RunBody
    from samokoder.errors import InvalidArgumentError, NotFoundError

    services = await ls.services()
    project = await ls.project_for()
    row = await asyncio.to_thread(project.store.get_run, run_id)
    if row is None:
        raise NotFoundError(f"No run {run_id!r} in this workspace.")
    if run_id in services.runs.active() or row.status in ("running", "awaiting_review"):
        raise InvalidArgumentError(f"Run {run_id} is still going; cancel it before resuming.")
    if row.status == "succeeded":
        raise InvalidArgumentError(f"Run {run_id} finished; there is nothing to resume.")
    saved = await asyncio.to_thread(project.store.artifacts, run_id)
    if "request" not in saved:
        raise InvalidArgumentError(
            f"Run {run_id} ({row.kind}) cannot be resumed: only generate and implement runs "
            "save their progress."
        )
    request = json.loads(saved["request"])
    body: RunBody
    if request.get("kind") == "generate":
        gen = GenerateRequest(request["description"], request["folder"], request["existing_files"])
        body = lambda ctx: run_generate(ctx, gen, saved)  # noqa: E731
    else:
        imp = ImplementRequest(request["description"], tuple(request.get("files", ())))
        body = lambda ctx: run_implement(ctx, imp, saved)  # noqa: E731
    new_id = await ls.start_run(
        kind=row.kind,
        title=f"Samokoder: resuming {row.kind}",
        description=row.description,
        project=project,
        body=body,
        agent=PIPELINE_AGENT,
    )
    return {"runId": new_id, "resumes": run_id}
