"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It is a real server (standard library only) so that litellm, the OpenAI SDK and the
Samokoder server in a subprocess all talk to it over HTTP exactly as they would to a
provider: tests queue replies and faults, then inspect what was requested.

Run standalone: ``python -m tests.fakes.fake_provider --port 0 --reply "text"``; the
first stdout line is the base URL.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import select
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest

Fault = Literal["http_500", "http_429", "http_401", "http_404", "cut_stream", "hang", "bad_json"]

MODELS = ("fake-model", "fake-model-large", "fake-coder")
_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Reply:
    """One scripted answer: text to send (in ``chunks`` pieces when streaming) or a fault."""

    text: str = ""
    chunks: int | None = None
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    fault: Fault | None = None
    retry_after: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # False: no usage chunk even when asked, like servers that ignore stream_options.
    send_usage: bool = True

    def pieces(self) -> list[str]:
        """The text split into ``chunks`` pieces (default: about one per 8 characters)."""
        if not self.text:
            return []
        count = self.chunks if self.chunks is not None else math.ceil(len(self.text) / 8)
        count = max(1, min(count, len(self.text)))
        size = math.ceil(len(self.text) / count)
        return [self.text[i : i + size] for i in range(0, len(self.text), size)]


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def default_responder(request: dict[str, Any]) -> Reply:
    """Answer "ok" to anything that was not scripted."""
    return Reply(text="ok")


@dataclass
class _State:
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    active_streams: int = 0
    connections: set[socket.socket] = field(default_factory=set)


