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
import dataclasses
import itertools
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes import MODELS, Fault, RecordedRequest, Reply, default_responder
from tests.fakes.fake_http import POLL_SECONDS, _Handler, _Server

__all__ = ["MODELS", "FakeProvider", "Fault", "RecordedRequest", "Reply", "fake_provider"]


# The errors an OpenAI-compatible server answers with: message template and error code.
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
            time.sleep(POLL_SECONDS)
        return True

    # -- used by the handler ---------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()

    def _ended(self, request: RecordedRequest) -> None:
        """Stamp when a chat request's reply ended (benchmarks chart calls in time)."""
        with self._lock:
            at = next(i for i, r in enumerate(self._requests) if r is request)
            self._requests[at] = dataclasses.replace(request, ended=time.perf_counter())

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
