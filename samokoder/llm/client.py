"""One streaming chat call through litellm, with usage, cost, cancellation and clear errors.

litellm does the provider work; this adds what an editor user needs: a deadline on the
whole call (a model that keeps streaming is stopped too), a stream closed as soon as its
task is cancelled, a reply used only when the model said it was complete (a cut stream,
a reply stopped at the output limit and a filtered reply are failures), the cost the
provider reports, and errors that say what to fix without ever showing the key.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from samokoder.errors import LLMError, NoModelConfiguredError
from samokoder.llm.calls import Completion, ModelCall
from samokoder.llm.failures import (
    CONTENT_FILTER,
    CUT_STREAM,
    DEADLINE,
    TIMEOUT,
    TruncatedReplyError,
    classify,
    cut_message,
    failure,
    truncated_message,
    where,
)
from samokoder.llm.prompt_cache import with_breakpoints
from samokoder.llm.runtime import get_litellm

__all__ = ["NO_MODEL_MESSAGE", "Completion", "ModelCall", "stream_chat"]

logger = logging.getLogger(__name__)

NO_MODEL_MESSAGE = (
    "No model configured: set SAMOKODER_MODEL (e.g. openai/gpt-4o-mini) or the `model` "
    "setting; for a local server also set SAMOKODER_API_BASE"
)
_CLOSE_TIMEOUT = 2.0
# Finish reasons that mean the reply stopped at a limit rather than where the model ended it.
_LENGTH_REASONS = frozenset({"length", "max_tokens"})
_FILTER_REASONS = frozenset({"content_filter", "safety", "recitation"})


async def stream_chat(
    call: ModelCall,
    messages: list[dict[str, Any]],
    on_delta: Callable[[str], None] | None = None,
    *,
    response_format: dict[str, Any] | None = None,
) -> Completion:
    """Stream one chat completion, calling ``on_delta`` with each piece of text.

    Raises NoModelConfiguredError for an empty model and ProviderError (an LLMError with
    ``retryable`` and a failure ``kind``) for every provider failure, including a stream
    that ends before the model finished, a reply stopped at the output limit
    (TruncatedReplyError, carrying the partial reply) and a call that outlives
    ``call.timeout``. Cancelling the awaiting task closes the HTTP stream at once.
    """
    if not call.model.strip():
        raise NoModelConfiguredError(NO_MODEL_MESSAGE)
    litellm = await get_litellm()
    started = time.perf_counter()
    reply = _Reply()
    try:
        async with asyncio.timeout(call.timeout):
            await _receive(litellm, call, messages, response_format, reply, on_delta)
    except TimeoutError:
        raise _deadline(call, reply) from None
    if reply.finish_reason is None:
        raise failure(call, cut_message(call), CUT_STREAM)
    text = "".join(reply.pieces)
    prompt_tokens, completion_tokens = _reported_usage(reply.usage)
    estimated = not reply.usage_reported or (not prompt_tokens and not completion_tokens)
    if not prompt_tokens and not completion_tokens:
        prompt_tokens, completion_tokens = await asyncio.to_thread(
            _estimate_usage, litellm, call.model, messages, text
        )
    reported_cost = _reported_cost(reply.usage)
    cached, written = _cache_usage(reply.usage)
    uncached_cost = _cost(litellm, call.model, prompt_tokens, completion_tokens)
    billed = _cost(litellm, call.model, prompt_tokens, completion_tokens, cached, written)
    completion = Completion(
        text=text,
        model=call.model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=(reported_cost if reported_cost is not None else billed),
        latency_ms=(time.perf_counter() - started) * 1000,
        finish_reason=reply.finish_reason,
        tokens_estimated=estimated,
        cost_reported=reported_cost is not None,
        cached_tokens=cached,
        cache_write_tokens=written,
        saved_usd=uncached_cost - billed,
    )
    if reply.finish_reason in _LENGTH_REASONS:
        message = truncated_message(call, completion_tokens, None)
        raise TruncatedReplyError(message, completion)
    if reply.finish_reason in _FILTER_REASONS:
        raise failure(
            call,
            f"Model {call.model} at {where(call.api_base)} withheld its reply "
            f"(finish_reason {reply.finish_reason!r}): rephrase the request or use another "
            "model; nothing of the reply was used",
            CONTENT_FILTER,
        )
    return completion


@dataclass
class _Reply:
    """What has arrived so far: kept outside the deadline so a timeout can say how far."""

    pieces: list[str] = field(default_factory=list)
    usage: Any = None
    finish_reason: str | None = None
    usage_reported: bool = False  # the provider sent usage (litellm fills it in otherwise)


async def _receive(
    litellm: ModuleType,
    call: ModelCall,
    messages: list[dict[str, Any]],
    response_format: dict[str, Any] | None,
    reply: _Reply,
    on_delta: Callable[[str], None] | None,
) -> None:
    stream: Any = None
    try:
        opening = _open_stream(litellm, call, messages, response_format)
        stream = await _guarded(opening, litellm, call, "connect")
        iterator = aiter(stream)
        while True:
            chunk = await _guarded(_next_chunk(iterator), litellm, call, "stream")
            if chunk is None:
                reply.usage_reported = _provider_sent_usage(stream, reply.usage)
                return
            reply.usage = getattr(chunk, "usage", None) or reply.usage
            for choice in getattr(chunk, "choices", None) or ():
                text = _delta_text(choice)
                if text:
                    reply.pieces.append(text)
                    if on_delta is not None:
                        on_delta(text)
                reason = getattr(choice, "finish_reason", None)
                if isinstance(reason, str) and reason:
                    reply.finish_reason = reason
    finally:
        if stream is not None:
            await _close_stream(stream)


def _deadline(call: ModelCall, reply: _Reply) -> LLMError:
    at = where(call.api_base)
    if not reply.pieces:
        return failure(
            call,
            f"Model {call.model} at {at} sent nothing for {call.timeout:g} s (timeout): the "
            "server may be overloaded or unreachable; try again or raise requestTimeout",
            TIMEOUT,
        )
    return failure(
        call,
        f"Model {call.model} at {at} was still writing its reply when requestTimeout "
        f"({call.timeout:g} s for the whole call) ran out, so none of it was used: raise "
        "requestTimeout, set maxTokens lower, or ask for a smaller change",
        DEADLINE,
    )


async def _open_stream(
    litellm: ModuleType,
    call: ModelCall,
    messages: list[dict[str, Any]],
    response_format: dict[str, Any] | None,
) -> Any:
    kwargs: dict[str, Any] = {
        "model": call.model,
        "messages": with_breakpoints(call.model, messages),
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
    return await litellm.acompletion(**kwargs)


async def _next_chunk(iterator: AsyncIterator[Any]) -> Any | None:
    try:
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


def _provider_sent_usage(stream: Any, usage: Any) -> bool:
    """Whether the usage came from the provider: when a server sends none, litellm counts
    the tokens itself and hands that over as if reported. Its stream keeps the provider's
    chunks (litellm 1.110); without them, any usage counts as reported."""
    chunks = getattr(stream, "chunks", None)
    if not isinstance(chunks, list):
        return usage is not None
    return any(getattr(chunk, "usage", None) is not None for chunk in chunks)


def _reported_cost(usage: Any) -> float | None:
    """The cost a LiteLLM proxy puts in the last chunk's usage, when it does."""
    cost = getattr(usage, "cost", None) if usage is not None else None
    if isinstance(cost, bool) or not isinstance(cost, int | float):
        return None
    return float(cost) if math.isfinite(cost) and cost >= 0 else None


