"""Running one program: own process group, timeout, capped output, nothing left behind.

The child starts in a new session (so it and everything it forks share a process
group we can kill at once), with stdin closed, in a working directory the caller
has confined, with the environment the caller scrubbed. Output (stdout and stderr
together) is kept as a head and a tail; the bytes between are counted, not kept,
and a command that prints more than `max_output` in all is stopped. On exit,
timeout or cancellation the whole group is killed (SIGTERM, then SIGKILL after a
grace), and any process still carrying the run's marker variable, such as a
grandchild that left the group with setsid, is killed too.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

MARKER_VAR = "SAMOKODER_COMMAND_ID"
DRAIN_SECONDS = 1.0  # reading what is left after the group is gone
REAP_SECONDS = 5.0

ProcessStatus = Literal["ran", "timeout", "output_limit", "error"]

_LIVE_GROUPS: set[int] = set()


@dataclass(frozen=True)
class ProcessLimits:
    timeout: float = 120.0
    kill_grace: float = 2.0
    keep_head: int = 16 * 1024
    keep_tail: int = 48 * 1024
    max_output: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class ProcessResult:
    status: ProcessStatus
    exit_code: int | None
    output: str
    dropped_bytes: int
    duration_ms: float
    message: str
    leftovers_killed: int = 0


class OutputSink:
    """Keeps the first `head` and the last `tail` bytes of a stream; counts the rest."""

    def __init__(self, head: int, tail: int) -> None:
        self._head_cap = head
        self._tail_cap = tail
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk or self._tail_cap <= 0:
            return
        if len(chunk) >= self._tail_cap:
            self.tail = bytearray(chunk[-self._tail_cap :])
        else:
            self.tail += chunk
            extra = len(self.tail) - self._tail_cap
            if extra > 0:
                del self.tail[:extra]

    @property
    def dropped(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        head = self.head.decode("utf-8", errors="replace")
        tail = self.tail.decode("utf-8", errors="replace")
        if self.dropped:
            return f"{head}\n[... {self.dropped} bytes of output not kept ...]\n{tail}"
        return head + tail


def find_program(program: str, env: Mapping[str, str], cwd: Path) -> str | None:
    """The executable `program` names (a path when it has a slash, else looked up on PATH)."""
    if "/" in program:
        path = cwd / program
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(program, path=env.get("PATH", os.defpath))


def new_marker() -> str:
    return uuid.uuid4().hex


class _Watch(asyncio.SubprocessProtocol):
    """Output into a sink; the leader's exit seen at once, even while a pipe stays open.

    (Python 3.11's ``Process.wait()`` only returns once every pipe is closed, so a
    grandchild holding stdout would keep it waiting.)
    """

    def __init__(self, sink: OutputSink, limit: int) -> None:
        loop = asyncio.get_running_loop()
        self.sink = sink
        self.limit = limit
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.flooded: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.sink.feed(data)
        if self.sink.total > self.limit and not self.flooded.done():
            self.flooded.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    limits: ProcessLimits,
    *,
    marker: str | None = None,
) -> ProcessResult:
    """Run `argv` to its end (or its limit); cancelling this kills the process group."""
    marker = marker or new_marker()
    child_env = {**env, MARKER_VAR: marker}
    started = time.monotonic()
    sink = OutputSink(limits.keep_head, limits.keep_tail)
    watch = _Watch(sink, limits.max_output)
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.subprocess_exec(
            lambda: watch,
            *argv,
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except FileNotFoundError:
        return _error(started, f"program not found: {argv[0]}")
    except PermissionError:
        return _error(started, f"not allowed to run {argv[0]} (is it executable?)")
    except OSError as exc:
        return _error(started, f"could not start {argv[0]}: {exc.strerror or exc}")
    group = transport.get_pid()
    _LIVE_GROUPS.add(group)
    status: ProcessStatus = "ran"
    leftovers = 0
    try:
        try:
            await asyncio.wait_for(_first(watch.exited, watch.flooded), limits.timeout)
            if not watch.exited.done():
                status = "output_limit"
        except TimeoutError:
            status = "timeout"
        await _stop(group, watch.exited, limits.kill_grace)
    except asyncio.CancelledError:
        _signal_group(group, signal.SIGKILL)
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(watch.exited), REAP_SECONDS)
        raise
    finally:
        _signal_group(group, signal.SIGKILL)  # whatever the leader left behind in its group
        _LIVE_GROUPS.discard(group)
        try:
            leftovers = await asyncio.to_thread(kill_marked, marker)
        except Exception:
            log.exception("could not look for processes left by %s", argv[0])
        await _drain(watch, transport)
    code = transport.get_returncode()
    return ProcessResult(
        status=status,
        exit_code=code if status == "ran" else None,
        output=sink.text(),
        dropped_bytes=sink.dropped,
        duration_ms=(time.monotonic() - started) * 1000,
        message=_message(status, code, limits, leftovers),
        leftovers_killed=leftovers,
    )


def _error(started: float, message: str) -> ProcessResult:
    return ProcessResult("error", None, "", 0, (time.monotonic() - started) * 1000, message)


def _message(status: ProcessStatus, code: int | None, limits: ProcessLimits, leftovers: int) -> str:
    if status == "timeout":
        text = f"did not finish in {limits.timeout:g} s; its process group was killed"
    elif status == "output_limit":
        text = f"printed over {_size(limits.max_output)}; it was stopped"
    elif code is not None and code < 0:
        text = f"killed by signal {-code}"
    else:
        text = f"exit code {code}"
    if leftovers:
        text += f"; {leftovers} process(es) it left running were killed"
    return text


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MiB"
    return f"{count / 1024:g} KiB" if count >= 1024 else f"{count} bytes"


async def _first(*futures: asyncio.Future[None]) -> None:
    await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)


async def _stop(group: int, exited: asyncio.Future[None], grace: float) -> None:
    """SIGTERM the group if its leader still runs; SIGKILL it after `grace`."""
    if exited.done():
        return
    _signal_group(group, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(exited), grace)
    except TimeoutError:
        _signal_group(group, signal.SIGKILL)
        await asyncio.wait_for(asyncio.shield(exited), REAP_SECONDS)


async def _drain(watch: _Watch, transport: asyncio.SubprocessTransport) -> None:
    """Let the last output arrive; a pipe held open by a process we could not kill is closed."""
    try:
        await asyncio.wait_for(asyncio.shield(watch.closed), DRAIN_SECONDS)
    except (TimeoutError, asyncio.CancelledError):
        pass
    finally:
        transport.close()


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def kill_marked(marker: str, proc_root: str = "/proc") -> int:
    """SIGKILL every process whose environment carries the marker; returns how many.

    Finds descendants that left the process group (setsid, daemonizing). A process
    that replaced its environment with execve cannot be found this way.
    """
    if not os.path.isdir(proc_root):
        return 0
    wanted = f"{MARKER_VAR}={marker}".encode()
    me = os.getpid()
    killed = 0
    for name in os.listdir(proc_root):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(os.path.join(proc_root, name, "environ"), "rb") as handle:
                entries = handle.read().split(b"\0")
        except OSError:
            continue
        if wanted in entries:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(name), signal.SIGKILL)
                killed += 1
    return killed


def kill_all_groups() -> None:
    """Kill every process group still running (server exit)."""
    for group in list(_LIVE_GROUPS):
        _signal_group(group, signal.SIGKILL)
    _LIVE_GROUPS.clear()


atexit.register(kill_all_groups)
