"""One streaming chat call through litellm, with usage, cost, cancellation and clear errors.

litellm does the provider work; this adds what an editor user needs: a timeout that
always holds, a stream closed as soon as its task is cancelled, a cut stream treated
as a failure, and errors that say what to fix without ever showing the key.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from samokoder.errors import LLMError, NoModelConfiguredError
from samokoder.llm.redact import redact
from samokoder.llm.runtime import get_litellm

logger = logging.getLogger(__name__)

NO_MODEL_MESSAGE = (
    "No model configured: set SAMOKODER_MODEL (e.g. openai/gpt-4o-mini) or the `model` "
    "setting; for a local server also set SAMOKODER_API_BASE"
)
_CLOSE_TIMEOUT = 2.0
# litellm's own timeout (per connect and per read) normally fires first; this backstop
# holds for providers or transports that ignore it.
_TIMEOUT_MARGIN = 1.0
_DETAIL_LIMIT = 300
# The environment variable litellm reads for each provider prefix.
_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "azure": "AZURE_API_KEY",
    "litellm_proxy": "LITELLM_PROXY_API_KEY",
}


@dataclass(frozen=True)
class ModelCall:
    """Everything needed to reach one model; frozen so a run can snapshot it."""

    model: str  # litellm model string, e.g. "openai/gpt-4o-mini", "ollama_chat/llama3"
    api_base: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    timeout: float = 120.0  # seconds; bounds connecting and every wait for the next chunk
    max_tokens: int | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # the requested litellm model string
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # 0.0 when litellm has no price for the model
    latency_ms: float


async def stream_chat(
    call: ModelCall,
    messages: list[dict[str, str]],
    on_delta: Callable[[str], None] | None = None,
) -> Completion:
    """Stream one chat completion, calling ``on_delta`` with each piece of text.

    Raises NoModelConfiguredError for an empty model and LLMError (with ``retryable``)
    for every provider failure, including a stream that ends before the model finished.
    Cancelling the awaiting task closes the HTTP stream at once.
    """
    if not call.model.strip():
        raise NoModelConfiguredError(NO_MODEL_MESSAGE)
    litellm = await get_litellm()
    started = time.perf_counter()
    pieces: list[str] = []
    usage: Any = None
    finished = False
    stream: Any = None
    phase = "connect"
    try:
        stream = await _guarded(_open_stream(litellm, call, messages), litellm, call, phase)
        phase = "stream"
        iterator = aiter(stream)
        while True:
            chunk = await _guarded(_next_chunk(iterator, call.timeout), litellm, call, phase)
            if chunk is None:
                break
            usage = getattr(chunk, "usage", None) or usage
            for choice in getattr(chunk, "choices", None) or ():
                text = _delta_text(choice)
                if text:
                    pieces.append(text)
                    if on_delta is not None:
                        on_delta(text)
                if getattr(choice, "finish_reason", None):
                    finished = True
    finally:
        if stream is not None:
            await _close_stream(stream)
    if not finished:
        raise _error(call, _cut_message(call), retryable=True)
    text = "".join(pieces)
    prompt_tokens, completion_tokens = _reported_usage(usage)
    if not prompt_tokens and not completion_tokens:
        prompt_tokens, completion_tokens = await asyncio.to_thread(
            _estimate_usage, litellm, call.model, messages, text
        )
    return Completion(
        text=text,
        model=call.model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=_cost(litellm, call.model, prompt_tokens, completion_tokens),
        latency_ms=(time.perf_counter() - started) * 1000,
    )


async def _open_stream(litellm: ModuleType, call: ModelCall, messages: list[dict[str, str]]) -> Any:
    kwargs: dict[str, Any] = {
        "model": call.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": call.temperature,
        "timeout": call.timeout,
        "max_retries": 0,  # the OpenAI SDK would otherwise retry twice, silently
        "num_retries": 0,
        "drop_params": True,
    }
    if call.api_base:
        kwargs["api_base"] = call.api_base
    if call.api_key:
        kwargs["api_key"] = call.api_key
    if call.max_tokens is not None:
        kwargs["max_tokens"] = call.max_tokens
    async with asyncio.timeout(call.timeout + _TIMEOUT_MARGIN):
        return await litellm.acompletion(**kwargs)


async def _next_chunk(iterator: AsyncIterator[Any], idle_limit: float) -> Any | None:
    try:
        async with asyncio.timeout(idle_limit + _TIMEOUT_MARGIN):
            return await anext(iterator)
    except StopAsyncIteration:
        return None


async def _guarded(
    awaitable: Awaitable[Any], litellm: ModuleType, call: ModelCall, phase: str
) -> Any:
    """Await a litellm step, turning any failure except cancellation into LLMError."""
    try:
        return await awaitable
    except LLMError:
        raise
    except Exception as exc:
        raise _classify(exc, litellm, call, phase) from None


async def _close_stream(stream: Any) -> None:
    """Close the HTTP stream, even while the task is being cancelled."""
    close = getattr(stream, "aclose", None)
    if close is None:
        return
    try:
        await asyncio.shield(asyncio.wait_for(close(), _CLOSE_TIMEOUT))
    except asyncio.CancelledError:
        raise  # cancelled again while closing: the shielded close still finishes
    except Exception as exc:
        logger.debug("closing the LLM stream failed: %s", type(exc).__name__)


def _delta_text(choice: Any) -> str:
    delta = getattr(choice, "delta", None)
    content = getattr(delta, "content", None) if delta is not None else None
    return content if isinstance(content, str) else ""


def _reported_usage(usage: Any) -> tuple[int, int]:
    if usage is None:
        return 0, 0
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    return (
        prompt if isinstance(prompt, int) else 0,
        completion if isinstance(completion, int) else 0,
    )


def _estimate_usage(
    litellm: ModuleType, model: str, messages: list[dict[str, str]], text: str
) -> tuple[int, int]:
    """Token counts when the provider sent none (blocking: run in a thread)."""
    try:
        prompt = int(litellm.token_counter(model=model, messages=messages))
        completion = int(litellm.token_counter(model=model, text=text)) if text else 0
        return prompt, completion
    except Exception:
        chars = sum(len(m.get("content") or "") for m in messages)
        return math.ceil(chars / 4), math.ceil(len(text) / 4)


def _cost(litellm: ModuleType, model: str, prompt_tokens: int, completion_tokens: int) -> float:
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        return float(prompt_cost) + float(completion_cost)
    except Exception:
        return 0.0  # litellm has no price for this model (local servers, proxies)


# -- errors ----------------------------------------------------------------------------


def _error(call: ModelCall, message: str, *, retryable: bool) -> LLMError:
    return LLMError(redact(message, [call.api_key]), retryable=retryable)


def _where(call: ModelCall) -> str:
    if not call.api_base:
        return "the provider's default endpoint"
    parts = urlsplit(call.api_base)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")) or call.api_base


def _key_env(model: str) -> str:
    provider = model.split("/", 1)[0] if "/" in model else "openai"
    return _KEY_ENV.get(provider, f"{provider.upper()}_API_KEY")


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _detail(exc: Exception) -> str:
    """The provider's own words, without litellm's prefixes, shortened."""
    text = str(getattr(exc, "message", None) or exc)
    marker = text.rfind("Exception - ")
    if marker >= 0:
        text = text[marker + len("Exception - ") :]
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


def _cut_message(call: ModelCall) -> str:
    return (
        f"The stream from model {call.model} at {_where(call)} broke off before the answer "
        "was complete: try again"
    )


def _classify(exc: Exception, litellm: ModuleType, call: ModelCall, phase: str) -> LLMError:
    model, where = call.model, _where(call)
    status = _status(exc)
    exceptions = getattr(litellm, "exceptions", None)

    def isa(name: str) -> bool:
        cls = getattr(exceptions, name, None)
        return isinstance(cls, type) and isinstance(exc, cls)

    if isa("AuthenticationError") or status == 401:
        return _error(
            call,
            f"The provider refused the API key (401 Unauthorized) for model {model} at {where}: "
            f"check the key ({_key_env(model)} or the apiKeys setting)",
            retryable=False,
        )
    if isa("PermissionDeniedError") or status == 403:
        return _error(
            call,
            f"The provider denied access (403 Forbidden) to model {model} at {where}: the key "
            f"lacks permission for this model ({_detail(exc)})",
            retryable=False,
        )
    if isa("NotFoundError") or status == 404:
        return _error(
            call,
            f"Model {model} was not found at {where} (404): check the model name (for a local "
            "server, the name it serves) and the API base URL",
            retryable=False,
        )
    if isa("ContextWindowExceededError"):
        return _error(
            call,
            f"The conversation is too long for model {model}'s context window: choose a model "
            "with a larger context or include fewer files",
            retryable=False,
        )
    if "LLM Provider NOT provided" in str(exc):
        return _error(
            call,
            f"litellm does not know which provider serves {model!r}: prefix the model with its "
            "provider, e.g. openai/<name> (with an API base for any OpenAI-compatible server), "
            "ollama_chat/<name> or anthropic/<name>",
            retryable=False,
        )
    if isa("RateLimitError") or status == 429:
        return _error(
            call,
            f"Model {model} at {where} is rate-limited (429 Too Many Requests){_retry_after(exc)}: "
            "wait and try again, or configure a fallback model",
            retryable=True,
        )
    if _caused_by(exc, _TIMEOUT_NAMES) or isa("Timeout") or status == 408:
        return _error(
            call,
            f"Model {model} at {where} sent nothing for {call.timeout:g} s (timeout): the server "
            "may be overloaded or unreachable; try again or raise the timeout",
            retryable=True,
        )
    if phase == "stream" and (
        isa("MidStreamFallbackError") or isa("APIConnectionError") or _caused_by(exc, _NET_NAMES)
    ):
        return _error(call, f"{_cut_message(call)} ({_detail(exc)})", retryable=True)
    if isa("APIConnectionError") or _caused_by(exc, _NET_NAMES):
        return _error(
            call,
            f"Could not reach {where} for model {model}: is the server running and the API base "
            f"URL right? ({_detail(exc)})",
            retryable=True,
        )
    if status is not None and status >= 500:
        return _error(
            call,
            f"The provider failed ({status}) for model {model} at {where}: try again later "
            f"({_detail(exc)})",
            retryable=True,
        )
    if isa("BadRequestError") or isa("UnprocessableEntityError") or status in (400, 422):
        return _error(
            call,
            f"The provider rejected the request ({status or 400}) for model {model} at {where}: "
            f"{_detail(exc)}",
            retryable=False,
        )
    return _error(
        call,
        f"The call to model {model} at {where} failed ({type(exc).__name__}): {_detail(exc)}",
        retryable=False,
    )


# Matched by class name anywhere in an exception's chain and MRO, so that openai,
# httpx and aiohttp failures are recognised without importing those libraries.
_TIMEOUT_NAMES = frozenset(
    {"TimeoutError", "APITimeoutError", "TimeoutException", "ServerTimeoutError"}
)
_NET_NAMES = frozenset(
    {
        "APIConnectionError",
        "ConnectionError",
        "TransportError",
        "ClientConnectionError",
        "ClientPayloadError",
    }
)


def _caused_by(exc: BaseException, names: frozenset[str]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(cls.__name__ in names for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


def _retry_after(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    return f"; the provider asks to wait {value} s" if value else ""
