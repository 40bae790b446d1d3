# ruff: noqa: F811  (pytest fixtures imported from tests.fakes are used as parameters)
"""A reply is complete or it is not used: finish reasons, the whole-call deadline, what the
provider reports (cost, missing usage), and what happens after a reply is cut off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from samokoder.llm import failures
from samokoder.llm.budget import RunBudget
from samokoder.llm.client import Completion, ModelCall, stream_chat
from samokoder.llm.resilience import AttemptRecord, ChatOptions, resilient_chat
from samokoder.llm.runtime import load_litellm
from samokoder.llm.truncation import (
    MAX_CONTINUATIONS,
    ModelLimits,
    after_truncation,
    model_limits,
)
from tests.fakes.fake_provider import FakeProvider, Reply, fake_provider  # noqa: F401
from tests.unit.litellm_fixtures import _close_clients, _litellm_loaded  # noqa: F401

MESSAGES = [{"role": "user", "content": "Write the function."}]


def call_for(fake: FakeProvider, **overrides: Any) -> ModelCall:
    values: dict[str, Any] = {
        "model": "openai/fake-model",
        "api_base": fake.base_url,
        "api_key": "sk-test-123",
        "timeout": 10.0,
    }
    values.update(overrides)
    return ModelCall(**values)


# -- what the client makes of a reply -------------------------------------------------


async def test_a_reply_stopped_at_the_length_limit_is_never_returned(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="def f(x):\n    return", finish_reason="length"))
    with pytest.raises(failures.TruncatedReplyError) as caught:
        await stream_chat(call_for(fake_provider, max_tokens=8), MESSAGES)
    error = caught.value
    assert error.kind == failures.TRUNCATED and error.retryable is False
    assert error.partial.text == "def f(x):\n    return"  # kept for the ledger, not used
    assert error.partial.finish_reason == "length"
    assert "maxTokens" in error.message and "8 tokens" in error.message


async def test_a_filtered_reply_is_a_failure(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(text="partial", finish_reason="content_filter"))
    with pytest.raises(failures.ProviderError) as caught:
        await stream_chat(call_for(fake_provider), MESSAGES)
    assert caught.value.kind == failures.CONTENT_FILTER
    assert "withheld" in caught.value.message


async def test_a_stream_without_any_finish_reason_is_a_cut_stream(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="half of it", finish_reason=None, send_done=False))
    with pytest.raises(failures.ProviderError) as caught:
        await stream_chat(call_for(fake_provider), MESSAGES)
    assert caught.value.kind == failures.CUT_STREAM


async def test_request_timeout_bounds_a_call_that_keeps_streaming(
    fake_provider: FakeProvider,
) -> None:
    # 40 chunks 0.1 s apart: every chunk comes well within the timeout, the whole does not.
    fake_provider.script(Reply(text="x" * 400, chunks=40, chunk_delay=0.1))
    started = time.monotonic()
    with pytest.raises(failures.ProviderError) as caught:
        await asyncio.wait_for(stream_chat(call_for(fake_provider, timeout=1.0), MESSAGES), 20)
    took = time.monotonic() - started
    assert caught.value.kind == failures.DEADLINE and caught.value.retryable is False
    assert "requestTimeout" in caught.value.message
    assert took < 3.0, f"the call ran {took:.1f} s past a 1 s requestTimeout"
    assert fake_provider.wait_until(lambda: fake_provider.active_streams == 0)


async def test_the_cost_a_proxy_reports_is_the_cost(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(text="ok", cost=0.0375))
    result = await stream_chat(call_for(fake_provider), MESSAGES)
    assert result.cost_usd == pytest.approx(0.0375)
    assert result.cost_reported is True and result.tokens_estimated is False


async def test_tokens_a_server_did_not_report_are_marked_estimated(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="hello there", send_usage=False))
    result = await stream_chat(call_for(fake_provider), MESSAGES)
    assert result.tokens_estimated is True
    assert result.prompt_tokens > 0 and result.completion_tokens > 0


# -- what happens next: pure decisions -------------------------------------------------


def test_a_model_that_takes_a_prefix_is_continued_a_bounded_number_of_times() -> None:
    call = ModelCall(model="deepseek/deepseek-chat")
    limits = ModelLimits(max_output=8192, prefill=True)
    for done in range(MAX_CONTINUATIONS):
        step = after_truncation(call, limits, 100, continuations=done, reasked=False)
        assert step.action == "continue"
    last = after_truncation(call, limits, 100, continuations=MAX_CONTINUATIONS, reasked=True)
    assert last.action == "give_up"


def test_without_a_limit_sent_the_models_own_limit_is_asked_once() -> None:
    call = ModelCall(model="openai/gpt-4o-mini")
    limits = ModelLimits(max_output=16384)
    step = after_truncation(call, limits, 4096, continuations=0, reasked=False)
    assert (step.action, step.max_tokens) == ("more_room", 16384)
    again = after_truncation(call, limits, 16384, continuations=0, reasked=True)
    assert again.action == "give_up"


def test_the_users_max_tokens_is_a_ceiling() -> None:
    call = ModelCall(model="openai/gpt-4o-mini", max_tokens=64)
    step = after_truncation(call, ModelLimits(max_output=16384), 64, continuations=0, reasked=False)
    assert step.action == "give_up"


def test_an_unknown_model_has_no_limits() -> None:
    limits = model_limits(load_litellm(), "openai/some-local-model")
    assert limits == ModelLimits()


# -- the same through resilient_chat --------------------------------------------------


def completion(text: str, tokens: int = 5, cost: float = 0.001, reason: str = "stop") -> Completion:
    return Completion(text, "m", 10, tokens, cost, 1.0, finish_reason=reason)


class Sender:
    def __init__(self, *outcomes: Completion | Exception) -> None:
        self.outcomes = list(outcomes)
        self.asked: list[tuple[ModelCall, list[dict[str, Any]]]] = []

    async def __call__(
        self,
        call: ModelCall,
        messages: list[dict[str, Any]],
        on_delta: Callable[[str], None] | None = None,
        *,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        self.asked.append((call, messages))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def cut(call: ModelCall, text: str, tokens: int = 5) -> failures.TruncatedReplyError:
    partial = completion(text, tokens, reason="length")
    return failures.TruncatedReplyError(failures.truncated_message(call, tokens, None), partial)


async def run(sender: Sender, call: ModelCall, **extra: Any) -> tuple[Completion, list[Any]]:
    records: list[AttemptRecord] = []

    async def record(attempt: AttemptRecord) -> None:
        records.append(attempt)

    options = ChatOptions(send=sender, record=record, **extra)
    result = await resilient_chat([call], MESSAGES, options=options)
    return result, records


async def test_a_cut_reply_is_continued_and_joined_where_prefill_works() -> None:
    call = ModelCall(model="deepseek/deepseek-chat")
    sender = Sender(cut(call, "def f(x):\n    ret"), completion("urn x + 1\n"))
    result, records = await run(sender, call)
    assert result.text == "def f(x):\n    return x + 1\n"
    assert result.cost_usd == pytest.approx(0.002)
    continued = sender.asked[1][1]
    assert continued[-1] == {"role": "assistant", "content": "def f(x):\n    ret", "prefix": True}
    assert [r.error_kind for r in records] == [failures.TRUNCATED, None]


async def test_without_prefill_the_reply_is_asked_again_with_room() -> None:
    call = ModelCall(model="openai/gpt-4o-mini")
    sender = Sender(cut(call, "half"), completion("whole answer"))
    result, _records = await run(sender, call)
    assert result.text == "whole answer"
    assert sender.asked[0][0].max_tokens is None
    assert sender.asked[1][0].max_tokens == model_limits(load_litellm(), call.model).max_output
    assert sender.asked[1][1] == MESSAGES  # asked afresh, nothing of the cut reply kept


async def test_a_reply_that_stays_cut_fails_naming_the_limit_and_is_paid_for() -> None:
    call = ModelCall(model="openai/gpt-4o-mini", max_tokens=64)
    sender = Sender(cut(call, "half", tokens=64))
    budget = RunBudget(1.0)
    with pytest.raises(failures.TruncatedReplyError) as caught:
        await run(sender, call, budget=budget)
    assert "maxTokens" in caught.value.message and "64" in caught.value.message
    assert len(sender.asked) == 1  # not retried: the same request would stop the same way
    assert budget.spent_usd == pytest.approx(0.001)
