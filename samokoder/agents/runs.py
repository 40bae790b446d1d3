"""Runs: long work as tracked tasks, one at a time per folder (DESIGN §2).

A command answers with a run id at once; the run queues behind any other run
of its folder, reports progress, delivers its change sets for review and ends
with exactly one `runFinished`, whatever happens to it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from samokoder.agents.host import Host
from samokoder.agents.project import Project
from samokoder.agents.review import (
    Decision,
    Proposal,
    ProposalBook,
    ProposedFile,
    apply_proposal,
    new_proposal_id,
)
from samokoder.agents.run_state import RunState, moved
from samokoder.errors import (
    BudgetExhaustedError,
    InvalidArgumentError,
    SamokoderError,
)
from samokoder.llm.budget import RunBudget
from samokoder.llm.models import ResolvedModel
from samokoder.secrets import redact
from samokoder.settings import Settings
from samokoder.store.rows import RunRow, StepRow
from samokoder.workspace.changeset import ChangeSet, validate_change_set

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    status: str  # succeeded | failed | rejected | cancelled | budget_exhausted
    summary: str
    text: str | None = None


@dataclass
class Run:
    """One run: what it was started with (settings, review mode, host: fixed) and what it
    owns while it goes: its state (`run_state`), progress token, pending proposal,
    budget, model-call slots, each agent's model, the steps it applied, the notes for
    its summary. `Lookahead` makes quiet copies that share the budget and the slots."""

    run_id: str
    kind: str
    project: Project
    settings: Settings
    host: Host
    book: ProposalBook
    review_mode: str
    steps: list[str] = field(default_factory=list)
    step_mark: tuple[str, str] | None = None
    """Set around a task: the artifact its accepting step records (e.g. task:2 accepted),
    in the same transaction, so a resumed run never redoes an accepted task."""
    commands_allowed: bool = False
    """The user answered "Always for this run" to a command question."""
    notes: list[str] = field(default_factory=list)
    """Parts of the model's replies the run ignored or refused; they end its summary."""
    model_gate: asyncio.Semaphore | None = None
    """At most ``maxParallel`` model calls of this run at once, work drafted ahead included."""
    budget: RunBudget | None = None
    """What the run may still spend (``budgetUsd``); shared by its copies."""
    ahead: bool = False
    """A copy drafting work ahead of the user's review: it shows no progress."""
    spent_usd: float = 0.0
    """What the model calls made through this context (or copy) cost."""
    models: dict[str, ResolvedModel] = field(default_factory=dict)
    """Agent -> its model, resolved once per run (the command's check is the first)."""
    state: RunState = RunState.QUEUED
    progress_token: str | None = None
    """The host's handle on the run's progress (None: the client shows none)."""
    pending: Proposal | None = None
    """The proposal with the user now, in review mode ``proposal``."""

    def move(self, to: RunState) -> None:
        self.state = moved(self.run_id, self.state, to)

    def __post_init__(self) -> None:
        if self.model_gate is None:
            self.model_gate = asyncio.Semaphore(self.settings.max_parallel)
        if self.budget is None and self.settings.budget_usd is not None:
            self.budget = RunBudget(self.settings.budget_usd)

    def progress(self, message: str, percentage: int | None = None) -> None:
        if not self.ahead:
            self.host.progress(self.progress_token, message, percentage)

    def note(self, message: str) -> None:
        """Tell the user about a part of a reply that is not used: now, and in the summary."""
        self.progress(message)
        if message not in self.notes:
            self.notes.append(message)

    async def deliver(self, proposal: Proposal) -> Decision:
        """Review, apply or annotate a proposal as the review mode says; returns the verdict."""
        if self.review_mode == "proposal":
            store = self.project.store
            self.pending = proposal
            proposal.on_applying = self._applying
            self.move(RunState.AWAITING_REVIEW)
            await self.book.publish(proposal, self.host)
            await asyncio.to_thread(store.update_run, self.run_id, status="awaiting_review")
            self.progress(f"Waiting for your review: {proposal.title}")
            try:
                decision = await asyncio.shield(proposal.decision)
            except asyncio.CancelledError:
                await self._settle_accept(proposal)
                raise
            self.pending = None
            self.move(RunState.RUNNING)
            await asyncio.to_thread(store.update_run, self.run_id, status="running")
        else:
            self.move(RunState.APPLYING)
            decision = await self._apply_now(proposal)
            self.move(RunState.RUNNING)
        if decision.step_id:
            self._note_step(decision.step_id)
        return decision

    def _applying(self, started: bool) -> None:
        """The user's accept of the pending proposal starts writing (or was refused)."""
        if self.state is not RunState.FINISHED:
            self.move(RunState.APPLYING if started else RunState.AWAITING_REVIEW)

    async def _settle_accept(self, proposal: Proposal) -> None:
        """Cancelled while the user's accept of `proposal` is being applied: the accept
        goes on (half a step is worse), so wait for it and report its step."""
        applying = proposal.applying
        if applying is not None and not applying.is_set():
            await asyncio.shield(applying.wait())
        if proposal.decision.done() and not proposal.decision.cancelled():
            step_id = proposal.decision.result().step_id
            if step_id:
                self._note_step(step_id)

    def _note_step(self, step: StepRow | str) -> None:
        step_id = step if isinstance(step, str) else step.step_id
        if step_id not in self.steps:
            self.steps.append(step_id)

    async def _apply_now(self, proposal: Proposal) -> Decision:
        step, planned = await apply_proposal(
            proposal,
            list(proposal.files),
            self.host,
            editor_review=self.review_mode == "annotated",
            on_recorded=self._note_step,  # a cancel mid-step still reports it
        )
        return Decision("accepted", step_id=step.step_id, applied=tuple(p.rel for p in planned))

    async def propose(
        self,
        change_set: ChangeSet,
        bases: dict[str, str | None],
        *,
        agent: str,
        model: str,
        tokens: int,
    ) -> Decision:
        """Validate an agent's change set, then deliver it for review.

        `bases` holds the text each file had when the change was computed (None:
        absent), so accepting can tell whether the user changed it since.
        """
        workspace = self.project.workspace
        checked = await asyncio.to_thread(
            validate_change_set, change_set, workspace, lambda rel: workspace.resolve(rel).exists()
        )
        secret = [c.path for c in checked.files if self.project.is_secret(c.path)]
        if secret:
            raise InvalidArgumentError(
                "The change set writes secret-looking or ignored files, which Samokoder does "
                "not write: " + ", ".join(secret)
            )
        files = [ProposedFile(c.path, c.kind, bases.get(c.path), c.content) for c in checked.files]
        proposal = Proposal(
            new_proposal_id(), self.run_id, checked.title, self.project, files, agent, model, tokens
        )
        proposal.mark = self.step_mark
        return await self.deliver(proposal)


