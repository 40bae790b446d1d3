"""How fast the command runner stops what it must stop.

Run: uv run python benchmarks/command_runner.py

Prints, for a real process tree (a child and a grandchild sleeping forever):
the time from the timeout to every process gone, for a tree that dies on
SIGTERM and for one that ignores it (then SIGKILL follows after the grace);
the time to stop a command printing as fast as it can at the output cap; and
the time to cancel a run's command.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.workspace.processes import ProcessLimits, run_process

PY = sys.executable
TREE = """
import os, signal, subprocess, sys, time
if {ignore}:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN) if {ignore} else None; "
    "time.sleep(600)"])
print("PID", os.getpid(), child.pid, flush=True)
time.sleep(600)
"""
REPEAT = 5


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def kill_after_timeout(folder: Path, ignore: bool) -> float:
    timeout = 0.5
    limits = ProcessLimits(timeout=timeout, kill_grace=2.0)
    started = time.monotonic()
    result = await run_process([PY, "-c", TREE.format(ignore=ignore)], folder, os.environ, limits)
    pids = [int(p) for p in result.output.split()[1:3]]
    while any(alive(p) for p in pids):  # noqa: ASYNC110 - polling /proc is the measurement
        await asyncio.sleep(0.001)
    return time.monotonic() - started - timeout


async def flood(folder: Path) -> tuple[float, str]:
    limits = ProcessLimits(timeout=60, max_output=64 * 1024 * 1024)
    code = "import sys\nwhile True: sys.stdout.write('y' * 65536)"
    started = time.monotonic()
    result = await run_process([PY, "-c", code], folder, os.environ, limits)
    assert result.status == "output_limit", result
    return time.monotonic() - started, result.message


async def cancel(folder: Path) -> float:
    task = asyncio.create_task(
        run_process([PY, "-c", TREE.format(ignore=True)], folder, os.environ, ProcessLimits())
    )
    await asyncio.sleep(0.5)
    started = time.monotonic()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return time.monotonic() - started


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for ignore in (False, True):
            times = [await kill_after_timeout(folder, ignore) for _ in range(REPEAT)]
            what = "ignoring SIGTERM" if ignore else "dying on SIGTERM"
            print(
                f"timeout -> whole tree gone, {what}: median "
                f"{statistics.median(times) * 1000:.0f} ms (max {max(times) * 1000:.0f} ms, "
                "grace 2000 ms)"
            )
        seconds, message = await flood(folder)
        print(f"a flood of output, stopped at the cap: {seconds * 1000:.0f} ms ({message})")
        times = [await cancel(folder) for _ in range(REPEAT)]
        print(f"cancel -> group killed and reaped: median {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