class FakeProvider:
    """The running fake; ``base_url`` ends in ``/v1`` like OpenAI's."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.responder: Callable[[dict[str, Any]], Reply] = default_responder
        self._lock = threading.Condition()
        self._state = _State()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._httpd = _Server((host, port), _Handler)
        self._httpd.provider = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-provider",
            daemon=True,
        )

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; ends hanging and streaming replies and closes open connections."""
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._state.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- scripting and inspection ----------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies, consumed in order by the next chat requests."""
        with self._lock:
            self._state.replies.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._state.requests)

    @property
    def active_streams(self) -> int:
        with self._lock:
            return self._state.active_streams

    @property
    def open_connections(self) -> int:
        """Client connections currently open (idle keep-alive ones included)."""
        with self._lock:
            return len(self._state.connections)

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests arrived; raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._state.requests) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"fake provider got {len(self._state.requests)} requests, wanted {n}"
                    )
                self._lock.wait(remaining)
            return list(self._state.requests)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``predicate`` until true or ``timeout``; returns its last value."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                return predicate()
            time.sleep(_POLL_SECONDS)
        return True

    # -- used by the handler ---------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._state.requests.append(request)
            self._lock.notify_all()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._state.replies:
                return self._state.replies.popleft()
        return self.responder(body)

    def _track_connection(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._state.connections.add(conn)
            else:
                self._state.connections.discard(conn)

    def _count_stream(self, delta: int) -> None:
        with self._lock:
            self._state.active_streams += delta

    def _next_id(self) -> str:
        return f"chatcmpl-fake-{next(self._ids)}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    provider: FakeProvider


class _ClientGone(Exception):
    """The client closed its connection (or the fake is stopping)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # Quiet: the default handler logs every request to stderr.
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.provider._track_connection(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.provider._track_connection(self.connection, add=False)

    @property
    def provider(self) -> FakeProvider:
        return self.server.provider

    # -- routing ---------------------------------------------------------------

    def do_GET(self) -> None:
        self.provider._record(RecordedRequest(self.path, dict(self.headers.items()), {}))
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in MODELS]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error", None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        self.provider._record(RecordedRequest(self.path, dict(self.headers.items()), body))
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error", None)
            return
        reply = self.provider._next_reply(body)
        try:
            self._answer_chat(body, reply)
        except (_ClientGone, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- chat ------------------------------------------------------------------

    def _answer_chat(self, body: dict[str, Any], reply: Reply) -> None:
        model = str(body.get("model") or MODELS[0])
        if reply.fault == "hang":
            self._wait(math.inf)
            return
        if reply.fault in ("http_500", "http_429", "http_401", "http_404"):
            self._wait(reply.first_token_delay)
            self._send_fault(reply, model)
            return
        if body.get("stream"):
            self._stream(body, reply, model)
            return
        self._wait(reply.first_token_delay)
        if reply.fault == "bad_json":
            self._send_raw(200, "application/json", b'{"id": "chatcmpl-broken", "choices": [')
            return
        usage = _usage(body, reply)
        self._send_json(
            200,
            {
                "id": self.provider._next_id(),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            },
        )

    def _send_fault(self, reply: Reply, model: str) -> None:
        headers: dict[str, str] = {}
        if reply.fault == "http_401":
            auth = self.headers.get("Authorization", "")
            key = auth.removeprefix("Bearer ").strip() or "(none)"
            # Real providers echo (part of) the key: callers must redact it.
            message = f"Incorrect API key provided: {key}. You can find your API key online."
            self._send_error(401, message, "invalid_request_error", "invalid_api_key")
        elif reply.fault == "http_404":
            message = f"The model `{model}` does not exist or you do not have access to it."
            self._send_error(404, message, "invalid_request_error", "model_not_found")
        elif reply.fault == "http_429":
            if reply.retry_after is not None:
                headers["Retry-After"] = f"{reply.retry_after:g}"
            message = f"Rate limit reached for {model}. Please try again later."
            self._send_error(429, message, "requests", "rate_limit_exceeded", headers)
        else:
            message = "The server had an error processing your request."
            self._send_error(500, message, "server_error", None)

    def _stream(self, body: dict[str, Any], reply: Reply, model: str) -> None:
        pieces = reply.pieces()
        completion_id = self.provider._next_id()
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.provider._count_stream(+1)
        try:
            self._wait(reply.first_token_delay)
            if reply.fault == "bad_json":
                self._write_event("{this is not json")
                self._end_chunked()
                return
            cut_after = len(pieces) // 2 if reply.fault == "cut_stream" else None
            self._write_event(chunk({"role": "assistant", "content": ""}, None))
            for index, piece in enumerate(pieces):
                if cut_after is not None and index >= cut_after:
                    self._cut()
                    return
                if index:
                    self._wait(reply.chunk_delay)
                self._write_event(chunk({"content": piece}, None))
            if cut_after is not None:
                self._cut()
                return
            self._write_event(chunk({}, "stop"))
            options = body.get("stream_options") or {}
            if reply.send_usage and isinstance(options, dict) and options.get("include_usage"):
                usage_chunk = chunk({}, None)
                usage_chunk["choices"] = []
                usage_chunk["usage"] = _usage(body, reply)
                self._write_event(usage_chunk)
            self._write_event("[DONE]")
            self._end_chunked()
        finally:
            self.provider._count_stream(-1)

    # -- low-level writing -------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        """Sleep, but notice a client that went away or a fake that is stopping."""
        deadline = time.monotonic() + seconds
        while True:
            if self.provider.stopping.is_set():
                raise _ClientGone
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._client_closed(min(remaining, _POLL_SECONDS)):
                raise _ClientGone

    def _client_closed(self, timeout: float) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], timeout)
            if not readable:
                return False
            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
            time.sleep(timeout)  # unexpected bytes from the client: not a close
            return False
        except (OSError, ValueError):
            return True

    def _write_event(self, payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self._write_chunk(f"data: {data}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        """Drop the connection mid-stream: no [DONE], no chunked terminator."""
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(status, "application/json", json.dumps(payload).encode(), headers)

    def _send_error(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._send_json(status, payload, headers)

    def _send_raw(
        self, status: int, content_type: str, data: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    """Reply's token counts, or a deterministic estimate (4 characters a token)."""
    messages = body.get("messages") or []
    prompt_chars = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else max(1, prompt_chars // 4)
    completion = (
        reply.completion_tokens
        if reply.completion_tokens is not None
        else max(1, math.ceil(len(reply.text) / 4))
    )
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    """A running fake provider for one test, stopped afterwards."""
    server = FakeProvider().start()
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default="ok", help="text of every reply")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    reply = Reply(
        text=args.reply,
        chunks=args.chunks,
        chunk_delay=args.chunk_delay,
        first_token_delay=args.first_token_delay,
    )
    server = FakeProvider(args.host, args.port)
    server.responder = lambda _request: reply
    server.start()
    sys.stdout.write(server.base_url + "\n")
    sys.stdout.flush()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
