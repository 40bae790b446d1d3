"""A reply that stopped at the output limit is never used as it is.

Aider's lesson (``../shared/FACTS.md``): where the provider continues a partial assistant
message (litellm's ``supports_assistant_prefill``: Anthropic, DeepSeek, Mistral, ...) send
the partial reply back with ``prefix: True`` and join the parts; where no output limit
was sent and the model is known to write more than the provider's default, ask once
more with the model's own limit; otherwise stop and name the limit to raise. The user's
``maxTokens`` is a ceiling, never raised behind their back. No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, Final, Literal

from samokoder.llm.budget import largest_output
from samokoder.llm.calls import Completion, ModelCall

MAX_CONTINUATIONS: Final = 2


@dataclass(frozen=True)
class ModelLimits:
    """What litellm knows of a model's output; ``None`` and False where it knows nothing."""

    max_output: int | None = None
    prefill: bool = False


@dataclass(frozen=True)
class NextStep:
    action: Literal["continue", "more_room", "give_up"]
    max_tokens: int | None = None


def model_limits(litellm: ModuleType, model: str) -> ModelLimits:
    """litellm's model table (a dict lookup; unknown models, e.g. local servers, get none)."""
    try:
        info = litellm.get_model_info(model)
    except Exception:
        return ModelLimits()
    if not isinstance(info, dict):
        return ModelLimits()
    return ModelLimits(
        max_output=largest_output(info),
        prefill=info.get("supports_assistant_prefill") is True,
    )


def after_truncation(
    call: ModelCall,
    limits: ModelLimits,
    written: int,
    *,
    continuations: int,
    reasked: bool,
) -> NextStep:
    """The next move after a reply of ``written`` tokens stopped at the output limit."""
    if limits.prefill and continuations < MAX_CONTINUATIONS:
        return NextStep("continue")
    if (
        call.max_tokens is None
        and not reasked
        and limits.max_output is not None
        and limits.max_output > written
    ):
        return NextStep("more_room", limits.max_output)
    return NextStep("give_up")


def continuation(messages: Sequence[dict[str, Any]], written: str) -> list[dict[str, Any]]:
    """The conversation that asks the model to go on exactly where ``written`` stops."""
    return [*messages, {"role": "assistant", "content": written, "prefix": True}]


def joined(parts: Sequence[Completion]) -> Completion:
    """One completion from a reply written in several parts (tokens and cost add up)."""
    last = parts[-1]
    return replace(
        last,
        text="".join(part.text for part in parts),
        prompt_tokens=sum(part.prompt_tokens for part in parts),
        completion_tokens=sum(part.completion_tokens for part in parts),
        cost_usd=sum(part.cost_usd for part in parts),
        latency_ms=sum(part.latency_ms for part in parts),
        tokens_estimated=any(part.tokens_estimated for part in parts),
        cost_reported=all(part.cost_reported for part in parts),
    )
