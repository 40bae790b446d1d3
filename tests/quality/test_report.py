"""Pure logic of the quality report: failure classes from what the server said, pass@1
and pass@2, the Markdown totals, and a results file that resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.quality.layout import find_exercises, language_of, load_exercise
from benchmarks.quality.report import Attempt, ResultsFile, TaskResult, classify, markdown
from benchmarks.quality.session import RunResult, finished_result
from benchmarks.quality.tracks import workspace_files

TRUNCATED = (
    "The reply of model openai/smollm2 stopped after 96 tokens before it was complete "
    '(finish_reason "length"), so none of it was used: raise maxTokens'
)
DEADLINE = (
    "Model openai/smollm2 at 127.0.0.1 was still writing its reply when requestTimeout "
    "(30 s for the whole call) ran out, so none of it was used"
)
REFUSED = (
    "Gave up on calc.py: the model's reply contains leftover SEARCH/REPLACE markers "
    "(2 attempt(s)). Nothing from these replies was used."
)


@pytest.mark.parametrize(
    ("run", "passed", "expected"),
    [
        (RunResult("succeeded"), True, None),
        (RunResult("succeeded"), False, "tests fail"),
        (RunResult("failed", error=TRUNCATED), False, "truncated reply"),
        (RunResult("failed", error=DEADLINE), False, "timed out"),
        (RunResult("cancelled", timed_out=True), False, "timed out"),
        (RunResult("failed", error=REFUSED), False, "refused edit"),
        (RunResult("failed", error="Model call failed: 500"), False, "run failed"),
        (RunResult("budget_exhausted", error="Budget of $0.01 reached"), False, "run failed"),
        (RunResult("failed", error=TRUNCATED), True, None),  # tests decide when they pass
    ],
)
def test_classify(run: RunResult, passed: bool, expected: str | None) -> None:
    assert classify(run, passed) == expected


def test_finished_result_reads_usage() -> None:
    params = {
        "runId": "r1",
        "status": "failed",
        "summary": "s",
        "error": TRUNCATED,
        "steps": ["a"],
        "usage": {"promptTokens": 10, "completionTokens": 5, "costUsd": 0.25, "requests": 2},
    }
    run = finished_result(params, 1.5)
    assert (run.tokens, run.cost, run.status, run.steps) == (15, 0.25, "failed", ["a"])


def attempt(passed: bool, failure: str | None = None, tokens: int = 10) -> Attempt:
    return Attempt("succeeded", passed, failure, tokens, 0.01, 2.0)


def test_pass_at_one_and_two_and_markdown() -> None:
    results = [
        TaskResult("exercise/python/a", "exercise", "a", "python", [attempt(True)], 3.0),
        TaskResult(
            "exercise/python/b",
            "exercise",
            "b",
            "python",
            [attempt(False, "tests fail"), attempt(True)],
            5.0,
        ),
        TaskResult(
            "exercise/python/c",
            "exercise",
            "c",
            "python",
            [attempt(False, "tests fail"), attempt(False, "truncated reply")],
            5.0,
        ),
        TaskResult("app/d", "app", "d", "python", [attempt(False, "run failed")], 9.0),
    ]
    assert [r.passed_on for r in results] == [1, 2, None, None]
    assert [r.failure for r in results] == [None, None, "truncated reply", "run failed"]
    table = markdown(results, {"model": "openai/x"})
    assert "| exercise/python/b | pass (2nd) | 2 | 20 |" in table
    assert "pass@1 1 (33.3 %), pass@2 2 (66.7 %); failures: truncated reply 1" in table
    assert "(all attempts: tests fail 2, truncated reply 1)" in table
    assert "| tests fail → truncated reply |" in table
    assert "**Apps**: 1 tasks, pass@1 0 (0.0 %); failures: run failed 1" in table


def test_results_file_resumes_and_fresh_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    first = ResultsFile(path, {"model": "m"})
    first.add(TaskResult("app/d", "app", "d", "python", [attempt(True, tokens=7)], 4.0))
    data = json.loads(path.read_text())
    assert data["totals"]["app"]["pass@1"] == 1
    again = ResultsFile(path, {"model": "m"})
    assert again.done("app/d")
    assert again.results["app/d"].tokens == 7
    assert not ResultsFile(path, {"model": "m"}, fresh=True).done("app/d")


def test_any_exercism_folder(tmp_path: Path) -> None:
    root = tmp_path / "python" / "exercises" / "practice" / "two-words"
    (root / ".meta").mkdir(parents=True)
    (root / ".docs").mkdir()
    (root / ".docs" / "instructions.md").write_text("# Instructions\n\nSay two words.\n")
    config = {"files": {"solution": ["two_words.py"], "test": ["two_words_test.py"]}}
    (root / ".meta" / "config.json").write_text(json.dumps(config))
    (tmp_path / "broken" / ".meta").mkdir(parents=True)
    (tmp_path / "broken" / ".meta" / "config.json").write_text('{"files": {}}')
    found = find_exercises(tmp_path)
    assert [e.key for e in found] == ["exercise/python/two-words"]
    assert "Say two words." in found[0].instructions()
    assert load_exercise(root).tests == ("two_words_test.py",)
    for name in ("two_words.py", "two_words_test.py", "helpers/data.txt", ".meta/example.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")
    # the workspace: the stub and support files, never the tests, examples or instructions
    assert workspace_files(found[0]) == ["helpers/data.txt", "two_words.py"]
    with pytest.raises(ValueError, match="no language"):
        language_of(("Main.java",))
