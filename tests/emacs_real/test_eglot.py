"""A third real client, with no plugin of ours: Emacs with eglot, in batch mode.

Emacs opens a file in a temporary Git workspace with eglot connected to `samokoder
serve` (the fake provider on 127.0.0.1 scripts the model's reply); the script
(eglot_session.el) lists the code actions on the selected lines, picks the one titled
with the instruction comment from eglot's menu, answers eglot's confirmation of the
server's edit (the annotated review: the editor is the reviewer), then undoes the step
with eglot's executeCommand. Installed by .ci/install-emacs.sh (Debian's emacs-nox and
elpa-eglot; Emacs 29+ has eglot built in).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import git, server_env
from tests.fakes.fake_provider import FakeProvider, Reply

SCRIPT = Path(__file__).resolve().parent / "eglot_session.el"
SERVER_CMD = [sys.executable, "-m", "samokoder.cli", "serve"]
PROCESS_TIMEOUT = 120  # seconds; Emacs is killed after this, whatever it is doing

ORIGINAL = (
    "import os\n\n\n"
    "# samokoder: use an f-string\n"
    "def greet(name):\n"
    "    return 'hi ' + name\n\n\n"
    "print(greet('x'))\n"
)
EDITED = "import os\n\n\ndef greet(name):\n    return f'hi {name}'\n\n\nprint(greet('x'))\n"
TITLE = "Samokoder: use an f-string"


@functools.cache
def eglot_missing() -> str | None:
    """Why the test cannot run here, or None."""
    emacs = shutil.which("emacs")
    if emacs is None:
        return "emacs not installed (.ci/install-emacs.sh)"
    probe = subprocess.run(
        [emacs, "--batch", "--eval", "(require 'eglot)"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if probe.returncode != 0:
        return f"eglot not available in {emacs} (.ci/install-emacs.sh): {probe.stderr[-300:]}"
    return None


pytestmark = [
    pytest.mark.real_emacs,
    pytest.mark.skipif(shutil.which("git") is None, reason="git not installed"),
]


@pytest.fixture
def commented_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text(ORIGINAL)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def run_emacs(provider: FakeProvider, tmp_path: Path, root: Path, **params: Any) -> dict[str, Any]:
    result_file = tmp_path / "emacs-result.json"
    params_file = tmp_path / "emacs-params.json"
    base = {"result": str(result_file), "cmd": SERVER_CMD, "file": str(root / "app.py")}
    params_file.write_text(json.dumps(base | params))
    env = server_env(provider, tmp_path, SAMOKODER_E2E_PARAMS=str(params_file))
    (tmp_path / "home").mkdir(exist_ok=True)
    proc = subprocess.run(
        [str(shutil.which("emacs")), "--batch", "-l", str(SCRIPT)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result_file.exists(), f"no result from emacs (exit {proc.returncode}):\n{proc.stderr}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    assert result.get("ok") is True, json.dumps(result, indent=2) + "\n" + proc.stderr[-4000:]
    return result


def test_instruction_comment_edit_and_undo_in_eglot(
    commented_workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    missing = eglot_missing()
    if missing:
        pytest.skip(missing)
    fake_provider.script(Reply(text="```python\ndef greet(name):\n    return f'hi {name}'\n```"))
    r = run_emacs(fake_provider, tmp_path, commented_workspace, lines=[4, 5], pick=TITLE)

    assert r["original"] == ORIGINAL
    # Listed: the instruction from the comment (preferred), Explain, Write tests; no
    # "Edit selection…", which eglot could not answer.
    assert r["titles"] == [TITLE, "Explain", "Write tests"]
    assert r["preferred"] == [TITLE]
    assert r["menu"].startswith("[eglot] Pick an action")

    finished = json.loads(r["finished"])
    assert finished["status"] == "succeeded", finished
    # The annotated review: one workspace/applyEdit, which eglot had the user confirm.
    edit, undo_edit = [json.loads(e) for e in r["edits"]]
    [change] = edit["documentChanges"]
    assert change["textDocument"]["uri"] == (commented_workspace / "app.py").as_uri()
    capability = json.loads(r["workspace_edit_capability"])
    if "changeAnnotationSupport" in capability:  # eglot 1.9 (Debian 12) does not announce it
        assert edit["changeAnnotations"]["samokoder"]["needsConfirmation"] is True
    else:
        assert "changeAnnotations" not in edit
    assert any("Server wants to edit" in c and "app.py" in c for c in r["confirmations"])

    # The comment is gone and the code changed, in the buffer (left unsaved, as editors do).
    assert r["after_edit"] == EDITED
    assert r["modified"] is True
    prompt = fake_provider.requests[0].body["messages"][-1]["content"]
    assert "Instruction: use an f-string" in prompt and "samokoder:" not in prompt

    # samokoder.undo through eglot's executeCommand restores the file, comment included.
    assert r["undo_files"] == ["app.py"]
    assert r["after_undo"] == ORIGINAL
    assert undo_edit["documentChanges"][0]["textDocument"]["uri"] == change["textDocument"]["uri"]
    assert r["history_agents"] == ["undo", "code_monkey"]
