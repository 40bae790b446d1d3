"""What a generate/implement run has settled, saved as it goes (store: run_artifacts).

An interrupted run is resumed by a new run that starts from this record: the
stages already done (spec, design, plan) and the tasks already accepted are
skipped, so the user reviews nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from samokoder.agents.runs import Run

REQUEST = "request"


class RunRecord:
    def __init__(self, ctx: Run, saved: dict[str, str] | None = None) -> None:
        self.ctx = ctx
        self.saved = dict(saved or {})
        self.resumed = bool(saved)
        self.tasks_before = sum(1 for name in self.saved if name.startswith("task:"))

    async def put(self, name: str, body: str) -> None:
        self.saved[name] = body
        await asyncio.to_thread(self.ctx.project.store.put_artifact, self.ctx.run_id, name, body)

    async def start(self, request_json: str) -> None:
        """Copy what an earlier run settled under this run's id, then record the request."""
        for name, body in list(self.saved.items()):
            await self.put(name, body)
        await self.put(REQUEST, request_json)

    async def stage(self, name: str, compute: Callable[[], Awaitable[str]]) -> str:
        """The saved result of a stage, or compute and save it."""
        if name in self.saved:
            return self.saved[name]
        body = await compute()
        await self.put(name, body)
        return body

    @staticmethod
    def task_mark(index: int) -> tuple[str, str]:
        """The artifact saying task `index` was accepted; the accepting step stores it."""
        return f"task:{index}", "accepted"

    def task_done(self, index: int) -> bool:
        name, body = self.task_mark(index)
        return self.saved.get(name) == body

    async def mark_task(self, index: int) -> None:
        await self.put(*self.task_mark(index))
