"""Quality harness: small tasks with hidden tests, run through the whole pipeline.

Each task in tasks/ has a description (task.json) and tests of its own
(test_hidden.py). The harness starts `samokoder serve` in an empty folder, runs
`samokoder.generate` with review off, copies the hidden tests in, runs pytest,
and prints pass rate, tokens, cost and time per task.

    uv run python benchmarks/quality/run.py             # the configured model and keys
    uv run python benchmarks/quality/run.py --scripted  # replay each task's solution.json

With --scripted the model is the fake provider replaying a known solution: it
exercises the harness and the pipeline, not a model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _lsp_client import LspClient, initialize_params, python_argv  # noqa: E402

TASKS = Path(__file__).parent / "tasks"
RUN_TIMEOUT = 900.0


@dataclass
class Result:
    task: str
    status: str
    passed: bool
    tokens: int
    cost: float
    seconds: float
    note: str = ""


def scripted_responder(task_dir: Path) -> Any:
    from tests.e2e.scripted_team import greeter_team

    files: dict[str, str] = json.loads((task_dir / "solution.json").read_text())
    task = {
        "title": f"Build {task_dir.name}",
        "description": json.loads((task_dir / "task.json").read_text())["description"],
        "acceptance_criteria": ["the hidden tests pass"],
        "files": list(files),
    }
    return greeter_team(files=files, tasks=[task])


async def run_task(task_dir: Path, env: dict[str, str], work: Path) -> Result:
    spec = json.loads((task_dir / "task.json").read_text())
    folder = work / task_dir.name
    folder.mkdir()
    await asyncio.to_thread(subprocess.run, ["git", "init", "-q"], cwd=folder, check=True)
    client = await LspClient.spawn(
        python_argv("-m", "samokoder.cli", "serve"),
        env=env,
        cwd=folder,
        stderr_path=work / f"{task_dir.name}.stderr",
    )
    started = time.perf_counter()
    try:
        caps = {"window": {"workDoneProgress": True}, "workspace": {"applyEdit": True}}
        await client.request("initialize", initialize_params(folder, caps, {"review": "off"}))
        client.notify("initialized", {})
        run = await client.request(
            "workspace/executeCommand",
            {"command": "samokoder.generate", "arguments": [{"description": spec["description"]}]},
        )
        finished = await client.wait_for(
            lambda: next(
                (
                    r.params
                    for r in client.of_method("samokoder/runFinished")
                    if r.params["runId"] == run["runId"]
                ),
                None,
            ),
            RUN_TIMEOUT,
            "the run to finish",
        )
    finally:
        await client.stop()
    seconds = time.perf_counter() - started
    usage = finished.get("usage") or {}
    tokens = int(usage.get("promptTokens", 0)) + int(usage.get("completionTokens", 0))
    cost = float(usage.get("costUsd", 0.0))
    shutil.copy(task_dir / spec["test"], folder / spec["test"])
    test = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", spec["test"]],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(folder)},
        timeout=300,
    )
    note = finished.get("error") or ""
    if test.returncode != 0 and not note:
        note = (test.stdout.strip().splitlines() or ["tests failed"])[-1]
    return Result(
        task_dir.name, finished["status"], test.returncode == 0, tokens, cost, seconds, note
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scripted", action="store_true", help="replay known solutions")
    parser.add_argument("tasks", nargs="*", help="task names (default: all)")
    args = parser.parse_args()
    names = args.tasks or sorted(p.name for p in TASKS.iterdir() if p.is_dir())
    env = dict(os.environ)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env["HOME"] = str(work)
        for name in names:
            task_dir = TASKS / name
            if args.scripted:
                from tests.fakes.fake_provider import FakeProvider

                with FakeProvider() as fake:
                    fake.responder = scripted_responder(task_dir)
                    scripted_env = {
                        **env,
                        "SAMOKODER_MODEL": "openai/fake-model",
                        "SAMOKODER_API_BASE": fake.base_url,
                        "OPENAI_API_KEY": "sk-scripted-0123456789",
                    }
                    results.append(await run_task(task_dir, scripted_env, work))
            else:
                results.append(await run_task(task_dir, env, work))
    print(f"{'task':<12} {'run':<10} {'tests':<6} {'tokens':>8} {'cost $':>9} {'seconds':>8}")
    for r in results:
        print(
            f"{r.task:<12} {r.status:<10} {'pass' if r.passed else 'FAIL':<6} {r.tokens:>8} "
            f"{r.cost:>9.4f} {r.seconds:>8.1f}  {r.note[:60]}"
        )
    passed = sum(r.passed for r in results)
    print(
        f"pass rate {passed}/{len(results)}; tokens {sum(r.tokens for r in results)}; "
        f"cost ${sum(r.cost for r in results):.4f}; time {sum(r.seconds for r in results):.1f} s"
    )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
