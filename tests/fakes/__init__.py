"""Test doubles. The vocabulary for scripting the fake provider lives here; the server
itself (and the ``fake_provider`` pytest fixture) is in :mod:`tests.fakes.fake_provider`,
which re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

Fault = Literal[
    "http_500", "http_429", "http_401", "http_404", "http_error", "cut_stream", "hang", "bad_json"
]

MODELS = ("fake-model", "fake-model-large", "fake-coder")


@dataclass(frozen=True)
class Reply:
    """One scripted answer: text to send (in ``chunks`` pieces when streaming) or a fault.

    Faults: ``http_*`` answer with that status and OpenAI's error JSON (a 401 quotes the
    key it got, as real providers do); ``cut_stream`` sends half the chunks then drops
    the connection; ``hang`` answers nothing until the client leaves or the fake stops;
    ``bad_json`` sends a body (or event) that is not JSON; ``http_error`` answers
    ``error_status`` with ``error_message`` (what a particular server really says).

    ``finish_reason`` is what the last chunk says (None: no chunk says why the stream
    ended, as some servers do); ``send_done`` False leaves out ``data: [DONE]``;
    ``cost`` adds ``usage.cost`` the way a LiteLLM proxy reports what a call cost;
    ``cached_tokens`` adds ``usage.prompt_tokens_details.cached_tokens``, the part of the
    prompt the provider served from its prompt cache (OpenAI's field).
    """

    text: str = ""
    chunks: int | None = None
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    fault: Fault | None = None
    retry_after: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # False: no usage chunk even when asked, like servers that ignore stream_options.
    send_usage: bool = True
    finish_reason: str | None = "stop"
    send_done: bool = True
    cost: float | None = None
    cached_tokens: int | None = None
    error_status: int = 500
    error_message: str = "error"

    def pieces(self) -> list[str]:
        """The text split into ``chunks`` pieces (default: about one per 8 characters)."""
        if not self.text:
            return []
        count = self.chunks if self.chunks is not None else math.ceil(len(self.text) / 8)
        count = max(1, min(count, len(self.text)))
        size = math.ceil(len(self.text) / count)
        return [self.text[i : i + size] for i in range(0, len(self.text), size)]


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    started: float = 0.0  # time.perf_counter() when it arrived (chat requests)
    ended: float | None = None  # when its reply was sent in full, or the client left


def default_responder(request: dict[str, Any]) -> Reply:
    """Answer "ok" to anything that was not scripted."""
    return Reply(text="ok")


def usage_for(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """The reply's token counts, or a deterministic estimate (4 characters a token)."""
    messages = body.get("messages") or []
    prompt_chars = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else max(1, prompt_chars // 4)
    completion = reply.completion_tokens
    if completion is None:
        completion = max(1, math.ceil(len(reply.text) / 4))
    total = prompt + completion
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
    }
    if reply.cost is not None:
        usage["cost"] = reply.cost
    if reply.cached_tokens is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": min(reply.cached_tokens, prompt)}
    return usage
