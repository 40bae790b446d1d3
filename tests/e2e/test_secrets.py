"""Keys given to the server never show up in logs, state, commits or messages."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from tests.e2e.harness import API_KEY, start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider, Reply

SETTINGS_KEY = "plain-settings-key-7f3a9c2e41"
RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"


def all_git_objects(gitdir: Path) -> str:
    out = subprocess.run(
        ["git", "--git-dir", str(gitdir), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    )
    return out.stdout.decode("utf-8", "replace")


async def test_keys_never_leak(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    log_file = tmp_path / "server.log"
    ed = await start_editor(
        workspace,
        fake_provider,
        tmp_path,
        "vscode",
        options={"apiKeys": {"openai": SETTINGS_KEY}},
        log_file=log_file,
    )
    try:
        # a provider that echoes the key in its error, then a good reply accepted
        fake_provider.script(Reply(fault="http_401"), Reply(text=NEW))
        failed = await ed.command(
            "samokoder.editSelection",
            {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "x"},
        )
        assert (await ed.finished_run(failed["runId"]))["status"] == "failed"
        ok = await ed.command(
            "samokoder.editSelection",
            {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "y"},
        )
        proposal = await ed.proposal_for(ok["runId"])
        await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
        await ed.finished_run(ok["runId"])
        await ed.command("samokoder.undo", {})
        await ed.command("samokoder.history", {})
        await ed.command("samokoder.usage", {})
        # the key from the settings is the one sent to the provider
        assert fake_provider.requests[0].headers.get("authorization") == f"Bearer {SETTINGS_KEY}"
    finally:
        await stop_editor(ed)

    places = {
        "server log": log_file.read_text(),
        "editor log": "\n".join(m.message for m in ed.client.log_messages),
        "messages": "\n".join(m.message for m in ed.client.messages),
        "notifications": repr(ed.finished) + repr(ed.proposals),
        "checkpoints": all_git_objects(workspace / ".samokoder" / "checkpoints.git"),
        "store": "\n".join(
            repr(row)
            for table in ("runs", "proposals", "steps", "step_files", "llm_requests")
            for row in sqlite3.connect(workspace / ".samokoder" / "state.db").execute(
                f"SELECT * FROM {table}"
            )
        ),
    }
    assert "401" in places["server log"] or "401" in places["notifications"]
    for place, text in places.items():
        for secret in (API_KEY, SETTINGS_KEY):
            assert secret not in text, f"{secret[:8]}… found in the {place}"
