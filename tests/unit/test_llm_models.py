"""Model resolution: settings, then a provider key, then a local Ollama, else a clear error."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from samokoder.errors import NoModelConfiguredError
from samokoder.llm import models
from samokoder.llm.models import (
    call_chain,
    configured_model,
    find_ollama,
    keys_found,
    model_from_keys,
    probe_ollama,
    resolve_model,
    resolve_now,
)
from samokoder.llm.report import models_report
from samokoder.settings import Settings

SECRET = "sk-proj-never-shown-123456"


@pytest.fixture(autouse=True)
def _forget_probe() -> Iterator[None]:
    models.forget_ollama()
    yield
    models.forget_ollama()


def unused_base() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
async def ollama() -> AsyncIterator[tuple[str, list[str]]]:
    """A stand-in Ollama on 127.0.0.1 answering /api/tags; yields (base, paths requested)."""
    paths: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        paths.append(head.split()[1].decode())
        body = json.dumps(
            {"models": [{"name": "llama3.2:latest"}, {"name": "qwen2.5-coder:7b"}]}
        ).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", paths


def test_agent_model_beats_the_default_model() -> None:
    settings = Settings(model="openai/a", agent_models={"reviewer": "anthropic/b"})
    assert configured_model(settings, "reviewer").model == "anthropic/b"  # type: ignore[union-attr]
    chosen = configured_model(settings, "developer")
    assert chosen is not None and chosen.model == "openai/a"


@pytest.mark.parametrize(
    ("variable", "model"),
    [
        ("OPENAI_API_KEY", "openai/gpt-4.1-mini"),
        ("ANTHROPIC_API_KEY", "anthropic/claude-sonnet-4-5"),
        ("GROQ_API_KEY", "groq/openai/gpt-oss-120b"),
    ],
)
def test_a_provider_key_picks_that_providers_default(variable: str, model: str) -> None:
    chosen = model_from_keys(Settings(), {variable: SECRET})
    assert chosen is not None
    assert chosen.model == model
    assert variable in chosen.source
    assert SECRET not in chosen.source


def test_an_api_keys_entry_counts_like_a_variable() -> None:
    chosen = model_from_keys(Settings(api_keys={"anthropic": SECRET}), {})
    assert chosen is not None and chosen.model.startswith("anthropic/")


def test_with_an_api_base_keys_do_not_guess_a_model() -> None:
    settings = Settings(api_base="http://127.0.0.1:8000/v1")
    assert model_from_keys(settings, {"OPENAI_API_KEY": SECRET}) is None


def test_the_default_model_is_priced_in_litellms_tables() -> None:
    from samokoder.llm.budget import price
    from samokoder.llm.runtime import load_litellm

    litellm = load_litellm()
    for _provider, model in models.DEFAULT_MODELS[:2]:
        assert price(litellm, model, 1000, 1000), model


async def test_ollama_probe_lists_models(ollama: tuple[str, list[str]]) -> None:
    base, paths = ollama
    assert await probe_ollama(base) == ["llama3.2:latest", "qwen2.5-coder:7b"]
    assert paths == ["/api/tags"]


async def test_a_local_ollama_is_used_when_nothing_is_configured(
    ollama: tuple[str, list[str]],
) -> None:
    base, paths = ollama
    chosen = await resolve_model(Settings(), "code_monkey", {}, ollama_base=base)

    assert chosen.model == "ollama_chat/qwen2.5-coder:7b"  # a coder model is preferred
    assert chosen.api_base == base
    # remembered: the next resolution asks nobody
    again = await find_ollama(base)
    assert again == chosen
    assert len(paths) == 1


async def test_nothing_found_is_a_clear_error() -> None:
    with pytest.raises(NoModelConfiguredError) as caught:
        await resolve_model(Settings(), "code_monkey", {}, ollama_base=unused_base())

    message = caught.value.message
    assert message.startswith("No model configured: set SAMOKODER_MODEL")
    assert "OPENAI_API_KEY" in message and "Ollama" in message and "SAMOKODER_API_BASE" in message


async def test_configured_models_need_no_probe(ollama: tuple[str, list[str]]) -> None:
    base, paths = ollama
    chosen = await resolve_model(
        Settings(model="openai/x"), "developer", {"OPENAI_API_KEY": SECRET}, ollama_base=base
    )
    assert chosen.model == "openai/x"
    from_key = await resolve_model(Settings(), "developer", {"GROQ_API_KEY": SECRET})
    assert from_key.model.startswith("groq/")
    assert paths == []


async def test_probe_of_a_server_that_is_not_ollama_finds_nothing(
    fake_provider: object,
) -> None:
    base = str(fake_provider.base_url).removesuffix("/v1")  # type: ignore[attr-defined]
    assert await probe_ollama(base) == []


def test_resolve_now_never_probes() -> None:
    assert resolve_now(Settings(), "developer", {}) is None
    assert resolve_now(Settings(model="openai/x"), "developer", {}) is not None


def test_call_chain_appends_distinct_fallbacks_with_their_own_keys() -> None:
    settings = Settings(
        model="openai/main",
        api_base="http://127.0.0.1:9/v1",
        api_keys={"openai": "k-openai-123", "anthropic": "k-anthropic-123"},
        fallback_models=["openai/main", "anthropic/backup", " ", "openai/second"],
        temperature=0.2,
        request_timeout=33,
        max_tokens=700,
    )
    resolved = configured_model(settings, "developer")
    assert resolved is not None
    chain = call_chain(settings, resolved)

    assert [c.model for c in chain] == ["openai/main", "anthropic/backup", "openai/second"]
    assert [c.api_key for c in chain] == ["k-openai-123", "k-anthropic-123", "k-openai-123"]
    assert {(c.api_base, c.temperature, c.timeout, c.max_tokens) for c in chain} == {
        ("http://127.0.0.1:9/v1", 0.2, 33, 700)
    }


def test_keys_found_names_never_values() -> None:
    found = keys_found(Settings(api_keys={"groq": SECRET}), {"ANTHROPIC_API_KEY": SECRET})
    assert found == ["ANTHROPIC_API_KEY (environment)", "apiKeys.groq (settings)"]


def test_models_report_shows_choices_and_key_names_only() -> None:
    env = {"OPENAI_API_KEY": SECRET, "SAMOKODER_MODEL": "openai/main"}
    settings = Settings(
        model="openai/main",
        agent_models={"reviewer": "anthropic/claude-sonnet-4-5"},
        fallback_models=["openai/backup"],
        budget_usd=2,
        api_keys={"anthropic": SECRET},
    )
    text = models_report(settings, env, probe_ollama=False)

    assert SECRET not in text
    assert "OPENAI_API_KEY (environment)" in text
    assert "apiKeys.anthropic (settings)" in text
    assert "openai/backup" in text and "$2 per run" in text
    assert "reviewer        anthropic/claude-sonnet-4-5  [agentModels.reviewer]" in text
    assert "developer       openai/main" in text


def test_models_report_without_anything_says_so() -> None:
    text = models_report(Settings(), {}, probe_ollama=False)
    assert "(none)" in text
    assert "no model: set SAMOKODER_MODEL" in text
