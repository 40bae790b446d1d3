"""`samokoder.undo {stepId}`: an Undo offered for one step undoes that step or nothing."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import Editor
from tests.e2e.test_edit_selection import EDITED, NEW_FUNCTION, start_edit
from tests.fakes.fake_provider import Reply

SECOND = "def greet(name):\n    return f'hi {name}'\n"


async def accept_edit(editor: Editor, reply: str, instruction: str) -> str:
    editor.provider.script(Reply(text=f"```python\n{reply}```"))
    run_id = await start_edit(editor, instruction)
    proposal = await editor.proposal_for(run_id)
    accepted = await editor.command(
        "samokoder.review.accept", {"proposalId": proposal["proposalId"]}
    )
    await editor.finished_run(run_id)
    return str(accepted["stepId"])


async def test_undo_of_a_given_step_refuses_once_it_is_not_the_last(editor: Editor) -> None:
    original = (editor.root / "app.py").read_text()
    first = await accept_edit(editor, NEW_FUNCTION, "use an f-string")
    assert (editor.root / "app.py").read_text() == EDITED

    undone = await editor.command("samokoder.undo", {"stepId": first})
    assert undone["target"] == first and undone["files"] == ["app.py"]
    assert (editor.root / "app.py").read_text() == original
    # a second button for the same step must not undo anything else
    with pytest.raises(JsonRpcException, match="undone already"):
        await editor.command("samokoder.undo", {"stepId": first})
    assert (editor.root / "app.py").read_text() == original
    with pytest.raises(JsonRpcException, match="No step 'nope'"):
        await editor.command("samokoder.redo", {"stepId": "nope"})

    redone = await editor.command("samokoder.redo", {"stepId": first})
    assert redone["target"] == first
    assert (editor.root / "app.py").read_text() == EDITED

    second = await accept_edit(editor, SECOND, "say hi")
    after_second = (editor.root / "app.py").read_text()
    assert "hi {name}" in after_second
    with pytest.raises(JsonRpcException, match=f"not the last step to undo \\(that is {second}"):
        await editor.command("samokoder.undo", {"stepId": first})
    assert (editor.root / "app.py").read_text() == after_second
    # without a stepId, undo still takes the last step
    assert (await editor.command("samokoder.undo", {}))["target"] == second
