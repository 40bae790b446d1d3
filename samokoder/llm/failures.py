"""What went wrong with a provider call, said once: a kind for the retry policy, a message
for the person, and never the key.

litellm's exception types (and the HTTP status under them) are mapped here to a small
set of kinds; the retry/fallback loop decides per kind, the ledger records the kind,
and the message names what to fix (the key variable, the model name, the URL).
"""

from __future__ import annotations

import email.utils
import math
import os
import time
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from samokoder.errors import LLMError
from samokoder.llm.calls import Completion, ModelCall
from samokoder.secrets import redact, secret_values

# Failure kinds; the ledger's error_class column holds one of these (or "cancelled").
AUTH: Final = "auth"
PERMISSION: Final = "permission"
NOT_FOUND: Final = "not_found"
CONTEXT_WINDOW: Final = "context_window"
UNKNOWN_PROVIDER: Final = "unknown_provider"
RATE_LIMIT: Final = "rate_limit"
TIMEOUT: Final = "timeout"
CUT_STREAM: Final = "cut_stream"
CONNECTION: Final = "connection"
SERVER: Final = "server_error"
BAD_REQUEST: Final = "bad_request"
UNSUPPORTED: Final = "unsupported"  # the server does not take a parameter we sent
MISSING_CONFIG: Final = "missing_config"  # failed before any request: no key, no base
TRUNCATED: Final = "truncated"  # the reply stopped at the output limit
CONTENT_FILTER: Final = "content_filter"  # the provider withheld (part of) the reply
DEADLINE: Final = "deadline"  # still streaming when requestTimeout ran out
OTHER: Final = "other"
CANCELLED: Final = "cancelled"

# Kinds that say the model or its server is unwell (not the request, not the setup):
# these count towards the circuit breaker.
HEALTH_KINDS: Final = frozenset({RATE_LIMIT, TIMEOUT, CUT_STREAM, CONNECTION, SERVER})

_DETAIL_LIMIT = 300
# The environment variable litellm reads for each provider prefix.
KEY_ENV: Final[Mapping[str, str]] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "azure": "AZURE_API_KEY",
    "litellm_proxy": "LITELLM_PROXY_API_KEY",
}


class ProviderError(LLMError):
    """A failed provider call, with the kind the retry policy decides on.

    ``retry_after`` is the wait in seconds the provider asked for (429/503), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.kind = kind
        self.retry_after = retry_after
        self.status = status


class TruncatedReplyError(ProviderError):
    """A reply that ended at the output limit; ``partial`` is what arrived (and was paid for).

    Never used as an answer: the caller continues it, asks again with more room, or
    reports it (``limit_message``).
    """

    def __init__(self, message: str, partial: Completion) -> None:
        super().__init__(message, kind=TRUNCATED, retryable=False)
        self.partial = partial


def truncated_message(call: ModelCall, completion_tokens: int, limit: int | None) -> str:
    """What to tell the person when a reply stays cut off: the limit and what to raise."""
    got = f"after {completion_tokens} tokens " if completion_tokens else ""
    if call.max_tokens is not None:
        advice = (
            f"it was cut off at the maxTokens setting ({call.max_tokens} tokens): raise "
            "maxTokens, or ask for a smaller change"
        )
    else:
        known = f" ({limit} tokens)" if limit else ""
        advice = (
            f"it was cut off at the model's output limit{known} or the server's context "
            "window: ask for a smaller change (fewer files, a shorter selection), raise "
            "the server's limit, or set maxTokens if the server's default is low"
        )
    return (
        f"The reply of model {call.model} stopped {got}before it was complete "
        f'(finish_reason "length"), so none of it was used: {advice}'
    )


def provider_of(model: str) -> str:
    """litellm's provider prefix of a model string (no prefix means OpenAI)."""
    return model.split("/", 1)[0] if "/" in model else "openai"


def key_env(model: str) -> str:
    provider = provider_of(model)
    return KEY_ENV.get(provider, f"{provider.upper()}_API_KEY")


