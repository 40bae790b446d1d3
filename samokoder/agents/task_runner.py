"""One task of a plan: developer → code writers (in parallel) → reviewer → the user's review.

A rejection with feedback sends the task back to the developer with it; every
loop has a bound, and reaching one ends the task with a message saying which.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from samokoder.agents.file_writer import WrittenFile, write_file
from samokoder.agents.llm_gateway import chat_structured
from samokoder.agents.roles import developer, refused_paths, reviewer
from samokoder.agents.runs import Run
from samokoder.agents.schemas import FileStep, Review, Task, TaskSteps
from samokoder.agents.steps import current_state
from samokoder.errors import OutsideWorkspaceError, SamokoderError, StaleProposalError
from samokoder.workspace.changeset import ChangeSet, FileChange
from samokoder.workspace.repo_map import render_map

REJECTION_ROUNDS = 2  # extra attempts after a rejection with feedback
REVIEW_ROUNDS = 2  # times the reviewer may send a change back
PATH_ROUNDS = 2  # times the developer may be told its paths are refused
CONTEXT_CHARS = 60_000  # of existing files shown to the developer
MAP_TOKENS = 3_000


async def workspace_map(ctx: Run, focus: list[str] | None = None) -> str:
    repo = await ctx.project.current_map(ctx.progress)
    return await asyncio.to_thread(render_map, repo, budget_tokens=MAP_TOKENS, focus=focus or [])


@dataclass(frozen=True)
class ProjectFolder:
    """The folder a run works in; the model names paths relative to it."""

    ctx: Run
    folder: str  # workspace-relative, "" for the workspace root
    overlay: dict[str, str | None] = field(default_factory=dict)
    """Workspace-relative path -> text read instead of the file's (a proposal under review;
    None: the proposal deletes it)."""

    def to_workspace(self, path: str) -> str:
        """Confined workspace-relative path for a path the model named."""
        clean = path.strip().strip("`").removeprefix("./")
        if PurePosixPath(clean).is_absolute():
            raise OutsideWorkspaceError(path, "absolute paths are not allowed; use relative ones")
        joined = f"{self.folder}/{clean}" if self.folder else clean
        rel = self.ctx.project.workspace.relative(joined)
        if self.folder and not (rel == self.folder or rel.startswith(self.folder + "/")):
            raise OutsideWorkspaceError(path, f"it leads outside the project folder {self.folder}")
        return rel

    async def read(self, path: str) -> str | None:
        rel = self.to_workspace(path)
        if rel in self.overlay:
            return self.overlay[rel]
        state = await current_state(self.ctx.project, self.ctx.host, rel)
        return state.text


@dataclass
class TaskOutcome:
    status: str  # accepted | rejected | unchanged
    files: list[str] = field(default_factory=list)
    message: str = ""
    commands: list[str] = field(default_factory=list)  # the developer's, to run afterwards


@dataclass(frozen=True)
class Draft:
    """A task's change as computed up to the user's review."""

    steps: TaskSteps
    currents: dict[str, str | None]  # as the model names paths -> text it was written on
    written: dict[str, WrittenFile]
    change_set: ChangeSet | None
    bases: dict[str, str | None]
    tokens: int
    model: str


Ahead = Callable[[dict[str, str | None]], None]
"""Told the files a task is about to propose (workspace-relative -> content), so the
next task can be drafted against them while this one is reviewed."""


async def run_task(
    ctx: Run,
    where: ProjectFolder,
    task: Task,
    label: str,
    design: str,
    repo_text: str,
    *,
    draft: Draft | None = None,
    ahead: Ahead | None = None,
) -> TaskOutcome:
    """The task from its plan (or a `draft` made ahead) to the user's verdict."""
    feedback: str | None = None
    ignored: list[str] = []
    for _ in range(REJECTION_ROUNDS + 1):
        if draft is None:
            draft = await draft_task(
                ctx, where, task, label, design, repo_text, feedback, ignored, ahead
            )
        if draft.change_set is None:
            return TaskOutcome("unchanged", message=f"{label}: nothing to change.")
        if ahead is not None:  # a draft made ahead: its successor starts now
            _tell(ahead, draft.change_set)
        decision = await ctx.propose(
            draft.change_set, draft.bases, agent="developer", model=draft.model, tokens=draft.tokens
        )
        if decision.verdict == "accepted":
            commands = list(draft.steps.commands)
            return TaskOutcome("accepted", list(decision.applied), commands=commands)
        if decision.verdict == "stale":
            raise StaleProposalError(f"{label}: files changed while it was reviewed.", [])
        if decision.verdict != "rejected" or not decision.feedback:
            return TaskOutcome("rejected", message=f"{label} was rejected.")
        feedback = decision.feedback
        ignored = [i for w in draft.written.values() for i in w.ignored]
        draft = None
    return TaskOutcome(
        "rejected", message=f"{label}: stopped after {REJECTION_ROUNDS + 1} rejected attempts."
    )


