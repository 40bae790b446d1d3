"""The next task, drafted while this one is reviewed (issue 13).

Once a task's change is written, the next task is drafted against it: its code
writers and reviewer read the proposed files instead of the disk. When the user
accepts the change as proposed, so that every file the draft read holds on disk
what the draft was made from, the draft is proposed at once; otherwise it is
thrown away and the task is done as usual. One task ahead at most, and none
once half the run's budget is spent. Its calls are in the ledger like any; the
cost of drafts thrown away is named in the run's summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from samokoder.agents.runs import Run
from samokoder.agents.schemas import Task
from samokoder.agents.task_runner import Ahead, Draft, ProjectFolder, draft_task, workspace_map
from samokoder.errors import SamokoderError

log = logging.getLogger(__name__)

BUDGET_SHARE = 0.5  # no drafting ahead once this share of budgetUsd is spent
_WHY = {  # why a draft was not used, as the run's summary says it
    "stale": "the files changed before they were needed",
    "failed": "drafting failed and the work was done again",
    "unneeded": "the run went another way before they were needed",
}


Make = Callable[[Run, ProjectFolder, Ahead], Coroutine[Any, Any, object]]
"""Drafts something with a quiet copy of the run, against the proposed files."""


@dataclasses.dataclass
class _Job:
    index: int  # a task's number; 0 for what follows the last task (the README)
    proposed: dict[str, str | None]
    shadow: Run
    then: Ahead | None
    """Told the draft's own files once it is the task at hand, so the task after it is
    drafted while this one's reviewer still works."""
    future: asyncio.Task[object] | None = None
    written: dict[str, str | None] | None = None
    claimed: bool = False

    def heard(self, files: dict[str, str | None]) -> None:
        self.written = files
        if self.claimed and self.then is not None:
            self.then(files)


class Lookahead:
    def __init__(self, ctx: Run, where: ProjectFolder, design: str) -> None:
        self._ctx = ctx
        self._where = where
        self._design = design
        self._job: _Job | None = None
        self._unused: Counter[str] = Counter()
        self._unused_usd = 0.0

    def start(
        self,
        index: int,
        task: Task,
        label: str,
        proposed: dict[str, str | None],
        then: Ahead | None = None,
    ) -> None:
        """Draft task `index` against `proposed` (workspace path -> text) from now on;
        `then` hears the draft's files once `take` has made it the task at hand."""

        async def make(shadow: Run, where: ProjectFolder, heard: Ahead) -> object:
            repo_text = await workspace_map(shadow, list(task.files))
            design = self._design
            return await draft_task(shadow, where, task, label, design, repo_text, ahead=heard)

        self.start_with(index, proposed, make, then)

    def start_with(
        self, index: int, proposed: dict[str, str | None], make: Make, then: Ahead | None = None
    ) -> None:
        """Run `make` ahead against `proposed`, as `start` does for a task."""
        job = self._job
        if job is not None and job.index == index and job.proposed == proposed:
            return  # already under way against the same files
        self._drop("stale" if job is not None and job.index == index else "unneeded")
        if not self._affordable():
            return
        shadow = dataclasses.replace(
            self._ctx, ahead=True, notes=[], steps=[], step_mark=None, spent_usd=0.0
        )
        where = dataclasses.replace(self._where, ctx=shadow, overlay=dict(proposed))
        job = _Job(index, dict(proposed), shadow, then)
        job.future = asyncio.create_task(make(shadow, where, job.heard))
        self._job = job

    async def take(self, index: int) -> Draft | None:
        """The draft of task `index` if it still fits the files on disk, else None."""
        draft = await self.take_with(index, self._fits)
        if not isinstance(draft, Draft):
            return None
        self._ctx.progress(f"Task {index}: drafted ahead")
        return draft

    async def take_with(self, index: int, fits: Callable[[Any], Awaitable[bool]]) -> object | None:
        """What was made ahead for `index`, if `fits` says it still holds, else None."""
        job, self._job = self._job, None
        if job is None:
            return None
        if job.index != index:
            self._job = job
            self._drop("unneeded")
            return None
        job.claimed = True
        if job.written is not None and job.then is not None:
            job.then(job.written)
        assert job.future is not None
        try:
            made = await job.future
        except SamokoderError as exc:  # the work itself will meet it again, and say so
            log.info("drafting %d ahead failed: %s", index, exc.message)
            self._wasted(job, "failed")
            return None
        if not await fits(made):
            self._wasted(job, "stale")
            return None
        for note in job.shadow.notes:
            self._ctx.note(note)
        return made

    async def close(self) -> None:
        """Stop any draft under way; say what unused drafts cost."""
        job = self._job
        self._drop("unneeded")
        if job is not None and job.future is not None:
            with contextlib.suppress(BaseException):
                await job.future
        if self._unused:
            why = "; ".join(f"{n}: {_WHY[reason]}" for reason, n in sorted(self._unused.items()))
            self._ctx.notes.append(
                f"{self._unused.total()} draft(s) made ahead during review were not used "
                f"({why}); they cost ${self._unused_usd:.4f}."
            )

    async def _fits(self, draft: Draft) -> bool:  # a task's draft
        """Every file the draft's writers read holds now (in the editor or on disk) what
        they read then."""
        for path, then in draft.currents.items():
            try:
                if await self._where.read(path) != then:
                    return False
            except SamokoderError:
                return False
        return True

    def _affordable(self) -> bool:
        budget = self._ctx.budget
        return budget is None or budget.spent_usd < budget.limit_usd * BUDGET_SHARE

    def _drop(self, reason: str) -> None:
        job, self._job = self._job, None
        if job is not None and job.future is not None:
            future = job.future
            if future.done() and not future.cancelled() and future.exception() is not None:
                reason = "failed"
            future.cancel()
            self._wasted(job, reason)

    def _wasted(self, job: _Job, reason: str) -> None:
        if job.shadow.spent_usd > 0 or (job.future is not None and job.future.done()):
            self._unused[reason] += 1
            self._unused_usd += job.shadow.spent_usd
