"""What one model call is and what it returned: plain data, shared by the client, the
failure classification and the retry loop without importing one another."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelCall:
    """Everything needed to reach one model; frozen so a run can snapshot it."""

    model: str  # litellm model string, e.g. "openai/gpt-4o-mini", "ollama_chat/llama3"
    api_base: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    timeout: float = 120.0  # seconds; bounds the whole call, first byte to last chunk
    max_tokens: int | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # the requested litellm model string
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # 0.0 when litellm has no price for the model
    latency_ms: float
    cache_hit: bool = False  # served from the response cache: no provider call, no cost
    retries: int = 0  # attempts (retries and fallbacks) before the one that answered
    cache_key: str | None = None  # where the reply sits in the response cache, if it does
    finish_reason: str = "stop"  # why the model stopped, as the provider said it
    tokens_estimated: bool = False  # the provider sent no usage: counted here, not billed
    cost_reported: bool = False  # cost_usd is what the provider (a proxy) said it charged
    # Prompt-cache use the provider reported: tokens read from its cache (billed at the
    # cached price), tokens written to it (Anthropic bills those above the input price),
    # and what that saved against the uncached price (negative when writes outweigh).
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    saved_usd: float = 0.0
