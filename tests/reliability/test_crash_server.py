"""`samokoder serve` killed with SIGKILL mid-stream, between accept and write, during the
checkpoint commit and during undo; each restart finds the folder whole and keeps working."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import git
from tests.fakes.fake_provider import FakeProvider, Reply
from tests.reliability.wire import ServerGone, WireClient

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
ORIGINAL = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
NEW = "def greet(name):\n    return f'hello {name}'\n"
EDITED = ORIGINAL.replace("def greet(name):\n    return 'hi ' + name\n", NEW)
SLOW = Reply(text="x = 1\n" * 200, chunks=200, chunk_delay=0.05)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text(ORIGINAL)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


class Session:
    """Starts one server after another on the same folder, as an editor restarts it."""

    def __init__(self, root: Path, provider: FakeProvider, tmp: Path) -> None:
        self.root, self.provider, self.tmp = root, provider, tmp
        self.count = 0

    def start(self, crash: str | None = None) -> WireClient:
        self.count += 1
        env = {"SAMOKODER_TEST_CRASH": crash} if crash else {}
        client = WireClient.spawn(
            self.provider, self.tmp, env=env, log_name=f"server-{self.count}.log"
        )
        # every model call is seen (no cache); the crash hook cannot be armed from here
        options = {"cache": False, "SAMOKODER_TEST_CRASH": "undo:step_planned"}
        client.initialize(self.root, options=options)
        return client

    def edit(self, client: WireClient) -> str:
        uri = (self.root / "app.py").as_uri()
        answer = client.command(
            "samokoder.editSelection", {"uri": uri, "range": RANGE, "instruction": "f-string"}
        )
        assert "result" in answer, answer
        return str(answer["result"]["runId"])


def table(root: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(root / ".samokoder" / "state.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def assert_whole(root: Path) -> None:
    """No temporary file in the folder; the checkpoint repository is consistent."""
    leftovers = [p.name for p in root.rglob("*.tmp") if ".samokoder" not in p.parts]
    assert leftovers == []
    gitdir = root / ".samokoder" / "checkpoints.git"
    fsck = subprocess.run(
        ["git", "--git-dir", str(gitdir), "fsck", "--full", "--strict", "--no-dangling"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fsck.returncode == 0 and "error" not in fsck.stderr, fsck.stderr
    assert table(root, "SELECT step_id FROM pending_steps WHERE state = 'pending'") == []


def warnings(client: WireClient) -> str:
    return "\n".join(m["message"] for m in client.of_method("window/showMessage"))


def test_killed_server_leaves_every_step_whole_or_absent(
    project: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    session = Session(project, fake_provider, tmp_path)

    # 1. killed while the model streams: the run is interrupted, the file untouched
    server = session.start()
    fake_provider.script(SLOW)
    streaming = session.edit(server)
    server.wait_for(lambda: fake_provider.active_streams == 1, what="the stream")
    server.proc.kill()
    server.kill()
    assert (project / "app.py").read_text() == ORIGINAL

    # 2. killed between accept and the first write (the write-ahead record is stored)
    server = session.start(crash="step_planned")
    fake_provider.script(Reply(text=f"```python\n{NEW}```"))
    run_id = session.edit(server)
    proposal = server.proposal(run_id)
    with pytest.raises(ServerGone):
        server.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    assert server.kill() == -9
    assert (project / "app.py").read_text() == ORIGINAL
    statuses = dict(table(project, "SELECT run_id, status FROM runs"))
    assert statuses[streaming] == "interrupted"  # known since the second server opened it

    # 3. killed during the checkpoint commit: the file is written, the branch not moved
    server = session.start(crash="before_ref_update")
    history = server.command("samokoder.history", {})["result"]["steps"]
    assert history == []  # the step of (2) never reached the disk: not applied, reported
    assert "was not applied" in server.wait_for(lambda: warnings(server), what="a warning")
    fake_provider.script(Reply(text=f"```python\n{NEW}```"))
    run_id = session.edit(server)
    proposal = server.proposal(run_id)
    with pytest.raises(ServerGone):
        server.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    assert server.kill() == -9
    assert (project / "app.py").read_text() == EDITED

    # 4. on restart the half-done step is completed and undoable; killed during the undo
    server = session.start(crash="undo:after_apply_before_commit")
    history = server.command("samokoder.history", {})["result"]["steps"]
    assert [(s["kind"], s["runId"]) for s in history] == [("apply", run_id)]
    assert "completed and can be undone" in server.wait_for(lambda: warnings(server))
    with pytest.raises(ServerGone):
        server.command("samokoder.undo", {})
    assert server.kill() == -9

    # 5. the undo is completed on restart; undo and redo work as ever
    server = session.start()
    try:
        history = server.command("samokoder.history", {})["result"]["steps"]
        assert [s["kind"] for s in history] == ["undo", "apply"]
        assert (project / "app.py").read_text() == ORIGINAL
        redone = server.command("samokoder.redo", {})
        assert "result" in redone, redone
        assert (project / "app.py").read_text() == EDITED
        undone = server.command("samokoder.undo", {})
        assert undone["result"]["target"] == history[1]["stepId"]
        assert (project / "app.py").read_text() == ORIGINAL
    finally:
        server.close()
    assert_whole(project)
    runs = dict(table(project, "SELECT run_id, status FROM runs"))
    assert sorted(runs.values()) == ["interrupted"] * 3
    proposals = table(project, "SELECT status FROM proposals")
    assert sorted(p for (p,) in proposals) == ["interrupted"] * 2
    assert git(project, "status", "--porcelain") == ""  # the user repository: untouched
    assert git(project, "log", "--format=%s") == "initial\n"


@pytest.mark.parametrize("kill", ["at_second_proposal", "after_step_row"])
def test_resume_after_kill_redoes_no_accepted_task(
    project: Path, fake_provider: FakeProvider, tmp_path: Path, kill: str
) -> None:
    """Killed while task 2 waits for review, or just after task 1's step was recorded
    (before the run noted the task as done): resuming does not redo task 1."""
    from tests.e2e.scripted_team import GREETER_FILES, greeter_team

    seen: list[tuple[str, str]] = []
    fake_provider.responder = greeter_team(seen)
    session = Session(project, fake_provider, tmp_path)
    server = session.start(crash="after_step_row" if kill == "after_step_row" else None)
    server.handlers["samokoder/ask"] = lambda p: {"answer": "Continue"}
    answer = server.command("samokoder.generate", {"description": "a greeter", "folder": "app"})
    run_id = answer["result"]["runId"]
    first = server.proposal(run_id)
    if kill == "after_step_row":
        with pytest.raises(ServerGone):
            server.command("samokoder.review.accept", {"proposalId": first["proposalId"]})
    else:
        server.command("samokoder.review.accept", {"proposalId": first["proposalId"]})
        server.wait_for(lambda: len(server.of_method("samokoder/proposal")) == 2)
        server.proc.kill()
    server.kill()

    seen.clear()
    server = session.start()
    try:
        resumed = server.command("samokoder.resume", {"runId": run_id})["result"]
        assert resumed["resumes"] == run_id
        new_run = resumed["runId"]
        titles = []
        for count in (1, 2):  # task 2, then the README
            proposal = server.wait_for(
                lambda n=count: [
                    p for p in server.of_method("samokoder/proposal") if p["runId"] == new_run
                ][n - 1 : n],
                what="a proposal of the resumed run",
            )[0]
            titles.append(proposal["title"])
            server.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
        finished = server.finished(new_run)
        assert finished["status"] == "succeeded", finished
        assert "1 task(s) were accepted before" in finished["summary"]
    finally:
        server.close()
    assert titles[0].startswith("Task 2/2") and titles[1] == "Documentation: README.md"
    written = [json.dumps(m) for role, m in seen if role == "code writer"]
    assert written and not any("File: greeter/core.py" in m for m in written)  # not redone
    for rel, text in GREETER_FILES.items():
        assert (project / "app" / rel).read_text() == text
    assert_whole(project)


class Buffers:
    """The editor side of open documents: applies `workspace/applyEdit`, leaves it unsaved."""

    def __init__(self, client: WireClient) -> None:
        self.client = client
        self.texts: dict[str, tuple[str, int]] = {}
        client.handlers["workspace/applyEdit"] = self.apply

    def open(self, root: Path, rel: str) -> str:
        uri = self.client.open(root, rel)
        self.texts[uri] = ((root / rel).read_text(), 1)
        return uri

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        from samokoder.workspace.textedits import Position, Range, TextEdit, apply_edits

        edit = params["edit"]
        changes = {c["textDocument"]["uri"]: c["edits"] for c in edit.get("documentChanges", [])}
        changes.update(edit.get("changes") or {})
        for uri, edits in changes.items():
            text, version = self.texts[uri]
            ours = [
                TextEdit(
                    Range(
                        Position(e["range"]["start"]["line"], e["range"]["start"]["character"]),
                        Position(e["range"]["end"]["line"], e["range"]["end"]["character"]),
                    ),
                    e["newText"],
                )
                for e in edits
            ]
            text = apply_edits(text, ours)
            self.texts[uri] = (text, version + 1)
            self.client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version + 1},
                    "contentChanges": [{"text": text}],
                },
            )
        return {"applied": True}


def test_killed_after_the_editor_applied_an_accept(
    project: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    """The editor changed its (unsaved) buffer, then the server died before the commit:
    the disk never changed, so the step is reported as not applied; the buffer keeps it."""
    session = Session(project, fake_provider, tmp_path)
    server = session.start(crash="after_apply_before_commit")
    buffers = Buffers(server)
    uri = buffers.open(project, "app.py")
    fake_provider.script(Reply(text=f"```python\n{NEW}```"))
    proposal = server.proposal(session.edit(server))
    with pytest.raises(ServerGone):
        server.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    server.kill()
    assert buffers.texts[uri][0] == EDITED  # in the editor, unsaved: nothing lost
    assert (project / "app.py").read_text() == ORIGINAL

    server = session.start()
    try:
        assert server.command("samokoder.history", {})["result"]["steps"] == []
        warning = server.wait_for(lambda: warnings(server), what="a warning")
        assert "not applied" in warning and "undo" in warning
    finally:
        server.close()
    assert_whole(project)
