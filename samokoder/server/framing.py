"""Surviving broken input on the wire: every request answered, the stream kept in step.

pygls drops a request whose `method` or `params` do not deserialize without any
answer, so the client waits forever; here such a request gets a JSON-RPC error.
pygls also only knows a header spelled exactly `Content-Length: N` at the start of
a line, so one frame without it (or with a short length) glues its leftover bytes
to the next header and loses the next, valid message too; here header lines are
normalised and a `Content-Length` found after stray bytes starts the next frame.

Imports only pygls, lsprotocol and the standard library: this is on the startup path.
"""

from __future__ import annotations

import logging
from typing import Any, BinaryIO, TypeGuard

from lsprotocol.types import ResponseError
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
_HEADER = b"content-length:"


def normalize_header(line: bytes) -> bytes:
    """A header line as pygls expects it: `Content-Length: N\\r\\n`, a bare `\\r\\n` for the
    blank line that ends the headers, or the line as it came (ignored by pygls)."""
    at = line.lower().rfind(_HEADER)
    if at < 0:
        return line if line.strip() else b"\r\n"
    if at > 0:
        log.warning("skipped %d stray bytes before a message header", at)
    value = line[at + len(_HEADER) :].strip()
    return b"Content-Length: " + value + b"\r\n" if value.isdigit() else b"X-Unusable: \r\n"


class ResyncingStdin:
    """stdin for `LanguageServer.start_io`, with header lines normalised."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def readline(self) -> bytes:
        line = self._raw.readline()
        return normalize_header(line) if line else line

    def read(self, n: int) -> bytes:
        return self._raw.read(n)


class ResyncingStreamReader:
    """An asyncio stream reader for pygls' `run_async` (TCP), with header lines normalised."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    async def readline(self) -> bytes:
        line: bytes = await self._raw.readline()
        return normalize_header(line) if line else line

    async def readexactly(self, n: int) -> bytes:
        data: bytes = await self._raw.readexactly(n)
        return data


class _Unusable:
    """A message pygls could not deserialize, kept so it can still be answered."""

    def __init__(self, data: dict[str, Any], error: Exception) -> None:
        self.data = data
        self.error = error


class AnsweringProtocol(LanguageServerProtocol):
    """Answers requests pygls would drop: bad `method` or `params`, no `jsonrpc` field."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except Exception as exc:  # pygls raises JsonRpcInvalidParams / JsonRpcInternalError
            return _Unusable(data, exc)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Unusable):
            self._refuse(message.data, INVALID_PARAMS, f"invalid params ({message.error})")
        elif isinstance(message, dict):
            self._refuse(message, INVALID_REQUEST, 'not JSON-RPC 2.0 (no "jsonrpc": "2.0")')
        elif not hasattr(message, "jsonrpc"):
            log.warning("ignored a message that is not a JSON object: %.80r", message)
        else:
            super().handle_message(message)

    def _refuse(self, data: dict[str, Any], code: int, why: str) -> None:
        msg_id, method = data.get("id"), data.get("method")
        if "method" not in data or not _usable_id(msg_id):
            log.warning("ignored an unusable message: %s", why)
            return
        if not isinstance(method, str):
            code, why = INVALID_REQUEST, "'method' must be a string"
        text = f"Invalid request to {method!r}: {why}"[:500]
        self._send_response(msg_id, error=ResponseError(code=code, message=text))


def _usable_id(value: object) -> TypeGuard[str | int]:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
