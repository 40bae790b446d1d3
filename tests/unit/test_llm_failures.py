"""litellm's exception types map to failure kinds and messages a person can act on, keyless."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from samokoder.llm import failures
from samokoder.llm.client import ModelCall
from samokoder.llm.runtime import load_litellm

CALL = ModelCall(model="anthropic/claude-sonnet-4-5", api_base="http://127.0.0.1:9/v1")
ENV_KEY = "plainkeywithoutanyshape42"


@pytest.fixture(scope="module")
def litellm() -> Any:
    return load_litellm()


def response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://x"))


CASES: list[tuple[str, Callable[[Any], Exception], str, bool]] = [
    (
        "AuthenticationError",
        lambda e: e.AuthenticationError("bad key", "anthropic", CALL.model),
        failures.AUTH,
        False,
    ),
    (
        "PermissionDeniedError",
        lambda e: e.PermissionDeniedError("no", "anthropic", CALL.model, response(403)),
        failures.PERMISSION,
        False,
    ),
    (
        "NotFoundError",
        lambda e: e.NotFoundError("no model", CALL.model, "anthropic"),
        failures.NOT_FOUND,
        False,
    ),
    (
        "ContextWindowExceededError",
        lambda e: e.ContextWindowExceededError("too long", CALL.model, "anthropic"),
        failures.CONTEXT_WINDOW,
        False,
    ),
    (
        "RateLimitError",
        lambda e: e.RateLimitError("slow down", "anthropic", CALL.model),
        failures.RATE_LIMIT,
        True,
    ),
    (
        "ServiceUnavailableError",
        lambda e: e.ServiceUnavailableError("down", "anthropic", CALL.model),
        failures.SERVER,
        True,
    ),
    (
        "InternalServerError",
        lambda e: e.InternalServerError("oops", "anthropic", CALL.model),
        failures.SERVER,
        True,
    ),
    ("Timeout", lambda e: e.Timeout("slow", CALL.model, "anthropic"), failures.TIMEOUT, True),
    (
        "APIConnectionError",
        lambda e: e.APIConnectionError("refused", "anthropic", CALL.model),
        failures.CONNECTION,
        True,
    ),
    (
        "BadRequestError",
        lambda e: e.BadRequestError("bad param", CALL.model, "anthropic"),
        failures.BAD_REQUEST,
        False,
    ),
]


@pytest.mark.parametrize(("name", "make", "kind", "retryable"), CASES, ids=[c[0] for c in CASES])
def test_each_litellm_exception_has_a_kind(
    litellm: Any, name: str, make: Callable[[Any], Exception], kind: str, retryable: bool
) -> None:
    error = failures.classify(make(litellm.exceptions), litellm, CALL, "connect")
    assert (error.kind, error.retryable) == (kind, retryable)
    assert CALL.model in error.message


def test_a_rejected_key_names_the_variable(litellm: Any) -> None:
    exc = litellm.exceptions.AuthenticationError("invalid x-api-key", "anthropic", CALL.model)
    message = failures.classify(exc, litellm, CALL, "connect").message
    assert "ANTHROPIC_API_KEY" in message and "missing or wrong" in message and "401" in message


def test_a_connection_lost_while_streaming_is_a_cut_stream(litellm: Any) -> None:
    exc = litellm.exceptions.APIConnectionError("peer closed", "anthropic", CALL.model)
    assert failures.classify(exc, litellm, CALL, "stream").kind == failures.CUT_STREAM


def test_retry_after_is_read_from_the_response(litellm: Any) -> None:
    exc = litellm.exceptions.RateLimitError(
        "slow down", "anthropic", CALL.model, response=response(429, {"retry-after": "7"})
    )
    error = failures.classify(exc, litellm, CALL, "connect")
    assert error.retry_after == 7.0
    assert "wait 7 s" in error.message


def test_keys_from_the_environment_are_redacted_even_without_a_known_shape(
    litellm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ENV_KEY)
    exc = litellm.exceptions.BadRequestError(f"key {ENV_KEY} is odd", CALL.model, "anthropic")
    error = failures.classify(exc, litellm, CALL, "connect")
    assert ENV_KEY not in error.message
    assert "[redacted]" in error.message


def test_an_unknown_provider_says_how_to_name_the_model(litellm: Any) -> None:
    exc = litellm.exceptions.BadRequestError(
        "LLM Provider NOT provided. Pass in the LLM provider", "mystery", "unknown"
    )
    error = failures.classify(exc, litellm, ModelCall(model="mystery"), "connect")
    assert error.kind == failures.UNKNOWN_PROVIDER
    assert "openai/<name>" in error.message


def test_where_hides_credentials_in_the_url() -> None:
    assert failures.where("https://u:sk-p-123456@h.example:8443/v1?key=x") == (
        "https://h.example:8443/v1"
    )
    assert failures.where(None) == "the provider's default endpoint"
