"""Typed, forgiving settings (DESIGN §8).

Values arrive from `initializationOptions`, `workspace/configuration` (section
`samokoder`) and the environment. An invalid value never crashes the server: it
is reported and the default is kept.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

ReviewMode = Literal["proposal", "annotated", "off"]
CheckpointMode = Literal["shadow", "repo"]
CommandPolicy = Literal["ask", "never", "allow"]
StructuredMode = Literal["auto", "json_schema", "grammar", "json_object", "prompt"]
DEFAULT_ALLOWED_COMMANDS = (
    "python",
    "python3",
    "pytest",
    "uv",
    "pip",
    "node",
    "npm",
    "go",
    "cargo",
    "make",
)


class Settings(BaseModel):
    """Everything a client can configure; camelCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )

    model: str = ""
    """litellm model string, e.g. `openai/gpt-4o-mini` or `ollama_chat/llama3`."""
    api_base: str | None = None
    """Base URL of an OpenAI-compatible server, Ollama or a LiteLLM proxy."""
    api_keys: dict[str, str] = Field(default_factory=dict, repr=False)
    """Provider name -> key, for clients that keep keys themselves; never logged."""
    agent_models: dict[str, str] = Field(default_factory=dict)
    """Agent role -> model string, overriding `model` for that role."""
    fallback_models: list[str] = Field(default_factory=list)
    """Models tried in order when the main one fails."""
    review: ReviewMode | None = None
    """`proposal`, `annotated` or `off`; unset picks by client capability."""
    checkpoints: CheckpointMode = "shadow"
    """`shadow` keeps steps in .samokoder/checkpoints.git; `repo` commits on the user's branch."""
    commands: CommandPolicy = "ask"
    """Whether commands proposed by agents run: ask, never, or allow."""
    allowed_commands: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED_COMMANDS))
    """Program names that run without asking when `commands` is `allow` (others are asked)."""
    command_timeout: float = Field(default=120.0, gt=0, le=3600)
    """Seconds before a command's process group is killed."""
    sandbox: bool = False
    """Run commands inside bubblewrap (only the workspace writable); refused if bwrap is missing."""
    sandbox_network: bool = False
    """Let sandboxed commands use the network (package installs need it)."""
    fix_attempts: int = Field(default=2, ge=0, le=5)
    """Troubleshooter fixes proposed when a task's commands fail, before giving up."""
    max_parallel: int = Field(default=4, ge=1, le=32)
    """Upper bound on concurrent LLM calls inside one run."""
    budget_usd: float | None = Field(default=None, ge=0)
    """Cost cap per run in US dollars; unset means no cap."""
    cache: bool = True
    """Whether the response cache is used."""
    temperature: float = Field(default=0.0, ge=0, le=2)
    """Sampling temperature for every call."""
    request_timeout: float = Field(default=120.0, gt=0, le=3600)
    """Seconds before one LLM call is abandoned."""
    max_tokens: int | None = Field(default=None, ge=1)
    """Cap on the completion tokens of each call; also the budget's worst case per call."""
    structured_output: dict[str, StructuredMode] = Field(default_factory=dict)
    """Model (or `default`) -> how JSON replies are asked for: `auto` (litellm decides),
    `json_schema`, `grammar` (JSON mode with the schema, which llama.cpp enforces),
    `json_object` (schema in the prompt) or `prompt` (schema in the prompt, no
    response_format)."""
    cache_any_temperature: bool = False
    """Also cache replies sampled at temperature > 0 (they normally bypass the cache)."""
    cache_max_mb: float = Field(default=200.0, gt=0, le=100_000)
    """Size cap of the response cache (shared by all workspaces), in megabytes."""

    def model_for(self, agent: str) -> str:
        return self.agent_models.get(agent) or self.model

    def structured_mode_for(self, model: str) -> StructuredMode:
        return self.structured_output.get(model) or self.structured_output.get("default", "auto")

    def api_key_for(self, model: str) -> str | None:
        """The key from `apiKeys` for the model's provider prefix, if the client sent one."""
        provider = model.split("/", 1)[0] if "/" in model else "openai"
        return self.api_keys.get(provider) or self.api_keys.get("default")


ENV_VARS = {"model": "SAMOKODER_MODEL", "api_base": "SAMOKODER_API_BASE"}


def parse_settings(
    *sources: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
) -> tuple[Settings, list[str]]:
    """Merge sources (later wins) over the environment; return settings and problems found.

    Each invalid field is dropped with a message naming it, so one typo does not
    throw away the rest of the configuration.
    """
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    for field, var in ENV_VARS.items():
        if env.get(var):
            merged[to_camel(field)] = env[var]
    problems: list[str] = []
    for source in sources:
        if source is None:
            continue
        if not isinstance(source, Mapping):
            problems.append(f"settings must be an object, got {type(source).__name__}")
            continue
        for key, value in source.items():
            if value is None:
                continue
            merged[to_camel(key)] = value
    try:
        return Settings.model_validate(merged), problems
    except ValidationError as exc:
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            problems.append(f"setting {where!r}: {err['msg']}; using the default")
        kept = {k: v for k, v in merged.items() if k not in bad}
        try:
            return Settings.model_validate(kept), problems
        except ValidationError:
            return Settings(), problems
