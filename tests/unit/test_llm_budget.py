"""Budget arithmetic: worst case from litellm's tables, reservations, exhaustion, unknown prices."""

from __future__ import annotations

import logging
from types import ModuleType, SimpleNamespace
from typing import Any, cast

import pytest

from samokoder.errors import BudgetExhaustedError
from samokoder.llm.budget import (
    FALLBACK_MAX_OUTPUT,
    RunBudget,
    WorstCase,
    max_output_tokens,
    price,
    worst_case,
)
from samokoder.llm.runtime import load_litellm

MESSAGES = [{"role": "user", "content": "Write a function that adds two numbers."}]


def fake_litellm(
    input_price: float = 1e-6, output_price: float = 2e-6, max_output: int | None = 1000
) -> ModuleType:
    """Just the three litellm functions the budget uses, with round prices."""

    def cost_per_token(*, model: str, prompt_tokens: int, completion_tokens: int) -> Any:
        if model == "unpriced":
            raise ValueError("This model isn't mapped yet")
        return prompt_tokens * input_price, completion_tokens * output_price

    def token_counter(*, model: str, messages: list[dict[str, Any]]) -> int:
        return 100

    def get_model_info(model: str) -> dict[str, Any]:
        if max_output is None:
            raise ValueError("unknown")
        return {"max_output_tokens": max_output}

    namespace = SimpleNamespace(
        cost_per_token=cost_per_token, token_counter=token_counter, get_model_info=get_model_info
    )
    return cast(ModuleType, namespace)


def test_worst_case_is_prompt_plus_max_tokens_priced() -> None:
    worst = worst_case(fake_litellm(), "m", MESSAGES, max_tokens=500)
    assert worst == WorstCase(100, 500, pytest.approx(100 * 1e-6 + 500 * 2e-6))


def test_without_max_tokens_the_models_largest_output_counts() -> None:
    assert worst_case(fake_litellm(), "m", MESSAGES, None).completion_tokens == 1000
    no_info = fake_litellm(max_output=None)
    assert max_output_tokens(no_info, "m") == FALLBACK_MAX_OUTPUT


def test_unknown_price_is_none() -> None:
    assert price(fake_litellm(), "unpriced", 10, 10) is None
    assert worst_case(fake_litellm(), "unpriced", MESSAGES, 10).cost_usd is None


def test_real_tables_price_a_known_model() -> None:
    litellm = load_litellm()
    worst = worst_case(litellm, "openai/gpt-4o-mini", MESSAGES, max_tokens=1000)
    assert worst.prompt_tokens > 5
    assert worst.cost_usd is not None
    assert worst.cost_usd == pytest.approx(worst.prompt_tokens * 0.15e-6 + 1000 * 0.6e-6, rel=0.01)
    assert worst_case(litellm, "openai/fake-model", MESSAGES, 10).cost_usd is None


def test_reservations_add_up_and_settle_to_the_real_cost() -> None:
    budget = RunBudget(1.0)
    first = budget.reserve("m", WorstCase(1, 1, 0.4))
    second = budget.reserve("m", WorstCase(1, 1, 0.4))
    with pytest.raises(BudgetExhaustedError):
        budget.reserve("m", WorstCase(1, 1, 0.4))  # 1.2 > 1.0 while both are in flight

    budget.settle(first, 0.05)
    budget.settle(second, 0.05)
    assert budget.spent_usd == pytest.approx(0.1)
    budget.reserve("m", WorstCase(1, 1, 0.85))  # 0.95 fits now


def test_exhaustion_message_says_what_and_how() -> None:
    budget = RunBudget(0.01, spent_usd=0.008)
    with pytest.raises(BudgetExhaustedError) as caught:
        budget.reserve("openai/gpt-4o-mini", WorstCase(1200, 16384, 0.0101))

    message = caught.value.message
    assert "$0.01" in message and "$0.008" in message
    assert "openai/gpt-4o-mini" in message
    assert "budgetUsd" in message and "maxTokens" in message


def test_reaching_the_limit_stops_even_a_free_call() -> None:
    budget = RunBudget(0.5, spent_usd=0.5)
    with pytest.raises(BudgetExhaustedError):
        budget.reserve("m", WorstCase(1, 1, 0.0))


def test_unpriced_models_are_allowed_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    budget = RunBudget(0.0001)
    with caplog.at_level(logging.WARNING, logger="samokoder.llm.budget"):
        for _ in range(3):
            reservation = budget.reserve("openai/local", WorstCase(10, 10, None))
            budget.settle(reservation, 0.0)

    notes = [r.getMessage() for r in caplog.records if "no price known" in r.getMessage()]
    assert len(notes) == 1
    assert "openai/local" in notes[0]


def test_a_failed_call_gives_its_reservation_back() -> None:
    budget = RunBudget(1.0)
    reservation = budget.reserve("m", WorstCase(1, 1, 0.9))
    budget.settle(reservation, 0.0)
    assert budget.spent_usd == 0.0
    budget.reserve("m", WorstCase(1, 1, 0.9))


def test_an_unpriced_model_stops_once_its_reported_cost_reaches_the_limit() -> None:
    # A LiteLLM proxy's model names have no price in litellm's table, but each call
    # reports what it cost (usage.cost): that spending must still end the run.
    budget = RunBudget(0.001)
    unknown = WorstCase(100, 10, None)
    budget.settle(budget.reserve("litellm_proxy/team", unknown), 0.0032)
    with pytest.raises(BudgetExhaustedError, match=r"reported by the provider"):
        budget.reserve("litellm_proxy/team", unknown)
