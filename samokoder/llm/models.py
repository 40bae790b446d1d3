"""Which model answers an agent, and how to reach it.

In order: the agent's entry in ``agentModels``, the ``model`` setting (or
SAMOKODER_MODEL); with neither, a provider key the user already has (OPENAI_API_KEY,
ANTHROPIC_API_KEY, GROQ_API_KEY, or an ``apiKeys`` entry) picks that provider's
default; else a local Ollama, if one answers on 127.0.0.1:11434; else an error that
says how to configure one. Only the Ollama step touches the network, asynchronously,
with a short timeout, and only when nothing else decided.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from samokoder.errors import NoModelConfiguredError
from samokoder.llm.client import ModelCall
from samokoder.llm.failures import KEY_ENV
from samokoder.settings import Settings

logger = logging.getLogger(__name__)

NO_MODEL_MESSAGE: Final = (
    "No model configured: set SAMOKODER_MODEL (e.g. openai/gpt-4.1-mini) or the `model` "
    "setting, with the provider's key in its usual variable (OPENAI_API_KEY, "
    "ANTHROPIC_API_KEY, GROQ_API_KEY, ...); a key alone also works (Samokoder picks that "
    "provider's default model), and so does a local Ollama (`ollama pull qwen2.5-coder`). "
    "For any OpenAI-compatible server or a LiteLLM proxy set SAMOKODER_API_BASE and the "
    "model it serves."
)
# The provider default chosen when only its key is found, in this order of preference.
DEFAULT_MODELS: Final = (
    ("openai", "openai/gpt-4.1-mini"),
    ("anthropic", "anthropic/claude-sonnet-4-5"),
    ("groq", "groq/openai/gpt-oss-120b"),
)
OLLAMA_BASE: Final = "http://127.0.0.1:11434"
OLLAMA_PROBE_TIMEOUT: Final = 0.5
_PROBE_LIMIT = 1 << 20  # bytes read from the Ollama tag list at most
_REMEMBER_FOUND = 300.0  # seconds a probe result is reused
_REMEMBER_MISSING = 10.0


@dataclass(frozen=True)
class ResolvedModel:
    model: str
    api_base: str | None
    source: str  # where the choice came from, for messages and `samokoder models`


def configured_model(settings: Settings, agent: str) -> ResolvedModel | None:
    """The model the user named for this agent (agentModels) or for all (model)."""
    if settings.agent_models.get(agent):
        return ResolvedModel(
            settings.agent_models[agent], settings.api_base, f"agentModels.{agent}"
        )
    if settings.model:
        return ResolvedModel(settings.model, settings.api_base, "model setting / SAMOKODER_MODEL")
    return None


def keys_found(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Where provider keys were found, by name only (never a value)."""
    env = os.environ if environ is None else environ
    found = [f"{var} (environment)" for var in sorted(set(KEY_ENV.values())) if env.get(var)]
    found += [f"apiKeys.{name} (settings)" for name in sorted(settings.api_keys) if name]
    return found


def model_from_keys(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> ResolvedModel | None:
    """A provider's default model, when the user has that provider's key and no apiBase.

    With an apiBase the key is for that server, whose model names cannot be guessed.
    """
    if settings.api_base:
        return None
    env = os.environ if environ is None else environ
    for provider, model in DEFAULT_MODELS:
        variable = KEY_ENV[provider]
        if env.get(variable):
            return ResolvedModel(model, None, f"{variable} found (default for {provider})")
        if settings.api_keys.get(provider):
            return ResolvedModel(model, None, f"apiKeys.{provider} found (default for {provider})")
    return None


def resolve_now(
    settings: Settings, agent: str, environ: Mapping[str, str] | None = None
) -> ResolvedModel | None:
    """Resolution without any network: settings, keys, or an Ollama found earlier."""
    return (
        configured_model(settings, agent)
        or model_from_keys(settings, environ)
        or (None if settings.api_base else _ollama_remembered())
    )


async def resolve_model(
    settings: Settings,
    agent: str,
    environ: Mapping[str, str] | None = None,
    *,
    ollama_base: str = OLLAMA_BASE,
) -> ResolvedModel:
    """The model for ``agent``; probes a local Ollama only when nothing else decided.

    Raises NoModelConfiguredError (saying how to configure one) when nothing is found.
    """
    found = configured_model(settings, agent) or model_from_keys(settings, environ)
    if found is not None:
        return found
    if not settings.api_base:
        local = await find_ollama(ollama_base)
        if local is not None:
            return local
    raise NoModelConfiguredError(NO_MODEL_MESSAGE)


def call_chain(settings: Settings, resolved: ResolvedModel) -> list[ModelCall]:
    """The main model, then each distinct fallback model, all at the same endpoint."""
    models = [resolved.model]
    for model in settings.fallback_models:
        if model and model.strip() and model not in models:
            models.append(model.strip())
    return [
        ModelCall(
            model=model,
            api_base=resolved.api_base,
            api_key=settings.api_key_for(model),
            temperature=settings.temperature,
            timeout=settings.request_timeout,
            max_tokens=settings.max_tokens,
        )
        for model in models
    ]


# -- Ollama ------------------------------------------------------------------------------

_remembered: tuple[float, str, ResolvedModel | None] | None = None  # (when, base, result)


def _ollama_remembered(base: str = OLLAMA_BASE) -> ResolvedModel | None:
    memo = _remembered
    if memo is None or memo[1] != base or memo[2] is None:
        return None
    return memo[2] if time.monotonic() - memo[0] < _REMEMBER_FOUND else None


async def find_ollama(base: str = OLLAMA_BASE) -> ResolvedModel | None:
    """A model of the Ollama at ``base`` (a coder model if there is one), or None."""
    global _remembered
    memo = _remembered
    if memo is not None and memo[1] == base:
        age = time.monotonic() - memo[0]
        if age < (_REMEMBER_FOUND if memo[2] is not None else _REMEMBER_MISSING):
            return memo[2]
    names = await probe_ollama(base)
    result = None
    if names:
        coder = [name for name in names if "coder" in name.lower()]
        name = (coder or names)[0]
        result = ResolvedModel(f"ollama_chat/{name}", base, f"local Ollama at {base}")
        logger.info("no model configured; using %s from the local Ollama", result.model)
    _remembered = (time.monotonic(), base, result)
    return result


async def probe_ollama(base: str = OLLAMA_BASE, limit: float = OLLAMA_PROBE_TIMEOUT) -> list[str]:
    """Names of the models an Ollama server at ``base`` has pulled; [] when none answers.

    ``limit`` bounds the whole exchange, in seconds.
    """
    host, port = _host_port(base)
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(limit):
            reader, writer = await asyncio.open_connection(host, port)
            request = (
                f"GET /api/tags HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n"
            )
            writer.write(request.encode("ascii"))
            await writer.drain()
            raw = await reader.read(_PROBE_LIMIT)
            while raw and len(raw) < _PROBE_LIMIT:
                more = await reader.read(_PROBE_LIMIT - len(raw))
                if not more:
                    break
                raw += more
    except (OSError, TimeoutError, ValueError):
        return []
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    return _parse_tags(raw)


def _host_port(base: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 11434


def _parse_tags(raw: bytes) -> list[str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or status_line[1] != b"200":
        return []
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return []
    names = [m.get("name") or m.get("model") for m in models if isinstance(m, dict)]
    return [n for n in names if isinstance(n, str) and n]


def forget_ollama() -> None:
    """Drop the remembered probe (tests; a user who just started Ollama)."""
    global _remembered
    _remembered = None
