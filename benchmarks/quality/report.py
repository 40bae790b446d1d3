"""Results: the failure class of a task, the results file (resumable), totals, Markdown.

The class comes from what the server said (runFinished status and error) and
what the tests said, never from guessing at the model's text:

- `truncated reply`: the LLM layer refused a reply cut at the output limit;
- `timed out`: a model call ran past requestTimeout, or the run past the harness's timeout;
- `refused edit`: the reply checks refused the model's edit ("Gave up on <file>: ...");
- `run failed`: the run ended other than `succeeded` for any other reason;
- `tests fail`: the run succeeded and the hidden tests did not pass.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.quality.session import RunResult

CLASSES = ("tests fail", "run failed", "timed out", "truncated reply", "refused edit")
TRUNCATED = ("before it was complete", 'finish_reason "length"')


def classify(run: RunResult, passed: bool) -> str | None:
    """The failure class of one attempt (None when its tests passed)."""
    if passed:
        return None
    error = run.error
    if any(mark in error for mark in TRUNCATED):
        return "truncated reply"
    if run.timed_out or "requestTimeout" in error:
        return "timed out"
    if "Gave up on " in error:
        return "refused edit"
    if run.status != "succeeded":
        return "run failed"
    return "tests fail"


@dataclass
class Attempt:
    status: str
    passed: bool
    failure: str | None
    tokens: int
    cost: float
    seconds: float
    error: str = ""
    tests: str = ""  # tail of the test output


@dataclass
class TaskResult:
    key: str  # "exercise/python/<name>" or "app/<name>"
    track: str
    name: str
    language: str
    attempts: list[Attempt] = field(default_factory=list)
    wall: float = 0.0  # the whole task, server starts and test runs included

    @property
    def passed(self) -> bool:
        return any(a.passed for a in self.attempts)

    @property
    def passed_on(self) -> int | None:
        """1 for pass@1, 2 for a pass on the second attempt only; None when it never passed."""
        return next((i for i, a in enumerate(self.attempts, 1) if a.passed), None)

    @property
    def failure(self) -> str | None:
        return None if self.passed or not self.attempts else self.attempts[-1].failure

    @property
    def tokens(self) -> int:
        return sum(a.tokens for a in self.attempts)

    @property
    def cost(self) -> float:
        return sum(a.cost for a in self.attempts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(passed=self.passed, passed_on=self.passed_on, failure=self.failure)
        data.update(tokens=self.tokens, cost=self.cost, wall=round(self.wall, 2))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskResult:
        attempts = [Attempt(**a) for a in data.get("attempts", [])]
        wall = float(data.get("wall", 0.0))
        return cls(data["key"], data["track"], data["name"], data["language"], attempts, wall)


class ResultsFile:
    """The JSON results, rewritten after every task so an interrupted run resumes."""

    def __init__(self, path: Path, meta: dict[str, Any], fresh: bool = False) -> None:
        self.path = path
        self.meta = meta
        self.results: dict[str, TaskResult] = {}
        if path.exists() and not fresh:
            data = json.loads(path.read_text())
            for item in data.get("tasks", []):
                result = TaskResult.from_json(item)
                self.results[result.key] = result

    def done(self, key: str) -> bool:
        return key in self.results

    def add(self, result: TaskResult) -> None:
        self.results[result.key] = result
        self.save()

    def save(self) -> None:
        data = {
            **self.meta,
            "totals": totals(list(self.results.values())),
            "tasks": [r.to_json() for r in sorted(self.results.values(), key=lambda r: r.key)],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
        os.replace(tmp, self.path)


def totals(results: list[TaskResult]) -> dict[str, Any]:
    def share(part: int, whole: int) -> float:
        return round(100 * part / whole, 1) if whole else 0.0

    out: dict[str, Any] = {}
    for track in ("exercise", "app"):
        mine = [r for r in results if r.track == track]
        first = sum(r.passed_on == 1 for r in mine)
        second = sum(r.passed for r in mine)
        out[track] = {
            "tasks": len(mine),
            "pass@1": first,
            "pass@2": second,
            "pass@1 %": share(first, len(mine)),
            "pass@2 %": share(second, len(mine)),
            "failures": {c: sum(r.failure == c for r in mine) for c in CLASSES},
            "attempt failures": {
                c: sum(a.failure == c for r in mine for a in r.attempts) for c in CLASSES
            },
        }
    out["tokens"] = sum(r.tokens for r in results)
    out["cost"] = round(sum(r.cost for r in results), 6)
    out["wall"] = round(sum(r.wall for r in results), 1)
    return out


def markdown(results: list[TaskResult], meta: dict[str, Any]) -> str:
    """The table a person reads: one row per task, then the totals per track."""
    lines = [
        f"# Quality: {meta.get('model') or 'the configured model'}",
        "",
        "| task | result | attempts | tokens | cost $ | seconds | failure |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in sorted(results, key=lambda r: r.key):
        result = {1: "pass", 2: "pass (2nd)"}.get(r.passed_on or 0, "FAIL")
        note = " → ".join(a.failure or "pass" for a in r.attempts) if r.failure else ""
        if r.failure and r.attempts[-1].error:
            note += ": " + _cell(r.attempts[-1].error, 80)
        lines.append(
            f"| {r.key} | {result} | {len(r.attempts)} | {r.tokens} | {r.cost:.4f} "
            f"| {r.wall:.1f} | {note} |"
        )
    t = totals(results)
    lines.append("")
    for track, label in (("exercise", "Exercises"), ("app", "Apps")):
        row = t[track]
        if not row["tasks"]:
            continue
        failures = ", ".join(f"{k} {v}" for k, v in row["failures"].items() if v) or "none"
        second = f", pass@2 {row['pass@2']} ({row['pass@2 %']} %)" if track == "exercise" else ""
        if track == "exercise":
            tried = ", ".join(f"{k} {v}" for k, v in row["attempt failures"].items() if v)
            failures += f" (all attempts: {tried or 'none'})"
        lines.append(
            f"- **{label}**: {row['tasks']} tasks, pass@1 {row['pass@1']} ({row['pass@1 %']} %)"
            f"{second}; failures: {failures}"
        )
    lines.append(
        f"- **Total**: {t['tokens']} tokens, ${t['cost']:.4f}, {t['wall']:.0f} s of task time"
    )
    return "\n".join(lines) + "\n"


def _cell(text: str, limit: int) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
