"""`generate` and `implement`: the roles in order, each task a reviewed, committed step.

generate: spec writer (one round of questions at most) → architect → tech lead →
tasks → technical writer. implement: tech lead on the existing code → tasks.
Progress names the role and the task; every bound reached says what was kept.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass

from samokoder.agents import roles
from samokoder.agents.llm_gateway import chat, chat_structured
from samokoder.agents.reply_checks import check_reply, reasons
from samokoder.agents.roles import architect, spec_writer, tech_lead, tech_writer
from samokoder.agents.run_record import RunRecord
from samokoder.agents.runs import RunContext, RunOutcome
from samokoder.agents.schemas import Architecture, Plan, Specification
from samokoder.agents.selection_reply import extract_block
from samokoder.agents.task_runner import ProjectFolder, TaskOutcome, run_task
from samokoder.agents.troubleshoot import check_task
from samokoder.workspace.changeset import ChangeSet, FileChange
from samokoder.workspace.repo_map import relevant_files, render_map, scan_workspace

MAP_TOKENS = 3_000


@dataclass(frozen=True)
class GenerateRequest:
    description: str
    folder: str  # workspace-relative, "" for the root
    existing_files: int


@dataclass(frozen=True)
class ImplementRequest:
    description: str
    files: tuple[str, ...]  # workspace-relative files the user pointed at


async def workspace_map(ctx: RunContext, focus: list[str] | None = None) -> str:
    project = ctx.project
    repo = await asyncio.to_thread(scan_workspace, project.workspace, project.ignore)
    return render_map(repo, budget_tokens=MAP_TOKENS, focus=focus or [])


async def run_generate(
    ctx: RunContext, request: GenerateRequest, saved: dict[str, str] | None = None
) -> RunOutcome:
    where = ProjectFolder(ctx, request.folder)
    record = RunRecord(ctx, saved)
    await record.start(json.dumps({"kind": "generate", **asdict(request)}))
    place = request.folder or "the workspace folder"
    if request.existing_files and not record.resumed:
        answer = await ctx.host.ask(
            f"{place} already has {request.existing_files} files. Generate the new app among them?",
            ["Continue", "Cancel"],
            False,
        )
        if answer != "Continue":
            return RunOutcome("cancelled", f"Not generating into {place}, which is not empty.")

    async def specify() -> str:
        ctx.progress("Specifying")
        return spec_writer.render(await _specify(ctx, request.description))

    spec_text = await record.stage("spec", specify)
    repo_text = await workspace_map(ctx)

    async def design_it() -> str:
        ctx.progress("Designing")
        arch, _ = await chat_structured(
            ctx, architect.AGENT, architect.messages(spec_text, repo_text), Architecture
        )
        return architect.render(arch)

    design = await record.stage("design", design_it)
    plan = await _plan(ctx, record, spec_text, design, repo_text)
    outcomes = await _run_tasks(ctx, record, where, plan, design)
    if outcomes and outcomes[-1].status == "rejected":
        return _finish(outcomes, plan, record)
    docs: list[str] = []
    if "readme" not in record.saved:
        ctx.step_mark = ("readme", "done")
        try:
            docs = await _write_readme(ctx, where, spec_text, design, outcomes)
        finally:
            ctx.step_mark = None
        await record.put("readme", "done")
    return _finish(outcomes, plan, record, docs)


async def run_implement(
    ctx: RunContext, request: ImplementRequest, saved: dict[str, str] | None = None
) -> RunOutcome:
    where = ProjectFolder(ctx, "")
    record = RunRecord(ctx, saved)
    await record.start(json.dumps({"kind": "implement", **asdict(request)}))
    project = ctx.project
    repo = await asyncio.to_thread(scan_workspace, project.workspace, project.ignore)
    focus = list(request.files) or relevant_files(repo, request.description)
    repo_text = render_map(repo, budget_tokens=MAP_TOKENS, focus=focus)
    design = "Work in the existing codebase; keep its style, layout and dependencies."
    if focus:
        design += "\nFiles most relevant to the request: " + ", ".join(focus)
    design = roles.with_map(design, repo_text)  # shared by every call: cached (issue 13)
    plan = await _plan(ctx, record, request.description, design, repo_text)
    return _finish(await _run_tasks(ctx, record, where, plan, design), plan, record)


async def _specify(ctx: RunContext, description: str) -> Specification:
    spec, _ = await chat_structured(
        ctx, spec_writer.AGENT, spec_writer.messages(description), Specification
    )
    if not spec.questions:
        return spec
    answers: list[tuple[str, str]] = []
    for question in spec.questions[:3]:
        answer = await ctx.host.ask(question, [], True)
        if answer and answer.strip():
            answers.append((question, answer.strip()))
    spec, _ = await chat_structured(
        ctx, spec_writer.AGENT, spec_writer.messages(description, answers), Specification
    )
    return spec


async def _plan(ctx: RunContext, record: RunRecord, goal: str, design: str, repo_text: str) -> Plan:
    async def make() -> str:
        ctx.progress("Planning")
        plan, _ = await chat_structured(
            ctx, tech_lead.AGENT, tech_lead.messages(goal, design, repo_text), Plan
        )
        return plan.model_dump_json()

    plan = Plan.model_validate_json(await record.stage("plan", make))
    ctx.progress(f"Planning: {len(plan.tasks)} task{'s' if len(plan.tasks) != 1 else ''}")
    return plan


async def _run_tasks(
    ctx: RunContext, record: RunRecord, where: ProjectFolder, plan: Plan, design: str
) -> list[TaskOutcome]:
    outcomes: list[TaskOutcome] = []
    total = len(plan.tasks)
    for index, task in enumerate(plan.tasks, start=1):
        if record.task_done(index):
            continue
        repo_text = await workspace_map(ctx, list(task.files))
        ctx.step_mark = record.task_mark(index)  # recorded with the step that accepts it
        try:
            outcome = await run_task(ctx, where, task, f"Task {index}/{total}", design, repo_text)
        finally:
            ctx.step_mark = None
        outcomes.append(outcome)
        if outcome.status == "rejected":
            break
        if outcome.status == "accepted":
            await record.mark_task(index)
            outcome.message = await check_task(
                ctx, where, task, f"Task {index}/{total}", design, outcome.commands, outcome.files
            )
    return outcomes


async def _write_readme(
    ctx: RunContext,
    where: ProjectFolder,
    spec_text: str,
    design: str,
    outcomes: list[TaskOutcome],
) -> list[str]:
    """The README step (not a task: the summary counts it apart); the files it applied."""
    files = sorted({f for o in outcomes for f in o.files})
    if not files:
        return []
    ctx.progress("Writing the README")
    rel = where.to_workspace(tech_writer.README)
    current = await where.read(tech_writer.README)
    reply = await chat(
        ctx, tech_writer.AGENT, tech_writer.messages(spec_text, design, files, current)
    )
    block = extract_block(reply.text)
    problems = check_reply(block, current)
    if problems:  # one attempt, as before, but never silently
        ctx.note(f"{tech_writer.README}: the technical writer's reply {reasons(problems)}.")
        return []
    content = block.code
    if not content.strip() or content == current:
        return []
    if not content.endswith("\n"):
        content += "\n"
    change = (
        FileChange(path=rel, kind="create", content=content)
        if current is None
        else FileChange(path=rel, kind="modify", content=content)
    )
    change_set = ChangeSet(title="Documentation: README.md", files=[change])
    decision = await ctx.propose(
        change_set,
        {rel: current},
        agent=tech_writer.AGENT,
        model=reply.model,
        tokens=reply.prompt_tokens + reply.completion_tokens,
    )
    return list(decision.applied) if decision.verdict == "accepted" else []


def _finish(
    outcomes: list[TaskOutcome], plan: Plan, record: RunRecord, docs: list[str] | None = None
) -> RunOutcome:
    done = [o for o in outcomes if o.status == "accepted"]
    unchanged = sum(o.status == "unchanged" for o in outcomes)
    files = sorted({f for o in done for f in o.files} | set(docs or []))
    total = len(plan.tasks)
    resumed = (
        f" (resumed; {record.tasks_before} task(s) were accepted before)" if record.resumed else ""
    )
    if outcomes and outcomes[-1].status == "rejected":
        kept = f"; kept {len(done)} accepted step(s)" if done else "; nothing was changed"
        return RunOutcome("rejected", f"{outcomes[-1].message}{kept}.")
    same = f" ({unchanged} unchanged)" if unchanged else ""
    readme = " plus the README" if docs else ""
    summary = (
        f"Done: {len(done)} of {total} task(s) accepted{same}{readme}, "
        f"{len(files)} file(s){resumed}."
    )
    checks = " ".join(o.message for o in done if o.message)  # commands run after tasks
    return RunOutcome("succeeded", f"{summary} {checks}" if checks else summary)
