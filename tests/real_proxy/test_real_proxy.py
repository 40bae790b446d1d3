"""Samokoder through a real LiteLLM proxy (model ``litellm_proxy/<name>``, apiBase the proxy).

The proxy sits in front of the fake provider, so what the fake scripts is what the
proxy relays; what is checked is how the proxy's own behaviour reaches the user: its
key check, its rate limit with ``retry-after``, the cost it reports (``usage.cost``).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Editor, start_editor, stop_editor
from tests.fakes.fake_provider import Reply
from tests.real_proxy.conftest import (
    LIMITED_MODEL,
    MASTER_KEY,
    MODEL,
    RATE_WINDOW,
    UPSTREAM_KEY,
    RealProxy,
)

pytestmark = [pytest.mark.real_proxy, pytest.mark.e2e]

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"
EDITED = "import os\n\n\ndef greet(name):\n    return f'hello {name}'\n\n\nprint(greet('x'))\n"
WRONG_KEY = "sk-not-the-master-key-3f9d2c81e7a4"


async def open_editor(
    workspace: Path,
    proxy: RealProxy,
    tmp_path: Path,
    kind: str,
    *,
    model: str = MODEL,
    key: str = MASTER_KEY,
    key_in_settings: bool = False,
    options: dict[str, Any] | None = None,
) -> Editor:
    """The real server pointed at the proxy, the key in LITELLM_PROXY_API_KEY or apiKeys."""
    env = {
        "SAMOKODER_MODEL": f"litellm_proxy/{model}",
        "SAMOKODER_API_BASE": proxy.url,
        "OPENAI_API_KEY": "",  # the harness's default key: not needed through a proxy
        "LITELLM_PROXY_API_KEY": "" if key_in_settings else key,
    }
    settings = dict(options or {})
    if key_in_settings:
        settings["apiKeys"] = {"litellm_proxy": key}
    return await start_editor(
        workspace,
        proxy.fake,
        tmp_path,
        kind,
        options=settings,
        env=env,
        log_file=tmp_path / "server.log",
    )


async def edit(ed: Editor, instruction: str = "use an f-string") -> str:
    args = {"uri": ed.uri("app.py"), "range": RANGE, "instruction": instruction}
    return str((await ed.command("samokoder.editSelection", args))["runId"])


def ledger(root: Path, run_id: str) -> list[tuple[Any, ...]]:
    """(model, retries, error_class, cost_usd) of a run's requests, oldest first."""
    with sqlite3.connect(root / ".samokoder" / "state.db") as db:
        return db.execute(
            "SELECT model, retries, error_class, cost_usd FROM llm_requests "
            "WHERE run_id = ? ORDER BY id",
            (run_id,),
        ).fetchall()


async def test_edit_selection_through_the_proxy_is_applied(
    workspace: Path, proxy: RealProxy, tmp_path: Path
) -> None:
    proxy.script.add(Reply(text=NEW))
    ed = await open_editor(workspace, proxy, tmp_path, "vscode", key_in_settings=True)
    try:
        run_id = await edit(ed)
        proposal = await ed.proposal_for(run_id)
        accepted = await ed.command(
            "samokoder.review.accept", {"proposalId": proposal["proposalId"]}
        )
        finished = await ed.finished_run(run_id)
    finally:
        await stop_editor(ed)

    assert accepted["applied"] == ["app.py"]
    assert (workspace / "app.py").read_text() == EDITED
    assert finished["status"] == "succeeded"
    # the proxy, not Samokoder, spoke to the provider: its own model name and key
    [request] = proxy.requests
    assert request.body["model"] == "fake-model"
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert "use an f-string" in json.dumps(request.body["messages"])
    assert [row[:3] for row in ledger(workspace, run_id)] == [(f"litellm_proxy/{MODEL}", 0, None)]


async def test_a_key_the_proxy_refuses_fails_the_run_naming_the_setting_never_the_key(
    workspace: Path, proxy: RealProxy, tmp_path: Path
) -> None:
    ed = await open_editor(workspace, proxy, tmp_path, "neovim", key=WRONG_KEY)
    try:
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
        usage = await ed.command("samokoder.usage", {"runId": run_id})
    finally:
        await stop_editor(ed)

    assert finished["status"] == "failed"
    error = finished["error"]
    assert "LITELLM_PROXY_API_KEY" in error or "apiKeys" in error
    assert "key" in error.lower()
    assert proxy.requests == []  # the proxy refused before asking the provider
    # an authentication failure: recorded as such, and not retried
    assert ledger(workspace, run_id) == [(f"litellm_proxy/{MODEL}", 0, "auth", 0.0)]
    assert usage["total"]["requests"] == 1
    # the key is nowhere: not in what the editor got, the log, or the store
    assert WRONG_KEY not in json.dumps(finished)
    log = (tmp_path / "server.log").read_text()
    assert "POST" in log  # the DEBUG log was written and covers the call
    assert WRONG_KEY not in log
    for stored in (workspace / ".samokoder").rglob("state.db*"):
        assert WRONG_KEY.encode() not in stored.read_bytes(), stored.name


