"""After `initialized`, litellm loads in the background, offline, before any command."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.e2e.harness import start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider, Reply

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
READY = "samokoder.llm.runtime: litellm ready: import"


async def test_litellm_is_ready_before_the_first_command_and_asked_nothing(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    log_file = tmp_path / "server.log"
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim", log_file=log_file)
    try:
        deadline = time.monotonic() + 90  # seconds on a loaded 2-core machine
        while READY not in log_file.read_text(errors="replace"):
            assert time.monotonic() < deadline, "litellm never loaded in the background"
            await asyncio.sleep(0.1)
        assert fake_provider.requests == []  # the warm-up is a mock call: nothing sent

        fake_provider.script(Reply(text="```python\ndef greet(name):\n    return name\n```"))
        args = {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "simplify"}
        run_id = str((await ed.command("samokoder.editSelection", args))["runId"])
        await ed.proposal_for(run_id)
        assert len(fake_provider.requests) == 1
    finally:
        await stop_editor(ed)
    assert log_file.read_text(errors="replace").count(READY) == 1  # loaded once
