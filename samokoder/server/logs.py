"""Logging: stderr and `window/logMessage`, never stdout, never a secret.

Everything goes through one redacting formatter: provider error text and
pygls' own debug lines (which print `initialize` params, settings included)
can carry API keys.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterable

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from samokoder.secrets import redact, secret_values

_secrets: set[str] = set()

LSP_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


def add_secrets(values: Iterable[str | None]) -> None:
    """Values to cut from every log line from now on (settings' keys, tokens)."""
    _secrets.update(v for v in values if v)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), _secrets)


def configure_stderr(level: str) -> None:
    add_secrets(secret_values(os.environ))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_expected_refusals)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pygls logs whole messages at INFO/DEBUG: source code, settings, keys. Not here.
    logging.getLogger("pygls").setLevel(max(logging.WARNING, root.level))


def _expected_refusals(record: logging.LogRecord) -> bool:
    """Drop pygls' traceback (with the request's params) for an error we answered on
    purpose ("Nothing to undo", a refused path): the client shows the message, and an
    editor's log full of tracebacks for normal refusals hides the real failures, which
    `server/errors.py` logs itself."""
    error = record.exc_info[1] if record.exc_info else None
    return not (isinstance(error, JsonRpcException) and error.code != _INTERNAL_ERROR)


_INTERNAL_ERROR = -32603


class LspLogHandler(logging.Handler):
    """Sends Samokoder's warnings and errors to the editor's log.

    Takes any pygls server, not `SamokoderServer`: `app` uses this module, so this
    module must not use `app` (no import cycle)."""

    def __init__(self, server: LanguageServer, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.WARNING)
        self.server = server
        self.loop = loop
        self.setFormatter(RedactingFormatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            kind = LSP_LEVELS.get(record.levelno, types.MessageType.Log)
            params = types.LogMessageParams(kind, text)
            self.loop.call_soon_threadsafe(self.server.window_log_message, params)
        except Exception:  # logging must never raise into the code that logs
            self.handleError(record)


def attach(server: LanguageServer) -> LspLogHandler:
    handler = LspLogHandler(server, asyncio.get_running_loop())
    logging.getLogger("samokoder").addHandler(handler)
    return handler


def detach(handler: logging.Handler) -> None:
    logging.getLogger("samokoder").removeHandler(handler)
