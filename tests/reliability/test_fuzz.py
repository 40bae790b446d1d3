"""Fuzzed LSP requests and broken frames against one live server: no crash, no hang,
every request answered exactly once, and the connection still usable afterwards.

SAMOKODER_FUZZ_EXAMPLES sets the number of bursts (default 320, about 1,200 requests).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.e2e.harness import git
from tests.fakes.fake_provider import FakeProvider
from tests.reliability.lsp_strategies import EMOJI_LINE, Workspace, messages
from tests.reliability.wire import WireClient

EXAMPLES = int(os.environ.get("SAMOKODER_FUZZ_EXAMPLES", "320"))
ANSWER_SECONDS = 20.0
SELECTION = {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WireClient, Workspace]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    root = tmp / "project"
    (root / "src").mkdir(parents=True)
    (root / "app.py").write_text("import os\n" + EMOJI_LINE + "print(greeting)\n")
    (root / "src" / "util.py").write_text("def f():\n    return 1\n")
    (root / ".env").write_text("SECRET=1\n")
    git(root, "init", "-q", "-b", "main")
    with FakeProvider() as provider:
        client = WireClient.spawn(provider, tmp)
        try:
            client.initialize(root, options={"cache": False, "review": "proposal"})
            client.open(root, "app.py")
            yield client, Workspace(root, ("app.py", "src/util.py", ".env"))
        finally:
            client.close()


def send(client: WireClient, kind: str, method: str, params: Any) -> Future[dict[str, Any]] | None:
    if kind == "notify":
        client.notify(method, params)
        return None
    return client.start_request(method, params)[1]


def assert_sound(client: WireClient) -> None:
    """Alive, every request answered once, and a real request still works."""
    assert client.alive(), client.stderr_tail()
    response = client.call(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": (client_root(client) / "app.py").as_uri()},
            "range": SELECTION,
            "context": {"diagnostics": []},
        },
    )
    assert any(a["title"] == "Edit selection…" for a in response["result"])
    twice = [msg_id for msg_id, n in client.answers.items() if n != 1 and isinstance(msg_id, int)]
    assert twice == []


def client_root(client: WireClient) -> Path:
    return Path(client.root)  # type: ignore[attr-defined]


def test_fuzzed_requests_are_each_answered_once(live: tuple[WireClient, Workspace]) -> None:
    client, ws = live
    client.root = ws.root  # type: ignore[attr-defined]
    counts = {"requests": 0, "notifications": 0, "errors": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(burst=messages(ws))
    def burst_is_answered(burst: list[tuple[str, str, Any]]) -> None:
        futures = [send(client, *message) for message in burst]
        for (_kind, method, params), future in zip(burst, futures, strict=True):
            if future is None:
                counts["notifications"] += 1
                continue
            counts["requests"] += 1
            response = future.result(ANSWER_SECONDS)  # a hang fails here
            assert ("result" in response) != ("error" in response), response
            if os.environ.get("SAMOKODER_FUZZ_DEBUG"):
                print(method, str(params)[:100], "=>", str(response)[:200])
            if "error" in response:
                counts["errors"] += 1
                assert response["error"]["code"] != -32603, (method, params, response)
        assert client.alive(), client.stderr_tail()

    burst_is_answered()
    assert counts["requests"] >= min(1000, EXAMPLES * 3), counts
    assert_sound(client)
    assert client.unknown_answers == []


BROKEN_FRAMES: dict[str, bytes] = {
    "bad JSON": b'{"jsonrpc": "2.0", "id": "raw-1", "method": ',
    "not an object": b"[1, 2, 3]",
    "a string": b'"hello"',
    "no jsonrpc field": b'{"id": "raw-2", "method": "samokoder/x"}',
    "id is an object": b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "samokoder/x"}',
    "id is a float": b'{"jsonrpc": "2.0", "id": 1.5, "method": "samokoder/x"}',
    "method is a number": b'{"jsonrpc": "2.0", "id": "raw-3", "method": 42}',
    "params of the wrong shape": (
        b'{"jsonrpc": "2.0", "id": "raw-4", "method": "textDocument/codeAction", "params": "x"}'
    ),
    "params missing": b'{"jsonrpc": "2.0", "id": "raw-5", "method": "textDocument/codeAction"}',
    "not UTF-8": b'{"jsonrpc": "2.0", "id": "raw-6", "method": "\xff\xfe"}',
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "a request deeply nested": (
        b'{"jsonrpc": "2.0", "id": "raw-9", "method": "workspace/executeCommand", "params": '
        b'{"command": "samokoder.history", "arguments": ['
        + b"[" * 100_000
        + b"]" * 100_000
        + b"]}}"
    ),
    "a batch": b'[{"jsonrpc": "2.0", "id": "raw-7", "method": "samokoder/x"}]',
    "huge": json.dumps(
        {
            "jsonrpc": "2.0",
            "id": "raw-8",
            "method": "workspace/executeCommand",
            "params": {"command": "samokoder.history", "arguments": [{"limit": "x" * 5_000_000}]},
        }
    ).encode(),
}
# Requests among the broken frames that still carry a usable id: each gets an error.
# (String ids, apart from the numbered requests of `WireClient`.)
ANSWERED = {"raw-2", "raw-3", "raw-4", "raw-5", "raw-8"}


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Length: %d\r\n\r\n",
        b"content-length: %d\r\n\r\n",  # header names are case-insensitive
        b"Content-Type: application/json\r\n\r\n",  # no length at all
        b"Content-Length: 7\r\n\r\n",  # shorter than the body
    ],
    ids=["framed", "lowercase", "no-length", "short-length"],
)
def test_broken_frames_leave_the_connection_usable(
    live: tuple[WireClient, Workspace], header: bytes
) -> None:
    client, ws = live
    client.root = ws.root  # type: ignore[attr-defined]
    client.unknown_answers.clear()
    for name, body in BROKEN_FRAMES.items():
        head = header % len(body) if b"%d" in header else header
        client.send_raw(head + body)
        history = client.command("samokoder.history", {}, timeout=ANSWER_SECONDS)
        assert "result" in history, (name, history)
    assert_sound(client)
    raw = sorted(answer["id"] for answer in client.unknown_answers)
    if b"%d" in header:  # well framed: each request with a usable id answered, once
        assert raw == sorted(ANSWERED)
    else:  # the frame is lost; what follows is still read
        assert set(raw) <= ANSWERED and len(raw) == len(set(raw))
