"""From a command's checked argument to the run it starts: one `prepare_*` per command.

Each checks every precondition the command has (the file is inside a workspace
folder, not a secret, exists; the range is inside it; an instruction is at hand),
snapshots what the run will work on, and returns a `RunRequest`, or raises a
`SamokoderError` with the message the user reads. The server only parses the
argument, calls one of these, and hands the request to `launch`, which makes the
one "is a model configured" check (DESIGN §8) and starts the run.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from samokoder.agents import instruction_comments as comments
from samokoder.agents.code_tasks import (
    CodeRequest,
    run_explain,
    run_fix_diagnostics,
    run_write_tests,
)
from samokoder.agents.command_args import (
    EditSelectionArgs,
    ExplainArgs,
    FileArgs,
    FixDiagnosticsArgs,
    GenerateArgs,
    ImplementArgs,
    Range,
    RunIdArgs,
    range_offsets,
)
from samokoder.agents.edit_selection import AGENT, SelectionRequest, run_edit_selection
from samokoder.agents.llm_gateway import ensure_model
from samokoder.agents.pipeline import (
    GenerateRequest,
    ImplementRequest,
    run_generate,
    run_implement,
)
from samokoder.agents.roles import code_monkey, explainer, troubleshooter
from samokoder.agents.steps import current_state
from samokoder.errors import InvalidArgumentError, NotFoundError
from samokoder.workspace.project_tests import plan_tests

if TYPE_CHECKING:
    from samokoder.agents.host import Host
    from samokoder.agents.project import Project
    from samokoder.agents.runs import RunBody, RunManager
    from samokoder.settings import Settings

PIPELINE_AGENT = "developer"  # generate/implement/resume: the model checked before they start


class Session(Protocol):
    """What preparing a command needs of the editor connection (the server provides it)."""

    host: Host

    @property
    def ask_supported(self) -> bool:
        """The client can be asked for an instruction (experimental.samokoderAsk)."""

    async def project_for(self, path: Path | None = None) -> Project:
        """The project of the folder holding `path` (the first folder when None)."""

    async def project_for_uri(self, uri: str) -> tuple[Project, str]:
        """The project holding a file URI and the file's confined relative path."""

    def fs_path(self, uri: str) -> Path:
        """A file:// URI as a path (OutsideWorkspaceError when it is none)."""

    def active_runs(self) -> list[str]: ...


@dataclass(frozen=True)
class RunRequest:
    """A run, ready to start: what `RunManager.start` takes beyond the connection's state."""

    kind: str
    title: str
    description: str
    project: Project
    body: RunBody
    agent: str
    """The role whose model the run needs first: the one checked before it starts."""
    resumes: str | None = None


async def launch(
    request: RunRequest, runs: RunManager, settings: Settings, host: Host, review_mode: str
) -> str:
    """The one "is a model configured" check every run gets, then the run itself.

    Same resolution as the run (settings, a provider key alone, a local Ollama), so a
    command never refuses what its run would have accepted.
    """
    resolved = await ensure_model(settings, request.agent)
    return await runs.start(
        kind=request.kind,
        title=request.title,
        description=request.description,
        project=request.project,
        settings=settings,
        host=host,
        review_mode=review_mode,
        body=request.body,
        models={request.agent: resolved},  # the run does not resolve it again
    )


# -- one file, one range -------------------------------------------------------------


async def _file_text(session: Session, uri: str) -> tuple[Project, str, str]:
    """The file's text now (open buffer, else disk), if it may go to a model."""
    project, rel = await session.project_for_uri(uri)
    if project.is_secret(rel):
        raise InvalidArgumentError(
            f"{rel} looks like a secret or ignored file; Samokoder does not send it to a model."
        )
    state = await current_state(project, session.host, rel)
    if state.text is None:
        raise NotFoundError(f"{rel} does not exist.")
    return project, rel, state.text


async def prepare_edit_selection(session: Session, args: EditSelectionArgs) -> RunRequest:
    project, rel, text = await _file_text(session, args.uri)
    assert args.range is not None  # the model requires it
    (sl, _sc), (el, ec) = args.range
    start, end = range_offsets(text, rel, *args.range)
    instruction = args.instruction
    if instruction is None and (args.from_comment or not session.ask_supported):
        # the instruction written in the file; the edit removes its comment
        found = comments.find_instruction(text, rel, *comments.selection_lines(sl, el, ec))
        if found is None:
            raise InvalidArgumentError(_no_instruction(rel, args.from_comment))
        stripped, start, end = comments.without(text, found, start, end)
        request = SelectionRequest(rel, stripped, start, end, found.instruction, base=text)
        instruction = found.instruction
    else:
        request = SelectionRequest(rel, text, start, end, instruction)
    return RunRequest(
        kind="editSelection",
        title=f"Samokoder: editing {rel}",
        description=instruction or "",
        project=project,
        body=lambda ctx: run_edit_selection(ctx, request),
        agent=AGENT,
    )


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


