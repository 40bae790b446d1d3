"""Consent, policy and the command log, with real processes in a real project folder."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from samokoder.agents.command_gate import (
    ALWAYS,
    CHOICES,
    RUN,
    SKIP,
    command_history,
    run_command,
    run_commands,
)
from samokoder.agents.host import FileEdit, OpenDocument, ProposalNotice
from samokoder.agents.project import Project
from samokoder.agents.review import ProposalBook
from samokoder.agents.runs import Run
from samokoder.settings import Settings
from samokoder.store.rows import RunRow
from samokoder.workspace.sandbox import sandbox_problem

PY = sys.executable
SANDBOX_PY = os.path.realpath(sys.executable)  # the venv may be under /tmp, private in bwrap
WRITES = f'{PY} -c \'open("ran.txt", "a").write("x")\''


class AskingHost:
    """Answers questions from a list; records questions and log lines."""

    def __init__(self, answers: list[str | None]) -> None:
        self.answers = answers
        self.questions: list[tuple[str, list[str]]] = []
        self.lines: list[str] = []

    def open_document(self, uri: str) -> OpenDocument | None:
        return None

    async def run_started(self, run_id: str, title: str) -> str | None: ...

    def progress(self, token: str | None, message: str, percentage: int | None = None) -> None: ...

    async def ask(self, question: str, choices: list[str], free_text: bool) -> str | None:
        self.questions.append((question, choices))
        return self.answers.pop(0) if self.answers else None

    async def propose(self, notice: ProposalNotice) -> None: ...

    async def apply_edit(self, label: str, edits: list[FileEdit], needs_confirmation: bool) -> bool:
        return False

    async def run_finished(self, payload: dict[str, Any], token: str | None) -> None: ...

    def log(self, message: str, *, error: bool = False) -> None:
        self.lines.append(message)

    async def show_document(self, uri: str) -> bool:
        return False


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    project = Project.open(root, "shadow")
    project.store.create_run(RunRow("r-1", "test", "", "running", "", None, time.time(), None))
    return project


def context(project: Project, host: AskingHost, **settings: Any) -> Run:
    return Run("r-1", "test", project, Settings(**settings), host, ProposalBook(), "proposal")


async def test_asked_then_run_or_skipped(project: Project) -> None:
    host = AskingHost([RUN, SKIP, None])
    ctx = context(project, host)
    first = await run_command(ctx, WRITES, "")
    assert first.status == "ran" and first.passed
    question, choices = host.questions[0]
    assert choices == CHOICES == ["Run", "Skip", "Always for this run"]
    assert "ran.txt" in question and "the workspace folder" in question
    assert "without API keys" in question and "stopped after 120 s" in question
    skipped = await run_command(ctx, WRITES, "sub")
    dismissed = await run_command(ctx, WRITES, "")
    assert skipped.status == dismissed.status == "skipped"
    assert (project.root / "ran.txt").read_text() == "x"  # only the consented one ran
    assert not (project.root / "sub" / "ran.txt").exists()
    rows = project.store.list_command_runs("r-1")
    assert [r.status for r in rows] == ["skipped", "skipped", "ran"]
    assert rows[1].cwd == "sub" and rows[2].exit_code == 0


async def test_always_for_this_run_stops_asking(project: Project) -> None:
    host = AskingHost([ALWAYS])
    ctx = context(project, host)
    outcomes = await run_commands(ctx, [WRITES, WRITES, WRITES], "")
    assert [o.status for o in outcomes] == ["ran"] * 3
    assert len(host.questions) == 1
    assert (project.root / "ran.txt").read_text() == "xxx"
    other_run = context(project, AskingHost([]))
    assert (await run_command(other_run, WRITES, "")).status == "skipped"


async def test_never_runs_nothing_and_allow_list_skips_the_question(project: Project) -> None:
    host = AskingHost([RUN])
    never = await run_command(context(project, host, commands="never"), WRITES, "")
    assert never.status == "refused" and "never" in never.message
    assert host.questions == []
    ctx = context(project, host, commands="allow", allowed_commands=[Path(PY).name])
    listed = await run_command(ctx, f"{Path(PY).name} -c 'print(1)'", "")
    assert listed.passed and host.questions == []
    unlisted = await run_command(ctx, WRITES, "")  # a path is never on the list: asked
    assert unlisted.passed and len(host.questions) == 1
    assert not (project.root / "never.txt").exists()


@pytest.mark.parametrize(
    ("command", "folder", "message"),
    [
        (f"{PY} -V; touch pwned", "", "shell syntax"),
        (f"{PY} -V && touch pwned", "", "shell syntax"),
        (f"{PY} -V", "../outside", "outside the workspace"),
        (f"{PY} -V", ".git", ".git/"),
        ("no-such-program-here --version", "", "program not found: no-such-program-here"),
    ],
)
async def test_refused_before_asking(
    project: Project, command: str, folder: str, message: str
) -> None:
    host = AskingHost([RUN])
    outcome = await run_command(context(project, host), command, folder)
    assert outcome.status in ("refused", "error")
    assert message in outcome.message
    assert host.questions == []
    assert not (project.root / "pwned").exists()
    [row] = project.store.list_command_runs("r-1")
    assert row.status == outcome.status and row.message == outcome.message


async def test_keys_never_reach_the_child_and_output_is_redacted(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-gate-secret-0123456789")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-abcdef-123456")
    monkeypatch.setenv("INNOCENT_NAME", "client-key-from-settings")
    host = AskingHost([RUN])
    ctx = context(project, host, api_keys={"openai": "client-key-from-settings"})
    code = "import os; print(sorted(os.environ)); print(os.environ.get('INNOCENT_NAME'))"
    outcome = await run_command(ctx, f"{PY} -c {code!r}", "")
    assert outcome.passed
    assert "OPENAI_API_KEY" not in outcome.output and "MY_SERVICE_TOKEN" not in outcome.output
    assert "INNOCENT_NAME" not in outcome.output  # its value is a key from the settings
    assert "client-key" not in outcome.output and "sk-gate" not in outcome.output


async def test_failing_command_stops_the_rest_and_history_shows_it(project: Project) -> None:
    host = AskingHost([ALWAYS])
    ctx = context(project, host)
    fail = f"{PY} -c 'import sys; print(\"boom\" * 2000); sys.exit(2)'"
    outcomes = await run_commands(ctx, [fail, WRITES], "")
    assert [o.status for o in outcomes] == ["ran"]
    assert outcomes[0].failed and outcomes[0].exit_code == 2
    assert any("exit code 2" in line for line in host.lines)
    assert all(len(line) < 2_500 for line in host.lines)  # a tail, not the whole output
    [entry] = await command_history(project.store, 10)
    assert entry["argv"][:2] == [PY, "-c"] and entry["exitCode"] == 2
    assert entry["status"] == "ran" and entry["runId"] == "r-1" and entry["cwd"] == ""
    assert entry["output"].endswith("boom\n") and len(entry["output"]) <= 4_000
    assert entry["truncatedBytes"] == len("boom" * 2000) + 1 - 4_000
    assert entry["durationMs"] > 0 and entry["sandboxed"] is False


async def test_sandbox_setting_without_bubblewrap_refuses(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from samokoder.agents import command_gate

    monkeypatch.setattr(command_gate, "sandbox_problem", lambda: "bwrap is not installed")
    host = AskingHost([RUN])
    outcome = await run_command(context(project, host, sandbox=True), WRITES, "")
    assert outcome.status == "refused" and "bwrap is not installed" in outcome.message
    assert not (project.root / "ran.txt").exists()


def test_command_log_rows(project: Project) -> None:
    from samokoder.errors import InvalidArgumentError
    from samokoder.store.command_runs import CommandRunRow

    row = CommandRunRow(
        "r-1",
        "pytest -q",
        ("pytest", "-q"),
        "sub",
        "timeout",
        None,
        120_000.0,
        "…",
        5,
        True,
        "did not finish",
        1.0,
    )
    first = project.store.add_command_run(row)
    orphan = project.store.add_command_run(
        CommandRunRow(**{**row.__dict__, "run_id": "r-gone", "status": "ran", "exit_code": 0})
    )
    assert orphan > first
    [newest, oldest] = project.store.list_command_runs(limit=10)
    assert newest.run_id is None and newest.exit_code == 0  # an unknown run is not invented
    assert oldest == CommandRunRow(**{**row.__dict__, "id": first})
    assert project.store.list_command_runs("r-1", 1) == [oldest]
    with pytest.raises(InvalidArgumentError, match="unknown command status"):
        project.store.add_command_run(CommandRunRow(**{**row.__dict__, "status": "maybe"}))
    with pytest.raises(InvalidArgumentError, match="limit"):
        project.store.list_command_runs(limit=0)


@pytest.mark.skipif(
    sandbox_problem() is not None,
    reason="bubblewrap sandbox unavailable here (CI installs bubblewrap)",
)
async def test_sandboxed_command_is_asked_as_such_and_recorded(project: Project) -> None:
    host = AskingHost([RUN])
    ctx = context(project, host, sandbox=True)
    code = "open('inside.txt', 'w').write('ok'); open('/usr/local/sbx-gate.txt', 'w')"
    outcome = await run_command(ctx, f"{SANDBOX_PY} -c {code!r}", "")
    assert "sandboxed: only the workspace folder is writable, no network" in host.questions[0][0]
    assert outcome.status == "ran" and outcome.exit_code == 1
    assert "Read-only file system" in outcome.output
    assert (project.root / "inside.txt").read_text() == "ok"
    assert not Path("/usr/local/sbx-gate.txt").exists()
    [row] = project.store.list_command_runs("r-1")
    assert row.sandboxed
