"""A loopback TCP relay in front of llama.cpp's server that notes what each reply said.

Samokoder's ledger does not record a reply's text or `finish_reason`, and a test must
know which replies the real server cut off at the output limit, and what they said,
to check that none of them was used as complete. The relay copies bytes unchanged
both ways (streaming and keep-alive untouched) and only reads them: chat requests
going up; coming down, each response (its chunked framing undone) read as server-sent
events or one JSON body, for the text of its choice and how it ended.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

_REQUEST = re.compile(rb"POST [^ ]*/chat/completions HTTP/1\.[01]\r\n")
_TAIL = 512  # bytes kept between reads so a request line split across reads is still seen


@dataclass(frozen=True)
class Reply:
    """One chat reply as the server sent it: how it ended and its text."""

    finish: str
    text: str


@dataclass
class Seen:
    """What went through the relay since the last `reset`."""

    requests: int = 0
    replies: list[Reply] = field(default_factory=list)

    @property
    def finishes(self) -> list[str]:
        return [reply.finish for reply in self.replies]


class Relay:
    """Listens on 127.0.0.1 (any free port) and forwards to 127.0.0.1:`upstream_port`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._lock = threading.Lock()
        self._seen = Seen()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> Seen:
        """Start a new record; return the old one."""
        with self._lock:
            seen, self._seen = self._seen, Seen()
        return seen

    def seen(self) -> Seen:
        with self._lock:
            return Seen(self._seen.requests, list(self._seen.replies))

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, src: socket.socket, dst: socket.socket) -> None:
        tail = b""
        with self._pumping(src, dst):
            while data := src.recv(65536):
                dst.sendall(data)
                buffer = tail + data
                matches = list(_REQUEST.finditer(buffer))
                if matches:
                    with self._lock:
                        self._seen.requests += len(matches)
                end = matches[-1].end() if matches else 0
                tail = buffer[max(end, len(buffer) - _TAIL) :]

    def _down(self, src: socket.socket, dst: socket.socket) -> None:
        reader = _Responses(self._heard)
        with self._pumping(src, dst):
            while data := src.recv(65536):
                dst.sendall(data)
                reader.feed(data)

    def _heard(self, reply: Reply) -> None:
        with self._lock:
            self._seen.replies.append(reply)

    @contextlib.contextmanager
    def _pumping(self, src: socket.socket, dst: socket.socket) -> Iterator[None]:
        try:
            yield
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                _close(sock)
            with self._lock:
                self._sockets.difference_update((src, dst))


class _Responses:
    """HTTP/1.1 responses on one connection, read as they stream; each chat reply found
    in a body goes to `heard` once its `finish_reason` comes."""

    def __init__(self, heard: Callable[[Reply], None]) -> None:
        self._heard = heard
        self._buffer = b""
        self._state = "head"  # head | size | body | crlf | trailer
        self._chunked = False
        self._left = 0  # bytes left of the current chunk or body
        self._body = b""
        self._text: list[str] = []

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while self._step():
            pass

    def _step(self) -> bool:
        """Consume what the buffer holds for the current state; False when it needs more."""
        if self._state == "body":
            take = self._buffer[: self._left]
            self._buffer = self._buffer[len(take) :]
            self._left -= len(take)
            self._read_body(take)
            if self._left:
                return False
            if self._chunked:
                self._state = "crlf"
            else:
                self._done()
            return True
        end = self._buffer.find(b"\r\n\r\n" if self._state == "head" else b"\r\n")
        if end < 0:
            return False
        line = self._buffer[:end]
        self._buffer = self._buffer[end + (4 if self._state == "head" else 2) :]
        if self._state == "head":
            head = line.lower()
            self._chunked = b"transfer-encoding: chunked" in head
            found = re.search(rb"content-length: *(\d+)", head)
            self._left = int(found.group(1)) if found else 0
            self._body, self._text = b"", []
            self._state = "size" if self._chunked else "body"
        elif self._state == "size":
            self._left = int(line.split(b";")[0].strip() or b"0", 16)
            self._state = "body" if self._left else "trailer"
        elif self._state == "crlf":
            self._state = "size"
        else:  # the empty line after the last chunk
            self._done()
        return True

    def _read_body(self, data: bytes) -> None:
        self._body += data
        if not self._chunked:
            return
        while (end := self._body.find(b"\n")) >= 0:  # server-sent events, a line at a time
            line, self._body = self._body[:end].strip(), self._body[end + 1 :]
            if line.startswith(b"data:") and line[5:].strip().startswith(b"{"):
                with contextlib.suppress(ValueError):  # never stop relaying over it
                    self._event(json.loads(line[5:]))

    def _event(self, event: dict[str, Any]) -> None:
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            if delta.get("content"):
                self._text.append(delta["content"])
            if choice.get("finish_reason"):
                self._heard(Reply(choice["finish_reason"], "".join(self._text)))
                self._text = []

    def _done(self) -> None:
        rest = self._body.strip()  # a whole JSON body (a reply not streamed)
        if rest.startswith(b"{"):
            with contextlib.suppress(ValueError):
                self._event(json.loads(rest))
        self._state = "head"


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
