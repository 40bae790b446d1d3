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


def test_missing_credentials_is_a_setup_error_naming_the_variable(litellm: Any) -> None:
    # What litellm raises (as a 500) when no key is set for an openai/ model.
    exc = litellm.exceptions.InternalServerError(
        "OpenAIException - Missing credentials. Please pass an `api_key`, `workload_identity`,"
        " `admin_api_key`, or set the `OPENAI_API_KEY` or `OPENAI_ADMIN_KEY` environment "
        "variable.",
        "openai",
        "openai/local",
    )
    call = ModelCall(model="openai/local", api_base="http://127.0.0.1:8000/v1")
    error = failures.classify(exc, litellm, call, "connect")
    assert (error.kind, error.retryable) == (failures.MISSING_CONFIG, False)
    assert error.kind not in failures.HEALTH_KINDS  # never counted against the breaker
    assert "OPENAI_API_KEY" in error.message and "apiKeys" in error.message
    assert "try again later" not in error.message


def test_a_proxy_without_a_database_refusing_a_key_is_an_auth_failure(litellm: Any) -> None:
    exc = litellm.exceptions.BadRequestError(
        "Litellm_proxyException - {'error': {'message': 'Authentication Error, No connected db.',"
        " 'type': 'auth_error', 'param': 'None', 'code': '400'}}",
        "litellm_proxy/team-model",
        "litellm_proxy",
    )
    call = ModelCall(model="litellm_proxy/team-model", api_base="http://127.0.0.1:4000")
    error = failures.classify(exc, litellm, call, "connect")
    assert (error.kind, error.retryable) == (failures.AUTH, False)
    assert "LITELLM_PROXY_API_KEY" in error.message and "master key" in error.message


@pytest.mark.parametrize(
    "body",
    [
        "response_format type json_schema is not supported",
        "Unsupported parameter: 'response_format'",
        "Extra inputs are not permitted",
    ],
)
def test_a_server_error_that_says_a_parameter_is_unsupported_is_not_retried(
    litellm: Any, body: str
) -> None:
    exc = litellm.exceptions.InternalServerError(body, "openai", "openai/local")
    error = failures.classify(exc, litellm, CALL, "connect")
    assert (error.kind, error.retryable) == (failures.UNSUPPORTED, False)
    assert "structuredOutput" in error.message


def test_a_plain_server_error_is_still_transient(litellm: Any) -> None:
    exc = litellm.exceptions.InternalServerError("upstream crashed", "openai", "openai/local")
    error = failures.classify(exc, litellm, CALL, "connect")
    assert (error.kind, error.retryable) == (failures.SERVER, True)
