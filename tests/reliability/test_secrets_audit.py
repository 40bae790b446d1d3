"""Secrets audit: provider keys and tokens in the environment and the settings; every
command driven; every log line, store row, commit, proposal, cache file and child
process environment scanned for them. Zero hits.

Child environments are seen through wrappers put first on PATH: `git` (checkpoints)
and `python` (commands the agents run, `commands: allow`) record the environment they
were started with, then run the real program.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.harness import API_KEY, Editor, start_editor, stop_editor
from tests.e2e.scripted_team import greeter_team
from tests.fakes.fake_provider import FakeProvider, Reply

SETTINGS_KEY = "plain-settings-key-7f3a9c2e41"
ENV_SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-audit-4b1d9e0c7a2f",
    "GITHUB_TOKEN": "ghp_audit0123456789abcdefABCDEF012345",
    "SAMOKODER_TOKEN": "tcp-token-audit-5e8f1a",
    "MY_SERVICE_PASSWORD": "hunter2-audit-93af",
    "AWS_SECRET_ACCESS_KEY": "aws-audit-secret-b7c4d2",
}
SECRETS = [API_KEY, SETTINGS_KEY, *ENV_SECRETS.values()]
RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"


def wrappers(folder: Path, log: Path) -> dict[str, str]:
    """`git` and `python` that append their environment to `log`, then exec the real one."""
    folder.mkdir()
    real = {"git": shutil.which("git"), "python": sys.executable, "python3": sys.executable}
    for name, target in real.items():
        assert target is not None
        script = folder / name
        script.write_text(
            f'#!/bin/sh\n{{ echo "== {name} $*"; env; }} >> "{log}"\nexec "{target}" "$@"\n'
        )
        script.chmod(0o755)
    return {name: str(folder / name) for name in real}


def responder(body: dict[str, Any]) -> Reply:
    """The greeter team; anything else (explainer, test writer, troubleshooter) gets code."""
    try:
        return TEAM(body)
    except (AssertionError, StopIteration, KeyError):
        return Reply(text="```python\ndef test_greet():\n    assert True\n```")


TEAM = greeter_team()


async def drive(ed: Editor, run_id: str, views: list[Any], cancel_at: int = 0) -> dict[str, Any]:
    """Accept every proposal of the run (reading its files first) until it finishes;
    with `cancel_at`, cancel the run when that many proposals were made."""
    accepted: set[str] = set()
    while True:
        finished = [f for f in ed.finished if f["runId"] == run_id]
        if finished:
            return finished[0]
        for proposal in [p for p in ed.proposals if p["runId"] == run_id]:
            pid = proposal["proposalId"]
            if pid in accepted:
                continue
            accepted.add(pid)
            for f in proposal["files"]:
                views.append(
                    await ed.client.protocol.send_request_async(
                        "samokoder/proposalFile", {"proposalId": pid, "path": f["path"]}
                    )
                )
            if cancel_at and len(accepted) == cancel_at:
                await ed.command("samokoder.cancel", {"runId": run_id})
            else:
                await ed.command("samokoder.review.accept", {"proposalId": pid})
        await ed.wait_until(
            lambda: (
                any(f["runId"] == run_id for f in ed.finished)
                or any(
                    p["proposalId"] not in accepted for p in ed.proposals if p["runId"] == run_id
                )
            ),
            60,
        )


def all_git_objects(gitdir: Path) -> str:
    out = subprocess.run(
        ["git", "--git-dir", str(gitdir), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    )
    return out.stdout.decode("utf-8", "replace")


def store_dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            repr(row) for table in tables for row in conn.execute(f'SELECT * FROM "{table}"')
        )
    finally:
        conn.close()


def files_under(folder: Path) -> str:
    if not folder.exists():
        return ""
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    )


async def test_no_secret_anywhere(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    env_log = tmp_path / "child-env.log"
    bin_dir = tmp_path / "bin"
    wrappers(bin_dir, env_log)
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    log_file = tmp_path / "server.log"
    fake_provider.responder = responder
    ed = await start_editor(
        workspace,
        fake_provider,
        tmp_path,
        "vscode",
        options={"apiKeys": {"openai": SETTINGS_KEY}, "commands": "allow", "cache": True},
        env={**ENV_SECRETS, "PATH": path},
        log_file=log_file,
    )
    ed.answers = ["Continue"] * 10
    views: list[Any] = []
    statuses: dict[str, str] = {}
    try:
        uri = ed.uri("app.py")
        # a provider error that quotes the key, then an edit accepted, undone, redone
        fake_provider.script(Reply(fault="http_401"), Reply(text=NEW))
        failed = await ed.command(
            "samokoder.editSelection", {"uri": uri, "range": RANGE, "instruction": "x"}
        )
        statuses["editSelection (401)"] = (await drive(ed, failed["runId"], views))["status"]
        edit = await ed.command(
            "samokoder.editSelection", {"uri": uri, "range": RANGE, "instruction": "y"}
        )
        statuses["editSelection"] = (await drive(ed, edit["runId"], views))["status"]
        for name in ("samokoder.undo", "samokoder.redo", "samokoder.history", "samokoder.usage"):
            await ed.command(name, {})
        # generate, cancelled at its second proposal, then resumed
        gen = await ed.command(
            "samokoder.generate", {"description": "a greeter", "folder": "greeter-app"}
        )
        statuses["generate"] = (await drive(ed, gen["runId"], views, cancel_at=2))["status"]
        resumed = await ed.command("samokoder.resume", {"runId": gen["runId"]})
        statuses["resume"] = (await drive(ed, resumed["runId"], views))["status"]
        imp = await ed.command("samokoder.implement", {"description": "greet loudly"})
        statuses["implement"] = (await drive(ed, imp["runId"], views))["status"]
        for name, arg in (
            ("samokoder.explain", {"uri": uri, "range": RANGE}),
            ("samokoder.writeTests", {"uri": uri}),
            (
                "samokoder.fixDiagnostics",
                {"uri": uri, "diagnostics": [{"range": RANGE, "message": "unused import"}]},
            ),
        ):
            run = await ed.command(name, arg)
            statuses[name] = (await drive(ed, run["runId"], views))["status"]
        assert fake_provider.requests[0].headers.get("authorization") == f"Bearer {SETTINGS_KEY}"
    finally:
        await stop_editor(ed)

    assert statuses["generate"] == "cancelled" and statuses["resume"] == "succeeded", statuses
    children = env_log.read_text() if env_log.exists() else ""
    assert "== git" in children and "== python" in children  # both were seen
    places = {
        "server log": log_file.read_text(),
        "editor log": "\n".join(m.message for m in ed.client.log_messages),
        "messages": "\n".join(m.message for m in ed.client.messages),
        "notifications": repr(ed.finished) + repr(ed.proposals) + repr(ed.asks),
        "proposal files": repr(views),
        "workspace edits": repr(ed.applied_edits),
        "checkpoints": all_git_objects(workspace / ".samokoder" / "checkpoints.git"),
        "store": store_dump(workspace / ".samokoder" / "state.db"),
        "response cache": files_under(tmp_path / "cache"),
        "child environments": children,
        "workspace files": files_under(workspace / "greeter-app") + files_under(workspace / "app"),
    }
    leaks = [
        f"{secret[:8]}… in the {place}"
        for place, text in places.items()
        for secret in SECRETS
        if secret in text
    ]
    assert leaks == []
    names = {line.split("=", 1)[0] for line in children.splitlines() if "=" in line}
    assert names.isdisjoint(ENV_SECRETS) and "OPENAI_API_KEY" not in names