async def _code_request(
    session: Session, uri: str, bounds: Range | None
) -> tuple[Project, CodeRequest]:
    """No range or an empty one means the whole file."""
    project, rel, text = await _file_text(session, uri)
    start, end = 0, len(text)
    if bounds is not None and bounds[0] != bounds[1]:
        start, end = range_offsets(text, rel, *bounds)
    return project, CodeRequest(rel, text, start, end)


async def prepare_fix_diagnostics(session: Session, args: FixDiagnosticsArgs) -> RunRequest:
    project, request = await _code_request(session, args.uri, args.range)
    notes = args.diagnostics
    return RunRequest(
        kind="fixDiagnostics",
        title=f"Samokoder: fixing {request.where()}",
        description=f"fix {len(notes)} diagnostic(s) in {request.where()}",
        project=project,
        body=lambda ctx: run_fix_diagnostics(ctx, request, notes),
        agent=troubleshooter.AGENT,
    )


async def prepare_write_tests(session: Session, args: FileArgs) -> RunRequest:
    project, request = await _code_request(session, args.uri, args.range)
    repo = await project.current_map()
    plan = await asyncio.to_thread(plan_tests, request.rel, [e.path for e in repo.entries])
    project.workspace.relative(plan.path)  # confined, or a clear error now
    return RunRequest(
        kind="writeTests",
        title=f"Samokoder: writing tests for {request.where()}",
        description=f"tests for {request.where()} in {plan.path}",
        project=project,
        body=lambda ctx: run_write_tests(ctx, request, plan),
        agent=code_monkey.AGENT,
    )


async def prepare_explain(session: Session, args: ExplainArgs) -> RunRequest:
    project, request = await _code_request(session, args.uri, args.range)
    return RunRequest(
        kind="explain",
        title=f"Samokoder: explaining {request.where()}",
        description=f"explain {request.where()}",
        project=project,
        body=lambda ctx: run_explain(ctx, request),
        agent=explainer.AGENT,
    )


# -- whole projects ------------------------------------------------------------------


async def prepare_generate(session: Session, args: GenerateArgs) -> RunRequest:
    project, folder = await _generate_folder(session, args.folder)
    target = project.workspace.resolve(folder) if folder else project.root
    if await asyncio.to_thread(target.is_file):
        raise InvalidArgumentError(f"folder {folder!r} is a file, not a folder")
    existing = await asyncio.to_thread(_count_files, target)
    request = GenerateRequest(args.description, folder, existing)
    return RunRequest(
        kind="generate",
        title=f"Samokoder: generating {folder or project.root.name}",
        description=args.description,
        project=project,
        body=lambda ctx: run_generate(ctx, request),
        agent=PIPELINE_AGENT,
    )


async def _generate_folder(session: Session, folder_arg: str | None) -> tuple[Project, str]:
    """The project and workspace-relative folder ("" for a workspace root) to generate into."""
    if folder_arg is None:
        return await session.project_for(), ""
    path = session.fs_path(folder_arg) if folder_arg.startswith("file:") else Path(folder_arg)
    if not path.is_absolute():
        project = await session.project_for()
        return project, project.workspace.relative(folder_arg)
    project = await session.project_for(path)
    if await asyncio.to_thread(lambda: path.resolve() == project.root):
        return project, ""
    return project, project.workspace.relative(path)


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


async def prepare_implement(session: Session, args: ImplementArgs) -> RunRequest:
    project = await session.project_for()
    files: list[str] = []
    for item in args.files:
        if item.startswith("file:"):
            project, rel = await session.project_for_uri(item)
        else:
            rel = project.workspace.relative(item)
        if not await asyncio.to_thread(project.workspace.resolve(rel).is_file):
            raise NotFoundError(f"{rel} does not exist.")
        if project.is_secret(rel):
            raise InvalidArgumentError(f"{rel} looks like a secret or ignored file.")
        files.append(rel)
    request = ImplementRequest(args.description, tuple(files))
    return RunRequest(
        kind="implement",
        title=f"Samokoder: {args.description[:40]}",
        description=args.description,
        project=project,
        body=lambda ctx: run_implement(ctx, request),
        agent=PIPELINE_AGENT,
    )


async def prepare_resume(session: Session, args: RunIdArgs) -> RunRequest:
    run_id = args.run_id
    project = await session.project_for()
    row = await asyncio.to_thread(project.store.get_run, run_id)
    if row is None:
        raise NotFoundError(f"No run {run_id!r} in this workspace.")
    if run_id in session.active_runs() or row.status in ("running", "awaiting_review"):
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
    return RunRequest(
        kind=row.kind,
        title=f"Samokoder: resuming {row.kind}",
        description=row.description,
        project=project,
        body=body,
        agent=PIPELINE_AGENT,
        resumes=run_id,
    )
