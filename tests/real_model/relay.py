"""A loopback TCP relay in front of llama.cpp's server that notes how each reply ended.

Samokoder's ledger does not record a reply's `finish_reason`, and a test must know
which replies the real server cut off at the output limit to check that none of them
was applied as complete. The relay copies bytes unchanged both ways (streaming and
keep-alive untouched) and only reads them: chat requests going up, `finish_reason`
values coming down.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field

_REQUEST = re.compile(rb"POST [^ ]*/chat/completions HTTP/1\.[01]\r\n")
_FINISH = re.compile(rb'"finish_reason"\s*:\s*"([a-z_]+)"')
_TAIL = 512  # bytes kept between reads so a match split across reads is still seen


@dataclass
class Seen:
    """What went through the relay since the last `reset`."""

    requests: int = 0
    finishes: list[str] = field(default_factory=list)


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
            return Seen(self._seen.requests, list(self._seen.finishes))

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
            for src, dst, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, up), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upward: bool) -> None:
        pattern = _REQUEST if upward else _FINISH
        tail = b""
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                buffer = tail + data
                matches = list(pattern.finditer(buffer))
                self._note(upward, matches)
                end = matches[-1].end() if matches else 0
                tail = buffer[max(end, len(buffer) - _TAIL) :]
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                _close(sock)
            with self._lock:
                self._sockets.difference_update((src, dst))

    def _note(self, upward: bool, matches: list[re.Match[bytes]]) -> None:
        if not matches:
            return
        with self._lock:
            if upward:
                self._seen.requests += len(matches)
            else:
                self._seen.finishes.extend(m.group(1).decode() for m in matches)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
