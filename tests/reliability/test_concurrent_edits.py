"""Concurrent edits: nothing the user typed or another program wrote is lost, and every
accept reports what really happened to the file (see concurrent_cases.py)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider
from tests.reliability.concurrent_cases import Cases


async def test_concurrent_edits_lose_nothing(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode", options={"cache": False})
    results = []
    try:
        cases = Cases(ed)
        for case in cases.all():
            results.append(await case())
    finally:
        await stop_editor(ed)
    report = {r.name: (r.lost, r.mismatches) for r in results if r.lost or r.mismatches}
    assert report == {}
    assert sum(r.keystrokes for r in results) >= 100
