# ruff: noqa: F811  (pytest fixtures imported from tests.fakes are used as parameters)
"""The gateway through litellm for real, against the fake provider: structured replies,
ledger rows per attempt, the cache, the budget and the usage report."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import BaseModel

from samokoder.agents import llm_gateway
from samokoder.agents.runs import Run
from samokoder.errors import BudgetExhaustedError, LLMError
from samokoder.llm.breaker import BREAKERS
from samokoder.llm.budget import RunBudget
from samokoder.llm.runtime import close_async_clients
from samokoder.settings import Settings
from samokoder.store.db import Store
from samokoder.store.rows import RunRow
from tests.fakes.fake_provider import FakeProvider, Reply, fake_provider  # noqa: F401
from tests.unit.litellm_fixtures import _close_clients, _litellm_loaded  # noqa: F401

KEY = "sk-gateway-test-0123456789"
MESSAGES = [
    {"role": "system", "content": "You are the architect."},
    {"role": "user", "content": "Plan a greeter."},
]


class Plan(BaseModel):
    title: str
    steps: list[str]


GOOD = json.dumps({"title": "Greeter", "steps": ["write greet()", "test it"]})


class Ctx:
    """The parts of a Run the gateway uses."""

    def __init__(self, store: Store, run_id: str, settings: Settings) -> None:
        self.project = type("P", (), {"store": store})()
        self.run_id = run_id
        self.settings = settings
        self.model_gate = asyncio.Semaphore(settings.max_parallel)
        limit = settings.budget_usd
        self.budget = RunBudget(limit) if limit is not None else None
        self.spent_usd = 0.0
        self.models: dict[str, Any] = {}


@pytest.fixture(autouse=True)
async def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    BREAKERS.reset()
    yield
    BREAKERS.reset()
    await close_async_clients()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    root = tmp_path / "ws"
    root.mkdir()
    with Store.open(root) as opened:
        yield opened


def context(store: Store, fake: FakeProvider, **settings: Any) -> Run:
    run_id = f"r-{time.monotonic_ns()}"
    store.create_run(RunRow(run_id, "test", "", "running", "", None, time.time(), None))
    values: dict[str, Any] = {
        "model": "openai/fake-model",
        "api_base": fake.base_url,
        "api_keys": {"openai": KEY},
        "request_timeout": 10,
    }
    values.update(settings)
    return cast(Run, Ctx(store, run_id, Settings(**values)))


async def test_structured_reply_is_retried_with_the_validation_error(
    store: Store, fake_provider: FakeProvider
) -> None:
    fake_provider.script(
        Reply(text="I think the plan is simple."),
        Reply(text=f"Here is the plan:\n```json\n{GOOD}\n```\nHope it helps!"),
    )
    ctx = context(store, fake_provider)

    plan, completion = await llm_gateway.chat_structured(ctx, "architect", MESSAGES, Plan)

    assert plan == Plan(title="Greeter", steps=["write greet()", "test it"])
    assert completion.retries == 0
    first, second = (r.body for r in fake_provider.requests)
    assert "response_format" not in first  # fake-model: litellm knows no schema support
    system = first["messages"][0]["content"]
    assert system.startswith("You are the architect.") and '"steps"' in system
    assert second["messages"][-2] == {
        "role": "assistant",
        "content": "I think the plan is simple.",
    }
    assert "could not be used" in second["messages"][-1]["content"]
    assert "Plan" in second["messages"][-1]["content"]
    rows = store.list_llm_requests(ctx.run_id)
    assert len(rows) == 2 and all(r.agent == "architect" for r in rows)


async def test_an_invalid_reply_is_not_served_from_the_cache_again(
    store: Store, fake_provider: FakeProvider
) -> None:
    fake_provider.script(Reply(text="{}"), Reply(text=GOOD), Reply(text="{}"))
    ctx = context(store, fake_provider)
    await llm_gateway.chat_structured(ctx, "architect", MESSAGES, Plan)

    plan, completion = await llm_gateway.chat_structured(ctx, "architect", MESSAGES, Plan)

    # the invalid first reply was asked for again; the corrected one came from the cache
    assert len(fake_provider.requests) == 3
    assert completion.cache_hit and plan.title == "Greeter"


async def test_schema_mode_is_used_where_litellm_says_it_is_supported(
    store: Store, fake_provider: FakeProvider
) -> None:
    fake_provider.script(Reply(text=GOOD))
    ctx = context(store, fake_provider, model="openai/gpt-4o-mini")

    await llm_gateway.chat_structured(ctx, "architect", MESSAGES, Plan)

    [request] = fake_provider.requests
    fmt = request.body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Plan"
    assert fmt["json_schema"]["schema"]["required"] == ["title", "steps"]
    assert '"steps"' not in request.body["messages"][0]["content"]  # not repeated in the prompt


async def test_structured_output_gives_up_naming_the_schema(
    store: Store, fake_provider: FakeProvider
) -> None:
    fake_provider.script(Reply(text='{"title": 1}'), Reply(text="```json\n{broken\n```"))
    ctx = context(store, fake_provider)

    with pytest.raises(LLMError) as caught:
        await llm_gateway.chat_structured(ctx, "architect", MESSAGES, Plan, max_attempts=2)

    assert "Plan schema after 2 attempt(s)" in caught.value.message
    assert "not valid JSON" in caught.value.message
    assert len(fake_provider.requests) == 2


async def test_every_attempt_is_a_ledger_row(store: Store, fake_provider: FakeProvider) -> None:
    fake_provider.script(
        Reply(fault="http_429", retry_after=0.05), Reply(text="done", prompt_tokens=7)
    )
    ctx = context(store, fake_provider)

    completion = await llm_gateway.chat(ctx, "developer", MESSAGES)

    assert completion.text == "done" and completion.retries == 1
    rows = list(reversed(store.list_llm_requests(ctx.run_id)))
    assert [(r.retries, r.error_class, r.prompt_tokens) for r in rows] == [
        (0, "rate_limit", 0),
        (1, None, 7),
    ]
    usage = store.usage(ctx.run_id)
    assert usage["total"]["requests"] == 2  # type: ignore[index]


async def test_identical_requests_are_answered_from_the_cache(
    store: Store, fake_provider: FakeProvider
) -> None:
    fake_provider.script(Reply(text="cached answer"))
    ctx = context(store, fake_provider)
    await llm_gateway.chat(ctx, "developer", MESSAGES)
    deltas: list[str] = []

    again = await llm_gateway.chat(ctx, "developer", MESSAGES, deltas.append)

    assert len(fake_provider.requests) == 1
    assert again.cache_hit and deltas == ["cached answer"]
    hit = store.list_llm_requests(ctx.run_id)[0]
    assert hit.cache_hit and hit.cost_usd == 0.0 and hit.prompt_tokens == 0


@pytest.mark.parametrize(
    "settings",
    [{"cache": False}, {"temperature": 0.7}],
    ids=["cache off", "sampled"],
)
async def test_cache_can_be_off(
    store: Store, fake_provider: FakeProvider, settings: dict[str, Any]
) -> None:
    ctx = context(store, fake_provider, **settings)
    await llm_gateway.chat(ctx, "developer", MESSAGES)
    await llm_gateway.chat(ctx, "developer", MESSAGES)
    assert len(fake_provider.requests) == 2


async def test_budget_stops_a_call_that_could_overshoot(
    store: Store, fake_provider: FakeProvider
) -> None:
    ctx = context(store, fake_provider, model="openai/gpt-4o-mini", budget_usd=0.001)

    with pytest.raises(BudgetExhaustedError) as caught:
        await llm_gateway.chat(ctx, "developer", MESSAGES)  # up to 16,384 tokens: ~$0.0098

    assert "budgetUsd" in caught.value.message
    assert fake_provider.requests == []


async def test_budget_counts_spending_across_calls_of_a_run(
    store: Store, fake_provider: FakeProvider
) -> None:
    # ~$0.00015 worst case per call with maxTokens 100; the first reply costs $0.15
    fake_provider.script(Reply(text="expensive", prompt_tokens=1_000_000))
    ctx = context(store, fake_provider, model="openai/gpt-4o-mini", budget_usd=0.01, max_tokens=100)
    await llm_gateway.chat(ctx, "developer", MESSAGES)

    with pytest.raises(BudgetExhaustedError):
        await llm_gateway.chat(ctx, "developer", [*MESSAGES, {"role": "user", "content": "more"}])

    assert len(fake_provider.requests) == 1


async def test_key_never_reaches_the_error_or_the_ledger(
    store: Store, fake_provider: FakeProvider
) -> None:
    fake_provider.script(Reply(fault="http_401"))
    ctx = context(store, fake_provider)

    with pytest.raises(LLMError) as caught:
        await llm_gateway.chat(ctx, "developer", MESSAGES)

    assert KEY not in caught.value.message
    assert "OPENAI_API_KEY" in caught.value.message and "missing or wrong" in caught.value.message
    assert KEY not in repr(store.list_llm_requests(ctx.run_id))


async def test_a_stream_cut_in_the_middle_is_retried(
    store: Store, fake_provider: FakeProvider
) -> None:
    fake_provider.script(
        Reply(text="x" * 80, chunks=8, fault="cut_stream"), Reply(text="whole answer")
    )
    ctx = context(store, fake_provider)

    completion = await llm_gateway.chat(ctx, "developer", MESSAGES)

    assert completion.text == "whole answer"
    errors = [r.error_class for r in reversed(store.list_llm_requests(ctx.run_id))]
    assert errors == ["cut_stream", None]


async def test_a_run_resolves_each_agents_model_once(
    store: Store, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_provider.script(Reply(text="{}"), Reply(text=GOOD), Reply(text=GOOD))
    ctx = context(store, fake_provider)
    resolved: list[str] = []
    real = llm_gateway.resolve_model

    async def counting(settings: Settings, agent: str) -> Any:
        resolved.append(agent)
        return await real(settings, agent)

    monkeypatch.setattr(llm_gateway, "resolve_model", counting)
    await llm_gateway.chat_structured(ctx, "architect", MESSAGES, Plan)  # two requests
    await llm_gateway.chat_structured(ctx, "architect", MESSAGES, Plan, max_attempts=1)
    assert len(fake_provider.requests) == 3
    assert resolved == ["architect"]
