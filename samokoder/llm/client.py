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

from samokoder.errors import LLMError, NoModelConfiguredError
from samokoder.llm.failures import CUT_STREAM, classify, cut_message, failure
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
    cache_hit: bool = False  # served from the response cache: no provider call, no cost
    retries: int = 0  # attempts (retries and fallbacks) before the one that answered
    cache_key: str | None = None  # where the reply sits in the response cache, if it does


async def stream_chat(
    call: ModelCall,
    messages: list[dict[str, str]],
    on_delta: Callable[[str], None] | None = None,
    *,
    response_format: dict[str, Any] | None = None,
) -> Completion:
    """Stream one chat completion, calling ``on_delta`` with each piece of text.

    Raises NoModelConfiguredError for an empty model and ProviderError (an LLMError with
    ``retryable`` and a failure ``kind``) for every provider failure, including a stream
    that ends before the model finished. Cancelling the awaiting task closes the HTTP
    stream at once. ``response_format`` asks for JSON-schema output where supported.
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
        opening = _open_stream(litellm, call, messages, response_format)
        stream = await _guarded(opening, litellm, call, phase)
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
        raise failure(call, cut_message(call), CUT_STREAM)
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


async def _open_stream(
    litellm: ModuleType,
    call: ModelCall,
    messages: list[dict[str, str]],
    response_format: dict[str, Any] | None,
) -> Any:
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
    if response_format is not None:
        kwargs["response_format"] = response_format
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
        raise classify(exc, litellm, call, phase) from None


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