async def test_the_proxys_rate_limit_is_waited_out_as_it_asks(
    workspace: Path, proxy: RealProxy, tmp_path: Path
) -> None:
    proxy.script.add(Reply(text=NEW), Reply(text="ok"), Reply(text=NEW))
    ed = await open_editor(workspace, proxy, tmp_path, "vscode", model=LIMITED_MODEL)
    model = f"litellm_proxy/{LIMITED_MODEL}"
    try:
        first = await edit(ed, "use an f-string")  # warms the server up (litellm loaded)
        await ed.command(
            "samokoder.review.reject", {"proposalId": (await ed.proposal_for(first))["proposalId"]}
        )
        # another client of the team spends the key's one request of this window
        await asyncio.to_thread(proxy.use_up_rate_limit, LIMITED_MODEL)
        started = time.monotonic()
        second = await edit(ed, "use an f-string, please")  # within the window: 429
        proposal = await ed.proposal_for(second)
        waited = time.monotonic() - started
        await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
        finished = await ed.finished_run(second)
    finally:
        await stop_editor(ed)

    assert finished["status"] == "succeeded"
    assert (workspace / "app.py").read_text() == EDITED
    assert [row[:3] for row in ledger(workspace, second)] == [
        (model, 0, "rate_limit"),
        (model, 1, None),
    ]
    assert len(proxy.requests) == 3  # the 429 came from the proxy, not the provider
    log = (tmp_path / "server.log").read_text()
    # the retry waited what the proxy asked (its retry-after), not a short backoff
    assert f"retrying {model} in {RATE_WINDOW:.2f} s after rate_limit" in log
    assert waited >= RATE_WINDOW
    assert proxy.script.times[2] - proxy.script.times[1] >= RATE_WINDOW - 0.5


async def test_the_cost_the_proxy_reports_reaches_the_usage_ledger(
    workspace: Path, proxy: RealProxy, tmp_path: Path
) -> None:
    proxy.script.add(Reply(text=NEW, prompt_tokens=1200, completion_tokens=80))
    charged = proxy.charge(1200, 80)
    ed = await open_editor(workspace, proxy, tmp_path, "neovim")
    try:
        run_id = await edit(ed)
        proposal = await ed.proposal_for(run_id)
        await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
        finished = await ed.finished_run(run_id)
        usage = await ed.command("samokoder.usage", {"runId": run_id})
    finally:
        await stop_editor(ed)

    assert charged > 0
    assert ledger(workspace, run_id) == [
        (f"litellm_proxy/{MODEL}", 0, None, pytest.approx(charged))
    ]
    assert usage["total"]["costUsd"] == pytest.approx(charged)
    assert usage["total"]["promptTokens"] == 1200
    assert usage["total"]["completionTokens"] == 80
    assert finished["usage"]["costUsd"] == pytest.approx(charged)


async def test_budget_caps_a_run_through_the_proxy_after_its_first_call(
    workspace: Path, proxy: RealProxy, tmp_path: Path
) -> None:
    proxy.script.add(
        Reply(text=NEW, prompt_tokens=1200, completion_tokens=80),
        Reply(text=NEW, prompt_tokens=1200, completion_tokens=80),
    )
    budget = proxy.charge(1200, 80) / 10  # the first call already spends more
    ed = await open_editor(workspace, proxy, tmp_path, "vscode", options={"budgetUsd": budget})
    try:
        run_id = await edit(ed)
        proposal = await ed.proposal_for(run_id)
        # feedback sends the run back to the model: a second call, over the budget
        await ed.command(
            "samokoder.review.reject",
            {"proposalId": proposal["proposalId"], "feedback": "shorter, please"},
        )
        # either the run ends, or (budget not applied) a second proposal comes
        await ed.wait_until(lambda: ed.finished or len(ed.proposals) > 1)
        second_proposal = len(ed.proposals) > 1
        if second_proposal:
            await ed.command(
                "samokoder.review.reject", {"proposalId": ed.proposals[-1]["proposalId"]}
            )
        finished = await ed.finished_run(run_id)
    finally:
        await stop_editor(ed)

    assert not second_proposal, "the run called the proxy again after spending its budget"
    assert finished["status"] == "budget_exhausted"
    assert "budgetUsd" in finished["summary"]
    assert len(proxy.requests) == 1  # the second call was never made
    assert finished["usage"]["costUsd"] == pytest.approx(proxy.charge(1200, 80))
    assert (workspace / "app.py").read_text() != EDITED
