"""The troubleshooting loop's bounds, with real commands and a stand-in for the model."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pytest

from samokoder.agents import troubleshoot
from samokoder.agents.project import Project
from samokoder.agents.review import Decision
from samokoder.agents.runs import Run
from samokoder.agents.schemas import Task
from samokoder.agents.task_runner import ProjectFolder
from samokoder.agents.troubleshoot import check_task, failure_report, project_path
from tests.unit.test_command_gate import AskingHost, context
from tests.unit.test_command_gate import project as project  # the fixture

PY = sys.executable
TASK = Task(title="t", description="d")
# Passes once fixed.txt exists: a fix "writes" it.
CHECK = (
    f'{PY} -c \'import os, sys; print("failing test_x"); '
    'sys.exit(0 if os.path.exists("fixed.txt") else 1)\''
)


class Fixer:
    """Stands in for propose_fix: records reports, answers with a scripted verdict."""

    def __init__(self, project: Project, verdicts: list[str | None]) -> None:
        self.project = project
        self.verdicts = verdicts
        self.reports: list[str] = []

    async def __call__(
        self,
        ctx: Run,
        where: ProjectFolder,
        task: Task,
        report: str,
        files: Sequence[str],
        label: str,
        design: str,
    ) -> Decision | None:
        self.reports.append(report)
        verdict = self.verdicts.pop(0)
        if verdict is None:
            return None
        if verdict == "accepted-fixing":
            (self.project.root / "fixed.txt").write_text("x")
            verdict = "accepted"
        return Decision(verdict, applied=("a.py",))  # type: ignore[arg-type]


async def check(
    project: Project, fixer: Fixer, monkeypatch: pytest.MonkeyPatch, **settings: object
) -> str:
    monkeypatch.setattr(troubleshoot, "propose_fix", fixer)
    ctx = context(project, AskingHost(["Always for this run"]), **settings)
    return await check_task(ctx, ProjectFolder(ctx, ""), TASK, "Task 1/1", "", [CHECK], ["a.py"])


async def test_fixed_on_the_second_attempt(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixer = Fixer(project, ["accepted", "accepted-fixing"])
    note = await check(project, fixer, monkeypatch)
    assert note == "Task 1/1: 1 command(s) passed after 2 fix(es)."
    assert len(fixer.reports) == 2
    assert "exit code 1" in fixer.reports[0] and "failing test_x" in fixer.reports[0]
    assert [r.exit_code for r in project.store.list_command_runs("r-1")] == [0, 1, 1]


async def test_bounded_by_fix_attempts(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    fixer = Fixer(project, ["accepted", "accepted", "accepted"])
    note = await check(project, fixer, monkeypatch, fix_attempts=2)
    assert note.endswith("fails (exit code 1) after 2 fix attempt(s).")
    assert len(fixer.reports) == 2 and len(project.store.list_command_runs("r-1")) == 3


async def test_no_attempts_means_no_troubleshooter(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixer = Fixer(project, [])
    note = await check(project, fixer, monkeypatch, fix_attempts=0)
    assert note.endswith("fails (exit code 1).") and fixer.reports == []


@pytest.mark.parametrize(
    ("verdict", "ending"),
    [("rejected", "the fix was rejected."), (None, "the troubleshooter found no change to make.")],
)
async def test_rejection_or_nothing_to_change_stops(
    project: Project, monkeypatch: pytest.MonkeyPatch, verdict: str | None, ending: str
) -> None:
    fixer = Fixer(project, [verdict])
    note = await check(project, fixer, monkeypatch)
    assert note.endswith(ending) and len(fixer.reports) == 1


async def test_program_that_cannot_start_is_not_troubleshot(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixer = Fixer(project, [])
    monkeypatch.setattr(troubleshoot, "propose_fix", fixer)
    ctx = context(project, AskingHost([]))
    note = await check_task(ctx, ProjectFolder(ctx, ""), TASK, "T", "", ["no-such-tool-x"], [])
    assert note.startswith("T: `no-such-tool-x` could not run (program not found: no-such")
    assert fixer.reports == []


async def test_skipped_commands_are_reported(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(troubleshoot, "propose_fix", Fixer(project, []))
    ctx = context(project, AskingHost(["Skip"]))
    note = await check_task(ctx, ProjectFolder(ctx, ""), TASK, "T", "", [CHECK], [])
    assert note == "T: commands not run (skipped: not confirmed)."
    assert await check_task(ctx, ProjectFolder(ctx, ""), TASK, "T", "", [], []) == ""


def test_paths_and_report(project: Project) -> None:
    ctx = context(project, AskingHost([]))
    where = ProjectFolder(ctx, "app")
    assert project_path(where, "app/x/y.py") == "x/y.py"
    assert project_path(where, "other/y.py") == "other/y.py"
    from samokoder.agents.command_gate import CommandOutcome

    outcome = CommandOutcome(
        "pytest", ("pytest",), "app", "ran", 1, "x" * 10_000, 0, 5.0, "exit code 1"
    )
    report = failure_report(outcome)
    assert report.startswith("The command `pytest` (in app) failed: exit code 1.")
    assert "the last 6000 characters" in report and len(report) < 6_200
