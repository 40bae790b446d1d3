"""Runs: progress, cancellation, review modes, questions, provider failures."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tests.e2e.harness import API_KEY, Editor, start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider, Reply

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"
SLOW = Reply(text="x = 1\n" * 200, chunks=200, chunk_delay=0.05)


async def edit(ed: Editor, instruction: str | None = "use an f-string") -> str:
    args: dict[str, object] = {"uri": ed.uri("app.py"), "range": RANGE}
    if instruction is not None:
        args["instruction"] = instruction
    return str((await ed.command("samokoder.editSelection", args))["runId"])


async def test_cancel_command_stops_stream(editor: Editor) -> None:
    original = (editor.root / "app.py").read_text()
    editor.provider.script(SLOW)
    run_id = await edit(editor)
    await editor.wait_until(lambda: editor.provider.active_streams == 1)
    assert await editor.command("samokoder.cancel", {"runId": run_id}) == {}
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "cancelled"
    assert await editor.wait_until(lambda: editor.provider.active_streams == 0, 5) is not None
    assert editor.proposals == []
    assert (editor.root / "app.py").read_text() == original


async def test_progress_reported_and_cancel_button(editor: Editor) -> None:
    editor.provider.script(SLOW)
    run_id = await edit(editor)

    def streaming_token() -> object:
        for token, reports in editor.client.progress_reports.items():
            if any(
                isinstance(r, types.WorkDoneProgressReport)
                and "characters received" in (r.message or "")
                for r in reports
            ):
                return token
        return None

    token = await editor.wait_until(streaming_token)
    reports = editor.client.progress_reports[token]
    begin = reports[0]
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert begin.title == "Samokoder: editing app.py" and begin.cancellable
    editor.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "cancelled"
    await editor.wait_until(
        lambda: isinstance(editor.client.progress_reports[token][-1], types.WorkDoneProgressEnd)
    )


async def test_annotated_mode_for_plain_clients(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode", review=False)
    try:
        fake_provider.script(Reply(text=NEW))
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
        assert finished["status"] == "succeeded", finished
        assert ed.proposals == []
        [params] = ed.applied_edits
        annotations = params.edit.change_annotations or {}
        assert [a.needs_confirmation for a in annotations.values()] == [True]
        assert "return f'hello {name}'" in (workspace / "app.py").read_text()
        assert len(finished["steps"]) == 1
        history = await ed.command("samokoder.history", {})
        assert history["steps"][0]["stepId"] == finished["steps"][0]
    finally:
        await stop_editor(ed)


async def test_review_off_applies_at_once(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim", options={"review": "off"})
    try:
        fake_provider.script(Reply(text=NEW))
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
        assert finished["status"] == "succeeded"
        assert ed.proposals == [] and ed.applied_edits == []  # closed file: written by the server
        assert "return f'hello {name}'" in (workspace / "app.py").read_text()
        undone = await ed.command("samokoder.undo", {})
        assert undone["files"] == ["app.py"]
        assert "return 'hi ' + name" in (workspace / "app.py").read_text()
    finally:
        await stop_editor(ed)


async def test_missing_instruction_is_asked(editor: Editor) -> None:
    editor.answers.append("use an f-string")
    editor.provider.script(Reply(text=NEW))
    run_id = await edit(editor, instruction=None)
    proposal = await editor.proposal_for(run_id)
    assert editor.asks[0]["question"].startswith("What should Samokoder do")
    assert editor.asks[0]["freeText"] is True
    assert "use an f-string" in editor.provider.requests[0].body["messages"][-1]["content"]
    await editor.command("samokoder.review.reject", {"proposalId": proposal["proposalId"]})


async def test_dismissed_question_ends_run(editor: Editor) -> None:
    editor.answers.append(None)
    run_id = await edit(editor, instruction=None)
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "cancelled"
    assert "No instruction" in finished["summary"]
    assert editor.provider.requests == []


async def test_provider_refusing_key_fails_run_without_leaking_it(editor: Editor) -> None:
    editor.provider.script(Reply(fault="http_401"))
    run_id = await edit(editor)
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "failed"
    assert "401" in finished["error"] and "key" in finished["error"]
    assert API_KEY not in str(finished)
    assert all(API_KEY not in m.message for m in editor.client.log_messages)
    usage = await editor.command("samokoder.usage", {"runId": run_id})
    assert usage["total"]["requests"] == 1


async def test_second_run_queues_behind_first(editor: Editor) -> None:
    editor.provider.script(Reply(text=NEW), Reply(text=NEW))
    first = await edit(editor)
    second = await edit(editor, "another")
    proposal = await editor.proposal_for(first)
    await editor.wait_until(lambda: len(editor.provider.requests) >= 1)
    assert len(editor.provider.requests) == 1  # the second run waits for the folder
    await editor.command("samokoder.review.reject", {"proposalId": proposal["proposalId"]})
    second_proposal = await editor.proposal_for(second)
    await editor.command("samokoder.review.reject", {"proposalId": second_proposal["proposalId"]})
    assert (await editor.finished_run(second))["status"] == "rejected"


async def test_a_client_that_cannot_apply_edits_gets_a_clear_error(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    before = (workspace / "app.py").read_text()

    def no_apply_edit(caps: types.ClientCapabilities) -> None:
        assert caps.workspace is not None
        caps.workspace.apply_edit = False

    ed = await start_editor(
        workspace, fake_provider, tmp_path, "vscode", review=False, tweak=no_apply_edit
    )
    try:
        fake_provider.script(Reply(text=NEW))
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
    finally:
        await stop_editor(ed)

    assert finished["status"] == "failed"
    assert "workspace.applyEdit" in finished["error"]
    assert ed.applied_edits == []  # never sent a request it cannot answer
    assert (workspace / "app.py").read_text() == before
