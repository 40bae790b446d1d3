"""What counts as a secret: one rule for messages, logs and child processes.

Provider error text can contain the full key, and a key in the environment would leak
into every command the agents run or every git process a checkpoint spawns; everything
shown, logged or passed on goes through here first. A leaf (standard library only), so
every layer (llm, workspace, agents, server) uses the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6

# Shapes of provider credentials; each match is replaced whole.
_KEY_SHAPES = re.compile(
    r"""
    sk-ant-[A-Za-z0-9_\-]{6,}            # Anthropic
    | sk-[A-Za-z0-9_\-]{6,}              # OpenAI, OpenRouter, LiteLLM virtual keys
    | gsk_[A-Za-z0-9]{6,}                # Groq
    | xai-[A-Za-z0-9]{6,}                # xAI
    | hf_[A-Za-z0-9]{10,}                # Hugging Face
    | AIza[0-9A-Za-z_\-]{20,}            # Google
    | (?:AKIA|ASIA)[0-9A-Z]{16}          # AWS access key ids
    | gh[pousr]_[A-Za-z0-9]{20,}         # GitHub
    """,
    re.VERBOSE,
)
# "Bearer <token>" keeps the scheme so the message still says what it was.
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{6,}")
# api_key=..., "api-key": "...", token: ..., password=... in URLs, JSON and headers.
_ASSIGNMENT = re.compile(
    r"""(?ix)
    \b((?:x-)?api[_-]?key|access[_-]?token|auth[_-]?token|token|secret|password|passwd)
    (["']?\s*[:=]\s*["']?)
    ([^\s"'&,;}\]]{4,})
    """
)
# Credentials embedded in a URL: scheme://user:password@host
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@")

_SECRET_NAME_PARTS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL")
KNOWN_SECRET_ENV_NAMES = frozenset(
    {
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GROQ_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "MISTRAL_API_KEY",
        "DEEPSEEK_API_KEY",
        "OPENROUTER_API_KEY",
        "TOGETHERAI_API_KEY",
        "TOGETHER_API_KEY",
        "XAI_API_KEY",
        "COHERE_API_KEY",
        "AZURE_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "HUGGINGFACE_API_KEY",
        "HF_TOKEN",
        "LITELLM_API_KEY",
        "LITELLM_PROXY_API_KEY",
        "LITELLM_MASTER_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "SAMOKODER_TOKEN",
    }
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with each given secret and anything shaped like a credential replaced."""
    # Longest first, so a key that contains another key is removed whole.
    literal = sorted(
        {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
    )
    for secret in literal:
        text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _ASSIGNMENT.sub(_redact_assignment, text)
    return _KEY_SHAPES.sub(REDACTED, text)


def _redact_assignment(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    if value == REDACTED or value.startswith(REDACTED):
        return match.group(0)
    return f"{name}{separator}{REDACTED}"


def is_secret_env_name(name: str) -> bool:
    """True for a known credential variable or a name with KEY, TOKEN, SECRET, ... in it."""
    upper = name.upper()
    return upper in KNOWN_SECRET_ENV_NAMES or any(part in upper for part in _SECRET_NAME_PARTS)


def secret_env_names(environ: Mapping[str, str]) -> list[str]:
    """Names of the variables in ``environ`` that look like they hold a secret."""
    return sorted(name for name in environ if is_secret_env_name(name))


def scrubbed_env(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``environ`` without secret-looking variables, for child processes."""
    return {name: value for name, value in environ.items() if not is_secret_env_name(name)}


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values of the secret-looking variables, to pass to :func:`redact`."""
    return [environ[name] for name in secret_env_names(environ) if environ[name]]
