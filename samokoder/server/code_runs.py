"""`samokoder.fixDiagnostics`, `samokoder.writeTests`, `samokoder.explain`: runs on one file.

Like `editSelection`: the arguments and the path are checked and the document
snapshotted here, the command answers `{runId}` at once, and the work is a run.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from samokoder.server.app import SamokoderServer
from samokoder.server.arguments import lsp_range, one_object, position, range_offsets
from samokoder.server.errors import rpc_errors

if TYPE_CHECKING:
    from samokoder.agents.code_tasks import CodeRequest, DiagnosticNote
    from samokoder.agents.project import Project

FIX_DIAGNOSTICS = "samokoder.fixDiagnostics"
WRITE_TESTS = "samokoder.writeTests"
EXPLAIN = "samokoder.explain"
MAX_DIAGNOSTICS = 50
SEVERITIES = {1: "error", 2: "warning", 3: "information", 4: "hint"}


def register(server: SamokoderServer) -> None:
    @server.command(FIX_DIAGNOSTICS)
    @rpc_errors
    async def fix_diagnostics(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        arg = one_object(args, FIX_DIAGNOSTICS, "{uri, range?, diagnostics?}")
        return await start_fix_diagnostics(ls, arg)

    @server.command(WRITE_TESTS)
    @rpc_errors
    async def write_tests(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        return await start_write_tests(ls, one_object(args, WRITE_TESTS, "{uri, range?}"))

    @server.command(EXPLAIN)
    @rpc_errors
    async def explain(ls: SamokoderServer, *args: Any) -> dict[str, Any]:
        return await start_explain(ls, one_object(args, EXPLAIN, "{uri, range}"))


async def start_fix_diagnostics(ls: SamokoderServer, arg: dict[str, Any]) -> dict[str, Any]:
    from samokoder.agents.code_tasks import run_fix_diagnostics
    from samokoder.agents.roles import troubleshooter

    diagnostics = parse_diagnostics(arg.get("diagnostics"))
    project, request = await _snapshot(ls, arg, range_required=False)
    return await _start(
        ls,
        troubleshooter.AGENT,
        "fixDiagnostics",
        f"Samokoder: fixing {request.where()}",
        f"fix {len(diagnostics)} diagnostic(s) in {request.where()}",
        project,
        lambda ctx: run_fix_diagnostics(ctx, request, diagnostics),
    )


async def start_write_tests(ls: SamokoderServer, arg: dict[str, Any]) -> dict[str, Any]:
    from samokoder.agents.code_tasks import run_write_tests
    from samokoder.agents.roles import code_monkey
    from samokoder.workspace.project_tests import plan_tests
    from samokoder.workspace.repo_map import scan_workspace

    project, request = await _snapshot(ls, arg, range_required=False)
    repo = await asyncio.to_thread(scan_workspace, project.workspace, project.ignore)
    plan = plan_tests(request.rel, [e.path for e in repo.entries])
    project.workspace.relative(plan.path)  # confined, or a clear error now
    return await _start(
        ls,
        code_monkey.AGENT,
        "writeTests",
        f"Samokoder: writing tests for {request.where()}",
        f"tests for {request.where()} in {plan.path}",
        project,
        lambda ctx: run_write_tests(ctx, request, plan),
    )


async def start_explain(ls: SamokoderServer, arg: dict[str, Any]) -> dict[str, Any]:
    from samokoder.agents.code_tasks import run_explain
    from samokoder.agents.roles import explainer

    project, request = await _snapshot(ls, arg, range_required=True)
    return await _start(
        ls,
        explainer.AGENT,
        "explain",
        f"Samokoder: explaining {request.where()}",
        f"explain {request.where()}",
        project,
        lambda ctx: run_explain(ctx, request),
    )


async def _start(
    ls: SamokoderServer,
    agent: str,
    kind: str,
    title: str,
    description: str,
    project: Project,
    body: Any,
) -> dict[str, Any]:
    run_id = await ls.start_run(
        kind=kind, title=title, description=description, project=project, body=body, agent=agent
    )
    return {"runId": run_id}


async def _snapshot(
    ls: SamokoderServer, arg: dict[str, Any], *, range_required: bool
) -> tuple[Project, CodeRequest]:
    """The file's text now (open buffer, else disk) and the range as offsets in it.

    No range (where allowed) or an empty one means the whole file.
    """
    from samokoder.agents.code_tasks import CodeRequest
    from samokoder.agents.steps import current_state
    from samokoder.errors import InvalidArgumentError, NotFoundError

    services = await ls.services()
    project, rel = await ls.project_for_uri(arg.get("uri"))
    raw_range = arg.get("range")
    if raw_range is None and range_required:
        lsp_range(raw_range)  # raises the usual message
    bounds = lsp_range(raw_range) if raw_range is not None else None
    if project.is_secret(rel):
        raise InvalidArgumentError(
            f"{rel} looks like a secret or ignored file; Samokoder does not send it to a model."
        )
    state = await current_state(project, services.host, rel)
    if state.text is None:
        raise NotFoundError(f"{rel} does not exist.")
    text = state.text
    start, end = 0, len(text)
    if bounds is not None and bounds[0] != bounds[1]:
        start, end = range_offsets(text, rel, *bounds)
    return project, CodeRequest(rel, text, start, end)


def parse_diagnostics(value: Any) -> tuple[DiagnosticNote, ...]:
    """LSP Diagnostic objects as the code action passed them; checked with clear messages."""
    from samokoder.agents.code_tasks import DiagnosticNote
    from samokoder.errors import InvalidArgumentError

    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_DIAGNOSTICS:
        raise InvalidArgumentError(
            f"'diagnostics' must be a list of at most {MAX_DIAGNOSTICS} LSP Diagnostic objects"
        )
    notes = []
    for index, item in enumerate(value):
        what = f"diagnostics[{index}]"
        if not isinstance(item, dict):
            raise InvalidArgumentError(f"{what} must be an object {{range, message, ...}}")
        message = item.get("message")
        if not isinstance(message, str) or not message.strip():
            raise InvalidArgumentError(f"{what}.message must be a non-empty string")
        rng = item.get("range")
        start = rng.get("start") if isinstance(rng, dict) else None
        line, character = position(start, f"{what}.range.start")
        severity = item.get("severity")
        source, code = item.get("source"), item.get("code")
        notes.append(
            DiagnosticNote(
                line=line,
                character=character,
                message=message.strip()[:2_000],
                severity=SEVERITIES.get(severity, "") if isinstance(severity, int) else "",
                source=source[:100] if isinstance(source, str) else "",
                code=str(code)[:100] if isinstance(code, str | int) else "",
            )
        )
    return tuple(notes)
