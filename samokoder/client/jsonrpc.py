"""A small JSON-RPC 2.0 endpoint over LSP framing (Content-Length headers).

Our own rather than pygls' client: the CLI speaks a handful of messages, wants
plain dicts (no converter guessing at custom params) and starts without
importing lsprotocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], Any | Awaitable[Any]]

METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603


class RpcError(Exception):
    """An error answer from the other side (or a lost connection, code 0)."""

    def __init__(self, message: str, code: int = INTERNAL_ERROR, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.data = data

    @property
    def kind(self) -> str | None:
        """The server's error class (`data.kind`), when it says."""
        kind = self.data.get("kind") if isinstance(self.data, dict) else None
        return kind if isinstance(kind, str) else None


class ConnectionLost(RpcError):
    def __init__(self) -> None:
        super().__init__("The Samokoder server stopped unexpectedly.", code=0)


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next framed message, or None at end of stream."""
    length: int | None = None
    while True:
        line = await reader.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            if length is None:
                continue  # tolerate stray blank lines between messages
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length)
    message = json.loads(body.decode("utf-8"))
    return message if isinstance(message, dict) else None


class JsonRpcConnection:
    """Requests out, requests and notifications in; one reader task."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._requests: dict[str, Handler] = {}
        self._notifications: dict[str, Handler] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reader_task: asyncio.Task[None] | None = None
        self.closed: asyncio.Event = asyncio.Event()

    def on_request(self, method: str, handler: Handler) -> None:
        self._requests[method] = handler

    def on_notification(self, method: str, handler: Handler) -> None:
        self._notifications[method] = handler

    def start(self) -> None:
        self._reader_task = asyncio.create_task(self._read_loop(), name="jsonrpc reader")

    async def request(self, method: str, params: Any = None) -> Any:
        if self.closed.is_set():
            raise ConnectionLost()
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
            return await future
        finally:
            self._pending.pop(msg_id, None)

    async def notify(self, method: str, params: Any = None) -> None:
        if not self.closed.is_set():
            await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
        for task in list(self._tasks):
            task.cancel()
        self._lost()

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            self._writer.write(encode(message))
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            log.debug("write failed: %s", exc)
            self._lost()
            raise ConnectionLost() from None

    def _lost(self) -> None:
        self.closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost())

    async def _read_loop(self) -> None:
        try:
            while (message := await read_message(self._reader)) is not None:
                self._dispatch(message)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            log.debug("reading from the server failed: %s", exc)
        finally:
            self._lost()

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if isinstance(method, str):
            if "id" in message:
                self._spawn(self._answer(message["id"], method, message.get("params")))
            else:
                self._notify_handler(method, message.get("params"))
            return
        future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
        if future is None or future.done():
            return
        error = message.get("error")
        if isinstance(error, dict):
            future.set_exception(
                RpcError(
                    str(error.get("message", "")), int(error.get("code", 0)), error.get("data")
                )
            )
        else:
            future.set_result(message.get("result"))

    def _notify_handler(self, method: str, params: Any) -> None:
        handler = self._notifications.get(method)
        if handler is None:
            return
        try:
            result = handler(params)
        except Exception:
            log.exception("handling %s failed", method)
            return
        if inspect.isawaitable(result):
            self._spawn(_awaited(result))

    async def _answer(self, msg_id: Any, method: str, params: Any) -> None:
        handler = self._requests.get(method)
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id}
        if handler is None:
            reply["error"] = {"code": METHOD_NOT_FOUND, "message": f"{method} is not supported"}
        else:
            try:
                result = handler(params)
                reply["result"] = await result if inspect.isawaitable(result) else result
            except RpcError as exc:
                reply["error"] = {"code": exc.code, "message": exc.message}
            except Exception as exc:
                log.exception("handling %s failed", method)
                reply["error"] = {"code": INTERNAL_ERROR, "message": f"{type(exc).__name__}"}
        with contextlib.suppress(ConnectionLost):
            await self._send(reply)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _awaited(result: Awaitable[Any]) -> None:
    try:
        await result
    except Exception:
        log.exception("a notification handler failed")
