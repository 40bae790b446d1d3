"""The LLM layer through the real server: retries, fallbacks, the breaker, the cache, budgets."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.e2e.harness import Editor, start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider, Reply

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"


async def edit(ed: Editor, instruction: str = "use an f-string") -> str:
    args = {"uri": ed.uri("app.py"), "range": RANGE, "instruction": instruction}
    return str((await ed.command("samokoder.editSelection", args))["runId"])


async def reject(ed: Editor, run_id: str) -> None:
    proposal = await ed.proposal_for(run_id)
    await ed.command("samokoder.review.reject", {"proposalId": proposal["proposalId"]})
    assert (await ed.finished_run(run_id))["status"] == "rejected"


def ledger(root: Path, run_id: str) -> list[tuple[Any, ...]]:
    """(model, retries, error_class, cache_hit, cost) of a run's requests, oldest first."""
    with sqlite3.connect(root / ".samokoder" / "state.db") as db:
        return db.execute(
            "SELECT model, retries, error_class, cache_hit, cost_usd FROM llm_requests "
            "WHERE run_id = ? ORDER BY id",
            (run_id,),
        ).fetchall()


async def test_rate_limit_is_retried_after_the_wait_asked_for(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    log_file = tmp_path / "server.log"
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim", log_file=log_file)
    try:
        fake_provider.script(Reply(fault="http_429", retry_after=0.1), Reply(text=NEW))
        run_id = await edit(ed)
        await reject(ed, run_id)
        usage = await ed.command("samokoder.usage", {"runId": run_id})
    finally:
        await stop_editor(ed)

    assert len(fake_provider.requests) == 2
    assert ledger(workspace, run_id) == [
        ("openai/fake-model", 0, "rate_limit", 0, 0.0),
        ("openai/fake-model", 1, None, 0, 0.0),
    ]
    assert usage["total"]["requests"] == 2
    assert "retrying openai/fake-model in 0.10 s after rate_limit" in log_file.read_text()


async def test_fallback_answers_and_the_breaker_then_skips_the_failing_model(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    log_file = tmp_path / "server.log"
    ed = await start_editor(
        workspace,
        fake_provider,
        tmp_path,
        "vscode",
        options={"fallbackModels": ["openai/fake-coder"]},
        log_file=log_file,
    )
    try:
        # run 1: three 500s (first try and two retries), then the fallback answers;
        # runs 2, 3: a 429 asking for a minute is not waited for: straight to the fallback
        fake_provider.script_for(
            "fake-model",
            *[Reply(fault="http_500")] * 3,
            *[Reply(fault="http_429", retry_after=60)] * 2,
        )
        fake_provider.script_for("fake-coder", *[Reply(text=NEW)] * 4)
        runs = []
        for n in range(4):  # after three failed turns main's circuit is open: run 4 skips it
            runs.append(await edit(ed, f"instruction {n}"))
            await reject(ed, runs[-1])
        usage = await ed.command("samokoder.usage", {})
    finally:
        await stop_editor(ed)

    assert len(fake_provider.requests_for("fake-model")) == 5
    assert len(fake_provider.requests_for("fake-coder")) == 4
    assert [row[:3] for row in ledger(workspace, runs[0])] == [
        ("openai/fake-model", 0, "server_error"),
        ("openai/fake-model", 1, "server_error"),
        ("openai/fake-model", 2, "server_error"),
        ("openai/fake-coder", 3, None),
    ]
    assert [row[:3] for row in ledger(workspace, runs[1])] == [
        ("openai/fake-model", 0, "rate_limit"),
        ("openai/fake-coder", 1, None),
    ]
    assert ledger(workspace, runs[3]) == [("openai/fake-coder", 0, None, 0, 0.0)]
    by_model = {group["model"]: group["requests"] for group in usage["byModel"]}
    assert by_model == {"openai/fake-model": 5, "openai/fake-coder": 4}
    log = log_file.read_text()
    assert "opened after 3 failures in a row" in log
    assert "skipping openai/fake-model: its circuit is open" in log


async def test_an_identical_run_is_answered_from_the_cache(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim")
    try:
        fake_provider.script(Reply(text=NEW))
        first = await edit(ed)
        await reject(ed, first)
        second = await edit(ed)
        proposal = await ed.proposal_for(second)
        assert proposal["files"][0]["path"] == "app.py"
        await reject(ed, second)
    finally:
        await stop_editor(ed)

    assert len(fake_provider.requests) == 1  # the second run asked no provider
    assert ledger(workspace, second) == [("openai/fake-model", 0, None, 1, 0.0)]
    assert (tmp_path / "cache" / "samokoder" / "responses.db").is_file()


async def test_budget_exhausted_ends_the_run_with_its_own_status(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(
        workspace,
        fake_provider,
        tmp_path,
        "vscode",
        options={"model": "openai/gpt-4o-mini", "budgetUsd": 0.0001},
    )
    try:
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
    finally:
        await stop_editor(ed)

    assert finished["status"] == "budget_exhausted"
    assert "budgetUsd" in finished["summary"]
    assert "openai/gpt-4o-mini" in finished["error"]
    assert fake_provider.requests == []
    assert ed.proposals == []
