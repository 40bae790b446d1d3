"""The two tracks: an exercise (implement on the stub, two attempts) and an app (generate).

Exercise, as in the published polyglot protocol: the model gets the instructions
and the stub, never the tests; the tests run; on failure their output goes back
once, in a second `samokoder.implement` run, and the tests run again (pass@1,
pass@2). App: `samokoder.generate` from the specification into an empty folder,
then the hidden acceptance tests (one attempt).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.quality.judge import run_tests_async
from benchmarks.quality.layout import App, Exercise
from benchmarks.quality.report import Attempt, TaskResult, classify
from benchmarks.quality.session import RunResult, Session

FAILED_MARK = "The tests of the previous attempt failed"


@dataclass(frozen=True)
class Options:
    work: Path  # a folder per task is made here
    settings: dict[str, Any]  # initializationOptions: review off, model, apiBase, ...
    env: dict[str, str]  # the server's environment (keys, SAMOKODER_MODEL, HOME)
    timeout: float = 900.0  # per run
    test_timeout: float = 120.0
    attempts: int = 2


def first_prompt(exercise: Exercise) -> str:
    files = ", ".join(exercise.solution)
    return (
        f"{exercise.instructions()}\n\n"
        f"Use the above instructions to modify the supplied files: {files}. Keep the names of "
        "existing functions and classes, as other code (like unit tests) may use them. Use "
        "only the standard library; do not add packages."
    )


def retry_prompt(exercise: Exercise, test_output: str) -> str:
    files = ", ".join(exercise.solution)
    return (
        f"{exercise.instructions()}\n\n{FAILED_MARK}:\n```\n{test_output}\n```\n"
        f"The tests are correct; do not try to change them. Fix the code in {files} to "
        "resolve the errors."
    )


HIDDEN_DIRS = {".meta", ".docs", ".exercism", ".git", "__pycache__"}


def workspace_files(exercise: Exercise) -> list[str]:
    """What the server may see: what Exercism gives a student (the stub, helpers, build
    files such as package.json or Cargo.toml) minus the tests; never `.meta` (examples)."""
    hidden = set(exercise.tests)
    found = []
    for path in sorted(exercise.root.rglob("*")):
        rel = path.relative_to(exercise.root)
        hide = HIDDEN_DIRS.intersection(rel.parts) or rel.as_posix() in hidden
        if path.is_file() and not hide:
            found.append(rel.as_posix())
    return found


async def run_exercise(exercise: Exercise, opts: Options) -> TaskResult:
    folder = opts.work / exercise.key.replace("/", "-")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in workspace_files(exercise):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(exercise.root / name, folder / name)
    started = time.perf_counter()
    result = TaskResult(exercise.key, "exercise", exercise.name, exercise.language)
    log = opts.work / f"{folder.name}.server.log"
    description = first_prompt(exercise)
    async with Session(folder, opts.settings, opts.env, log) as session:
        for _ in range(opts.attempts):
            argument = {"description": description, "files": list(exercise.solution)}
            run = await session.run("samokoder.implement", argument, opts.timeout)
            attempt = await _judge(run, folder, exercise.root, exercise.tests, exercise, opts)
            result.attempts.append(attempt)
            if attempt.passed:
                break
            description = retry_prompt(exercise, attempt.tests)
    result.wall = time.perf_counter() - started
    return result


async def run_app(app: App, opts: Options) -> TaskResult:
    folder = opts.work / app.key.replace("/", "-")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    result = TaskResult(app.key, "app", app.name, app.language)
    log = opts.work / f"{folder.name}.server.log"
    async with Session(folder, opts.settings, opts.env, log) as session:
        run = await session.run("samokoder.generate", {"description": app.spec()}, opts.timeout)
    result.attempts.append(await _judge(run, folder, app.root, app.tests, app, opts))
    result.wall = time.perf_counter() - started
    return result


async def _judge(
    run: RunResult,
    folder: Path,
    tests_from: Path,
    tests: tuple[str, ...],
    task: Exercise | App,
    opts: Options,
) -> Attempt:
    verdict = await run_tests_async(folder, tests_from, tests, task.language, opts.test_timeout)
    return Attempt(
        status=run.status,
        passed=verdict.passed,
        failure=classify(run, verdict.passed),
        tokens=run.tokens,
        cost=run.cost,
        seconds=round(run.seconds + verdict.seconds, 2),
        error=run.error,
        tests=verdict.output,
    )
