"""The quality harness's tasks are valid: every reference passes its hidden tests and
every untouched stub (an empty folder for an app) fails them, judged by the harness's
own judge, so a score measures the model and not a broken task."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks.quality.judge import Verdict, run_tests
from benchmarks.quality.layout import App, Exercise, find_apps, find_exercises

EXERCISES = find_exercises(Path("benchmarks/quality/exercises").resolve())
APPS = find_apps()
TASKS: list[Exercise | App] = [*EXERCISES, *APPS]
KEYS = [t.key for t in TASKS]


def _place(task: Exercise | App, folder: Path, reference: bool) -> None:
    """The reference solution (or the untouched stub) in `folder`, as a model would leave it."""
    if isinstance(task, App):
        for rel, text in task.reference().items() if reference else ():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        return
    for solution, example in zip(task.solution, task.example, strict=True):
        shutil.copyfile(task.root / (example if reference else solution), folder / solution)


def _judge(task: Exercise | App, folder: Path, reference: bool) -> Verdict:
    folder.mkdir(parents=True)
    _place(task, folder, reference)
    return run_tests(folder, task.root, task.tests, task.language, 120)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Verdict]:
    """Every task judged twice (reference, stub), two at a time: each is a subprocess."""
    base = tmp_path_factory.mktemp("validity")
    jobs = [(t, ref) for t in TASKS for ref in (True, False)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        found = pool.map(lambda job: _judge(job[0], base / f"{job[0].name}-{job[1]}", job[1]), jobs)
        return {(t.key, ref): v for (t, ref), v in zip(jobs, found, strict=True)}


def test_the_task_set_is_complete() -> None:
    assert len(EXERCISES) >= 20
    assert len(APPS) >= 8
    assert len(set(KEYS)) == len(KEYS)
    for exercise in EXERCISES:
        assert exercise.instructions().strip(), exercise.key
        assert exercise.example, f"{exercise.key}: no .meta example"
    for app in APPS:
        assert app.spec() and app.tests and app.reference(), app.key


@pytest.mark.parametrize("key", KEYS)
def test_reference_passes(key: str, verdicts: dict[tuple[str, bool], Verdict]) -> None:
    verdict = verdicts[(key, True)]
    assert verdict.passed, verdict.output
    assert " passed" in verdict.output


@pytest.mark.parametrize("key", KEYS)
def test_untouched_stub_fails(key: str, verdicts: dict[tuple[str, bool], Verdict]) -> None:
    verdict = verdicts[(key, False)]
    assert not verdict.passed, verdict.output


HANGS = """import subprocess
import time


def test_hangs():
    subprocess.Popen(["sleep", "600"])
    time.sleep(600)
"""


def test_judge_stops_tests_that_hang(tmp_path: Path) -> None:
    """A model's code that never returns fails the task in bounded time, leaving nothing."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_hang.py").write_text(HANGS)
    (tmp_path / "work").mkdir()
    verdict = run_tests(tmp_path / "work", tmp_path / "tests", ("test_hang.py",), "python", 3)
    assert not verdict.passed
    assert "did not finish in 3 s" in verdict.output
    assert verdict.seconds < 30
