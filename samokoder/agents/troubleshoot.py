"""After a task: run its commands; when one fails, the troubleshooter proposes a fix.

The loop is bounded by the `fixAttempts` setting: run the commands (each with the
user's consent), and on a failure send the exit code, the tail of the output and
the files involved to the troubleshooter; its fix is written by the code writers
and proposed like any change ("Fix: ..."). Accepted, the commands run again;
rejected or cancelled, the loop stops there. Refused paths in a fix go back to the
troubleshooter (twice), and what is still refused is said, never dropped silently.
Editor diagnostics reach the server only through a code action's context (LSP
sends diagnostics from server to client, and pygls keeps none the client shows),
so they feed `fixDiagnostics` runs, not this loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from samokoder.agents.command_gate import CommandOutcome, run_commands
from samokoder.agents.llm_gateway import chat_structured
from samokoder.agents.review import Decision
from samokoder.agents.roles import refused_paths, troubleshooter
from samokoder.agents.runs import Run
from samokoder.agents.schemas import FileStep, FixPlan, Task, TaskSteps
from samokoder.agents.task_runner import PATH_ROUNDS, ProjectFolder, emptied_note, write_changes
from samokoder.errors import SamokoderError

REPORT_OUTPUT_CHARS = 6_000
CONTEXT_CHARS = 60_000
MENTIONED_FILES = 8
_PATHISH = re.compile(r"[\w./\\-]+\.[A-Za-z0-9]{1,8}")


async def check_task(
    ctx: Run,
    where: ProjectFolder,
    task: Task,
    label: str,
    design: str,
    commands: Sequence[str],
    changed: Sequence[str],
) -> str:
    """Run a task's commands, troubleshooting failures; a sentence for the run's summary.

    `changed` holds the workspace-relative files the task changed. Returns "" when
    there is nothing to run.
    """
    if not commands:
        return ""
    files = [project_path(where, rel) for rel in changed]
    fixes = 0
    while True:
        outcomes = await run_commands(ctx, commands, where.folder)
        failure = next((o for o in outcomes if o.failed), None)
        if failure is None:
            return _passed(label, outcomes, fixes)
        fails = f"{label}: `{failure.shown}` fails ({failure.message})"
        if failure.status == "error":  # it could not start: no change to the code fixes that
            return f"{label}: `{failure.shown}` could not run ({failure.message})."
        if fixes >= ctx.settings.fix_attempts:
            tried = f" after {fixes} fix attempt(s)" if fixes else ""
            return f"{fails}{tried}."
        fixes += 1
        ctx.progress(f"{label}: troubleshooting `{failure.shown}` (fix {fixes})")
        try:
            decision = await propose_fix(
                ctx, where, task, failure_report(failure), files, label, design
            )
        except FixRefusedError as exc:
            return f"{fails}; the troubleshooter's fix was not used: {exc.message}"
        if decision is None:
            return f"{fails}; the troubleshooter found no change to make."
        if decision.verdict != "accepted":
            return f"{fails}; the fix was {decision.verdict}."
        files = list(dict.fromkeys([*files, *(project_path(where, r) for r in decision.applied)]))


def _passed(label: str, outcomes: list[CommandOutcome], fixes: int) -> str:
    ran = [o for o in outcomes if o.passed]
    not_run = [o for o in outcomes if not o.passed]
    if not ran:
        return f"{label}: commands not run ({not_run[0].message})." if not_run else ""
    text = f"{label}: {len(ran)} command(s) passed"
    if fixes:
        text += f" after {fixes} fix(es)"
    if not_run:
        text += f"; {len(not_run)} not run"
    return text + "."


def failure_report(outcome: CommandOutcome) -> str:
    output = outcome.output[-REPORT_OUTPUT_CHARS:]
    where = f" (in {outcome.cwd})" if outcome.cwd else ""
    return (
        f"The command `{outcome.shown}`{where} failed: {outcome.message}.\n"
        f"Its output (the last {len(output)} characters):\n```\n{output}\n```"
    )


def project_path(where: ProjectFolder, rel: str) -> str:
    """A workspace-relative path as the project folder's model sees it."""
    return (
        rel[len(where.folder) + 1 :] if where.folder and rel.startswith(where.folder + "/") else rel
    )


