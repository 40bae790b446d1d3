"""`generate` and `implement`: the roles in order, each task a reviewed, committed step.

generate: spec writer (one round of questions at most) → architect and tech lead
(one call: layout and plan) → tasks → technical writer. implement: tech lead on the
existing code → tasks. The plan gives each task its file steps, so a task goes
straight to the code writers: four sequential model calls before a generate run's
first proposal, three for implement. While the user reviews a task, the next one is
drafted against the proposed files (`lookahead`). Progress names the role and the
task; every bound reached says what was kept.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from samokoder.agents import readme_step, roles
from samokoder.agents.llm_gateway import chat_structured
from samokoder.agents.lookahead import Lookahead
from samokoder.agents.roles import architect, spec_writer, tech_lead
from samokoder.agents.run_record import RunRecord
from samokoder.agents.runs import Run, RunOutcome
from samokoder.agents.schemas import Blueprint, Plan, Specification
from samokoder.agents.task_runner import (
    MAP_TOKENS,
    ProjectFolder,
    TaskOutcome,
    run_task,
    workspace_map,
)
from samokoder.agents.troubleshoot import check_task
from samokoder.workspace.repo_map import relevant_files, render_map


@dataclass(frozen=True)
class GenerateRequest:
    description: str
    folder: str  # workspace-relative, "" for the root
    existing_files: int


@dataclass(frozen=True)
class ImplementRequest:
    description: str
    files: tuple[str, ...]  # workspace-relative files the user pointed at


async def run_generate(
    ctx: Run, request: GenerateRequest, saved: dict[str, str] | None = None
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
    if "design" in record.saved:  # resumed: the design (and maybe the plan) was settled
        design = record.saved["design"]
        plan = await _plan(ctx, record, spec_text, design, repo_text)
    else:
        design, plan = await _blueprint(ctx, record, spec_text, repo_text)
    ahead = Lookahead(ctx, where, design)
    writing = "readme" not in record.saved

    def readme_ahead(proposed: dict[str, str | None], files: list[str]) -> None:
        async def make(shadow: Run, folder: ProjectFolder, _heard: object) -> object:
            return await readme_step.draft_readme(shadow, folder, spec_text, design, files)

        if writing:
            ahead.start_with(0, proposed, make)

    try:
        outcomes = await _run_tasks(ctx, record, where, plan, design, ahead, readme_ahead)
        if outcomes and outcomes[-1].status == "rejected":
            return _finish(outcomes, plan, record)
        docs: list[str] = []
        if writing:
            docs = await _readme(ctx, where, ahead, spec_text, design, _built(outcomes))
            await record.put("readme", "done")
    finally:
        await ahead.close()
    return _finish(outcomes, plan, record, docs)


async def _readme(
    ctx: Run, where: ProjectFolder, ahead: Lookahead, spec_text: str, design: str, files: list[str]
) -> list[str]:
    """The README step: the draft made during the last review if it still fits."""

    async def still_fits(made: object) -> bool:
        return isinstance(made, readme_step.ReadmeDraft) and await readme_step.fits(
            made, where, files
        )

    made = await ahead.take_with(0, still_fits)
    draft = made if isinstance(made, readme_step.ReadmeDraft) else None
    if draft is None:
        draft = await readme_step.draft_readme(ctx, where, spec_text, design, files)
    ctx.step_mark = ("readme", "done")
    try:
        return await readme_step.propose_readme(ctx, draft)
    finally:
        ctx.step_mark = None


def _built(outcomes: list[TaskOutcome]) -> list[str]:
    """The files the accepted tasks wrote (workspace-relative, sorted)."""
    return sorted({f for o in outcomes if o.status == "accepted" for f in o.files})


async def run_implement(
    ctx: Run, request: ImplementRequest, saved: dict[str, str] | None = None
) -> RunOutcome:
    where = ProjectFolder(ctx, "")
    record = RunRecord(ctx, saved)
    await record.start(json.dumps({"kind": "implement", **asdict(request)}))
    repo = await ctx.project.current_map(ctx.progress)
    focus = list(request.files) or await asyncio.to_thread(
        relevant_files, repo, request.description
    )
    repo_text = await asyncio.to_thread(render_map, repo, budget_tokens=MAP_TOKENS, focus=focus)
    design = "Work in the existing codebase; keep its style, layout and dependencies."
    if focus:
        design += "\nFiles most relevant to the request: " + ", ".join(focus)
    design = roles.with_map(design, repo_text)  # shared by every call: cached (issue 13)
    plan = await _plan(ctx, record, request.description, design, repo_text)
    ahead = Lookahead(ctx, where, design)
    try:
        outcomes = await _run_tasks(ctx, record, where, plan, design, ahead)
    finally:
        await ahead.close()
    return _finish(outcomes, plan, record)


async def _specify(ctx: Run, description: str) -> Specification:
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


async def _blueprint(
    ctx: Run, record: RunRecord, spec_text: str, repo_text: str
) -> tuple[str, Plan]:
    """The design and the plan from one call, each saved as its own stage."""
    ctx.progress("Designing and planning")
    blueprint, _ = await chat_structured(
        ctx, architect.AGENT, architect.blueprint_messages(spec_text, repo_text), Blueprint
    )
    design = architect.render(blueprint.architecture)
    plan = Plan(tasks=blueprint.tasks)
    await record.put("design", design)
    await record.put("plan", plan.model_dump_json())
    _planned(ctx, plan)
    return design, plan


def _planned(ctx: Run, plan: Plan) -> None:
    ctx.progress(f"Planning: {len(plan.tasks)} task{'s' if len(plan.tasks) != 1 else ''}")


async def _plan(ctx: Run, record: RunRecord, goal: str, design: str, repo_text: str) -> Plan:
    async def make() -> str:
        ctx.progress("Planning")
        plan, _ = await chat_structured(
            ctx, tech_lead.AGENT, tech_lead.messages(goal, design, repo_text), Plan
        )
        return plan.model_dump_json()

    plan = Plan.model_validate_json(await record.stage("plan", make))
    _planned(ctx, plan)
    return plan


async def _run_tasks(
    ctx: Run,
    record: RunRecord,
    where: ProjectFolder,
    plan: Plan,
    design: str,
    ahead: Lookahead,
    last: Callable[[dict[str, str | None], list[str]], None] | None = None,
) -> list[TaskOutcome]:
    """The plan's tasks in order; each next one drafted while this one is reviewed, and
    `last` told the last task's proposed files (with all files built by then)."""
    outcomes: list[TaskOutcome] = []
    total = len(plan.tasks)
    todo = [i for i in range(1, total + 1) if not record.task_done(i)]

    def prepare(proposed: dict[str, str | None], nxt: int | None) -> None:
        if nxt is None:
            if last is not None:
                last(proposed, sorted(set(_built(outcomes)) | set(proposed)))
            return
        later = todo[todo.index(nxt) + 1] if todo.index(nxt) + 1 < len(todo) else None
        then = functools.partial(prepare, nxt=later)
        ahead.start(nxt, plan.tasks[nxt - 1], f"Task {nxt}/{total}", proposed, then)

    for position, index in enumerate(todo):
        task = plan.tasks[index - 1]
        label = f"Task {index}/{total}"
        draft = await ahead.take(index)
        repo_text = await workspace_map(ctx, list(task.files))
        following = todo[position + 1] if position + 1 < len(todo) else None
        ctx.step_mark = record.task_mark(index)  # recorded with the step that accepts it
        try:
            outcome = await run_task(
                ctx,
                where,
                task,
                label,
                design,
                repo_text,
                draft=draft,
                ahead=functools.partial(prepare, nxt=following),
            )
        finally:
            ctx.step_mark = None
        outcomes.append(outcome)
        if outcome.status == "rejected":
            break
        if outcome.status == "accepted":
            await record.mark_task(index)
            outcome.message = await check_task(
                ctx, where, task, label, design, outcome.commands, outcome.files
            )
    return outcomes


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
