"""Every model call of a run goes through here: the model chosen for the agent, the run's
budget, the shared cache and breakers, and a usage-ledger row for every attempt.

Ledger rule: one row per provider attempt (a retry or a fallback is a row of its own,
with ``retries`` = attempts before it in the same logical request, ``error_class`` the
failure kind) plus one row per cache hit (``cache_hit`` 1, no tokens, cost 0). So
``requests`` in usage counts what reached a provider or the cache, by the model that
served it, and the run's cost is the sum of what providers charged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from samokoder.agents.runs import Run
from samokoder.errors import LLMError, NoModelConfiguredError
from samokoder.llm import failures, structured
from samokoder.llm.cache import default_cache, should_cache
from samokoder.llm.client import Completion, ModelCall
from samokoder.llm.models import (
    NO_MODEL_MESSAGE,
    ResolvedModel,
    call_chain,
    resolve_model,
    resolve_now,
)
from samokoder.llm.resilience import AttemptRecord, ChatOptions, resilient_chat
from samokoder.llm.runtime import get_litellm
from samokoder.settings import Settings
from samokoder.store.rows import LLMRequestRow

log = logging.getLogger(__name__)

NO_MODEL = NO_MODEL_MESSAGE
_MB = 1024 * 1024

T = TypeVar("T", bound=BaseModel)

# (model, api base) -> the structured-output mode its server was found to take, so the
# "unsupported" answer is met once per server process, not once per call.
_modes: dict[tuple[str, str | None], structured.Mode] = {}


async def ensure_model(settings: Settings, agent: str) -> ResolvedModel:
    """The model an agent will use, probing a local Ollama if nothing is configured.

    For command handlers, before a run starts: raises NoModelConfiguredError (with how
    to configure one) at once instead of failing the run later.
    """
    return await resolve_model(settings, agent)


def model_call(ctx: Run, agent: str) -> ModelCall:
    """The agent's main model (no network; an Ollama found by ensure_model counts)."""
    resolved = ctx.models.get(agent) or resolve_now(ctx.settings, agent)
    if resolved is None:
        raise NoModelConfiguredError(NO_MODEL)
    ctx.models[agent] = resolved
    return call_chain(ctx.settings, resolved)[0]


async def model_calls(ctx: Run, agent: str) -> list[ModelCall]:
    """The agent's main model followed by the fallback models; resolved once per run."""
    resolved = ctx.models.get(agent)
    if resolved is None:
        resolved = ctx.models[agent] = await resolve_model(ctx.settings, agent)
    return call_chain(ctx.settings, resolved)


async def chat(
    ctx: Run,
    agent: str,
    messages: list[dict[str, str]],
    on_delta: Callable[[str], None] | None = None,
    *,
    response_format: dict[str, object] | None = None,
) -> Completion:
    """One logical request: cached, budgeted, retried, falling back, and in the ledger."""
    calls = await model_calls(ctx, agent)
    settings = ctx.settings
    cached = should_cache(
        settings.temperature,
        enabled=settings.cache,
        any_temperature=settings.cache_any_temperature,
    )

    async def record(attempt: AttemptRecord) -> None:
        await _ledger(ctx, agent, attempt)

    options = ChatOptions(
        cache=default_cache() if cached else None,
        cache_max_bytes=int(settings.cache_max_mb * _MB),
        budget=ctx.budget,
        record=record,
    )
    assert ctx.model_gate is not None  # set by Run
    async with ctx.model_gate:
        return await resilient_chat(
            calls, messages, on_delta, response_format=response_format, options=options
        )


async def chat_structured(
    ctx: Run,
    agent: str,
    messages: list[dict[str, str]],
    schema: type[T],
    *,
    on_delta: Callable[[str], None] | None = None,
    max_attempts: int = 3,
) -> tuple[T, Completion]:
    """A reply validated as ``schema``; an invalid one goes back with the error.

    The structured-output mode comes from the ``structuredOutput`` setting (``auto``:
    JSON-schema mode where litellm says the main model supports it, else the schema in
    the prompt); a server that says a mode is unsupported gets the next one at once.
    Raises LLMError naming the schema and the last problem after ``max_attempts``
    invalid replies.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    main = (await model_calls(ctx, agent))[0]
    mode = _modes.get((main.model, main.api_base)) or structured.choose_mode(
        await get_litellm(), main.model, ctx.settings.structured_mode_for(main.model)
    )
    history: list[dict[str, str]] = []  # invalid replies and the feedback on them
    problem: structured.StructuredReplyError | None = None
    attempts = 0
    while attempts < max_attempts:
        response_format, in_prompt = structured.request_parts(mode, schema)
        conversation = [
            *structured.with_instruction(messages, schema, in_prompt=in_prompt),
            *history,
        ]
        try:
            completion = await chat(
                ctx, agent, conversation, on_delta, response_format=response_format
            )
        except LLMError as exc:
            lower = structured.next_mode(mode)
            if getattr(exc, "kind", None) != failures.UNSUPPORTED or lower is None:
                raise
            log.warning("%s does not take %s output; asking with %s", main.model, mode, lower)
            mode = _modes[(main.model, main.api_base)] = lower
            continue  # not the model's fault: not an attempt
        attempts += 1
        try:
            return structured.parse_reply(completion.text, schema), completion
        except structured.StructuredReplyError as exc:
            problem = exc
            await _forget(completion)
            history += [
                {"role": "assistant", "content": completion.text},
                {"role": "user", "content": structured.feedback(exc, schema)},
            ]
    raise structured.SchemaMismatchError(
        f"The model's reply did not match the {schema.__name__} schema after {max_attempts} "
        f"attempt(s); last problem: {problem}",
        retryable=False,
    )


async def _forget(completion: Completion) -> None:
    """Drop an unusable reply from the cache, so a later run asks the model again."""
    if completion.cache_key is not None:
        await asyncio.to_thread(default_cache().discard, completion.cache_key)


async def _ledger(ctx: Run, agent: str, attempt: AttemptRecord) -> None:
    done = attempt.completion
    row = LLMRequestRow(
        run_id=ctx.run_id,
        agent=agent,
        model=attempt.model,
        prompt_tokens=done.prompt_tokens if done is not None else 0,
        completion_tokens=done.completion_tokens if done is not None else 0,
        cost_usd=done.cost_usd if done is not None else 0.0,
        latency_ms=attempt.latency_ms,
        cache_hit=attempt.cache_hit,
        retries=attempt.retries,
        error_class=attempt.error_kind,
        created_at=time.time(),
        tokens_estimated=done.tokens_estimated if done is not None else False,
        cached_tokens=done.cached_tokens if done is not None else 0,
        cache_write_tokens=done.cache_write_tokens if done is not None else 0,
        saved_usd=done.saved_usd if done is not None else 0.0,
    )
    ctx.spent_usd += row.cost_usd
    try:
        await asyncio.to_thread(ctx.project.store.add_llm_request, row)
    except Exception:  # the ledger must not turn a good reply into a failed run
        log.exception("could not record an LLM request of run %s", ctx.run_id)
