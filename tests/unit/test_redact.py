"""Secrets never survive redaction; secret-looking variables never reach child processes."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samokoder.secrets import REDACTED, redact, scrubbed_env, secret_env_names, secret_values


def test_given_secrets_are_replaced_everywhere() -> None:
    text = "key my-local-secret-1 failed; retry with my-local-secret-1"

    assert redact(text, ["my-local-secret-1"]) == f"key {REDACTED} failed; retry with {REDACTED}"


def test_short_and_missing_secrets_are_ignored() -> None:
    text = "abc said hello"

    assert redact(text, ["abc", None, ""]) == text


def test_longer_secret_is_replaced_whole_when_it_contains_a_shorter_one() -> None:
    assert redact("token ABCDEF123456", ["ABCDEF", "ABCDEF123456"]) == f"token {REDACTED}"


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Incorrect API key provided: sk-proj-AbC123xyz789.", "sk-proj-AbC123xyz789"),
        ("anthropic said sk-ant-api03-abcdefGHIJ", "sk-ant-api03-abcdefGHIJ"),
        ("groq key gsk_abcdefghijklmnop rejected", "gsk_abcdefghijklmnop"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ("GET /v1/models?api_key=s3cr3tvalue&x=1", "s3cr3tvalue"),
        ('{"api-key": "hunter22hunter"}', "hunter22hunter"),
        ("x-api-key: abcd1234efgh", "abcd1234efgh"),
        ("proxy https://alice:pa55word@proxy.local:8080/", "pa55word"),
        ("google AIzaSyA-1234567890abcdefghijklmno", "AIzaSyA-1234567890abcdefghijklmno"),
    ],
)
def test_credential_shapes_are_redacted_without_being_named(text: str, leaked: str) -> None:
    cleaned = redact(text)

    assert leaked not in cleaned
    assert REDACTED in cleaned


def test_ordinary_text_is_left_alone() -> None:
    text = "max_tokens=100, prompt_tokens: 12; see https://example.com/docs?page=2 (task-force)"

    assert redact(text) == text


def test_bearer_scheme_and_assignment_name_stay_readable() -> None:
    assert redact("Bearer abcdef123456") == f"Bearer {REDACTED}"
    assert redact("api_key=abcdef123456") == f"api_key={REDACTED}"


@given(
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    # Upper case and digits, so a secret can never be spelt by "[redacted]" itself.
    secret=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=6, max_size=40),
)
def test_a_given_secret_never_survives(before: str, after: str, secret: str) -> None:
    assert secret not in redact(before + secret + after + secret, [secret])


def test_secret_env_names_finds_keys_tokens_and_known_providers() -> None:
    environ = {
        "OPENAI_API_KEY": "sk-1",
        "HF_TOKEN": "hf",
        "DB_PASSWORD": "pw",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "my_service_token": "t",
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "SAMOKODER_MODEL": "openai/gpt-4o-mini",
    }

    assert secret_env_names(environ) == [
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD",
        "HF_TOKEN",
        "OPENAI_API_KEY",
        "my_service_token",
    ]


def test_scrubbed_env_keeps_everything_else() -> None:
    environ = {"OPENAI_API_KEY": "sk-1", "GROQ_API_KEY": "g", "PATH": "/bin", "LANG": "C.UTF-8"}

    assert scrubbed_env(environ) == {"PATH": "/bin", "LANG": "C.UTF-8"}
    assert environ["OPENAI_API_KEY"] == "sk-1"  # the input is not modified


def test_secret_values_feed_redaction() -> None:
    environ = {"ANTHROPIC_API_KEY": "plain-secret-value", "EMPTY_TOKEN": "", "PATH": "/bin"}

    assert secret_values(environ) == ["plain-secret-value"]
    assert "plain-secret-value" not in redact("got plain-secret-value", secret_values(environ))
