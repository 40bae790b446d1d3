"""Import litellm lazily, once, and tamed.

``import litellm`` takes seconds and, left alone, fetches a price list over the
network, loads ``.env`` files from the working directory, may download tokenizers
and logs to **stdout**, which would corrupt an LSP stream over stdio. So it is never
imported on the startup path: the server calls :func:`start_prewarm` once
``initialize`` is answered, and LLM calls await :func:`get_litellm`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from samokoder.errors import LLMError
from samokoder.secrets import redact

logger = logging.getLogger(__name__)

# Set before the first import unless the user chose a value.
_TAME_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else: the price list is fetched from GitHub
    "LITELLM_MODE": "PRODUCTION",  # else: load_dotenv() reads .env from cwd or parents
    "LITELLM_OFFLINE_MODE": "true",  # else: tokenizers (and catalogs) are downloaded
    "LITELLM_LOCAL_BLOG_POSTS": "true",  # belt and braces for the fetches offline mode covers
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "true",
    "LITELLM_LOG": "WARNING",  # level of litellm's own handler until we replace it
}
# Hidden during the import only: JSON_LOGS makes litellm put a JSON handler on the
# root logger and replace sys.excepthook; DISABLE_LAZY_LOADING loads tiktoken eagerly.
_HIDDEN_DURING_IMPORT = ("JSON_LOGS", "LITELLM_DISABLE_LAZY_LOADING")
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
_CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "service_callback",
    "_async_input_callback",
    "_async_success_callback",
    "_async_failure_callback",
)

_lock = threading.Lock()
_module: ModuleType | None = None
_prewarm: concurrent.futures.Future[ModuleType] | None = None


def tame_environment() -> None:
    """Set the environment litellm reads at import so that it stays offline and quiet."""
    for name, value in _TAME_ENV.items():
        os.environ.setdefault(name, value)


def is_loaded() -> bool:
    return _module is not None


def load_litellm() -> ModuleType:
    """Import and configure litellm once (blocking, thread-safe); later calls return it."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is not None:
            return _module
        tame_environment()
        _quiet_loggers_before_import()
        try:
            with _hidden_env(_HIDDEN_DURING_IMPORT):
                module = importlib.import_module("litellm")
        except Exception as exc:
            raise LLMError(
                f"litellm could not be imported ({type(exc).__name__}: {redact(str(exc))}); "
                "reinstall samokoder with its dependencies",
                retryable=False,
            ) from None
        _configure(module)
        _warm_up(module)
        _module = module
        logger.debug("litellm loaded and configured")
        return module


def start_prewarm() -> None:
    """Import litellm in a daemon thread (idempotent), so the first LLM call does not wait."""
    global _prewarm
    with _lock:
        if _module is not None or _prewarm is not None:
            return
        future: concurrent.futures.Future[ModuleType] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()  # a waiter's cancel must not cancel the import
        _prewarm = future

    def run() -> None:
        try:
            future.set_result(load_litellm())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="samokoder-litellm-prewarm", daemon=True).start()


async def get_litellm() -> ModuleType:
    """The loaded litellm module, waiting for the prewarm or importing off the event loop."""
    if _module is not None:
        return _module
    future = _prewarm
    if future is not None and not (future.done() and future.exception() is not None):
        return await asyncio.shield(asyncio.wrap_future(future))
    return await asyncio.to_thread(load_litellm)  # no prewarm, or it failed: try (again)


async def close_async_clients() -> None:
    """Close litellm's cached HTTP clients; call at shutdown, on the server's event loop.

    litellm pools connections per event loop and never closes them itself; closing
    them before the loop ends avoids dangling sockets and unclosed-transport warnings.
    Streams still in flight lose their connection, so do not call it mid-run.
    """
    module = _module
    if module is None:
        return
    cleanup = importlib.import_module("litellm.llms.custom_httpx.async_client_cleanup")
    await cleanup.close_litellm_async_clients()
    cache = getattr(module, "in_memory_llm_clients_cache", None)
    if cache is not None:
        cache.flush_cache()


@contextmanager
def _hidden_env(names: tuple[str, ...]) -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _quiet_loggers_before_import() -> None:
    # litellm's handler sends records below WARNING to stdout; drop them at the
    # logger, before any handler sees them, even while the import is running.
    for name in _LITELLM_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class _RedactingFilter(logging.Filter):
    """Strips credential-shaped text from litellm's records (they may quote a key)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _stderr_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    handler.addFilter(_RedactingFilter())
    return handler


def _warm_up(module: ModuleType) -> None:
    """Run one offline mock call so the first real call does not pay for lazy imports.

    Building litellm's response types also emits pydantic warnings once; here they
    meet the filters litellm installed at import instead of surfacing mid-run.
    """
    messages = [{"role": "user", "content": "warm-up"}]
    try:
        stream = module.completion(
            model="openai/samokoder-warm-up",
            messages=messages,
            mock_response="ok",
            stream=True,
            stream_options={"include_usage": True},
        )
        for _ in stream:
            pass
        module.token_counter(model="openai/gpt-4o-mini", messages=messages)
        module.cost_per_token(model="openai/gpt-4o-mini", prompt_tokens=1, completion_tokens=1)
    except Exception as exc:
        logger.debug("litellm warm-up failed: %s", redact(str(exc)))


def _configure(module: ModuleType) -> None:
    settings: dict[str, Any] = {
        "suppress_debug_info": True,  # else: "Give Feedback / Get Help" printed on errors
        "set_verbose": False,
        "telemetry": False,
        "drop_params": True,
        "turn_off_message_logging": True,
        # Per-chunk success logging runs in litellm's thread pool and competes with the
        # event loop for the interpreter; we have no callbacks and price replies ourselves.
        "disable_streaming_logging": True,
    }
    for name, value in settings.items():
        setattr(module, name, value)
    for name in _CALLBACK_LISTS:
        setattr(module, name, [])
    logging_module = sys.modules.get("litellm._logging")
    if logging_module is not None:
        logging_module.set_verbose = False  # type: ignore[attr-defined]
    loggers = {logging.getLogger(name) for name in _LITELLM_LOGGERS}
    for attr in ("verbose_logger", "verbose_router_logger", "verbose_proxy_logger"):
        own = getattr(logging_module, attr, None)
        if isinstance(own, logging.Logger):
            loggers.add(own)
    handler = _stderr_handler()
    for lg in loggers:
        for old in list(lg.handlers):
            lg.removeHandler(old)
        lg.addHandler(handler)
        lg.setLevel(logging.WARNING)
        lg.propagate = False  # one copy of each record, on stderr
