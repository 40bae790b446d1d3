"""The harness against the real server over stdio, the model scripted by the fake provider:
a right answer passes at once, a wrong one fails, a fix written after the failing test
output passes on the second attempt only, a reply cut at the output limit is classed as
such, and an app generated from its specification is judged by its hidden tests.

The tests are never part of the workspace the server sees: no prompt names them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.quality.layout import App, Exercise, find_apps, load_exercise
from benchmarks.quality.report import TaskResult
from benchmarks.quality.run import BASE_SETTINGS
from benchmarks.quality.scripted import app_team, exercise_team
from benchmarks.quality.tracks import FAILED_MARK, Options, run_app, run_exercise
from tests.fakes import Reply
from tests.fakes.fake_provider import FakeProvider

pytestmark = pytest.mark.e2e

EXERCISE = load_exercise(Path("benchmarks/quality/exercises/python/rpn-calc").resolve())
WRONG = "def evaluate(expression):\n    return 0\n"


def options(tmp_path: Path, fake: FakeProvider, attempts: int = 2) -> Options:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "VIRTUAL_ENV")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        SAMOKODER_MODEL="openai/fake-model",
        SAMOKODER_API_BASE=fake.base_url,
        OPENAI_API_KEY="sk-fake-0123456789",
    )
    work = tmp_path / "work"
    work.mkdir()
    return Options(work, dict(BASE_SETTINGS), env, timeout=120, attempts=attempts)


def reference(exercise: Exercise) -> dict[str, str]:
    texts = [(exercise.root / name).read_text() for name in exercise.example]
    return dict(zip(exercise.solution, texts, strict=True))


def prompts(fake: FakeProvider) -> str:
    return "\n".join(str(m.get("content")) for r in fake.requests for m in r.body["messages"])


def assert_tests_hidden(fake: FakeProvider, root: Path, names: tuple[str, ...]) -> None:
    """No test file is named before a test ran (only its failing output goes back) and
    no prompt holds a test file's source."""
    text = prompts(fake)
    assert text, "the model was never asked"
    first = text.split(FAILED_MARK, 1)[0]
    for name in names:
        assert name not in first, f"{name} reached the model"
        assert (root / name).read_text().strip() not in text


async def test_right_answer_passes_at_once(tmp_path: Path, fake_provider: FakeProvider) -> None:
    fake_provider.responder = exercise_team([reference(EXERCISE)])
    result = await run_exercise(EXERCISE, options(tmp_path, fake_provider))
    assert (result.passed_on, len(result.attempts), result.failure) == (1, 1, None)
    assert result.tokens > 0
    assert_tests_hidden(fake_provider, EXERCISE.root, EXERCISE.tests)


async def test_wrong_answer_fails_twice(tmp_path: Path, fake_provider: FakeProvider) -> None:
    seen: list[tuple[str, str]] = []
    fake_provider.responder = exercise_team([{"rpn_calc.py": WRONG}], seen)
    result = await run_exercise(EXERCISE, options(tmp_path, fake_provider))
    assert not result.passed
    assert [a.status for a in result.attempts] == ["succeeded", "succeeded"]
    assert result.failure == "tests fail"
    # the second run was told what failed: the test output went back once
    retries = [text for role, text in seen if role == "tech lead" and FAILED_MARK in text]
    assert retries and "test_arithmetic" in retries[0]
    assert_tests_hidden(fake_provider, EXERCISE.root, EXERCISE.tests)


async def test_fix_after_test_output_passes_second(
    tmp_path: Path, fake_provider: FakeProvider
) -> None:
    fake_provider.responder = exercise_team([{"rpn_calc.py": WRONG}, reference(EXERCISE)])
    result = await run_exercise(EXERCISE, options(tmp_path, fake_provider))
    assert [a.passed for a in result.attempts] == [False, True]
    assert (result.passed_on, result.failure) == (2, None)
    assert result.attempts[0].failure == "tests fail"


async def test_cut_reply_is_classed_truncated(tmp_path: Path, fake_provider: FakeProvider) -> None:
    fake_provider.responder = lambda body: Reply(text='{"tasks": [', finish_reason="length")
    result = await run_exercise(EXERCISE, options(tmp_path, fake_provider, attempts=1))
    assert result.attempts[0].status == "failed"
    assert result.failure == "truncated reply", result.attempts[0].error


async def test_app_reference_generated_passes(tmp_path: Path, fake_provider: FakeProvider) -> None:
    app: App = next(a for a in find_apps() if a.name == "units")
    fake_provider.responder = app_team(app.spec(), app.reference())
    result: TaskResult = await run_app(app, options(tmp_path, fake_provider))
    assert (result.passed_on, result.failure) == (1, None), result.attempts[0].tests
    assert_tests_hidden(fake_provider, app.root, app.tests)
    assert "convert" in prompts(fake_provider)  # the specification reached the model
