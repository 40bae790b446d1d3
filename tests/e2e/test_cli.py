"""The terminal client end to end: `python -m samokoder.cli …` against a real server.

Each call is a subprocess without a terminal (stdin from /dev/null), the way a
script runs it; the server it starts talks to the fake provider.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import git, server_env
from tests.e2e.scripted_team import GREETER_FILES, greeter_team
from tests.fakes.fake_provider import FakeProvider, Reply

pytestmark = pytest.mark.e2e

NEW_FUNCTION = "def greet(name):\n    return f'hello {name}'\n"
EDITED = "import os\n\n\ndef greet(name):\n    return f'hello {name}'\n\n\nprint(greet('x'))\n"


def cli(
    root: Path, provider: FakeProvider, tmp: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samokoder.cli", *args],
        cwd=root,
        env=server_env(provider, tmp, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def shadow_log(root: Path) -> list[str]:
    gitdir = root / ".samokoder" / "checkpoints.git"
    if not gitdir.exists():
        return []
    out = subprocess.run(
        ["git", "--git-dir", str(gitdir), "log", "--format=%s", "refs/heads/checkpoints"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in out.stdout.splitlines() if line]


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_edit_yes_then_history_usage_undo(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    original = (workspace / "app.py").read_text()
    user_head = git(workspace, "rev-parse", "HEAD")

    edit = cli(
        workspace,
        fake_provider,
        tmp_path,
        "edit",
        "app.py",
        "--lines",
        "4-5",
        "-m",
        "use an f-string",
        "--yes",
    )
    assert edit.returncode == 0, edit.stderr
    assert (workspace / "app.py").read_text() == EDITED
    assert shadow_log(workspace) == ["code_monkey: Edit app.py: use an f-string"]
    assert git(workspace, "rev-parse", "HEAD") == user_head
    assert "+    return f'hello {name}'" in edit.stdout  # the diff, plain without a terminal
    assert "Succeeded: Applied the edit to app.py." in edit.stdout
    assert "\x1b[" not in edit.stdout + edit.stderr  # no colours without a terminal
    request = fake_provider.requests[-1].body["messages"][-1]["content"]
    assert "def greet(name):\n    return 'hi ' + name\n" in request  # lines 4-5 selected

    history = as_json(cli(workspace, fake_provider, tmp_path, "history", "--json"))
    assert [(s["kind"], s["summary"]) for s in history["steps"]] == [
        ("apply", "Edit app.py: use an f-string")
    ]
    assert history["steps"][0]["files"] == [{"path": "app.py", "change": "modify"}]

    usage = as_json(cli(workspace, fake_provider, tmp_path, "usage", "--json"))
    assert usage["total"]["requests"] == 1
    assert [m["model"] for m in usage["byModel"]] == ["openai/fake-model"]

    undo = cli(workspace, fake_provider, tmp_path, "undo")
    assert undo.returncode == 0, undo.stderr
    assert "app.py" in undo.stdout
    assert (workspace / "app.py").read_text() == original
    assert len(shadow_log(workspace)) == 2


def test_without_terminal_the_proposal_is_rejected(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    original = (workspace / "app.py").read_text()
    result = cli(
        workspace, fake_provider, tmp_path, "edit", "app.py", "--lines", "4-5", "-m", "f-string"
    )
    assert result.returncode == 3, result.stderr
    assert "pass --yes to accept" in result.stderr
    assert "Rejected" in result.stdout
    assert "+    return f'hello {name}'" in result.stdout  # shown, not applied
    assert (workspace / "app.py").read_text() == original
    assert shadow_log(workspace) == []


def test_errors_map_to_exit_codes(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    bad_path = cli(
        workspace, fake_provider, tmp_path, "edit", str(outside), "--lines", "1-1", "-m", "x"
    )
    assert bad_path.returncode == 1
    assert (
        "elsewhere.py" in bad_path.stderr and "not inside any workspace folder" in bad_path.stderr
    )

    no_model = cli(
        workspace,
        fake_provider,
        tmp_path,
        "edit",
        "app.py",
        "--lines",
        "4-5",
        "-m",
        "x",
        "--yes",
        SAMOKODER_MODEL="",
    )
    assert no_model.returncode == 5
    assert "No model configured" in no_model.stderr

    nothing = cli(workspace, fake_provider, tmp_path, "undo")
    assert nothing.returncode == 1
    assert "Nothing to undo" in nothing.stderr

    usage = cli(workspace, fake_provider, tmp_path, "edit", "app.py", "--lines", "4-5")
    assert usage.returncode == 2  # no terminal to ask for the instruction
    assert "--instruction" in usage.stderr
    assert fake_provider.requests == []


def interrupted_cli(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path, *command: str
) -> subprocess.CompletedProcess[str]:
    """Run the client and press Ctrl-C (SIGINT) once its run has called the model."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "samokoder.cli", *command],
        cwd=workspace,
        env=server_env(fake_provider, tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not fake_provider.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake_provider.requests, "the run never called the model"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_cancels_the_run(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```", first_token_delay=30))
    original = (workspace / "app.py").read_text()
    proc = interrupted_cli(
        workspace, fake_provider, tmp_path, "edit", "app.py", "--lines", "4-5", "-m", "x"
    )
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 4, err
    assert "Cancelling" in err
    assert "Cancelled" in out
    assert (workspace / "app.py").read_text() == original
    assert shadow_log(workspace) == []


def test_generate_with_yes_builds_the_app(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.responder = greeter_team()
    result = cli(
        workspace,
        fake_provider,
        tmp_path,
        "generate",
        "a command line greeter",
        "--folder",
        "app",
        "--yes",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path, content in GREETER_FILES.items():
        assert (workspace / "app" / path).read_text() == content
    assert "Succeeded: Done: 2 of 2 task(s) accepted plus the README, 5 file(s)." in result.stdout
    assert shadow_log(workspace) == [  # newest first
        "tech_writer: Documentation: README.md",
        "developer: Task 2/2: Command line entry point",
        "developer: Task 1/2: Core module",
    ]

    history = cli(workspace, fake_provider, tmp_path, "history")
    assert history.returncode == 0, history.stderr
    # the commands the agents proposed, with what became of them (--yes answers no question)
    commands = history.stdout[history.stdout.index("Commands") :].splitlines()
    assert sum("python -m pytest" in line and "skipped" in line for line in commands) == 2
    listed = as_json(cli(workspace, fake_provider, tmp_path, "history", "--json"))
    assert [(c["command"], c["status"]) for c in listed["commands"]] == [
        ("python -m pytest", "skipped")
    ] * 2
    assert listed["steps"][-1]["summary"] == "Task 1/2: Core module"


def test_generate_summary_counts_tasks_not_the_readme(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    core = ["greeter/__init__.py", "greeter/core.py"]
    tasks = [
        {"title": "Core", "description": "the package", "acceptance_criteria": [], "files": core},
        {"title": "Again", "description": "nothing new", "acceptance_criteria": [], "files": core},
    ]
    fake_provider.responder = greeter_team(tasks=tasks)
    args = ("generate", "a greeter", "--folder", "app", "--yes", "--json")
    finished = as_json(cli(workspace, fake_provider, tmp_path, *args))
    assert finished["summary"].startswith(
        "Done: 1 of 2 task(s) accepted (1 unchanged) plus the README, 3 file(s)."
    )
    assert len(finished["steps"]) == 2  # task 1 and the README


def test_verbose_follows_the_run(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    args = ("edit", "app.py", "--lines", "4-5", "-m", "use an f-string", "--yes", "-v")
    result = cli(workspace, fake_provider, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    err = result.stderr
    expected = [
        "INFO samokoder",  # the server's own log (a fresh folder's store is created)
        "-> samokoder.editSelection",
        "Samokoder: editing app.py…",  # progress as it goes, one line each
        "Asking openai/fake-model",
        "<- proposal",
        ": done (",
        "<- runFinished",
    ]
    positions = [err.find(line) for line in expected]
    assert -1 not in positions, err
    assert positions[1:] == sorted(positions[1:]), err
    assert "Applied app.py" in err  # the accept's answer may come before or after the end
    assert "Succeeded" in result.stdout and "Succeeded" not in err


def test_settings_from_the_command_line_reach_the_server(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    args = (
        *("edit", "app.py", "--lines", "4-5", "-m", "use an f-string"),
        *("--review", "off", "--max-tokens", "77", "--request-timeout", "30"),
        *("--set", "temperature=0.5", "--set", "budgetUsd=2", "--no-cache"),
    )
    result = cli(workspace, fake_provider, tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr  # review off: no question
    assert (workspace / "app.py").read_text() == EDITED
    body = fake_provider.requests[-1].body
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 77
    assert body["temperature"] == 0.5


def test_explain_prints_the_explanation(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script(Reply(text="`greet` joins **hi** and the name."))
    result = cli(workspace, fake_provider, tmp_path, "explain", "app.py", "--lines", "4-5")
    assert result.returncode == 0, result.stderr
    assert "Succeeded: Explained app.py:4-5." in result.stdout
    assert "`greet` joins **hi** and the name." in result.stdout  # Markdown, as it came
    fake_provider.script(Reply(text="The whole file greets x."))
    whole = as_json(cli(workspace, fake_provider, tmp_path, "explain", "app.py", "--json"))
    assert (whole["command"], whole["status"]) == ("explain", "succeeded")
    assert whole["text"] == "The whole file greets x."