def _estimate_usage(
    litellm: ModuleType, model: str, messages: list[dict[str, Any]], text: str
) -> tuple[int, int]:
    """Token counts when the provider sent none (blocking: run in a thread)."""
    try:
        prompt = int(litellm.token_counter(model=model, messages=messages))
        completion = int(litellm.token_counter(model=model, text=text)) if text else 0
        return prompt, completion
    except Exception:
        chars = sum(len(m.get("content") or "") for m in messages)
        return math.ceil(chars / 4), math.ceil(len(text) / 4)


def _cache_usage(usage: Any) -> tuple[int, int]:
    """(tokens read from, tokens written to) the provider's prompt cache, as it reported
    them: OpenAI-style ``prompt_tokens_details.cached_tokens`` (litellm puts Anthropic's
    cache reads there too) or ``cache_read_input_tokens``; Anthropic's
    ``cache_creation_input_tokens``."""
    if usage is None:
        return 0, 0
    details = getattr(usage, "prompt_tokens_details", None)
    read = getattr(details, "cached_tokens", None) if details is not None else None
    if not isinstance(read, int) or isinstance(read, bool):
        read = getattr(usage, "cache_read_input_tokens", None)
    written = getattr(usage, "cache_creation_input_tokens", None)
    return (
        read if isinstance(read, int) and not isinstance(read, bool) and read > 0 else 0,
        written
        if isinstance(written, int) and not isinstance(written, bool) and written > 0
        else 0,
    )


def _cost(
    litellm: ModuleType,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    cached: int = 0,
    written: int = 0,
) -> float:
    """litellm's price for the call; cached and written tokens are part of prompt_tokens."""
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cache_read_input_tokens=cached,
            cache_creation_input_tokens=written,
        )
        return float(prompt_cost) + float(completion_cost)
    except Exception:
        return 0.0  # litellm has no price for this model (local servers, proxies)