async def draft_task(
    ctx: Run,
    where: ProjectFolder,
    task: Task,
    label: str,
    design: str,
    repo_text: str,
    feedback: str | None = None,
    ignored: list[str] | None = None,
    ahead: Ahead | None = None,
) -> Draft:
    """Steps (the plan's, else the developer's), the code writers, then the reviewer.

    `ahead` hears the written files before the reviewer sees them, and again if the
    reviewer had them changed, so the next task's draft overlaps this one's review.
    """
    steps = None if feedback else _planned_steps(ctx, where, task)
    if steps is None:
        ctx.progress(f"{label}: planning files")
        steps = await _plan_files(ctx, where, task, design, repo_text, feedback)
    currents = {s.path: await where.read(s.path) for s in steps.files}
    notes = (
        f"The user rejected the previous attempt at this task:\n{feedback}" if feedback else None
    )
    if notes and ignored:  # what the code writers sent last time and was left out
        notes += "\nIn the previous attempt:\n" + "\n".join(ignored)
    written = await _write_all(ctx, task, steps, design, currents, label, user_notes=notes)
    change = _change_set(where, task, label, currents, written)
    if ahead is not None:
        _tell(ahead, change[0])
    reviewed = await _review(ctx, task, steps, design, currents, written, label)
    if reviewed is not written:  # the reviewer had files written again
        written = reviewed
        change = _change_set(where, task, label, currents, written)
        if ahead is not None:
            _tell(ahead, change[0])
    change_set, bases, tokens, model = change
    return Draft(steps, currents, written, change_set, bases, tokens, model)


def _tell(ahead: Ahead, change_set: ChangeSet | None) -> None:
    """Workspace-relative path -> the content the change set gives it (None: deleted)."""
    if change_set is not None:
        ahead({c.path: c.content if c.kind != "delete" else None for c in change_set.files})


def _planned_steps(ctx: Run, where: ProjectFolder, task: Task) -> TaskSteps | None:
    """The plan's own steps for the task, unless it has none or names a refused path
    (then the developer is asked, and told why)."""
    if not task.steps:
        return None
    for step in task.steps:
        try:
            if ctx.project.is_secret(where.to_workspace(step.path)):
                return None
        except SamokoderError:
            return None
    return TaskSteps(files=task.steps, commands=task.commands)


async def _plan_files(
    ctx: Run,
    where: ProjectFolder,
    task: Task,
    design: str,
    repo_text: str,
    feedback: str | None,
) -> TaskSteps:
    contents: dict[str, str] = {}
    budget = CONTEXT_CHARS
    for path in task.files:
        try:
            text = await where.read(path)
        except SamokoderError:
            continue
        if text is not None and len(text) <= budget:
            contents[path] = text
            budget -= len(text)
    messages = developer.messages(task, design, repo_text, contents, feedback)
    for _ in range(PATH_ROUNDS + 1):
        steps, _reply = await chat_structured(ctx, developer.AGENT, messages, TaskSteps)
        refused = []
        for step in steps.files:
            try:
                rel = where.to_workspace(step.path)
                if ctx.project.is_secret(rel):
                    refused.append(f"{step.path}: secret-looking or ignored files are not written")
            except SamokoderError as exc:
                refused.append(exc.message)
        if not refused:
            return steps
        lead = "These paths are refused:"
        messages = [*messages, *refused_paths(steps.model_dump_json(), refused, lead)]
    raise SamokoderError(f"The developer kept naming refused paths: {'; '.join(refused)}")


async def write_changes(
    ctx: Run,
    where: ProjectFolder,
    task: Task,
    steps: TaskSteps,
    design: str,
    currents: dict[str, str | None],
    label: str,
    notes: str | None = None,
) -> tuple[ChangeSet | None, dict[str, str | None], int, str]:
    """The code writers on `steps` (no reviewer): a change set, its bases, tokens and model.

    For work outside a planned task (a troubleshooter's fix, tests to write).
    """
    written = await _write_all(ctx, task, steps, design, currents, label, user_notes=notes)
    return _change_set(where, task, label, currents, written)


