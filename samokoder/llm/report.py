"""The printable answer of `samokoder models` (the CLI prints it).

Plain text, no colour: the CLI decides how to show it. Keys are named, never shown.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from samokoder.llm.cache import cache_dir
from samokoder.llm.failures import where
from samokoder.llm.models import (
    OLLAMA_BASE,
    configured_model,
    find_ollama,
    keys_found,
    model_from_keys,
)
from samokoder.settings import Settings, parse_settings

AGENT_ROLES = (
    "spec_writer",
    "architect",
    "tech_lead",
    "developer",
    "code_monkey",
    "reviewer",
    "troubleshooter",
    "tech_writer",
)


def models_report(
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    probe_ollama: bool = True,
) -> str:
    """What is configured, which keys were found (names only) and what each agent uses.

    Call from synchronous code (it runs a short Ollama probe when nothing else decides).
    """
    env = os.environ if environ is None else environ
    if settings is None:
        settings, _problems = parse_settings(environ=env)
    lines = ["Models"]
    lines.append(f"  model:          {settings.model or '(not set)'}")
    base = where(settings.api_base) if settings.api_base else "(provider default)"
    lines.append(f"  apiBase:        {base}")
    for agent, model in sorted(settings.agent_models.items()):
        lines.append(f"  agentModels.{agent}: {model}")
    fallbacks = ", ".join(settings.fallback_models) or "(none)"
    lines.append(f"  fallbackModels: {fallbacks}")
    budget = f"${settings.budget_usd:g} per run" if settings.budget_usd is not None else "none"
    lines.append(f"  budgetUsd:      {budget}")
    cache = f"on, {cache_dir()} (cap {settings.cache_max_mb:g} MB)" if settings.cache else "off"
    lines.append(f"  cache:          {cache}")
    found = keys_found(settings, env)
    lines.append("Keys found")
    lines.extend(f"  {name}" for name in found or ["(none)"])
    lines.append("Agents")
    fallback_choice = model_from_keys(settings, env)
    ollama = None
    if (
        probe_ollama
        and fallback_choice is None
        and not settings.api_base
        and not all(configured_model(settings, agent) for agent in AGENT_ROLES)
    ):
        ollama = asyncio.run(find_ollama(OLLAMA_BASE))
    for agent in AGENT_ROLES:
        chosen = configured_model(settings, agent) or fallback_choice or ollama
        if chosen is None:
            lines.append(f"  {agent:<15} (no model: set SAMOKODER_MODEL or a provider key)")
        else:
            lines.append(f"  {agent:<15} {chosen.model}  [{chosen.source}]")
    return "\n".join(lines)