async def propose_fix(
    ctx: Run,
    where: ProjectFolder,
    task: Task,
    report: str,
    files: Sequence[str],
    label: str,
    design: str,
) -> Decision | None:
    """Ask the troubleshooter about `report`, write its fix, propose it; None: no change."""
    contents = await _contents(where, files, _mentioned(where, report))
    messages = troubleshooter.messages(task, report, contents, design)
    for round_ in range(PATH_ROUNDS + 1):
        plan, _reply = await chat_structured(ctx, troubleshooter.AGENT, messages, FixPlan)
        refused = [why for s in plan.files if (why := _refusal(ctx, where, s))]
        if not refused or round_ == PATH_ROUNDS:
            break
        ctx.progress(f"{label}: the troubleshooter named refused paths; asking again")
        lead = "These paths are refused, so that fix was not used:"
        messages = [*messages, *refused_paths(plan.model_dump_json(), refused, lead)]
    steps = [s for s in plan.files if not _refusal(ctx, where, s)]
    if refused and not steps:
        raise FixRefusedError(
            f"The troubleshooter's fix names only refused paths: {'; '.join(refused)}."
        )
    if refused:
        ctx.note(f"The troubleshooter's fix left out refused paths: {'; '.join(refused)}.")
    if not steps:
        return None
    title = f"Fix: {_short(plan.diagnosis)}"
    currents = {s.path: await where.read(s.path) for s in steps}
    fix_task = Task(
        title=title,
        description=f"{plan.diagnosis}\n\nThe work this fixes: {task.title}. {task.description}",
        acceptance_criteria=list(task.acceptance_criteria),
    )
    change_set, bases, tokens, model = await write_changes(
        ctx,
        where,
        fix_task,
        TaskSteps(files=steps),
        design,
        currents,
        label,
        notes=f"The problem being fixed:\n{report}",
    )
    if change_set is None:
        return None
    title += emptied_note(change_set.files, bases)
    change_set = change_set.model_copy(update={"title": title})
    return await ctx.propose(
        change_set, bases, agent=troubleshooter.AGENT, model=model, tokens=tokens
    )


class FixRefusedError(SamokoderError):
    """Every file the troubleshooter wants to change is refused (confinement, secrets)."""


def _refusal(ctx: Run, where: ProjectFolder, step: FileStep) -> str | None:
    """Why the fix may not write `step`'s file (None: it may), naming the path and rule."""
    try:
        rel = where.to_workspace(step.path)
    except SamokoderError as exc:
        return exc.message
    if ctx.project.is_secret(rel):
        return f"{step.path}: secret-looking or ignored files are not written"
    return None


def _mentioned(where: ProjectFolder, report: str) -> list[str]:
    """Project files named in a command's output, e.g. `tests/test_core.py:4` or a traceback."""
    base = where.ctx.project.root / where.folder if where.folder else where.ctx.project.root
    prefix = str(base) + "/"
    found: list[str] = []
    for match in _PATHISH.finditer(report):
        name = match.group(0).removeprefix("./")
        if name.startswith(prefix):
            name = name[len(prefix) :]
        if name and not name.startswith("/") and name not in found:
            found.append(name)
    return found


async def _contents(
    where: ProjectFolder, files: Sequence[str], mentioned: Sequence[str]
) -> dict[str, str]:
    """The changed files, then up to MENTIONED_FILES named in the output, within a budget."""
    contents: dict[str, str] = {}
    budget = CONTEXT_CHARS
    limit = len(files) + MENTIONED_FILES
    for path in dict.fromkeys([*files, *mentioned]):
        if len(contents) >= limit:
            break
        try:
            rel = where.to_workspace(path)
            if where.ctx.project.is_secret(rel):
                continue
            text = await where.read(path)
        except SamokoderError:
            continue
        if text is not None and len(text) <= budget:
            contents[path] = text
            budget -= len(text)
    return contents


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
