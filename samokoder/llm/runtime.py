"""Import litellm lazily, once, and tamed.

``import litellm`` takes seconds and, left alone, fetches a price list over the
network, loads ``.env`` files from the working directory, may download tokenizers
and logs to **stdout**, which would corrupt an LSP stream over stdio. So it is never
imported on the startup path: the server calls :func:`start_prewarm` once
``initialize`` is answered, and LLM calls await :func:`get_litellm`.

The import is CPU-bound (about 3,000 modules, most of it building pydantic and
typing objects), so it is made cheaper rather than only moved: the cyclic garbage
collector is paused while it runs (its passes over the growing heap were a third
of the import's CPU time), and what is loaded by then is frozen out of later
collections, so they never walk litellm's heap while the event loop waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import importlib
import logging
import os
import sys
import threading
import time
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
# Imported lazily by the first real call, on the event loop, after the mock warm-up:
# the HTTP stack's asyncio backend and litellm's service logging (litellm 1.110).
_CALL_PATH_MODULES = (
    "anyio._backends._asyncio",
    "litellm._service_logger",
    "litellm.integrations.prometheus_services",
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
        started = time.perf_counter()
        with _collector_paused():
            try:
                with _hidden_env(_HIDDEN_DURING_IMPORT):
                    module = importlib.import_module("litellm")
            except Exception as exc:
                raise LLMError(
                    f"litellm could not be imported ({type(exc).__name__}: "
                    f"{redact(str(exc))}); reinstall samokoder with its dependencies",
                    retryable=False,
                ) from None
            imported = time.perf_counter()
            _configure(module)
            _warm_up(module)
            _module = module
            # Out of later passes, and the pass that follows re-enabling has next
            # to nothing to walk (unfrozen, it stalls whatever thread runs it ~0.2 s).
            gc.freeze()
        logger.info(
            "litellm ready: import %.2f s, warm-up %.2f s",
            imported - started,
            time.perf_counter() - imported,
        )
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
            module = load_litellm()
        except BaseException as exc:
            future.set_exception(exc)
            return
        future.set_result(module)
        _warm_tokenizer(module)  # after the result: no call waits for it

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
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in any thread while litellm loads (restored after)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    """Run one offline mock call so the first real call does not pay for lazy imports
    on the event loop (without it, the first call reaches the provider ~1.8 s late).

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
        module.cost_per_token(model="openai/gpt-4o-mini", prompt_tokens=1, completion_tokens=1)
        for name in _CALL_PATH_MODULES:
            importlib.import_module(name)
        http_handler = importlib.import_module("litellm.llms.custom_httpx.http_handler")
        http_handler.get_ssl_configuration()  # cached: the first HTTPS client reuses it
    except Exception as exc:
        logger.debug("litellm warm-up failed: %s", redact(str(exc)))


def _warm_tokenizer(module: ModuleType) -> None:
    """Load the tokenizer a budget check or a reply without usage needs (~0.3 s);
    those count tokens in a worker thread, so no call has to wait for this."""
    try:
        module.token_counter(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "w"}]
        )
    except Exception as exc:
        logger.debug("tokenizer warm-up failed: %s", redact(str(exc)))


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
