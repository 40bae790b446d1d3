"""The HTTP side of the fake provider: one handler per request, replies and faults.

Split from :mod:`tests.fakes.fake_provider` (the scripting API and the fixture), which
creates the server; standard library only, as there.
"""

from __future__ import annotations

import contextlib
import json
import math
import select
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.fakes import MODELS, RecordedRequest, Reply, usage_for

if TYPE_CHECKING:
    from tests.fakes.fake_provider import FakeProvider

POLL_SECONDS = 0.02

_FAULT_MESSAGES = {
    "http_401": "Incorrect API key provided: {key}. You can find your API key online.",
    "http_404": "The model `{model}` does not exist or you do not have access to it.",
    "http_429": "Rate limit reached for {model}. Please try again later.",
    "http_500": "The server had an error processing your request.",
}
_FAULT_CODES = {"http_401": "invalid_api_key", "http_404": "model_not_found"}
_FAULT_TYPES = {"http_429": "requests", "http_500": "server_error"}


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
        request = RecordedRequest(self.path, dict(self.headers.items()), body, time.perf_counter())
        self.provider._record(request)
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error(404, f"Unknown path {self.path}", "unknown_path")
            return
        reply = self.provider._next_reply(body)
        try:
            self._answer_chat(body, reply)
        except (_ClientGone, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            self.provider._ended(request)

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
            if self._client_closed(min(remaining, POLL_SECONDS)):
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
