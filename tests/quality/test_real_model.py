"""The harness against a real (tiny) model behind llama.cpp's server: whatever SmolLM2
writes, every attempt ends in a pass or in one failure class that agrees with what the
server reported, and the report renders. Its score is near zero; that is not checked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.quality.layout import find_apps, load_exercise
from benchmarks.quality.report import CLASSES, ResultsFile, TaskResult, markdown
from benchmarks.quality.run import BASE_SETTINGS
from benchmarks.quality.tracks import Options, run_app, run_exercise

pytestmark = [pytest.mark.real_model, pytest.mark.timeout(600)]

EXERCISE = Path("benchmarks/quality/exercises/python/digital-root").resolve()


def check(result: TaskResult) -> None:
    assert result.attempts
    for attempt in result.attempts:
        assert attempt.failure in (*CLASSES, None), attempt
        if attempt.passed:
            assert attempt.failure is None
        elif attempt.status == "succeeded":
            assert attempt.failure == "tests fail", attempt
        else:
            assert attempt.failure != "tests fail", attempt
            assert attempt.error or attempt.failure == "timed out", attempt
        if 'finish_reason "length"' in attempt.error:
            assert attempt.failure == "truncated reply", attempt
        if "requestTimeout" in attempt.error and "length" not in attempt.error:
            assert attempt.failure == "timed out", attempt


async def test_real_output_is_classified(tmp_path: Path, llama_server: str) -> None:
    settings = {
        **BASE_SETTINGS,
        "model": "openai/smollm2",
        "apiBase": llama_server,
        "apiKeys": {"openai": "sk-none"},
        "structuredOutput": {"default": "json_object"},
        "maxTokens": 64,
        "requestTimeout": 45,
        "maxParallel": 1,
        "fixAttempts": 0,
    }
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "VIRTUAL_ENV")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    (tmp_path / "work").mkdir()
    opts = Options(tmp_path / "work", settings, env, timeout=180, attempts=2)
    results = [
        await run_exercise(load_exercise(EXERCISE), opts),
        await run_app(next(a for a in find_apps() if a.name == "greeter"), opts),
    ]
    for result in results:
        check(result)
    file = ResultsFile(tmp_path / "r.json", {"model": "openai/smollm2"})
    for result in results:
        file.add(result)
    again = ResultsFile(tmp_path / "r.json", {"model": "openai/smollm2"})
    assert {k: r.to_json() for k, r in again.results.items()} == {
        r.key: r.to_json() for r in results
    }
    table = markdown(results, {"model": "openai/smollm2"})
    print(table)
    assert "exercise/python/digital-root" in table and "app/greeter" in table
