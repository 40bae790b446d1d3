"""The retry/fallback loop with a scripted sender: no network, no litellm, no real waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from samokoder.errors import BudgetExhaustedError, LLMError
from samokoder.llm import failures
from samokoder.llm.breaker import BreakerRegistry
from samokoder.llm.budget import RunBudget
from samokoder.llm.cache import ResponseCache
from samokoder.llm.client import Completion, ModelCall
from samokoder.llm.failures import ProviderError
from samokoder.llm.resilience import AttemptRecord, ChatOptions, RetryPolicy, resilient_chat

MAIN = ModelCall(model="openai/main", api_base="http://127.0.0.1:1/v1")
BACKUP = ModelCall(model="openai/backup", api_base="http://127.0.0.1:1/v1")
MESSAGES = [{"role": "user", "content": "hi"}]


def error(kind: str, retry_after: float | None = None) -> ProviderError:
    return ProviderError(
        f"{kind} happened",
        kind=kind,
        retryable=kind in failures.HEALTH_KINDS,
        retry_after=retry_after,
    )


def answer(model: str, text: str = "ok", cost: float = 0.0) -> Completion:
    return Completion(text, model, 10, 2, cost, 1.0)


class Script:
    """A sender that plays outcomes per model and remembers what was asked."""

    def __init__(self, **per_model: list[Completion | Exception]) -> None:
        self.outcomes = {f"openai/{name}": list(items) for name, items in per_model.items()}
        self.calls: list[str] = []
        self.formats: list[dict[str, Any] | None] = []

    async def __call__(
        self,
        call: ModelCall,
        messages: list[dict[str, str]],
        on_delta: Callable[[str], None] | None = None,
        *,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        self.calls.append(call.model)
        self.formats.append(response_format)
        outcome = self.outcomes[call.model].pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        if on_delta is not None:
            on_delta(outcome.text)
        return outcome


class Harness:
    def __init__(self, script: Script, **extra: Any) -> None:
        self.script = script
        self.sleeps: list[float] = []
        self.records: list[AttemptRecord] = []
        self.breakers = extra.pop("breakers", BreakerRegistry(threshold=3, cooldown=60))

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        async def record(attempt: AttemptRecord) -> None:
            self.records.append(attempt)

        self.options = ChatOptions(
            policy=extra.pop("policy", RetryPolicy(base_delay=0.01)),
            breakers=self.breakers,
            record=record,
            sleep=sleep,
            send=script,
            **extra,
        )

    async def chat(
        self, *calls: ModelCall, on_delta: Callable[[str], None] | None = None, **kw: Any
    ) -> Completion:
        return await resilient_chat(
            list(calls) or [MAIN], MESSAGES, on_delta, options=self.options, **kw
        )


async def test_rate_limit_is_retried_after_the_wait_the_provider_asked() -> None:
    h = Harness(Script(main=[error(failures.RATE_LIMIT, retry_after=0.2), answer("openai/main")]))

    result = await h.chat()

    assert result.text == "ok" and result.retries == 1
    assert h.sleeps == [0.2]
    assert [(r.retries, r.error_kind) for r in h.records] == [(0, "rate_limit"), (1, None)]


async def test_a_retry_after_too_long_falls_back_at_once() -> None:
    h = Harness(
        Script(
            main=[error(failures.RATE_LIMIT, retry_after=3600)],
            backup=[answer("openai/backup")],
        )
    )

    result = await h.chat(MAIN, BACKUP)

    assert result.model == "openai/backup"
    assert h.sleeps == []
    assert h.script.calls == ["openai/main", "openai/backup"]


async def test_server_errors_are_retried_then_the_fallback_answers() -> None:
    h = Harness(
        Script(
            main=[error(failures.SERVER)] * 3,
            backup=[answer("openai/backup", "from backup")],
        )
    )

    result = await h.chat(MAIN, BACKUP)

    assert result.text == "from backup"
    assert result.retries == 3
    assert h.script.calls == ["openai/main"] * 3 + ["openai/backup"]
    assert len(h.sleeps) == 2 and all(0 < s <= 0.02 for s in h.sleeps)  # backoff with jitter
    assert [r.model for r in h.records] == ["openai/main"] * 3 + ["openai/backup"]
    assert [r.retries for r in h.records] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "kind", [failures.AUTH, failures.NOT_FOUND, failures.CONTEXT_WINDOW, failures.BAD_REQUEST]
)
async def test_request_and_setup_errors_are_not_retried(kind: str) -> None:
    h = Harness(Script(main=[error(kind)]))

    with pytest.raises(ProviderError) as caught:
        await h.chat()

    assert caught.value.kind == kind
    assert h.script.calls == ["openai/main"]
    assert h.breakers.view(h.breakers.key(MAIN.model, MAIN.api_base)).failures == 0


async def test_breaker_opens_after_failed_turns_then_calls_go_to_the_fallback() -> None:
    h = Harness(
        Script(
            main=[error(failures.SERVER)] * 9,  # three requests, three attempts each
            backup=[answer("openai/backup")] * 4,
        )
    )
    circuit = h.breakers.key(MAIN.model, MAIN.api_base)
    for _ in range(3):
        await h.chat(MAIN, BACKUP)
    assert h.breakers.view(circuit).state == "open"
    h.script.calls.clear()

    result = await h.chat(MAIN, BACKUP)

    assert result.model == "openai/backup"
    assert h.script.calls == ["openai/backup"]  # main was not asked at all


async def test_failures_a_retry_absorbs_never_open_the_circuit() -> None:
    flaky: list[Completion | Exception] = []
    for _ in range(5):
        flaky += [error(failures.SERVER), error(failures.RATE_LIMIT), answer("openai/main")]
    h = Harness(Script(main=flaky))

    for _ in range(5):
        assert (await h.chat(MAIN, BACKUP)).model == "openai/main"

    view = h.breakers.view(h.breakers.key(MAIN.model, MAIN.api_base))
    assert (view.state, view.failures) == ("closed", 0)


async def test_the_half_open_probe_gets_one_attempt() -> None:
    now = [0.0]
    breakers = BreakerRegistry(threshold=1, cooldown=10, clock=lambda: now[0])
    h = Harness(
        Script(
            main=[error(failures.SERVER)] * 3 + [error(failures.SERVER), answer("openai/main")],
            backup=[answer("openai/backup")] * 2,
        ),
        breakers=breakers,
    )
    circuit = breakers.key(MAIN.model, MAIN.api_base)
    await h.chat(MAIN, BACKUP)  # three attempts fail: open
    now[0] = 11
    h.script.calls.clear()

    assert (await h.chat(MAIN, BACKUP)).model == "openai/backup"
    assert h.script.calls == ["openai/main", "openai/backup"]  # the probe was not retried
    assert breakers.view(circuit).state == "open"
    now[0] = 22
    assert (await h.chat(MAIN, BACKUP)).model == "openai/main"
    assert breakers.view(circuit).state == "closed"


async def test_with_no_fallback_an_open_circuit_fails_fast_with_the_cause() -> None:
    h = Harness(Script(main=[error(failures.TIMEOUT)] * 4), breakers=BreakerRegistry(threshold=2))
    for _ in range(2):
        with pytest.raises(ProviderError):
            await h.chat()

    with pytest.raises(LLMError) as caught:
        await h.chat()

    assert "paused after 2 failures" in caught.value.message
    assert "timeout happened" in caught.value.message
    assert "fallbackModels" in caught.value.message
    assert len(h.script.calls) == 4


async def test_when_every_model_fails_the_error_names_each() -> None:
    h = Harness(Script(main=[error(failures.AUTH)], backup=[error(failures.NOT_FOUND)]))

    with pytest.raises(ProviderError) as caught:
        await h.chat(MAIN, BACKUP)

    message = caught.value.message
    assert message.startswith("No model could answer.")
    assert "openai/main: auth happened" in message
    assert "openai/backup: not_found happened" in message
    assert caught.value.kind == failures.AUTH
    assert caught.value.retryable is False


async def test_cancellation_releases_the_probe_and_is_recorded() -> None:
    started = asyncio.Event()

    async def hang(*args: Any, **kwargs: Any) -> Completion:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    h = Harness(Script())
    h.options.send = hang
    circuit = h.breakers.key(MAIN.model, MAIN.api_base)
    task = asyncio.create_task(h.chat())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert [r.error_kind for r in h.records] == ["cancelled"]
    assert h.breakers.view(circuit).failures == 0
    assert h.breakers.acquire(circuit)


async def test_cancelling_during_a_retry_wait_stops_at_once() -> None:
    waiting = asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        waiting.set()
        await asyncio.sleep(3600)

    script = Script(main=[error(failures.SERVER), answer("openai/main")])
    h = Harness(script)
    h.options.sleep = slow_sleep
    task = asyncio.create_task(h.chat())
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert script.calls == ["openai/main"]


async def test_budget_is_checked_before_each_attempt() -> None:
    budget = RunBudget(0.0)  # nothing may be spent on a priced model
    h = Harness(Script(main=[answer("openai/main")]), budget=budget)
    priced = ModelCall(model="openai/gpt-4o-mini", api_base=MAIN.api_base, max_tokens=10)

    with pytest.raises(BudgetExhaustedError):
        await h.chat(priced)

    assert h.script.calls == []
    assert h.records == []


async def test_budget_counts_what_each_attempt_cost() -> None:
    budget = RunBudget(1.0)
    priced = ModelCall(model="openai/gpt-4o-mini", api_base=MAIN.api_base, max_tokens=10)
    script = Script()
    script.outcomes["openai/gpt-4o-mini"] = [answer("openai/gpt-4o-mini", cost=0.25)] * 2
    h = Harness(script, budget=budget)

    await h.chat(priced)
    await h.chat(priced)

    assert budget.spent_usd == pytest.approx(0.5)


async def test_cache_hit_skips_the_provider_and_streams_the_text(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "responses.db")
    script = Script(main=[answer("openai/main", "cached text", cost=0.01)])
    h = Harness(script, cache=cache)
    await h.chat(response_format={"type": "json_object"})
    deltas: list[str] = []

    again = await h.chat(on_delta=deltas.append, response_format={"type": "json_object"})

    assert script.calls == ["openai/main"]
    assert again.cache_hit and again.text == "cached text" and again.cost_usd == 0.0
    assert again.cache_key is not None
    assert deltas == ["cached text"]
    assert [r.cache_hit for r in h.records] == [False, True]
    assert script.formats == [{"type": "json_object"}]


async def test_a_different_parameter_misses_the_cache(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "responses.db")
    script = Script(main=[answer("openai/main", "one"), answer("openai/main", "two")])
    h = Harness(script, cache=cache)
    await h.chat()

    second = await h.chat(response_format={"type": "json_object"})

    assert second.text == "two" and not second.cache_hit


async def test_failed_attempts_are_never_cached(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "responses.db")
    script = Script(main=[error(failures.AUTH), answer("openai/main", "fine")])
    h = Harness(script, cache=cache)
    with pytest.raises(ProviderError):
        await h.chat()

    assert (await h.chat()).text == "fine"


def test_policy_delays() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=3.0, max_retry_after=10)
    assert policy.delay(failures.AUTH, 0, None) is None
    assert policy.delay(failures.SERVER, 2, None) is None  # two retries used up
    assert 0.5 <= (policy.delay(failures.SERVER, 0, None) or 0) <= 1.0
    assert 1.5 <= (policy.delay(failures.SERVER, 1, 5.0) or 0) <= 5.0
    assert policy.delay(failures.RATE_LIMIT, 0, 5.0) == 5.0
    assert policy.delay(failures.RATE_LIMIT, 0, 11.0) is None
    assert (policy.delay(failures.TIMEOUT, 0, None) or 0) > 0
    assert policy.delay(failures.TIMEOUT, 1, None) is None


def test_retry_after_parsing() -> None:
    assert failures.parse_retry_after("3") == 3.0
    assert failures.parse_retry_after("0.25") == 0.25
    assert failures.parse_retry_after(None, "1500") == 1.5
    assert failures.parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert failures.parse_retry_after("soon") is None
    assert failures.parse_retry_after("-1") is None
