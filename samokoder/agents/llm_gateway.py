"""Every model call of a run goes through here, so each one lands in the usage ledger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from samokoder.agents.runs import RunContext
from samokoder.errors import LLMError, NoModelConfiguredError
from samokoder.llm.client import Completion, ModelCall, stream_chat
from samokoder.store.rows import LLMRequestRow

NO_MODEL = (
    "No model configured: set SAMOKODER_MODEL (e.g. openai/gpt-4o-mini) or the `model` "
    "setting, with the provider's key in its usual variable (OPENAI_API_KEY, ...); for Ollama "
    "or any OpenAI-compatible server also set SAMOKODER_API_BASE."
)


def model_call(ctx: RunContext, agent: str) -> ModelCall:
    model = ctx.settings.model_for(agent)
    if not model:
        raise NoModelConfiguredError(NO_MODEL)
    return ModelCall(
        model=model,
        api_base=ctx.settings.api_base,
        api_key=ctx.settings.api_key_for(model),
        temperature=ctx.settings.temperature,
        timeout=ctx.settings.request_timeout,
    )


async def chat(
    ctx: RunContext,
    agent: str,
    messages: list[dict[str, str]],
    on_delta: Callable[[str], None] | None = None,
) -> Completion:
    call = model_call(ctx, agent)
    started = time.perf_counter()
    try:
        completion = await stream_chat(call, messages, on_delta)
    except LLMError as exc:
        await _ledger(ctx, agent, call.model, 0, 0, 0.0, started, type(exc).__name__)
        raise
    except asyncio.CancelledError:
        await asyncio.shield(_ledger(ctx, agent, call.model, 0, 0, 0.0, started, "Cancelled"))
        raise
    await _ledger(
        ctx,
        agent,
        completion.model,
        completion.prompt_tokens,
        completion.completion_tokens,
        completion.cost_usd,
        started,
        None,
    )
    return completion


async def _ledger(
    ctx: RunContext,
    agent: str,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    cost: float,
    started: float,
    error: str | None,
) -> None:
    row = LLMRequestRow(
        run_id=ctx.run_id,
        agent=agent,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost,
        latency_ms=(time.perf_counter() - started) * 1000,
        cache_hit=False,
        retries=0,
        error_class=error,
        created_at=time.time(),
    )
    await asyncio.to_thread(ctx.project.store.add_llm_request, row)
