"""One logical chat request: cache, budget, breaker, retries and fallbacks around stream_chat.

Why not litellm's Router: in 1.110 it retries and falls back only before a stream's
first token (a stream cut mid-way surfaces as an APIConnectionError, no retry, no
fallback); it reports retries only as counters in response headers, so the ledger
could not have a row per attempt; skipping a model whose circuit is open means
rebuilding its fallback table per call; and the key would live in its model list.
This loop is small and uses litellm's exception types through
:mod:`samokoder.llm.failures`: each attempt is one HTTP request with ``max_retries=0``,
so a retry is counted once.

Order per model of the chain: response cache, circuit breaker, budget, then the call
with retries by failure kind (honouring Retry-After); after the last retry, the next
model. The breaker counts turns, not attempts: a failure a retry absorbs is not one.
Cancellation propagates at once: an open stream is closed by stream_chat, a pending
retry wait is abandoned.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from samokoder.errors import LLMError
from samokoder.llm import failures
from samokoder.llm.breaker import BREAKERS, BreakerRegistry
from samokoder.llm.budget import Reservation, RunBudget, worst_case
from samokoder.llm.cache import CachedReply, ResponseCache, request_key
from samokoder.llm.client import Completion, ModelCall, stream_chat
from samokoder.llm.runtime import get_litellm
from samokoder.llm.truncation import after_truncation, continuation, joined, model_limits

logger = logging.getLogger(__name__)

# Retries after the first attempt, per failure kind; kinds not listed are not retried.
DEFAULT_RETRIES: Final[Mapping[str, int]] = {
    failures.RATE_LIMIT: 2,
    failures.SERVER: 2,
    failures.TIMEOUT: 1,
    failures.CONNECTION: 2,
    failures.CUT_STREAM: 2,
}


@dataclass(frozen=True)
class RetryPolicy:
    retries: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RETRIES))
    base_delay: float = 0.5  # seconds before the first retry; doubles, with jitter
    max_delay: float = 8.0
    max_retry_after: float = 20.0  # a longer wait asked by the provider: fall back instead

    def delay(self, kind: str, retried: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number ``retried + 1``, or None: do not retry."""
        if retried >= self.retries.get(kind, 0):
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.max_delay, self.base_delay * 2.0**retried)
        return backoff * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not crypto)


DEFAULT_POLICY: Final = RetryPolicy()


@dataclass(frozen=True)
class AttemptRecord:
    """One provider attempt (or cache hit) of a logical request: a row of the ledger."""

    model: str
    retries: int  # attempts before this one in the same logical request
    latency_ms: float
    completion: Completion | None = None
    error_kind: str | None = None
    cache_hit: bool = False


class Sender(Protocol):
    def __call__(
        self,
        call: ModelCall,
        messages: list[dict[str, Any]],
        on_delta: Callable[[str], None] | None = None,
        *,
        response_format: dict[str, Any] | None = None,
    ) -> Awaitable[Completion]: ...


Recorder = Callable[[AttemptRecord], Awaitable[None]]


@dataclass
class ChatOptions:
    """How one logical request is served; every part is optional."""

    policy: RetryPolicy = DEFAULT_POLICY
    breakers: BreakerRegistry = field(default_factory=lambda: BREAKERS)
    cache: ResponseCache | None = None
    cache_max_bytes: int | None = None
    budget: RunBudget | None = None
    record: Recorder | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    send: Sender = stream_chat


async def resilient_chat(
    calls: Sequence[ModelCall],
    messages: list[dict[str, str]],
    on_delta: Callable[[str], None] | None = None,
    *,
    response_format: dict[str, Any] | None = None,
    options: ChatOptions | None = None,
) -> Completion:
    """The first answer along ``calls`` (main model, then fallbacks).

    Raises BudgetExhaustedError before a call that could overshoot the budget, and an
    LLMError naming each model's last failure when none answered. After a retry,
    ``on_delta`` starts again from the first piece of the new reply.
    """
    if not calls:
        raise ValueError("resilient_chat needs at least one model")
    request = _Request(options or ChatOptions(), messages, on_delta, response_format)
    for call in calls:
        completion = await request.turn(call)
        if completion is not None:
            return completion
    raise _all_failed(calls, request.last)


