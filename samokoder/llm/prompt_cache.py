"""Prompt-cache breakpoints for providers that cache only where the request says so.

OpenAI, DeepSeek and Gemini cache a repeated prompt prefix by themselves; Anthropic's
Claude (directly, on Bedrock or on Vertex) caches up to a content block marked
``cache_control``, which litellm passes through. Roles put the run's shared context
first in the system message and their own instructions after it (``agents.roles``),
so the system message is sent as two marked blocks: a call of another role reuses the
first, a call of the same role both. Other providers get the messages unchanged.
"""

from __future__ import annotations

from typing import Any

ROLE_START = "\n\nYou are the "  # where a role's own instructions begin (agents.roles)
_EPHEMERAL = {"type": "ephemeral"}


def needs_breakpoints(model: str) -> bool:
    """Whether litellm's ``model`` caches only at ``cache_control`` breakpoints."""
    name = model.lower()
    if name.startswith(("anthropic/", "claude")):
        return True
    return name.startswith(("bedrock/", "vertex_ai/")) and "claude" in name


def with_breakpoints(model: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with the system message as marked blocks, where the model needs them."""
    if not needs_breakpoints(model) or not messages or messages[0].get("role") != "system":
        return messages
    content = messages[0].get("content")
    if not isinstance(content, str) or not content:
        return messages
    cut = content.rfind(ROLE_START)
    parts = [content[: cut + 2], content[cut + 2 :]] if cut > 0 else [content]
    blocks = [{"type": "text", "text": text, "cache_control": _EPHEMERAL} for text in parts]
    return [{**messages[0], "content": blocks}, *messages[1:]]
