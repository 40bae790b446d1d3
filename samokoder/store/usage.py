"""Folding grouped ledger rows into the totals `samokoder.usage` answers (camelCase: JSON)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class _Totals:
    prompt: int = 0
    completion: int = 0
    cost: float = 0.0
    requests: int = 0

    def add(self, prompt: int, completion: int, cost: float, requests: int) -> None:
        self.prompt += prompt
        self.completion += completion
        self.cost += cost
        self.requests += requests

    def as_json(self) -> dict[str, object]:
        return {
            "promptTokens": self.prompt,
            "completionTokens": self.completion,
            "costUsd": self.cost,
            "requests": self.requests,
        }


def fold_usage(rows: Iterable[tuple[Any, ...]]) -> dict[str, object]:
    """Rows of (run, agent, model, prompt, completion, cost, count), one per group, in the
    order of their first request; requests outside any run appear with ``runId`` None."""
    total = _Totals()
    by_run: dict[str | None, _Totals] = {}
    by_agent: dict[str, _Totals] = {}
    by_model: dict[str, _Totals] = {}
    for group_run, agent, model, prompt, completion, cost, count in rows:
        for totals in (
            total,
            by_run.setdefault(group_run, _Totals()),
            by_agent.setdefault(agent, _Totals()),
            by_model.setdefault(model, _Totals()),
        ):
            totals.add(int(prompt), int(completion), float(cost), int(count))
    return {
        "total": total.as_json(),
        "byRun": [{"runId": key, **t.as_json()} for key, t in by_run.items()],
        "byAgent": [{"agent": key, **t.as_json()} for key, t in by_agent.items()],
        "byModel": [{"model": key, **t.as_json()} for key, t in by_model.items()],
    }
