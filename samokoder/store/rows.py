"""Immutable rows exchanged with the store; times are float unix seconds.

Status and kind fields are typed ``str`` so callers can pass values they read
from elsewhere; the store checks them against the literal sets below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

RunStatus = Literal[
    "running",
    "awaiting_review",
    "succeeded",
    "failed",
    "cancelled",
    "rejected",
    "budget_exhausted",
    "interrupted",
]
ProposalStatus = Literal[
    "pending", "accepted", "partially_accepted", "rejected", "stale", "cancelled", "interrupted"
]
StepKind = Literal["apply", "undo", "redo"]

RUN_STATUSES: frozenset[str] = frozenset(get_args(RunStatus))
PROPOSAL_STATUSES: frozenset[str] = frozenset(get_args(ProposalStatus))
STEP_KINDS: frozenset[str] = frozenset(get_args(StepKind))
# A run in one of these states belongs to a live server task; after a restart it is orphaned.
LIVE_RUN_STATUSES: frozenset[str] = frozenset({"running", "awaiting_review"})


@dataclass(frozen=True)
class RunRow:
    run_id: str
    kind: str
    description: str
    status: str
    summary: str
    error: str | None
    created_at: float
    finished_at: float | None


@dataclass(frozen=True)
class ProposalFileRow:
    path: str
    kind: str
    additions: int
    deletions: int


@dataclass(frozen=True)
class ProposalRow:
    proposal_id: str
    run_id: str
    title: str
    status: str
    created_at: float
    files: tuple[ProposalFileRow, ...]


@dataclass(frozen=True)
class StepFileRow:
    """Git blob shas of one file around a step; None means absent before / deleted after."""

    path: str
    before_blob: str | None
    after_blob: str | None


@dataclass(frozen=True)
class StepRow:
    """One checkpoint commit; undo/redo steps name the apply step they act on in target."""

    step_id: str
    run_id: str | None
    kind: str
    target_step_id: str | None
    agent: str
    summary: str
    commit_sha: str | None
    model: str
    tokens: int
    created_at: float
    files: tuple[StepFileRow, ...] = ()


@dataclass(frozen=True)
class LLMRequestRow:
    run_id: str | None
    agent: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_ms: float
    cache_hit: bool
    retries: int
    error_class: str | None
    created_at: float
    tokens_estimated: bool = False  # the provider sent no usage: counted here
    cached_tokens: int = 0  # prompt tokens the provider read from its prompt cache
    cache_write_tokens: int = 0  # prompt tokens it wrote to that cache (Anthropic)
    saved_usd: float = 0.0  # what the cache saved against the uncached price