@dataclass
class _Request:
    """The state of one logical request as it moves along the chain of models."""

    opts: ChatOptions
    messages: list[dict[str, str]]
    on_delta: Callable[[str], None] | None
    response_format: dict[str, Any] | None
    attempts: int = 0  # provider attempts so far, all models
    last: dict[str, LLMError] = field(default_factory=dict)  # each model's last failure

    async def turn(self, call: ModelCall) -> Completion | None:
        """One model's turn: the cache, then calls with retries; None: try the next model.

        The breaker hears one outcome per turn: success, a failure (when the turn ends on
        a health failure), or nothing (setup and request errors, cancellation).
        """
        opts = self.opts
        params = {"response_format": self.response_format} if self.response_format else {}
        cache_key = request_key(call, self.messages, params) if opts.cache is not None else None
        hit = await _cached(opts, cache_key, call, self.attempts, self.on_delta)
        if hit is not None:
            return hit
        circuit = opts.breakers.key(call.model, call.api_base)
        grant = opts.breakers.acquire(circuit)
        if grant is None:
            self.last[call.model] = _skipped(opts.breakers, circuit, call)
            logger.warning("skipping %s: its circuit is open", call.model)
            return None
        settled = False
        try:
            completion, error = await self._calls(call, probe=grant == "probe")
            settled = True
            if completion is not None:
                opts.breakers.success(circuit)
            elif error is not None and getattr(error, "kind", None) in failures.HEALTH_KINDS:
                opts.breakers.failure(circuit, error.message)
            else:
                opts.breakers.release(circuit)
        finally:
            if not settled:  # cancelled, over budget, or a caller's bug: no verdict
                opts.breakers.release(circuit)
        if completion is None:
            return None
        if cache_key is not None and opts.cache is not None:
            reply = CachedReply(
                completion.model,
                completion.text,
                completion.prompt_tokens,
                completion.completion_tokens,
            )
            await asyncio.to_thread(opts.cache.put, cache_key, reply, opts.cache_max_bytes)
        if self.attempts:
            logger.info("%s answered after %d failed attempt(s)", call.model, self.attempts)
        return replace(completion, retries=self.attempts, cache_key=cache_key)

    async def _calls(
        self, call: ModelCall, *, probe: bool
    ) -> tuple[Completion | None, LLMError | None]:
        """Call the model, retrying by failure kind (a probe gets one attempt only)."""
        opts = self.opts
        retried = 0
        while True:
            started = time.perf_counter()
            try:
                completion = await self._complete(call)
            except asyncio.CancelledError:
                await _record_shielded(opts, call, self.attempts, started, failures.CANCELLED)
                raise
            except LLMError as exc:
                kind = getattr(exc, "kind", failures.OTHER)
                paid = exc.partial if isinstance(exc, failures.TruncatedReplyError) else None
                record = AttemptRecord(call.model, self.attempts, _ms(started), paid, kind)
                await _record(opts, record)
                self.attempts += 1
                self.last[call.model] = exc
                wait = getattr(exc, "retry_after", None)
                delay = None if probe else opts.policy.delay(kind, retried, wait)
                if delay is None:
                    return None, exc
                retried += 1
                logger.info("retrying %s in %.2f s after %s", call.model, delay, kind)
                await opts.sleep(delay)
                continue
            record = AttemptRecord(call.model, self.attempts, _ms(started), completion)
            await _record(opts, record)
            return completion, None

    async def _complete(self, call: ModelCall) -> Completion:
        """One attempt whose reply is complete: a reply stopped at the output limit is
        continued or asked again with more room (each part a ledger row of its own), or
        the attempt fails with TruncatedReplyError naming the limit to raise."""
        current, messages = call, self.messages
        parts: list[Completion] = []
        continuations, reasked = 0, False
        while True:
            started = time.perf_counter()
            try:
                completion = await _attempt(
                    self.opts, current, messages, self.on_delta, self.response_format
                )
            except failures.TruncatedReplyError as exc:
                partial = exc.partial
                limits = model_limits(await get_litellm(), call.model)
                written = sum(p.completion_tokens for p in parts) + partial.completion_tokens
                step = after_truncation(
                    current, limits, written, continuations=continuations, reasked=reasked
                )
                if step.action == "give_up":
                    message = failures.truncated_message(current, written, limits.max_output)
                    raise failures.TruncatedReplyError(message, partial) from None
                record = AttemptRecord(
                    call.model, self.attempts, _ms(started), partial, failures.TRUNCATED
                )
                await _record(self.opts, record)
                self.attempts += 1
                if step.action == "continue":
                    parts.append(partial)
                    continuations += 1
                    messages = continuation(self.messages, "".join(p.text for p in parts))
                else:
                    logger.info("%s stopped at its output limit; asking again", call.model)
                    parts.clear()
                    reasked = True
                    current = replace(current, max_tokens=step.max_tokens)
                    messages = self.messages
                continue
            return joined([*parts, completion]) if parts else completion


