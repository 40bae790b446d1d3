"""Runs started from code actions: fix diagnostics, write tests, explain (DESIGN §8).

Each works on a snapshot of one file (and a range in it) taken when the command
arrived. Fixes and tests are proposals like any other; new tests are then run
(with consent) and, when they fail, troubleshot like a task's commands.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from samokoder.agents.llm_gateway import chat
from samokoder.agents.roles import code_monkey, explainer
from samokoder.agents.runs import Run, RunOutcome
from samokoder.agents.schemas import FileStep, Task, TaskSteps
from samokoder.agents.task_runner import ProjectFolder, emptied_note, write_changes
from samokoder.agents.troubleshoot import check_task, project_path, propose_fix
from samokoder.store.db import STATE_DIR
from samokoder.workspace.files import atomic_write
from samokoder.workspace.project_tests import TestPlan

MAX_ATTEMPTS = 3  # proposals per run: the first and two after rejections with feedback
WHOLE_FILE_CHARS = 20_000
CONTEXT_LINES = 60
EXPLAIN_DIR = "explain"
EXPLAIN_KEEP = 20
DESIGN = "Work in the existing codebase; keep its style and layout; change as little as needed."


@dataclass(frozen=True)
class CodeRequest:
    """A file snapshot and a range in it (str offsets; the whole file when no range was given)."""

    rel: str
    text: str
    start: int
    end: int

    @property
    def lines(self) -> tuple[int, int]:
        """First and last line of the range, 1-based."""
        first = self.text.count("\n", 0, self.start) + 1
        last = self.text.count("\n", 0, max(self.start, self.end - 1)) + 1
        return first, last

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end == len(self.text)

    def where(self) -> str:
        first, last = self.lines
        if self.whole:
            return self.rel
        return f"{self.rel}:{first}" if first == last else f"{self.rel}:{first}-{last}"

    def code_for_prompt(self) -> str:
        """The whole file when small, else the range with some lines around it."""
        if len(self.text) <= WHOLE_FILE_CHARS:
            body = self.text
        else:
            lines = self.text.splitlines(keepends=True)
            first, last = self.lines
            body = "".join(lines[max(0, first - 1 - CONTEXT_LINES) : last + CONTEXT_LINES])
        return f"{self.rel}:\n```\n{body}\n```"


@dataclass(frozen=True)
class DiagnosticNote:
    """One editor diagnostic, as the code action passed it (0-based line and character)."""

    line: int
    character: int
    message: str
    severity: str = ""
    source: str = ""
    code: str = ""


def diagnostics_report(request: CodeRequest, diagnostics: tuple[DiagnosticNote, ...]) -> str:
    if not diagnostics:
        return (
            f"No diagnostics were given: find and fix the evident errors (bugs, syntax or type "
            f"errors) in {request.where()}."
        )
    lines = request.text.splitlines()
    out = [f"The editor reports these problems in {request.rel}:"]
    for d in diagnostics:
        label = " ".join(p for p in (d.severity, d.source, d.code) if p)
        code = lines[d.line].strip() if 0 <= d.line < len(lines) else ""
        out.append(
            f"- line {d.line + 1}, column {d.character + 1}"
            + (f" ({label})" if label else "")
            + f": {d.message}"
            + (f"\n  the line: `{code}`" if code else "")
        )
    return "\n".join(out)


async def run_fix_diagnostics(
    ctx: Run, request: CodeRequest, diagnostics: tuple[DiagnosticNote, ...]
) -> RunOutcome:
    where = ProjectFolder(ctx, "")
    report = diagnostics_report(request, diagnostics)
    count = f"{len(diagnostics)} problem(s)" if diagnostics else "the problems"
    task = Task(
        title=f"Fix {count} in {request.where()}",
        description=report,
        acceptance_criteria=["The reported problems are gone", "Nothing else changes"],
        files=[request.rel],
    )
    feedback: str | None = None
    for _ in range(MAX_ATTEMPTS):
        ctx.progress(f"Troubleshooting {request.where()}")
        text = report + (f"\n\nThe user rejected the previous fix: {feedback}" if feedback else "")
        decision = await propose_fix(ctx, where, task, text, [request.rel], "Fix", DESIGN)
        if decision is None:
            return RunOutcome(
                "succeeded", f"The troubleshooter found nothing to change in {request.rel}."
            )
        if decision.verdict == "accepted":
            return RunOutcome("succeeded", f"Fixed {count} in {request.where()}.")
        if decision.verdict != "rejected" or not decision.feedback:
            return RunOutcome("rejected", f"Fix {decision.verdict}; nothing was changed.")
        feedback = decision.feedback
    return RunOutcome("rejected", f"Stopped after {MAX_ATTEMPTS} rejected fixes.")


async def run_write_tests(ctx: Run, request: CodeRequest, plan: TestPlan) -> RunOutcome:
    where = ProjectFolder(ctx, plan.cwd)
    path = project_path(where, plan.path)
    current = await where.read(path)
    runs = f" It is run with `{plan.command}`" if plan.command else ""
    what = "the code" if request.whole else "the selected code"
    task = Task(
        title=f"Tests for {request.where()}",
        description=(
            f"Write unit tests for {what} ({request.where()}) in {path}.{runs} from "
            f"{plan.cwd or 'the workspace folder'}; import the code under test the way that "
            f"allows. Use the test framework the project already uses.\n\n"
            f"{request.code_for_prompt()}"
        ),
        acceptance_criteria=[
            "The tests pass against the current code (unless they reveal a real bug)",
            "They cover the normal cases and the edge cases",
        ],
        files=[path],
    )
    instructions = "Add tests for the code described in the task"
    step = FileStep(
        path=path, action="modify" if current is not None else "create", instructions=instructions
    )
    steps = TaskSteps(files=[step], commands=[plan.command] if plan.command else [])
    notes: str | None = None
    for _ in range(MAX_ATTEMPTS):
        change_set, bases, tokens, model = await write_changes(
            ctx, where, task, steps, DESIGN, {path: current}, "Tests", notes
        )
        if change_set is None:
            return RunOutcome("succeeded", "The model proposed no tests.")
        title = f"Tests: {plan.path}{emptied_note(change_set.files, bases)}"
        change_set = change_set.model_copy(update={"title": title})
        decision = await ctx.propose(
            change_set, bases, agent=code_monkey.AGENT, model=model, tokens=tokens
        )
        if decision.verdict == "accepted":
            summary = f"Wrote tests for {request.where()} in {plan.path}."
            check = await check_task(
                ctx, where, task, "Tests", DESIGN, steps.commands, list(decision.applied)
            )
            return RunOutcome("succeeded", f"{summary} {check}" if check else summary)
        if decision.verdict != "rejected" or not decision.feedback:
            return RunOutcome("rejected", f"Tests {decision.verdict}; nothing was changed.")
        notes = f"The user rejected the previous tests with this feedback:\n{decision.feedback}"
    return RunOutcome("rejected", f"Stopped after {MAX_ATTEMPTS} rejected attempts.")


async def run_explain(ctx: Run, request: CodeRequest) -> RunOutcome:
    ctx.progress(f"Explaining {request.where()}")
    messages = explainer.messages(request.rel, request.text, request.start, request.end)
    reply = await chat(ctx, explainer.AGENT, messages)
    text = reply.text.strip()
    if not text:
        return RunOutcome("failed", "The model gave an empty explanation.")
    document = f"# {request.where()}\n\n{text}\n"
    path = await asyncio.to_thread(_write_explanation, ctx.project.root, ctx.run_id, document)
    shown = await ctx.host.show_document(path.as_uri())
    where = " (opened in the editor)" if shown else ""
    return RunOutcome("succeeded", f"Explained {request.where()}{where}.", text=text)


def _write_explanation(root: Path, run_id: str, document: str) -> Path:
    """`.samokoder/explain/<run>.md` (the server's own folder); the oldest beyond a few go."""
    folder = root / STATE_DIR / EXPLAIN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}.md"
    atomic_write(path, document.encode("utf-8"))
    old = sorted(folder.glob("*.md"), key=lambda p: p.stat().st_mtime)[:-EXPLAIN_KEEP]
    for stale in old:
        stale.unlink(missing_ok=True)
    return path
