"""Parallel speed-up of writing a task's files (issue 4 goal: >= 8x).

Ten independent new files, each one code-writer call to the fake provider with
300 ms latency, written by the real task runner through litellm, with
maxParallel 1 and then 10 in the same run. The fake provider runs in a process
of its own, as a real provider would, so its threads do not compete with the
server's event loop for the interpreter.

    uv run python benchmarks/parallel_files.py
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.agents.project import Project
from samokoder.agents.review import ProposalBook
from samokoder.agents.runs import Run
from samokoder.agents.schemas import FileStep, Task, TaskSteps
from samokoder.agents.task_runner import _write_all
from samokoder.llm.runtime import load_litellm
from samokoder.settings import Settings
from samokoder.store.rows import RunRow
from tests.fakes.quiet_host import QuietHost

FILES = 10
LATENCY = 0.3
ROUNDS = 3


async def write_files(project: Project, base_url: str, parallel: int) -> float:
    settings = Settings(
        model="openai/fake-model",
        api_base=base_url,
        api_keys={"openai": "sk-bench-0123456789"},
        max_parallel=parallel,
        cache=False,  # every call must reach the provider
    )
    run_id = f"r-bench-{parallel}-{time.monotonic_ns()}"
    project.store.create_run(RunRow(run_id, "bench", "", "running", "", None, time.time(), None))
    ctx = Run(run_id, "bench", project, settings, QuietHost(), ProposalBook(), "off")
    steps = TaskSteps(
        files=[FileStep(path=f"pkg/mod{i}.py", action="create") for i in range(FILES)]
    )
    task = Task(title="ten modules", description="write ten independent modules")
    started = time.perf_counter()
    written = await _write_all(ctx, task, steps, "design", {}, "bench")
    elapsed = time.perf_counter() - started
    assert len(written) == FILES and all(w.content for w in written.values())
    return elapsed


async def measure(base_url: str) -> tuple[float, float]:
    load_litellm()
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.open(Path(tmp), "shadow")
        await write_files(project, base_url, FILES)  # warm-up: connections, litellm
        serial, parallel = [], []
        for _ in range(ROUNDS):
            serial.append(await write_files(project, base_url, 1))
            parallel.append(await write_files(project, base_url, FILES))
        project.close()
    return statistics.median(serial), statistics.median(parallel)


def main() -> None:
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.fake_provider",
            "--reply",
            "```python\nX = 1\n```",
            "--first-token-delay",
            str(LATENCY),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert fake.stdout is not None
        s, p = asyncio.run(measure(fake.stdout.readline().strip()))
    finally:
        fake.terminate()
        fake.wait(10)
    print(
        f"{FILES} independent files, {LATENCY * 1000:.0f} ms provider latency, median of {ROUNDS}"
    )
    print(f"  maxParallel 1    {s * 1000:8.0f} ms")
    print(f"  maxParallel {FILES:<3d} {p * 1000:8.0f} ms")
    print(f"  speed-up         {s / p:8.1f}x   goal >= 8x: {'ok' if s / p >= 8 else 'MISSED'}")


if __name__ == "__main__":
    main()
