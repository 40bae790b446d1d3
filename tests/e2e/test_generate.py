"""generate and implement end to end with a scripted agent team."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import Editor, start_editor, stop_editor
from tests.e2e.scripted_team import GREETER_FILES, greeter_team
from tests.fakes.fake_provider import FakeProvider


async def accept_next(editor: Editor, run_id: str, count: int) -> dict[str, object]:
    proposal = await editor.wait_until(
        lambda: [p for p in editor.proposals if p["runId"] == run_id][count:]
    )
    return proposal[0]  # type: ignore[no-any-return]


async def test_generate_app_in_two_tasks_then_undo_twice(editor: Editor) -> None:
    editor.provider.responder = greeter_team()
    run = await editor.command(
        "samokoder.generate", {"description": "a command line greeter", "folder": "app"}
    )
    run_id = run["runId"]
    app = editor.root / "app"

    first = await accept_next(editor, run_id, 0)
    assert first["title"] == "Task 1/2: Core module"
    assert {f["path"] for f in first["files"]} == {
        "app/greeter/__init__.py",
        "app/greeter/core.py",
        "app/tests/test_core.py",
    }
    assert not app.exists()  # nothing is written before the user accepts
    await editor.command("samokoder.review.accept", {"proposalId": first["proposalId"]})
    second = await accept_next(editor, run_id, 1)
    assert second["title"] == "Task 2/2: Command line entry point"
    await editor.command("samokoder.review.accept", {"proposalId": second["proposalId"]})
    readme = await accept_next(editor, run_id, 2)
    assert readme["title"] == "Documentation: README.md"
    await editor.command("samokoder.review.reject", {"proposalId": readme["proposalId"]})

    finished = await editor.finished_run(run_id)
    assert finished["status"] == "succeeded", finished
    assert len(finished["steps"]) == 2
    for path, content in GREETER_FILES.items():
        assert (app / path).read_text() == content
    assert not (app / "README.md").exists()
    assert editor.shadow_log() == [
        "developer: Task 2/2: Command line entry point",
        "developer: Task 1/2: Core module",
    ]

    await editor.command("samokoder.undo", {})
    assert not (app / "greeter/__main__.py").exists()
    assert (app / "greeter/core.py").exists()
    await editor.command("samokoder.undo", {})
    assert not app.exists() or not any(app.rglob("*"))


async def test_generate_bad_input(editor: Editor) -> None:
    for args, expected in [
        ({"description": "   "}, "'description' is required"),
        ({}, "'description' is required"),
        ({"description": "x", "folder": "../elsewhere"}, "refused path"),
        ({"description": "x", "folder": ".git"}, ".git"),
        ({"description": "x", "folder": "app.py"}, "is a file"),
    ]:
        with pytest.raises(JsonRpcException, match=expected):
            await editor.command("samokoder.generate", args)
    assert editor.provider.requests == []


async def test_generate_into_non_empty_folder_asks_first(editor: Editor) -> None:
    editor.provider.responder = greeter_team()
    editor.answers.append("Cancel")
    # the workspace root named by its URI is the same as no folder at all
    run = await editor.command(
        "samokoder.generate", {"description": "a greeter", "folder": editor.root.as_uri()}
    )
    finished = await editor.finished_run(run["runId"])
    assert finished["status"] == "cancelled"
    assert "not empty" in finished["summary"]
    assert editor.asks and "already has" in editor.asks[0]["question"]
    assert editor.provider.requests == []


def implement_team(seen: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """One task changing app.py with a search/replace block."""
    import json

    from tests.fakes.fake_provider import Reply

    def respond(body: dict[str, object]) -> Reply:
        messages = body["messages"]  # type: ignore[index]
        system, user = messages[0]["content"], messages[-1]["content"]  # type: ignore[index]
        seen.append((system, user))
        if "You are the tech lead" in system:
            task = {
                "title": "Greet politely",
                "description": "greet() says hello instead of hi",
                "acceptance_criteria": ["greet('x') == 'hello x'"],
                "files": ["app.py"],
            }
            return Reply(text=json.dumps({"tasks": [task]}))
        if "You are the developer" in system:
            step = {"path": "app.py", "action": "modify", "instructions": "say hello"}
            return Reply(text=json.dumps({"files": [step]}))
        if "You are the code writer" in system:
            word = "hello" if "rejected" not in " ".join(u for _, u in seen) else "good day"
            block = (
                "app.py\n```python\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n"
                f"    return '{word} ' + name\n>>>>>>> REPLACE\n```"
            )
            return Reply(text=block)
        if "You are the reviewer" in system:
            return Reply(text=json.dumps({"approved": True}))
        raise AssertionError(system)

    return respond


async def test_implement_with_search_replace_and_feedback(editor: Editor) -> None:
    seen: list[tuple[str, str]] = []
    editor.provider.responder = implement_team(seen)
    run = await editor.command(
        "samokoder.implement", {"description": "greet politely", "files": ["app.py"]}
    )
    run_id = run["runId"]
    first = await accept_next(editor, run_id, 0)
    assert first["files"] == [{"path": "app.py", "kind": "modify", "additions": 1, "deletions": 1}]
    view = await editor.client.protocol.send_request_async(
        "samokoder/proposalFile", {"proposalId": first["proposalId"], "path": "app.py"}
    )
    assert "return 'hello ' + name" in view.proposed
    await editor.command(
        "samokoder.review.reject",
        {"proposalId": first["proposalId"], "feedback": "rather say good day"},
    )
    second = await accept_next(editor, run_id, 1)
    developer_prompts = [u for s, u in seen if "You are the developer" in s]
    assert "rather say good day" in developer_prompts[-1]
    await editor.command("samokoder.review.accept", {"proposalId": second["proposalId"]})
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "succeeded"
    assert "return 'good day ' + name" in (editor.root / "app.py").read_text()
    assert "import os" in (editor.root / "app.py").read_text()  # the rest is untouched


async def test_a_first_scan_of_many_files_reports_how_far_it_got(editor: Editor) -> None:
    """A large tree's first scan takes seconds: the run's progress says how far it got."""
    for i in range(5_100):  # read by parse workers, past the 5,000 files worth a report
        folder = editor.root / "data" / f"part_{i % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note_{i}.txt").write_text(f"note {i}\n")
    editor.provider.responder = implement_team([])
    run = await editor.command(
        "samokoder.implement", {"description": "greet politely", "files": ["app.py"]}
    )
    first = await accept_next(editor, run["runId"], 0)
    await editor.command("samokoder.review.accept", {"proposalId": first["proposalId"]})
    finished = await editor.finished_run(run["runId"])

    assert finished["status"] == "succeeded", finished
    said = editor.progress_messages()
    read = [m for m in said if m.startswith("Reading the project: ")]
    files = [p for p in editor.root.rglob("*") if p.is_file() and ".git" not in p.parts]
    total = len([p for p in files if ".samokoder" not in p.parts])  # the notes and app.py
    assert total > 5_100
    assert read == [
        f"Reading the project: 0 of {total:,} files",
        f"Reading the project: 5,000 of {total:,} files",
    ], read


async def test_resume_after_server_crash_skips_accepted_work(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []
    fake_provider.responder = greeter_team(seen)
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode")
    try:
        run = await ed.command("samokoder.generate", {"description": "greeter", "folder": "app"})
        first = await accept_next(ed, run["runId"], 0)
        await ed.command("samokoder.review.accept", {"proposalId": first["proposalId"]})
        await accept_next(ed, run["runId"], 1)  # task 2 waits for review: now the crash
        server = ed.client._server
        assert server is not None
        server.kill()
        await server.wait()
    finally:
        await ed.client.stop()
    assert (workspace / "app/greeter/core.py").exists()
    assert not (workspace / "app/greeter/__main__.py").exists()

    seen.clear()
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode")
    try:
        with pytest.raises(JsonRpcException, match="No run"):
            await ed.command("samokoder.resume", {"runId": "r-missing"})
        resumed = await ed.command("samokoder.resume", {"runId": run["runId"]})
        assert resumed["resumes"] == run["runId"]
        task2 = await accept_next(ed, resumed["runId"], 0)
        assert task2["title"] == "Task 2/2: Command line entry point"
        await ed.command("samokoder.review.accept", {"proposalId": task2["proposalId"]})
        readme = await accept_next(ed, resumed["runId"], 1)
        await ed.command("samokoder.review.accept", {"proposalId": readme["proposalId"]})
        finished = await ed.finished_run(resumed["runId"])
        assert finished["status"] == "succeeded"
        assert "resumed; 1 task(s) were accepted before" in finished["summary"]
        roles = {role for role, _ in seen}
        assert roles.isdisjoint(
            {"spec writer", "architect", "architect and tech lead", "tech lead"}
        ), roles
        assert (workspace / "app/greeter/__main__.py").exists()
        assert len(ed.shadow_log()) == 3
        with pytest.raises(JsonRpcException, match="nothing to resume"):
            await ed.command("samokoder.resume", {"runId": resumed["runId"]})
    finally:
        await stop_editor(ed)
