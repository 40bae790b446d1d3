"""The server's log (an editor's output channel) keeps tracebacks for real failures only."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider


async def test_a_refusal_answered_on_purpose_leaves_no_traceback(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    log_file = tmp_path / "server.log"
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode", log_file=log_file)
    try:
        with pytest.raises(JsonRpcException, match="Nothing to undo"):
            await ed.command("samokoder.undo", {})
        with pytest.raises(JsonRpcException, match="refused path"):
            await ed.command("samokoder.generate", {"description": "x", "folder": "../out"})
    finally:
        await stop_editor(ed)

    log = log_file.read_text()
    assert "Traceback" not in log, log
    assert "Failed to handle request" not in log
