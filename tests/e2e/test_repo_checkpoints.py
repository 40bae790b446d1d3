"""`checkpoints: "repo"`: steps land on the user's branch; what they staged stays staged."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import git, start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider, Reply

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"


async def test_repo_mode_commits_on_branch_keeping_staged_changes(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    (workspace / "notes.md").write_text("mine\n")
    git(workspace, "add", "notes.md")
    head_before = git(workspace, "rev-parse", "HEAD").strip()
    ed = await start_editor(
        workspace, fake_provider, tmp_path, "vscode", options={"checkpoints": "repo"}
    )
    try:
        fake_provider.script(Reply(text=NEW))
        result = await ed.command(
            "samokoder.editSelection",
            {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "f-string"},
        )
        proposal = await ed.proposal_for(result["runId"])
        await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
        await ed.finished_run(result["runId"])

        log = git(workspace, "log", "--format=%s", "-2").splitlines()
        assert log == ["code_monkey: Edit app.py: f-string", "initial"]
        assert git(workspace, "rev-parse", "HEAD~1").strip() == head_before
        assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == ["app.py"]
        assert git(workspace, "diff", "--cached", "--name-only").split() == ["notes.md"]
        assert git(workspace, "status", "--porcelain").splitlines() == ["A  notes.md"]

        await ed.command("samokoder.undo", {})
        assert "return 'hi ' + name" in (workspace / "app.py").read_text()
        subjects = git(workspace, "log", "--format=%s", "-3").splitlines()
        assert subjects[0].startswith("undo: ")
        assert git(workspace, "diff", "--cached", "--name-only").split() == ["notes.md"]
    finally:
        await stop_editor(ed)
