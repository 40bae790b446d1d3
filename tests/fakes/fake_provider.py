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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.fakes import MODELS, Fault, RecordedRequest, Reply, default_responder, usage_for

__all__ = ["MODELS", "FakeProvider", "Fault", "RecordedRequest", "Reply", "fake_provider"]

_POLL_SECONDS = 0.02
# The errors an OpenAI-compatible server answers with: message template and error code.
_FAULT_MESSAGES = {
    "http_401": "Incorrect API key provided: {key}. You can find your API key online.",
    "http_404": "The model `{model}` does not exist or you do not have access to it.",
    "http_429": "Rate limit reached for {model}. Please try again later.",
    "http_500": "The server had an error processing your request.",
}
_FAULT_CODES = {"http_401": "invalid_api_key", "http_404": "model_not_found"}
_FAULT_TYPES = {"http_429": "requests", "http_500": "server_error"}


class FakeProvider:
    """The running fake; ``base_url`` ends in ``/v1`` like OpenAI's."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.responder: Callable[[dict[str, Any]], Reply] = default_responder
        self._lock = threading.Condition()
        self._replies: deque[Reply] = deque()
        self._model_replies: dict[str, deque[Reply]] = {}
        self._requests: list[RecordedRequest] = []
        self._streams = 0
        self._connections: set[socket.socket] = set()
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
            connections = list(self._connections)
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
            self._replies.extend(replies)

    def script_for(self, model: str, *replies: Reply) -> None:
        """Queue replies for requests whose body names ``model`` (as sent, e.g. "fake-model").

        They are used before the shared queue of :meth:`script`.
        """
        with self._lock:
            self._model_replies.setdefault(model, deque()).extend(replies)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        """The chat requests whose body named ``model``."""
        return [r for r in self.requests if r.body.get("model") == model]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def active_streams(self) -> int:
        with self._lock:
            return self._streams

    @property
    def open_connections(self) -> int:
        """Client connections currently open (idle keep-alive ones included)."""
        with self._lock:
            return len(self._connections)

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests arrived; raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"fake provider got {len(self._requests)} requests, wanted {n}"
                    )
                self._lock.wait(remaining)
            return list(self._requests)

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
            self._requests.append(request)
            self._lock.notify_all()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            queue = self._model_replies.get(str(body.get("model")))
            if queue:
                return queue.popleft()
            if self._replies:
                return self._replies.popleft()
        return self.responder(body)

    def _track_connection(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _count_stream(self, delta: int) -> None:
        with self._lock:
            self._streams += delta

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
            self._send_error(404, f"Unknown path {self.path}", "unknown_path")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        self.provider._record(RecordedRequest(self.path, dict(self.headers.items()), body))
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error(404, f"Unknown path {self.path}", "unknown_path")
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
        if reply.fault == "http_error":
            self._wait(reply.first_token_delay)
            self._send_error(reply.error_status, reply.error_message, "http_error")
            return
        if reply.fault in _FAULT_MESSAGES:
            self._wait(reply.first_token_delay)
            self._send_fault(reply, model)
            return
        if body.get("stream"):
            self._stream(body, reply, model)
            return
        self._wait(reply.first_token_delay)
        if reply.fault == "bad_json":
            self._send_raw(200, b'{"id": "chatcmpl-broken", "choices": [')
            return
        message = {"role": "assistant", "content": reply.text}
        choice = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
        completion: dict[str, Any] = {"id": self.provider._next_id(), "object": "chat.completion"}
        completion |= {"created": int(time.time()), "model": model, "choices": [choice]}
        self._send_json(200, {**completion, "usage": usage_for(body, reply)})

    def _send_fault(self, reply: Reply, model: str) -> None:
        fault = reply.fault or "http_500"
        # Real providers echo (part of) the key in a 401: callers must redact it.
        key = self.headers.get("Authorization", "").removeprefix("Bearer ").strip() or "(none)"
        headers = {}
        if reply.fault == "http_429" and reply.retry_after is not None:
            headers["Retry-After"] = f"{reply.retry_after:g}"
        message = _FAULT_MESSAGES[fault].format(key=key, model=model)
        self._send_error(int(fault.removeprefix("http_")), message, fault, headers)

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
            if reply.finish_reason is not None:
                self._write_event(chunk({}, reply.finish_reason))
            options = body.get("stream_options") or {}
            if reply.send_usage and isinstance(options, dict) and options.get("include_usage"):
                usage_chunk = chunk({}, None)
                usage_chunk["choices"] = []
                usage_chunk["usage"] = usage_for(body, reply)
                self._write_event(usage_chunk)
            if reply.send_done:
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
        """One server-sent event as one HTTP chunk."""
        data = f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()
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
        self, status: int, payload: object, headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(status, json.dumps(payload).encode(), headers)

    def _send_error(
        self, status: int, message: str, fault: str, headers: dict[str, str] | None = None
    ) -> None:
        kind = _FAULT_TYPES.get(fault, "invalid_request_error")
        error = {"message": message, "type": kind, "param": None, "code": _FAULT_CODES.get(fault)}
        self._send_json(status, {"error": error}, headers)

    def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


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