RunBody = Callable[[Run], Awaitable[RunOutcome]]
NOTES_SHOWN = 5


def with_notes(summary: str, notes: list[str]) -> str:
    """The summary, then what was left out of the model's replies (a few, then a count)."""
    if not notes:
        return summary
    shown = " ".join(notes[:NOTES_SHOWN])
    more = f" ({len(notes) - NOTES_SHOWN} more not shown.)" if len(notes) > NOTES_SHOWN else ""
    return f"{summary} Not used from the model's replies: {shown}{more}"


def error_kind(exc: SamokoderError) -> str:
    """A stable name for what ended a run, for programs (the message is for people):
    a provider failure's kind (``truncated``, ``deadline``, ``auth``...), else the error's
    class (``unusable_reply``, ``budget_exhausted``, ``outside_workspace``...)."""
    kind = getattr(exc, "kind", None)
    if isinstance(kind, str) and kind:
        return kind
    name = type(exc).__name__.removesuffix("Error") or "Samokoder"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class RunManager:
    """Starts, tracks and cancels runs; keeps a strong reference to every task."""

    def __init__(self, book: ProposalBook) -> None:
        self.book = book
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def active(self) -> list[str]:
        return list(self._tasks)

    async def start(
        self,
        *,
        kind: str,
        title: str,
        description: str,
        project: Project,
        settings: Settings,
        host: Host,
        review_mode: str,
        body: RunBody,
        models: dict[str, ResolvedModel] | None = None,
    ) -> str:
        run_id = "r-" + uuid.uuid4().hex[:12]
        row = RunRow(run_id, kind, description, "running", "", None, time.time(), None)
        await asyncio.to_thread(project.store.create_run, row)
        ctx = Run(run_id, kind, project, settings, host, self.book, review_mode)
        ctx.models.update(models or {})
        task = asyncio.create_task(self._drive(ctx, body, title), name=f"run {run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))
        return run_id

    def cancel(self, run_id: str) -> bool:
        task = self._tasks.get(run_id)
        if task is None:
            return False
        task.cancel()
        return True

    async def shutdown(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drive(self, ctx: Run, body: RunBody, title: str) -> None:
        error: str | None = None
        kind: str | None = None
        text: str | None = None
        try:
            ctx.progress_token = await ctx.host.run_started(ctx.run_id, title)
            if ctx.project.run_lock.locked():
                ctx.progress("Queued behind another run in this folder")
            async with ctx.project.run_lock:
                ctx.move(RunState.RUNNING)
                outcome = await body(ctx)
            status, summary, text = outcome.status, outcome.summary, outcome.text
        except asyncio.CancelledError:
            status, summary = "cancelled", "Cancelled; nothing half-applied was left behind."
            if ctx.steps:  # e.g. an accept that was under way when the cancel came
                summary = (
                    f"Cancelled after {len(ctx.steps)} step(s) were applied; they stay (undo"
                    " takes them back), and nothing half-applied was left behind."
                )
        except BudgetExhaustedError as exc:  # steps already accepted stay applied
            status, summary, error = "budget_exhausted", exc.message, exc.message
            kind = error_kind(exc)
        except SamokoderError as exc:
            status, summary, error = "failed", exc.message, exc.message
            kind = error_kind(exc)
        except Exception as exc:  # one run's crash must not take the server down
            log.exception("run %s crashed", ctx.run_id)
            status, summary, kind = "failed", "Internal error; see the server log.", "internal"
            error = redact(f"{type(exc).__name__}: {exc}", ctx.settings.api_keys.values())
        await self._finish(ctx, status, with_notes(summary, ctx.notes), (error, kind), text)

    async def _finish(
        self,
        ctx: Run,
        status: str,
        summary: str,
        failure: tuple[str | None, str | None],
        text: str | None,
    ) -> None:
        error, kind = failure
        store = ctx.project.store
        try:
            await self.book.withdraw(ctx.pending)
            await asyncio.to_thread(
                store.update_run,
                ctx.run_id,
                status=status,
                summary=summary,
                error=error,
                finished=True,
            )
            usage = await asyncio.to_thread(store.usage, ctx.run_id)
            totals = usage.get("total", {})
        except Exception:
            log.exception("could not record the end of run %s", ctx.run_id)
            totals = {}
        payload: dict[str, Any] = {
            "runId": ctx.run_id,
            "status": status,
            "summary": summary,
            "steps": list(ctx.steps),
            "usage": totals,
        }
        if error is not None:
            payload["error"] = error
            payload["errorKind"] = kind or "other"
        if text is not None:
            payload["text"] = text
        ctx.move(RunState.FINISHED)
        ctx.pending = None
        await ctx.host.run_finished(payload, ctx.progress_token)
