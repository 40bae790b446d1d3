"""Prompt caching end to end (issue 13): the cached tokens a provider reports reach the
ledger and `samokoder.usage` as cached tokens and money saved, and a run's requests
share their stable context as a prefix."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.harness import start_editor, stop_editor
from tests.e2e.scripted_team import greeter_team
from tests.fakes.fake_provider import FakeProvider, Reply

NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"
RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 27}}
PRICED = "openai/gpt-4.1-mini"  # litellm has a cached-input price for it

pytestmark = pytest.mark.e2e


async def test_cached_tokens_the_provider_reports_show_as_money_saved(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    options = {"cache": False, "model": PRICED}
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim", options=options)
    try:
        fake_provider.script(Reply(text=NEW, prompt_tokens=4000, cached_tokens=3000))
        args = {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "use an f-string"}
        run_id = str((await ed.command("samokoder.editSelection", args))["runId"])
        await ed.proposal_for(run_id)
        await ed.command("samokoder.cancel", {"runId": run_id})
        usage = await ed.command("samokoder.usage", {"runId": run_id})
    finally:
        await stop_editor(ed)

    total = usage["total"]
    assert total["promptTokens"] == 4000 and total["cachedTokens"] == 3000
    # gpt-4.1-mini: input $0.40, cached input $0.10 a million tokens
    assert total["savedUsd"] == pytest.approx(3000 * (0.4e-6 - 0.1e-6))
    uncached = 4000 * 0.4e-6 + total["completionTokens"] * 1.6e-6
    assert total["costUsd"] == pytest.approx(uncached - total["savedUsd"])
    with sqlite3.connect(workspace / ".samokoder" / "state.db") as db:
        rows = db.execute(
            "SELECT cached_tokens, cache_write_tokens FROM llm_requests WHERE run_id = ?",
            (run_id,),
        ).fetchall()
    assert rows == [(3000, 0)]


async def test_a_generate_run_sends_its_design_as_one_shared_prefix(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.responder = greeter_team()
    options = {"review": "off", "cache": False}
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode", options=options)
    try:
        run = await ed.command("samokoder.generate", {"description": "greeter", "folder": "app"})
        finished = await ed.finished_run(run["runId"])
    finally:
        await stop_editor(ed)

    assert finished["status"] == "succeeded", finished
    systems = [str(r.body["messages"][0]["content"]) for r in fake_provider.requests]
    developer = next(s for s in systems if "You are the developer." in s)
    shared = developer[: developer.index("You are the developer.")]
    assert "Stack: Python 3 standard library" in shared
    # every call after the design starts with the same bytes, whatever its role
    after = [s for s in systems if s.startswith(shared)]
    roles = {s[len(shared) :].split(".")[0] for s in after}
    assert roles == {  # the tech lead plans in the architect's call (one call fewer)
        "You are the developer",
        "You are the code writer",
        "You are the technical writer",
    }
