"""Commands the agents want to run, with the user's consent (DESIGN §6, setting `commands`).

`ask` (default): each command is put to the user with Run / Skip / Always for this
run. `never`: nothing runs. `allow`: programs named in `allowedCommands` run
without asking and the rest are asked. Then the command runs as a plain argv in
the project folder, with a timeout, a scrubbed environment and capped output
(workspace.processes), sandboxed when the `sandbox` setting says so. Every
command, run or not, is a row in the store's command log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samokoder.agents.runs import Run
from samokoder.errors import SamokoderError
from samokoder.secrets import redact, scrubbed_env, secret_values
from samokoder.store.command_runs import CommandRunRow
from samokoder.store.db import Store
from samokoder.workspace.command_line import display, parse_command
from samokoder.workspace.processes import (
    ProcessLimits,
    ProcessResult,
    find_program,
    run_process,
)
from samokoder.workspace.sandbox import SANDBOX_ENV, sandbox_argv, sandbox_problem

RUN, SKIP, ALWAYS = "Run", "Skip", "Always for this run"
CHOICES = [RUN, SKIP, ALWAYS]
LOG_TAIL_CHARS = 2_000
HISTORY_OUTPUT_CHARS = 4_000
log = logging.getLogger(__name__)

# A file rewritten twice in one second with the same size would otherwise run from a
# stale .pyc (its check is mtime in seconds + size); no __pycache__ left behind either.
RUN_ENV = {"PYTHONDONTWRITEBYTECODE": "1"}
FAILED_STATUSES = frozenset({"timeout", "output_limit", "error"})


@dataclass(frozen=True)
class CommandOutcome:
    command: str  # as the agent wrote it
    argv: tuple[str, ...]
    cwd: str  # workspace-relative, "" for the folder itself
    status: str  # ran | skipped | refused | timeout | cancelled | output_limit | error
    exit_code: int | None
    output: str
    dropped_bytes: int
    duration_ms: float
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "ran" and self.exit_code == 0

    @property
    def failed(self) -> bool:
        """It ran (or tried to) and did not succeed: something to troubleshoot."""
        return (self.status == "ran" and self.exit_code != 0) or self.status in FAILED_STATUSES

    @property
    def shown(self) -> str:
        return display(self.argv) if self.argv else self.command


def child_env(environ: Mapping[str, str], secrets: Sequence[str] = ()) -> dict[str, str]:
    """The environment a command gets: no key, token or Samokoder variables, no secret values."""
    env = scrubbed_env(environ)
    literal = [s for s in secrets if s and len(s) >= 6]
    return {
        name: value
        for name, value in env.items()
        if not name.upper().startswith(("SAMOKODER_", "LITELLM_"))
        and not any(secret in value for secret in literal)
    }


def _secrets(ctx: Run) -> list[str]:
    return [*ctx.settings.api_keys.values(), *secret_values(os.environ)]


async def run_commands(ctx: Run, commands: Sequence[str], folder: str) -> list[CommandOutcome]:
    """Run `commands` in `folder` in order; stop at the first that fails."""
    outcomes: list[CommandOutcome] = []
    for command in commands:
        outcome = await run_command(ctx, command, folder)
        outcomes.append(outcome)
        if outcome.failed:
            break
    return outcomes


async def run_command(ctx: Run, command: str, folder: str) -> CommandOutcome:
    """One command: checked, consented to, run, logged and recorded."""
    try:
        argv = parse_command(command)
        cwd = await asyncio.to_thread(ctx.project.workspace.check_cwd, folder or ".")
    except SamokoderError as exc:
        return await _record(ctx, _not_run(command, (), folder, "refused", exc.message), False)
    root = ctx.project.workspace.root
    cwd_rel = "" if cwd == root else cwd.relative_to(root).as_posix()
    settings = ctx.settings
    if settings.commands == "never":
        why = "not run: commands are turned off (setting `commands` is `never`)"
        return await _record(ctx, _not_run(command, argv, cwd_rel, "refused", why), False)
    if settings.sandbox:
        problem = await asyncio.to_thread(sandbox_problem)
        if problem is not None:
            why = f"not run: the `sandbox` setting is on but {problem}"
            return await _record(ctx, _not_run(command, argv, cwd_rel, "refused", why), False)
    if await asyncio.to_thread(find_program, argv[0], child_env(os.environ), cwd) is None:
        why = f"program not found: {argv[0]} (not on PATH, or not an executable file)"
        return await _record(ctx, _not_run(command, argv, cwd_rel, "error", why), False)
    if not await _consent(ctx, argv, cwd_rel):
        why = "skipped: not confirmed"
        return await _record(ctx, _not_run(command, argv, cwd_rel, "skipped", why), False)
    ctx.progress(f"Running {display(argv)}")
    started = time.monotonic()
    try:
        result = await _execute(ctx, argv, cwd)
    except asyncio.CancelledError:
        ms = (time.monotonic() - started) * 1000
        why = "cancelled; its process group was killed"
        cancelled = CommandOutcome(command, tuple(argv), cwd_rel, "cancelled", None, "", 0, ms, why)
        with contextlib.suppress(Exception):
            await asyncio.shield(_record(ctx, cancelled, settings.sandbox))
        raise
    output = redact(result.output, _secrets(ctx))
    outcome = CommandOutcome(
        command,
        tuple(argv),
        cwd_rel,
        result.status,
        result.exit_code,
        output,
        result.dropped_bytes,
        result.duration_ms,
        result.message,
    )
    return await _record(ctx, outcome, settings.sandbox)


async def _execute(ctx: Run, argv: list[str], cwd: Path) -> ProcessResult:
    settings = ctx.settings
    env = {**child_env(os.environ, list(ctx.settings.api_keys.values())), **RUN_ENV}
    limits = ProcessLimits(timeout=settings.command_timeout)
    if settings.sandbox:
        env.update(SANDBOX_ENV)
        wrapped = sandbox_argv(
            argv, ctx.project.workspace.root, cwd, network=settings.sandbox_network
        )
        return await run_process(wrapped, cwd, env, limits)
    return await run_process(argv, cwd, env, limits)


async def _consent(ctx: Run, argv: list[str], cwd_rel: str) -> bool:
    settings = ctx.settings
    if ctx.commands_allowed:
        return True
    if settings.commands == "allow" and argv[0] in settings.allowed_commands:
        return True
    if settings.sandbox:
        net = "with network" if settings.sandbox_network else "no network"
        how = f"sandboxed: only the workspace folder is writable, {net}"
    else:
        how = "not sandboxed: it runs with your permissions, without API keys in its environment"
    where = cwd_rel or "the workspace folder"
    question = (
        f"Samokoder wants to run a command.\n\n    {display(argv)}\n\nin {where} ({how}, "
        f"stopped after {settings.command_timeout:g} s). Run it?"
    )
    answer = await ctx.host.ask(question, list(CHOICES), False)
    if answer == ALWAYS:
        ctx.commands_allowed = True
        return True
    return answer == RUN


def _not_run(
    command: str, argv: Sequence[str], cwd: str, status: str, message: str
) -> CommandOutcome:
    return CommandOutcome(command, tuple(argv), cwd, status, None, "", 0, 0.0, message)


async def _record(ctx: Run, outcome: CommandOutcome, sandboxed: bool) -> CommandOutcome:
    row = CommandRunRow(
        run_id=ctx.run_id,
        command=outcome.command,
        argv=outcome.argv,
        cwd=outcome.cwd,
        status=outcome.status,
        exit_code=outcome.exit_code,
        duration_ms=outcome.duration_ms,
        output=outcome.output,
        truncated_bytes=outcome.dropped_bytes,
        sandboxed=sandboxed,
        message=outcome.message,
        created_at=time.time(),
    )
    try:
        await asyncio.to_thread(ctx.project.store.add_command_run, row)
    except SamokoderError:  # a closed store (shutdown) must not hide what happened
        log.exception("could not record command %s of run %s", outcome.shown, ctx.run_id)
    line = f"$ {outcome.shown}  ({outcome.cwd or '.'}): {outcome.message}"
    tail = outcome.output[-LOG_TAIL_CHARS:]
    ctx.host.log(line + (f"\n{tail}" if tail.strip() else ""), error=outcome.failed)
    return outcome


def command_json(row: CommandRunRow) -> dict[str, Any]:
    """One command of `samokoder.history`: the tail of its kept output."""
    output = row.output
    cut = max(0, len(output) - HISTORY_OUTPUT_CHARS)
    return {
        "id": row.id,
        "runId": row.run_id,
        "command": row.command,
        "argv": list(row.argv),
        "cwd": row.cwd,
        "status": row.status,
        "exitCode": row.exit_code,
        "durationMs": round(row.duration_ms, 1),
        "output": output[cut:],
        "truncatedBytes": row.truncated_bytes + len(output[:cut].encode("utf-8")),
        "sandboxed": row.sandboxed,
        "message": row.message,
        "createdAt": row.created_at,
    }


async def command_history(store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` commands, newest first, for `samokoder.history`."""
    rows = await asyncio.to_thread(store.list_command_runs, None, limit)
    return [command_json(r) for r in rows]