def _layers(files: list[FileStep]) -> list[list[FileStep]]:
    """Files grouped so each group depends only on earlier groups (cycles are broken)."""
    remaining = {f.path: f for f in files}
    done: set[str] = set()
    layers = []
    while remaining:
        ready = [
            f
            for f in remaining.values()
            if all(d in done or d not in remaining for d in f.depends_on)
        ]
        if not ready:  # a cycle: take the rest in order
            ready = list(remaining.values())
        layers.append(ready)
        for f in ready:
            done.add(f.path)
            del remaining[f.path]
    return layers


async def _write_all(
    ctx: Run,
    task: Task,
    steps: TaskSteps,
    design: str,
    currents: dict[str, str | None],
    label: str,
    only: set[str] | None = None,
    review: Review | None = None,
    previous: dict[str, WrittenFile] | None = None,
    user_notes: str | None = None,
) -> dict[str, WrittenFile]:
    written: dict[str, WrittenFile] = dict(previous or {})
    gate = asyncio.Semaphore(ctx.settings.max_parallel)
    total = len(steps.files) if only is None else len(only)
    counter = 0

    async def one(step: FileStep) -> None:
        nonlocal counter
        async with gate:
            counter += 1
            ctx.progress(f"{label}: writing {step.path} ({counter}/{total})")
            neighbours = {
                d: w.content
                for d in step.depends_on
                if (w := written.get(d)) is not None and w.content is not None
            }
            notes = reviewer.notes_for(review, step.path) if review else user_notes
            before = (previous or {}).get(step.path)
            if before is not None and before.ignored:  # told now, so it can be put right
                notes = "\n".join([*([notes] if notes else []), *before.ignored])
            written[step.path] = await write_file(
                ctx, task, step, design, currents.get(step.path), neighbours, notes
            )

    for layer in _layers(list(steps.files)):
        todo = [asyncio.ensure_future(one(s)) for s in layer if only is None or s.path in only]
        try:
            await asyncio.gather(*todo)
        except BaseException:  # one file gave up: the others stop asking the model
            for pending in todo:
                pending.cancel()
            await asyncio.gather(*todo, return_exceptions=True)
            raise
    return written


async def _review(
    ctx: Run,
    task: Task,
    steps: TaskSteps,
    design: str,
    currents: dict[str, str | None],
    written: dict[str, WrittenFile],
    label: str,
) -> dict[str, WrittenFile]:
    for _ in range(REVIEW_ROUNDS):
        ctx.progress(f"{label}: reviewing")
        changes = {p: (currents.get(p), w.content) for p, w in written.items()}
        verdict, _reply = await chat_structured(
            ctx, reviewer.AGENT, reviewer.messages(task, changes), Review
        )
        flagged = {i.path for i in verdict.issues} & set(written)
        if verdict.approved or not flagged:
            return written
        written = await _write_all(
            ctx,
            task,
            steps,
            design,
            currents,
            label,
            only=flagged,
            review=verdict,
            previous=written,
        )
    return written


def _change_set(
    where: ProjectFolder,
    task: Task,
    label: str,
    currents: dict[str, str | None],
    written: dict[str, WrittenFile],
) -> tuple[ChangeSet | None, dict[str, str | None], int, str]:
    files: list[FileChange] = []
    bases: dict[str, str | None] = {}
    tokens = 0
    model = ""
    for path, w in written.items():
        tokens += w.tokens
        model = model or w.model
        before = currents.get(path)
        if w.content == before:
            continue
        rel = where.to_workspace(path)
        bases[rel] = before
        if w.content is None:
            files.append(FileChange(path=rel, kind="delete"))
        else:
            if before is None:
                files.append(FileChange(path=rel, kind="create", content=w.content))
            else:
                files.append(FileChange(path=rel, kind="modify", content=w.content))
    if not files:
        return None, bases, tokens, model
    title = f"{label}: {task.title}{emptied_note(files, bases)}"
    return ChangeSet(title=title, files=files), bases, tokens, model


def emptied_note(files: list[FileChange], bases: dict[str, str | None]) -> str:
    """What a change set's title adds for empty files: " (empties a.py; creates empty b.py)"."""
    said = [
        f"empties {c.path}" if bases.get(c.path) else f"creates empty {c.path}"
        for c in files
        if c.kind != "delete" and not (c.content or "").strip()
    ]
    return f" ({'; '.join(said)})" if said else ""
