"""How the server treats what real models and servers send, through the real server:
replies cut off at the output limit, calls that outlive requestTimeout, a missing key,
servers that refuse a structured-output mode, usage they do not report, cost a proxy
reports. A broken answer is never proposed or written, and the run says why."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.e2e.harness import Editor, start_editor, stop_editor
from tests.e2e.scripted_team import greeter_team
from tests.fakes.fake_provider import FakeProvider, Reply

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "```python\ndef greet(name):\n    return f'hello {name}'\n```"


async def edit(ed: Editor) -> str:
    args = {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "use an f-string"}
    return str((await ed.command("samokoder.editSelection", args))["runId"])


def ledger(root: Path, run_id: str) -> list[tuple[Any, ...]]:
    """(error_class, completion_tokens, tokens_estimated) of a run's requests, oldest first."""
    with sqlite3.connect(root / ".samokoder" / "state.db") as db:
        return db.execute(
            "SELECT error_class, completion_tokens, tokens_estimated FROM llm_requests "
            "WHERE run_id = ? ORDER BY id",
            (run_id,),
        ).fetchall()


async def test_a_selection_reply_cut_off_at_max_tokens_is_not_proposed(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    before = (workspace / "app.py").read_text()
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim", options={"maxTokens": 12})
    try:
        fake_provider.script(
            Reply(
                text="```python\ndef greet(name):\n    return f'hel",
                finish_reason="length",
                completion_tokens=12,
            )
        )
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
    finally:
        await stop_editor(ed)

    assert finished["status"] == "failed"
    assert "maxTokens" in finished["error"] and "12 tokens" in finished["error"]
    assert finished["errorKind"] == "truncated"
    assert ed.proposals == []
    assert (workspace / "app.py").read_text() == before
    assert len(fake_provider.requests) == 1  # the same request would stop the same way
    assert ledger(workspace, run_id) == [("truncated", 12, 0)]  # paid for, and recorded


async def test_a_generated_file_cut_off_stops_the_run_before_any_proposal(editor: Editor) -> None:
    team = greeter_team()

    def respond(body: dict[str, Any]) -> Reply:
        reply = team(body)
        if "File: greeter/core.py" in json.dumps(body["messages"]):
            return Reply(text=reply.text[: len(reply.text) // 2], finish_reason="length")
        return reply

    editor.provider.responder = respond
    run = await editor.command("samokoder.generate", {"description": "a greeter", "folder": "app"})
    finished = await editor.finished_run(run["runId"])

    assert finished["status"] == "failed"
    assert "before it was complete" in finished["error"]
    assert editor.proposals == []
    assert not (editor.root / "app").exists()


async def test_request_timeout_bounds_a_reply_that_keeps_streaming(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(
        workspace, fake_provider, tmp_path, "vscode", options={"requestTimeout": 1}
    )
    try:
        # 60 chunks 0.1 s apart: 6 s of streaming, each chunk well within the timeout
        arrived: list[float] = []

        def respond(_body: dict[str, Any]) -> Reply:
            arrived.append(time.monotonic())
            return Reply(text=NEW * 20, chunks=60, chunk_delay=0.1)

        fake_provider.responder = respond
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
        ended = time.monotonic()
    finally:
        await stop_editor(ed)

    assert finished["status"] == "failed"
    assert "requestTimeout" in finished["error"]
    assert finished["errorKind"] == "deadline"
    assert ed.proposals == []
    assert len(arrived) == 1  # not retried: it would run as long again
    assert ended - arrived[0] < 5, "the stream went on past requestTimeout"
    assert fake_provider.active_streams == 0


async def test_no_key_is_a_setup_error_without_retries(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(
        workspace, fake_provider, tmp_path, "neovim", env={"OPENAI_API_KEY": ""}
    )
    try:
        run_id = await edit(ed)
        finished = await ed.finished_run(run_id)
    finally:
        await stop_editor(ed)

    assert finished["status"] == "failed"
    assert "OPENAI_API_KEY" in finished["error"]
    assert finished["errorKind"] == "missing_config"
    assert "try again later" not in finished["error"]
    assert fake_provider.requests == []
    assert ledger(workspace, run_id) == [("missing_config", 0, 0)]


async def test_a_server_refusing_json_schema_gets_json_object_at_once(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    team = greeter_team()
    refused: list[str] = []

    def respond(body: dict[str, Any]) -> Reply:
        kind = (body.get("response_format") or {}).get("type")
        if kind == "json_schema":  # what llama.cpp's server does
            refused.append(kind)
            return Reply(
                fault="http_error",
                error_status=500,
                error_message="response_format type json_schema is not supported",
            )
        return team(body)

    fake_provider.responder = respond
    ed = await start_editor(
        workspace,
        fake_provider,
        tmp_path,
        "vscode",
        options={"structuredOutput": {"default": "json_schema"}},
    )
    try:
        run = await ed.command("samokoder.generate", {"description": "a greeter", "folder": "app"})
        first = await ed.proposal_for(run["runId"])
        await ed.command("samokoder.cancel", {"runId": run["runId"]})
    finally:
        await stop_editor(ed)

    assert first["title"] == "Task 1/2: Core module"
    assert refused == ["json_schema"]  # once, not retried, and remembered for later calls
    formats = [
        (r.body.get("response_format") or {}).get("type")
        for r in fake_provider.requests
        if r.body.get("response_format")
    ]
    assert formats[0] == "json_schema" and set(formats[1:]) == {"json_object"}
    rows = ledger(workspace, run["runId"])
    assert [row[0] for row in rows].count("unsupported") == 1


async def test_usage_says_which_tokens_were_estimated_and_takes_the_reported_cost(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim", options={"cache": False})
    try:
        fake_provider.script(Reply(text=NEW, send_usage=False))
        counted = await edit(ed)
        await ed.proposal_for(counted)
        await ed.command("samokoder.cancel", {"runId": counted})
        fake_provider.script(Reply(text=NEW + "\n", cost=0.0042))
        charged = await edit(ed)
        await ed.proposal_for(charged)
        await ed.command("samokoder.cancel", {"runId": charged})
        estimated = await ed.command("samokoder.usage", {"runId": counted})
        reported = await ed.command("samokoder.usage", {"runId": charged})
    finally:
        await stop_editor(ed)

    total = estimated["total"]
    assert total["estimatedTokens"] == total["promptTokens"] + total["completionTokens"] > 0
    assert "estimatedTokens" not in reported["total"]
    assert reported["total"]["costUsd"] == 0.0042
