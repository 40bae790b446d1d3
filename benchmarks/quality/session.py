"""One `samokoder serve` over stdio in a task's folder, acting as an editor with review off.

A run that does not finish within the harness's timeout is cancelled
(`samokoder.cancel`) and counted as timed out; the server always stops with the
session, even when the run or the server failed.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._lsp_client import LspClient, initialize_params, python_argv

CAPABILITIES = {"window": {"workDoneProgress": True}, "workspace": {"applyEdit": True}}
CANCEL_GRACE = 20.0


@dataclass
class RunResult:
    """What `samokoder/runFinished` said about one run (or that it never came)."""

    status: str
    error: str = ""
    summary: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    timed_out: bool = False
    steps: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def finished_result(params: dict[str, Any], seconds: float, timed_out: bool = False) -> RunResult:
    usage = params.get("usage") or {}
    return RunResult(
        status=str(params.get("status", "")),
        error=str(params.get("error") or ""),
        summary=str(params.get("summary") or ""),
        prompt_tokens=int(usage.get("promptTokens") or 0),
        completion_tokens=int(usage.get("completionTokens") or 0),
        cost=float(usage.get("costUsd") or 0.0),
        seconds=seconds,
        timed_out=timed_out,
        steps=list(params.get("steps") or []),
    )


class Session:
    """`async with Session(folder, settings, env) as s: await s.run(command, argument)`."""

    def __init__(
        self, folder: Path, settings: dict[str, Any], env: dict[str, str], log: Path
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.env = env
        self.log = log
        self.client: LspClient | None = None

    async def __aenter__(self) -> Session:
        self.client = await LspClient.spawn(
            python_argv("-m", "samokoder.cli", "serve"),
            env=self.env,
            cwd=self.folder,
            stderr_path=self.log,
        )
        try:
            params = initialize_params(self.folder, CAPABILITIES, self.settings)
            await self.client.request("initialize", params, 60)
            self.client.notify("initialized", {})
        except BaseException:
            await self.client.kill()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.stop()

    async def run(self, command: str, argument: dict[str, Any], limit: float) -> RunResult:
        """Start the run and wait for its runFinished; a server error is a failed run."""
        client = self.client
        assert client is not None
        started = time.perf_counter()
        try:
            answer = await client.request(
                "workspace/executeCommand", {"command": command, "arguments": [argument]}, 60
            )
        except Exception as exc:  # refused at once (no model configured, bad argument)
            return RunResult("failed", error=str(exc), seconds=time.perf_counter() - started)
        run_id = answer["runId"]

        def finished() -> Any:
            return next(
                (
                    r.params
                    for r in client.of_method("samokoder/runFinished")
                    if r.params.get("runId") == run_id
                ),
                None,
            )

        try:
            params = await client.wait_for(finished, limit, "the run to finish")
        except TimeoutError:
            with contextlib.suppress(Exception):
                await client.request("workspace/executeCommand", _cancel(run_id), 30)
            with contextlib.suppress(Exception):
                params = await client.wait_for(finished, CANCEL_GRACE, "the cancelled run")
                return finished_result(params, time.perf_counter() - started, timed_out=True)
            return RunResult("timeout", seconds=time.perf_counter() - started, timed_out=True)
        except ConnectionError as exc:
            tail = client.stderr_tail(5)
            return RunResult(
                "failed", error=f"server exited: {exc}{tail}", seconds=time.perf_counter() - started
            )
        return finished_result(params, time.perf_counter() - started)


def _cancel(run_id: str) -> dict[str, Any]:
    return {"command": "samokoder.cancel", "arguments": [{"runId": run_id}]}


async def run_once(
    folder: Path,
    settings: dict[str, Any],
    env: dict[str, str],
    log: Path,
    command: str,
    argument: dict[str, Any],
    limit: float,
) -> RunResult:
    """A whole session for one run; a server that does not start is a failed run."""
    started = time.perf_counter()
    try:
        async with Session(folder, settings, env, log) as session:
            return await session.run(command, argument, limit)
    except (OSError, ConnectionError, TimeoutError) as exc:
        return RunResult(
            "failed", error=f"server did not start: {exc}", seconds=time.perf_counter() - started
        )