def where(api_base: str | None) -> str:
    """The endpoint as a person would name it, without credentials or query."""
    if not api_base:
        return "the provider's default endpoint"
    parts = urlsplit(api_base)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")) or api_base


def failure(call: ModelCall, message: str, kind: str, **extra: Any) -> ProviderError:
    """A ProviderError whose message holds no key (given, from the environment, or key-shaped)."""
    retryable = kind in HEALTH_KINDS
    clean = redact(message, [call.api_key, *secret_values(os.environ)])
    return ProviderError(clean, kind=kind, retryable=retryable, **extra)


def cut_message(call: ModelCall) -> str:
    return (
        f"The stream from model {call.model} at {where(call.api_base)} broke off before the "
        "answer was complete: try again"
    )


def classify(exc: Exception, litellm: ModuleType, call: ModelCall, phase: str) -> ProviderError:
    """Map a litellm (or transport) exception to a ProviderError; ``phase``: connect|stream."""
    model, at = call.model, where(call.api_base)
    status = _status(exc)
    exceptions = getattr(litellm, "exceptions", None)

    def isa(name: str) -> bool:
        cls = getattr(exceptions, name, None)
        return isinstance(cls, type) and isinstance(exc, cls)

    def fail(message: str, kind: str) -> ProviderError:
        return failure(call, message, kind, retry_after=retry_after(exc), status=status)

    detail = _detail(exc)
    if _mentions(detail, _MISSING_KEY_MARKERS):
        return fail(
            f"No API key for model {model} at {at}: set {key_env(model)} or the apiKeys "
            f"setting ({provider_of(model)!r} entry); a local server that needs no key "
            "still needs a placeholder value such as sk-none",
            MISSING_CONFIG,
        )
    if _mentions(detail, ("no connected db",)):
        return fail(
            f'The LiteLLM proxy at {at} did not accept the key for model {model} (400 "No '
            'connected db": a proxy without a database accepts only its master key): set '
            f"{key_env(model)} or the apiKeys setting ({provider_of(model)!r} entry) to a "
            "key the proxy knows",
            AUTH,
        )
    if isa("AuthenticationError") or status == 401:
        return fail(
            f"The API key for model {model} at {at} is missing or wrong (401 Unauthorized): "
            f"set {key_env(model)} or the apiKeys setting ({provider_of(model)!r} entry)",
            AUTH,
        )
    if isa("PermissionDeniedError") or status == 403:
        return fail(
            f"The provider denied access (403 Forbidden) to model {model} at {at}: the key in "
            f"{key_env(model)} (or apiKeys) lacks permission for this model ({_detail(exc)})",
            PERMISSION,
        )
    if isa("NotFoundError") or status == 404:
        return fail(
            f"Model {model} was not found at {at} (404): check the model name (for a local "
            "server, the name it serves) and the API base URL",
            NOT_FOUND,
        )
    if isa("ContextWindowExceededError"):
        return fail(
            f"The conversation is too long for model {model}'s context window: choose a model "
            "with a larger context or include fewer files",
            CONTEXT_WINDOW,
        )
    if "LLM Provider NOT provided" in str(exc):
        return fail(
            f"litellm does not know which provider serves {model!r}: prefix the model with its "
            "provider, e.g. openai/<name> (with an API base for any OpenAI-compatible server), "
            "ollama_chat/<name> or anthropic/<name>",
            UNKNOWN_PROVIDER,
        )
    if isa("RateLimitError") or status == 429:
        wait = retry_after(exc)
        asked = f"; the provider asks to wait {wait:g} s" if wait is not None else ""
        return fail(
            f"Model {model} at {at} is rate-limited (429 Too Many Requests){asked}: "
            "wait and try again, or configure a fallback model",
            RATE_LIMIT,
        )
    if _caused_by(exc, _TIMEOUT_NAMES) or isa("Timeout") or status == 408:
        return fail(
            f"Model {model} at {at} sent nothing for {call.timeout:g} s (timeout): the server "
            "may be overloaded or unreachable; try again or raise the timeout",
            TIMEOUT,
        )
    if phase == "stream" and (
        isa("MidStreamFallbackError") or isa("APIConnectionError") or _caused_by(exc, _NET_NAMES)
    ):
        return fail(f"{cut_message(call)} ({_detail(exc)})", CUT_STREAM)
    if isa("APIConnectionError") or _caused_by(exc, _NET_NAMES):
        return fail(
            f"Could not reach {at} for model {model}: is the server running and the API base "
            f"URL right? ({_detail(exc)})",
            CONNECTION,
        )
    if _mentions(detail, _UNSUPPORTED_MARKERS) and (status is None or status >= 400):
        return fail(
            f"The server at {at} does not support a parameter sent for model {model} "
            f"({status or 'error'}): {detail}. For structured output, set the "
            "structuredOutput setting for this model to json_object or prompt",
            UNSUPPORTED,
        )
    if status is not None and status >= 500:
        return fail(
            f"The provider failed ({status}) for model {model} at {at}: try again later "
            f"({_detail(exc)})",
            SERVER,
        )
    if isa("BadRequestError") or isa("UnprocessableEntityError") or status in (400, 422):
        return fail(
            f"The provider rejected the request ({status or 400}) for model {model} at {at}: "
            f"{_detail(exc)}",
            BAD_REQUEST,
        )
    return fail(
        f"The call to model {model} at {at} failed ({type(exc).__name__}): {_detail(exc)}",
        OTHER,
    )


