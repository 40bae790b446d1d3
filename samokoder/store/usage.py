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
    estimated: int = 0
    cached: int = 0
    saved: float = 0.0

    def add(self, row: tuple[Any, ...]) -> None:
        """A grouped row's (prompt, completion, cost, count, estimated, cached, saved)."""
        prompt, completion, cost, count, estimated, cached, saved = row
        self.prompt += int(prompt)
        self.completion += int(completion)
        self.cost += float(cost)
        self.requests += int(count)
        self.estimated += int(estimated or 0)
        self.cached += int(cached or 0)
        self.saved += float(saved or 0.0)

    def as_json(self) -> dict[str, object]:
        totals: dict[str, object] = {
            "promptTokens": self.prompt,
            "completionTokens": self.completion,
            "costUsd": self.cost,
            "requests": self.requests,
        }
        if self.estimated:  # only where a provider sent no usage: the rest is as billed
            totals["estimatedTokens"] = self.estimated
        if self.cached:  # read from the provider's prompt cache, billed at its cached price
            totals["cachedTokens"] = self.cached
        if self.saved:
            totals["savedUsd"] = self.saved
        return totals


def fold_usage(rows: Iterable[tuple[Any, ...]]) -> dict[str, object]:
    """Rows of (run, agent, model, prompt, completion, cost, count, estimated, cached,
    saved), one per group, in the order of their first request; requests outside any run
    appear with ``runId`` None. ``estimatedTokens`` (present when not 0): the part of the
    token counts the provider did not report (counted with litellm's tokenizer, or 4
    characters a token). ``cachedTokens`` and ``savedUsd`` (present when not 0): prompt
    tokens the provider served from its prompt cache and what that saved; ``costUsd`` is
    already the cached price."""
    total = _Totals()
    by_run: dict[str | None, _Totals] = {}
    by_agent: dict[str, _Totals] = {}
    by_model: dict[str, _Totals] = {}
    for group_run, agent, model, *figures in rows:
        for totals in (
            total,
            by_run.setdefault(group_run, _Totals()),
            by_agent.setdefault(agent, _Totals()),
            by_model.setdefault(model, _Totals()),
        ):
            totals.add(tuple(figures))
    return {
        "total": total.as_json(),
        "byRun": [{"runId": key, **t.as_json()} for key, t in by_run.items()],
        "byAgent": [{"agent": key, **t.as_json()} for key, t in by_agent.items()],
        "byModel": [{"model": key, **t.as_json()} for key, t in by_model.items()],
    }
