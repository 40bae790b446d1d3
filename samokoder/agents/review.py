"""Proposals: change sets that wait for the user's verdict (DESIGN §4).

A run publishes a proposal and awaits its decision. Accepting re-reads every
file; a file the user edited meanwhile is rebased when the edits do not touch
the same lines, and otherwise the accept is refused naming the file. Nothing
the user typed is overwritten.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from samokoder.agents.host import Host, ProposalNotice
from samokoder.agents.project import Project
from samokoder.agents.steps import PlannedFile, StepSpec, apply_step, current_state
from samokoder.errors import InvalidArgumentError, NotFoundError, StaleProposalError
from samokoder.store.rows import ProposalFileRow, ProposalRow, StepRow
from samokoder.workspace.textedits import count_changes, rebase, unified_diff


@dataclass(frozen=True)
class ProposedFile:
    """One file of a proposal and the content it was computed from."""

    rel: str
    kind: Literal["create", "modify", "delete"]
    base: str | None  # None: the file did not exist
    proposed: str | None  # None: delete


@dataclass(frozen=True)
class Decision:
    verdict: Literal["accepted", "rejected", "stale", "cancelled"]
    feedback: str | None = None
    step_id: str | None = None
    applied: tuple[str, ...] = ()


@dataclass
class Proposal:
    proposal_id: str
    run_id: str
    title: str
    project: Project
    files: list[ProposedFile]
    agent: str
    model: str
    tokens: int
    decision: asyncio.Future[Decision] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    mark: tuple[str, str] | None = None
    """A run artifact recorded with the step that accepts this proposal (see `apply_step`)."""
    applying: asyncio.Event | None = None
    """Set while an accept applies it; a run cancelled meanwhile waits for it to end."""
    on_applying: Callable[[bool], None] | None = None
    """Told when an accept starts writing (True) and when it ends undecided (False)."""

    def file(self, rel: str) -> ProposedFile:
        for f in self.files:
            if f.rel == rel:
                return f
        raise NotFoundError(
            f"{rel!r} is not part of proposal {self.proposal_id}; its files are "
            + ", ".join(f.rel for f in self.files)
        )

    def summary(self) -> list[dict[str, Any]]:
        rows = []
        for f in self.files:
            added, deleted = count_changes(f.base or "", f.proposed or "")
            rows.append({"path": f.rel, "kind": f.kind, "additions": added, "deletions": deleted})
        return rows


class ProposalBook:
    """Pending proposals by id; decided ones leave the book."""

    def __init__(self) -> None:
        self._pending: dict[str, Proposal] = {}

    def get(self, proposal_id: object) -> Proposal:
        if not isinstance(proposal_id, str) or not proposal_id:
            raise InvalidArgumentError("proposalId must be a non-empty string")
        proposal = self._pending.get(proposal_id)
        if proposal is None:
            raise NotFoundError(
                f"No pending proposal {proposal_id!r}: it was already accepted, rejected or"
                " cancelled, or the server restarted since."
            )
        return proposal

    async def publish(self, proposal: Proposal, host: Host) -> None:
        self._pending[proposal.proposal_id] = proposal
        row = ProposalRow(
            proposal_id=proposal.proposal_id,
            run_id=proposal.run_id,
            title=proposal.title,
            status="pending",
            created_at=time.time(),
            files=tuple(ProposalFileRow(**f) for f in proposal.summary()),
        )
        await asyncio.to_thread(proposal.project.store.create_proposal, row)
        await host.propose(
            ProposalNotice(
                proposal.proposal_id, proposal.run_id, proposal.title, proposal.summary()
            )
        )

    def _close(self, proposal: Proposal, decision: Decision) -> None:
        self._pending.pop(proposal.proposal_id, None)
        if not proposal.decision.done():
            proposal.decision.set_result(decision)

    async def withdraw(self, proposal: Proposal | None) -> None:
        """A run ended (cancelled, failed) with `proposal` waiting for review: it can no
        longer be accepted. One being applied right now is not in the book: left alone."""
        if proposal is None or proposal.proposal_id not in self._pending:
            return
        self._close(proposal, Decision("cancelled"))
        await asyncio.to_thread(
            proposal.project.store.set_proposal_status, proposal.proposal_id, "cancelled"
        )

    async def file_view(self, proposal_id: object, rel: object) -> dict[str, str]:
        proposal = self.get(proposal_id)
        if not isinstance(rel, str):
            raise InvalidArgumentError("path must be a workspace-relative string")
        f = proposal.file(proposal.project.workspace.relative(rel))
        original, proposed = f.base or "", f.proposed or ""
        return {
            "original": original,
            "proposed": proposed,
            "diff": unified_diff(f.rel, original, proposed),
        }

    async def accept(self, proposal_id: object, files: object, host: Host) -> dict[str, Any]:
        proposal = self.get(proposal_id)
        chosen = _choose(proposal, files)
        # Out of the book while it is applied: a racing reject or cancel finds nothing.
        self._pending.pop(proposal.proposal_id, None)
        proposal.applying = asyncio.Event()
        if proposal.on_applying is not None:
            proposal.on_applying(True)
        try:
            return await self._apply(proposal, chosen, host)
        finally:
            if not proposal.decision.done():
                self._pending[proposal.proposal_id] = proposal  # e.g. the editor refused
                if proposal.on_applying is not None:
                    proposal.on_applying(False)
            proposal.applying.set()

    async def _apply(
        self, proposal: Proposal, chosen: list[ProposedFile], host: Host
    ) -> dict[str, Any]:
        project = proposal.project
        try:
            step, planned = await apply_proposal(proposal, chosen, host)
        except StaleProposalError:
            self._close(proposal, Decision("stale"))
            await asyncio.to_thread(
                project.store.set_proposal_status, proposal.proposal_id, "stale"
            )
            raise
        status = "accepted" if len(chosen) == len(proposal.files) else "partially_accepted"
        await asyncio.to_thread(project.store.set_proposal_status, proposal.proposal_id, status)
        applied = tuple(f.rel for f in planned)
        self._close(proposal, Decision("accepted", step_id=step.step_id, applied=applied))
        return {"applied": list(applied), "stepId": step.step_id}

    async def reject(self, proposal_id: object, feedback: object) -> dict[str, Any]:
        proposal = self.get(proposal_id)
        if feedback is not None and not isinstance(feedback, str):
            raise InvalidArgumentError("feedback must be a string")
        await asyncio.to_thread(
            proposal.project.store.set_proposal_status, proposal.proposal_id, "rejected"
        )
        self._close(proposal, Decision("rejected", feedback=(feedback or "").strip() or None))
        return {}


def _choose(proposal: Proposal, files: object) -> list[ProposedFile]:
    if files is None:
        return list(proposal.files)
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise InvalidArgumentError("files must be a non-empty list of paths from the proposal")
    ws = proposal.project.workspace
    return [proposal.file(ws.relative(f)) for f in files]


async def apply_proposal(
    proposal: Proposal,
    chosen: list[ProposedFile],
    host: Host,
    *,
    editor_review: bool = False,
    on_recorded: Callable[[StepRow], None] | None = None,
) -> tuple[StepRow, list[PlannedFile]]:
    """Re-read the chosen files, refuse if any changed where the proposal edits them,
    else apply them as one step (through the editor's confirmation when `editor_review`)."""
    project = proposal.project
    async with project.step_lock:
        planned, stale = await plan_files(proposal, chosen, host)
        if stale:
            raise StaleProposalError(
                "Not applied: "
                + ", ".join(stale)
                + " changed where the proposal edits it since it was made. Nothing was"
                " changed; run the command again.",
                stale,
            )
        spec = StepSpec(
            agent=proposal.agent,
            summary=proposal.title,
            run_id=proposal.run_id,
            model=proposal.model,
            tokens=proposal.tokens,
            mark=proposal.mark,
        )
        step = await apply_step(
            project,
            host,
            planned,
            spec,
            label=proposal.title,
            all_through_editor=editor_review,
            needs_confirmation=editor_review,
            on_recorded=on_recorded,
        )
    return step, planned


async def plan_files(
    proposal: Proposal, chosen: list[ProposedFile], host: Host
) -> tuple[list[PlannedFile], list[str]]:
    planned: list[PlannedFile] = []
    stale: list[str] = []
    for f in chosen:
        state = await current_state(proposal.project, host, f.rel)
        after: str | None = f.proposed
        if state.text != f.base:
            merged = None
            if f.base is not None and f.proposed is not None and state.text is not None:
                merged = rebase(f.base, f.proposed, state.text)
            if merged is None:
                stale.append(f.rel)
                continue
            after = merged
        planned.append(PlannedFile(f.rel, state.uri, state.text, after, state.version))
    return planned, stale


def new_proposal_id() -> str:
    return "p-" + uuid.uuid4().hex[:12]
