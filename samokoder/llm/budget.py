"""A cost cap per run, checked before every provider call with that call's worst case.

The worst case is the prompt's tokens (counted with litellm's tokenizer) plus the
completion's limit (``max_tokens``, else the model's largest output), priced with
litellm's tables. A model without a price cannot be capped: the call is allowed and
the log says so. Concurrent calls of a run reserve their worst case, so together they
cannot overshoot; each reservation is settled with the cost the call really had.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final

from samokoder.errors import BudgetExhaustedError

logger = logging.getLogger(__name__)

FALLBACK_MAX_OUTPUT: Final = 4096  # completion limit assumed when litellm knows none


@dataclass(frozen=True)
class WorstCase:
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None: litellm has no price for the model


def price(
    litellm: ModuleType, model: str, prompt_tokens: int, completion_tokens: int
) -> float | None:
    """Cost in USD from litellm's tables, or None when the model has no price there."""
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:
        return None
    return float(prompt_cost) + float(completion_cost)


def max_output_tokens(litellm: ModuleType, model: str) -> int:
    try:
        info = litellm.get_model_info(model)
    except Exception:
        return FALLBACK_MAX_OUTPUT
    return largest_output(info) or FALLBACK_MAX_OUTPUT


def largest_output(info: object) -> int | None:
    """The most tokens one reply may have, from litellm's model info (None: not known)."""
    for name in ("max_output_tokens", "max_tokens"):
        value = info.get(name) if isinstance(info, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return None


def worst_case(
    litellm: ModuleType,
    model: str,
    messages: Sequence[dict[str, Any]],
    max_tokens: int | None,
) -> WorstCase:
    """The most a call can cost (blocking: tokenizing runs in a thread)."""
    try:
        prompt = int(litellm.token_counter(model=model, messages=list(messages)))
    except Exception:
        prompt = sum(len(str(m.get("content") or "")) for m in messages) // 3 + 1
    completion = max_tokens if max_tokens is not None else max_output_tokens(litellm, model)
    return WorstCase(prompt, completion, price(litellm, model, prompt, completion))


@dataclass(frozen=True)
class Reservation:
    amount: float


class RunBudget:
    """What one run may still spend; thread-safe."""

    def __init__(self, limit_usd: float, spent_usd: float = 0.0) -> None:
        self.limit_usd = limit_usd
        self._spent = spent_usd
        self._reserved = 0.0
        self._lock = threading.Lock()
        self._unpriced_logged: set[str] = set()

    @property
    def spent_usd(self) -> float:
        with self._lock:
            return self._spent

    def reserve(self, model: str, worst: WorstCase) -> Reservation:
        """Hold the call's worst case, or raise BudgetExhaustedError if it does not fit.

        An unpriced model (a proxy's name, a local server) cannot be held in advance, but
        what its calls reported they cost still counts: once that reaches the limit, no
        further call starts.
        """
        if worst.cost_usd is None:
            with self._lock:
                spent = self._spent
            if 0 < self.limit_usd <= spent:
                raise BudgetExhaustedError(
                    f"Budget reached: this run may spend ${self.limit_usd:.4g} and has spent "
                    f"${spent:.4g} (as reported by the provider for {model}). Raise "
                    "budgetUsd to go on. Accepted steps are kept."
                )
            if model not in self._unpriced_logged:
                self._unpriced_logged.add(model)
                logger.warning(
                    "no price known for model %s: the budget of $%g can stop its calls only "
                    "once their reported cost reaches it",
                    model,
                    self.limit_usd,
                )
            return Reservation(0.0)
        with self._lock:
            committed = self._spent + self._reserved
            reached = 0 < self.limit_usd <= self._spent
            if reached or committed + worst.cost_usd > self.limit_usd:
                raise BudgetExhaustedError(
                    f"Budget reached: this run may spend ${self.limit_usd:.4g} and has spent "
                    f"${self._spent:.4g}; the next call to {model} could cost up to "
                    f"${worst.cost_usd:.4g} ({worst.prompt_tokens} prompt tokens + up to "
                    f"{worst.completion_tokens} completion tokens). Raise budgetUsd, lower "
                    "maxTokens, or choose a cheaper model. Accepted steps are kept."
                )
            self._reserved += worst.cost_usd
        return Reservation(worst.cost_usd)

    def settle(self, reservation: Reservation, cost_usd: float) -> None:
        """Replace a reservation with what the call really cost (0 for a failed call)."""
        with self._lock:
            self._reserved = max(0.0, self._reserved - reservation.amount)
            self._spent += max(0.0, cost_usd)