async def _attempt(
    opts: ChatOptions,
    call: ModelCall,
    messages: list[dict[str, Any]],
    on_delta: Callable[[str], None] | None,
    response_format: dict[str, Any] | None,
) -> Completion:
    """One provider call, with the budget held for its worst case while it runs."""
    reservation: Reservation | None = None
    if opts.budget is not None:
        litellm = await get_litellm()
        worst = await asyncio.to_thread(worst_case, litellm, call.model, messages, call.max_tokens)
        reservation = opts.budget.reserve(call.model, worst)
    cost = 0.0
    try:
        completion = await opts.send(call, messages, on_delta, response_format=response_format)
        cost = completion.cost_usd
        return completion
    except failures.TruncatedReplyError as exc:
        cost = exc.partial.cost_usd  # a cut-off reply is still paid for
        raise
    finally:
        if opts.budget is not None and reservation is not None:
            opts.budget.settle(reservation, cost)


async def _cached(
    opts: ChatOptions,
    key: str | None,
    call: ModelCall,
    attempts: int,
    on_delta: Callable[[str], None] | None,
) -> Completion | None:
    if key is None or opts.cache is None:
        return None
    started = time.perf_counter()
    hit = await asyncio.to_thread(opts.cache.get, key)
    if hit is None:
        return None
    if on_delta is not None and hit.text:
        on_delta(hit.text)
    completion = Completion(
        text=hit.text,
        model=call.model,
        prompt_tokens=hit.prompt_tokens,
        completion_tokens=hit.completion_tokens,
        cost_usd=0.0,
        latency_ms=_ms(started),
        cache_hit=True,
        retries=attempts,
        cache_key=key,
    )
    await _record(opts, AttemptRecord(call.model, attempts, completion.latency_ms, cache_hit=True))
    logger.debug("response cache hit for %s", call.model)
    return completion


async def _record(opts: ChatOptions, record: AttemptRecord) -> None:
    if opts.record is not None:
        await opts.record(record)


async def _record_shielded(
    opts: ChatOptions, call: ModelCall, attempts: int, started: float, kind: str
) -> None:
    """Record a cancelled attempt even though the task is being cancelled."""
    if opts.record is None:
        return
    record = AttemptRecord(call.model, attempts, _ms(started), None, kind)
    try:
        await asyncio.shield(opts.record(record))
    except asyncio.CancelledError:
        pass  # cancelled again: the shielded write still finishes
    except Exception:
        logger.exception("could not record a cancelled LLM attempt")


def _skipped(breakers: BreakerRegistry, circuit: str, call: ModelCall) -> LLMError:
    view = breakers.view(circuit)
    cause = f" (last: {view.last_error})" if view.last_error else ""
    message = (
        f"Model {call.model} is paused after {view.failures} failures in a row{cause}; "
        f"one probe call will try it again in {max(view.retry_in, 0.0):.0f} s. Configure "
        "fallbackModels to keep working meanwhile."
    )
    return failures.ProviderError(message, kind="circuit_open", retryable=True)


def _all_failed(calls: Sequence[ModelCall], last: Mapping[str, LLMError]) -> LLMError:
    if len(last) == 1:
        return next(iter(last.values()))
    parts = [f"{call.model}: {last[call.model].message}" for call in calls if call.model in last]
    first = last.get(calls[0].model)
    return failures.ProviderError(
        "No model could answer. " + " | ".join(parts),
        kind=getattr(first, "kind", failures.OTHER),
        retryable=any(error.retryable for error in last.values()),
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
