"""The edit-selection slice end to end: code action, run, proposal, accept, undo, redo."""

from __future__ import annotations

import ast

import pytest
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import Editor, git
from tests.fakes.fake_provider import Reply

types_converter = get_converter()
SELECTION = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW_FUNCTION = "def greet(name):\n    return f'hello {name}'\n"
EDITED = "import os\n\n\ndef greet(name):\n    return f'hello {name}'\n\n\nprint(greet('x'))\n"


async def start_edit(editor: Editor, instruction: str = "use an f-string") -> str:
    uri = editor.uri("app.py")
    result = await editor.command(
        "samokoder.editSelection", {"uri": uri, "range": SELECTION, "instruction": instruction}
    )
    return str(result["runId"])


async def test_code_action_offered_on_selection(editor: Editor) -> None:
    uri = editor.open("app.py")
    actions = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(3, 0), types.Position(5, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions
    plain = [_plain_action(a) for a in actions]
    edit = next(a for a in plain if a["title"] == "Edit selection…")
    command = edit["command"]
    assert command["command"] == "samokoder.editSelection"
    assert command["arguments"][0]["uri"] == uri
    assert command["arguments"][0]["range"] == SELECTION
    assert "instruction" not in command["arguments"][0]


def _plain_action(action: object) -> dict[str, object]:
    """The test client's converter mistakes a CodeAction for a Command and stores the
    action's command, stringified, in `command`; read it back either way."""
    if isinstance(action, types.Command) and action.command.startswith("{"):
        return {"title": action.title, "command": ast.literal_eval(action.command)}
    return types_converter.unstructure(action)  # type: ignore[no-any-return]


async def test_accept_commit_undo_redo(editor: Editor) -> None:
    editor.provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    original = (editor.root / "app.py").read_text()
    user_head = git(editor.root, "rev-parse", "HEAD")
    run_id = await start_edit(editor)

    proposal = await editor.proposal_for(run_id)
    assert proposal["files"] == [
        {"path": "app.py", "kind": "modify", "additions": 1, "deletions": 1}
    ]
    assert (editor.root / "app.py").read_text() == original  # nothing before accept
    view = await editor.client.protocol.send_request_async(
        "samokoder/proposalFile", {"proposalId": proposal["proposalId"], "path": "app.py"}
    )
    assert view.original == original and view.proposed == EDITED
    assert "+    return f'hello {name}'" in view.diff

    accepted = await editor.command(
        "samokoder.review.accept", {"proposalId": proposal["proposalId"]}
    )
    assert accepted["applied"] == ["app.py"]
    assert (editor.root / "app.py").read_text() == EDITED
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "succeeded"
    assert finished["steps"] == [accepted["stepId"]]
    assert finished["usage"]["requests"] == 1
    assert editor.shadow_log() == ["code_monkey: Edit app.py: use an f-string"]
    # the user's repository is untouched: same HEAD, the step is an ordinary change
    assert git(editor.root, "rev-parse", "HEAD") == user_head
    assert git(editor.root, "status", "--porcelain") == " M app.py\n"

    undone = await editor.command("samokoder.undo", {})
    assert undone["files"] == ["app.py"]
    assert (editor.root / "app.py").read_text() == original
    redone = await editor.command("samokoder.redo", {})
    assert redone["files"] == ["app.py"]
    assert (editor.root / "app.py").read_text() == EDITED
    assert len(editor.shadow_log()) == 3
    history = await editor.command("samokoder.history", {"limit": 10})
    assert [s["kind"] for s in history["steps"]] == ["redo", "undo", "apply"]


async def test_reject_leaves_everything_untouched(editor: Editor) -> None:
    editor.provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    original = (editor.root / "app.py").read_text()
    run_id = await start_edit(editor)
    proposal = await editor.proposal_for(run_id)
    assert (
        await editor.command("samokoder.review.reject", {"proposalId": proposal["proposalId"]})
        == {}
    )
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "rejected"
    assert (editor.root / "app.py").read_text() == original
    assert editor.shadow_log() == []
    with pytest.raises(JsonRpcException, match="Nothing to undo"):
        await editor.command("samokoder.undo", {})


async def test_reject_with_feedback_retries_with_it(editor: Editor) -> None:
    editor.provider.script(
        Reply(text="```python\ndef greet(name):\n    return 'yo ' + name\n```"),
        Reply(text=f"```python\n{NEW_FUNCTION}```"),
    )
    run_id = await start_edit(editor)
    first = await editor.proposal_for(run_id)
    await editor.command(
        "samokoder.review.reject",
        {"proposalId": first["proposalId"], "feedback": "use an f-string, say hello"},
    )
    second = await editor.wait_until(
        lambda: [p for p in editor.proposals if p["runId"] == run_id][1:]
    )
    last_request = editor.provider.requests[-1].body["messages"]
    assert "use an f-string, say hello" in last_request[-1]["content"]
    await editor.command("samokoder.review.accept", {"proposalId": second[0]["proposalId"]})
    assert (await editor.finished_run(run_id))["status"] == "succeeded"
    assert (editor.root / "app.py").read_text() == EDITED


async def test_typing_during_run_is_kept(editor: Editor) -> None:
    editor.open("app.py")
    editor.provider.script(
        Reply(text=f"```python\n{NEW_FUNCTION}```", first_token_delay=0.5, chunk_delay=0.05)
    )
    run_id = await start_edit(editor)
    await editor.wait_until(lambda: editor.provider.requests)
    editor.type("app.py", 7, 0, "# typed while the model was writing\n")
    proposal = await editor.proposal_for(run_id)
    await editor.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    text = editor.text("app.py")
    assert "# typed while the model was writing\n" in text
    assert "return f'hello {name}'" in text
    assert (await editor.finished_run(run_id))["status"] == "succeeded"


async def test_undo_refuses_after_user_edit(editor: Editor) -> None:
    editor.provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```"))
    run_id = await start_edit(editor)
    proposal = await editor.proposal_for(run_id)
    await editor.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    (editor.root / "app.py").write_text(EDITED + "# mine\n")
    with pytest.raises(JsonRpcException, match="app.py") as info:
        await editor.command("samokoder.undo", {})
    assert "changed since" in str(info.value)
    assert (editor.root / "app.py").read_text() == EDITED + "# mine\n"


async def test_typing_inside_the_selection_refuses_accept(editor: Editor) -> None:
    editor.open("app.py")
    editor.provider.script(Reply(text=f"```python\n{NEW_FUNCTION}```", first_token_delay=0.3))
    run_id = await start_edit(editor)
    await editor.wait_until(lambda: editor.provider.requests)
    editor.type("app.py", 4, 4, "# mine ")
    typed = editor.text("app.py")
    proposal = await editor.proposal_for(run_id)
    with pytest.raises(JsonRpcException, match="app.py changed where the proposal edits it"):
        await editor.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    assert editor.text("app.py") == typed
    assert editor.applied_edits == []
    assert editor.shadow_log() == []
    assert (await editor.finished_run(run_id))["status"] == "rejected"