_MISSING_KEY_MARKERS = (
    "missing credentials",
    "api_key client option must be set",
    "no api key provided",
    "missing api key",
)
_UNSUPPORTED_MARKERS = (
    "not supported",
    "unsupported",
    "does not support",
    "unknown parameter",
    "unrecognized request argument",
    "extra inputs are not permitted",
    "response_format",
    "json_schema",
)


def _mentions(detail: str, markers: tuple[str, ...]) -> bool:
    """Whether the provider's words contain any of ``markers`` (lower case)."""
    lowered = detail.lower()
    return any(marker in lowered for marker in markers)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked to wait (Retry-After / retry-after-ms), if it said."""
    for source in (getattr(exc, "response", None), exc):
        headers = getattr(source, "headers", None)
        if headers is None:
            headers = getattr(source, "litellm_response_headers", None)
        get = getattr(headers, "get", None)
        if not callable(get):
            continue
        millis, seconds = get("retry-after-ms"), get("retry-after")
        parsed = parse_retry_after(seconds, millis)
        if parsed is not None:
            return parsed
    return None


def parse_retry_after(seconds: Any, millis: Any = None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number, an HTTP date, or a retry-after-ms value."""
    for value, scale in ((millis, 0.001), (seconds, 1.0)):
        if value is None or value == "":
            continue
        number: float | None
        try:
            number = float(value) * scale
        except (TypeError, ValueError):
            number = _http_date_delay(str(value), time.time() if now is None else now)
        if number is not None and math.isfinite(number) and number >= 0:
            return number
    return None


def _http_date_delay(value: str, now: float) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now)


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _detail(exc: Exception) -> str:
    """The provider's own words, without litellm's prefixes, shortened."""
    text = str(getattr(exc, "message", None) or exc)
    marker = text.rfind("Exception - ")
    if marker >= 0:
        text = text[marker + len("Exception - ") :]
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


# Matched by class name anywhere in an exception's chain and MRO, so that openai,
# httpx and aiohttp failures are recognised without importing those libraries.
_TIMEOUT_NAMES = frozenset(
    {"TimeoutError", "APITimeoutError", "TimeoutException", "ServerTimeoutError"}
)
_NET_NAMES = frozenset(
    {
        "APIConnectionError",
        "ConnectionError",
        "TransportError",
        "ClientConnectionError",
        "ClientPayloadError",
    }
)


def _caused_by(exc: BaseException, names: frozenset[str]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(cls.__name__ in names for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False
