"""`--json`: every outcome of the terminal client is one JSON object on stdout.

Each kind of outcome (a run that succeeded, failed, was rejected or cancelled; a
request the server refused; bad usage; no model configured) is driven through
the real client and server; stdout must parse as exactly one JSON object with
`command`, `status` and `exitCode`, and `exitCode` must be the process's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import NEW_FUNCTION, cli, interrupted_cli, shadow_log
from tests.fakes.fake_provider import FakeProvider, Reply

pytestmark = pytest.mark.e2e

RUN_FIELDS = {"command", "status", "exitCode", "runId", "summary", "steps", "usage"}
ERROR_FIELDS = {"command", "status", "exitCode", "error"}


def outcome(result: subprocess.CompletedProcess[str], code: int) -> dict[str, Any]:
    """stdout as exactly one JSON object (json.loads refuses anything after it)."""
    assert result.returncode == code, result.stdout + result.stderr
    value = json.loads(result.stdout)
    assert isinstance(value, dict), result.stdout
    assert value["exitCode"] == result.returncode
    return value


def edit(root: Path, provider: FakeProvider, tmp: Path, *extra: str, **env: str) -> Any:
    args = ("edit", "app.py", "--lines", "4-5", "-m", "use an f-string", "--json", *extra)
    return cli(root, provider, tmp, *args, **env)


def test_run_outcomes_succeeded_rejected_failed(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    original = (workspace / "app.py").read_text()
    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    rejected = outcome(edit(workspace, fake_provider, tmp_path), 3)
    assert set(rejected) >= RUN_FIELDS
    assert (rejected["command"], rejected["status"], rejected["steps"]) == ("edit", "rejected", [])
    assert (workspace / "app.py").read_text() == original

    fake_provider.script(Reply(fault="http_401"))
    failed = outcome(edit(workspace, fake_provider, tmp_path, "--yes", "--no-cache"), 1)
    assert RUN_FIELDS | {"error"} <= set(failed)
    assert failed["status"] == "failed" and failed["error"]
    assert (workspace / "app.py").read_text() == original

    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    done = outcome(edit(workspace, fake_provider, tmp_path, "--yes", "--no-cache"), 0)
    assert set(done) >= RUN_FIELDS
    assert done["status"] == "succeeded" and len(done["steps"]) == 1
    assert done["usage"]["requests"] == 1
    assert len(fake_provider.requests) == 3  # --no-cache: each run asked the model
    assert "return f'hello {name}'" in (workspace / "app.py").read_text()

    history = outcome(cli(workspace, fake_provider, tmp_path, "history", "--json"), 0)
    assert (history["command"], history["status"]) == ("history", "succeeded")
    assert [s["stepId"] for s in history["steps"]] == done["steps"]
    assert history["commands"] == []
    undo = outcome(cli(workspace, fake_provider, tmp_path, "undo", "--json"), 0)
    assert (undo["status"], undo["target"], undo["files"]) == (
        "succeeded",
        done["steps"][0],
        ["app.py"],
    )
    assert (workspace / "app.py").read_text() == original


def test_request_errors_and_bad_usage(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    nothing = outcome(cli(workspace, fake_provider, tmp_path, "undo", "--json"), 1)
    assert ERROR_FIELDS | {"errorCode"} <= set(nothing)
    assert (nothing["command"], nothing["status"]) == ("undo", "error")
    assert "Nothing to undo" in nothing["error"] and nothing["errorCode"] == -32602

    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    refused = outcome(
        cli(
            workspace,
            fake_provider,
            tmp_path,
            "edit",
            str(outside),
            "--lines",
            "1",
            "-m",
            "x",
            "--json",
        ),
        1,
    )
    assert (refused["status"], refused["errorCode"]) == ("error", -32602)
    assert "not inside any workspace folder" in refused["error"]

    no_model = outcome(edit(workspace, fake_provider, tmp_path, "--yes", SAMOKODER_MODEL=""), 5)
    assert (no_model["status"], no_model["errorCode"]) == ("error", -32004)
    assert no_model["error"].startswith("No model configured")

    missing = outcome(cli(workspace, fake_provider, tmp_path, "edit", "app.py", "--json"), 2)
    assert set(missing) == ERROR_FIELDS
    assert (missing["command"], missing["status"]) == ("edit", "usage")
    assert "--lines" in missing["error"]

    no_terminal = outcome(
        cli(workspace, fake_provider, tmp_path, "edit", "app.py", "--lines", "4", "--json"), 2
    )
    assert "--instruction" in no_terminal["error"]
    bad_key = outcome(edit(workspace, fake_provider, tmp_path, "--set", "max_tokens=5"), 2)
    assert "unknown setting 'max_tokens'" in bad_key["error"] and "maxTokens" in bad_key["error"]
    bad_value = outcome(edit(workspace, fake_provider, tmp_path, "--set", "maxParallel=0"), 2)
    assert "maxParallel" in bad_value["error"]
    unknown = outcome(cli(workspace, fake_provider, tmp_path, "frobnicate", "--json"), 2)
    assert (unknown["command"], unknown["status"]) == (None, "usage")
    assert fake_provider.requests == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_cancelled_run(workspace: Path, fake_provider: FakeProvider, tmp_path: Path) -> None:
    fake_provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```", first_token_delay=30))
    original = (workspace / "app.py").read_text()
    command = ["edit", "app.py", "--lines", "4-5", "-m", "x", "--json"]
    result = interrupted_cli(workspace, fake_provider, tmp_path, *command)
    cancelled = outcome(result, 4)
    assert set(cancelled) >= RUN_FIELDS
    assert (cancelled["command"], cancelled["status"]) == ("edit", "cancelled")
    assert (workspace / "app.py").read_text() == original
    assert shadow_log(workspace) == []
