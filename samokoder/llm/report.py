"""Printable answers for `samokoder models` and `samokoder usage` (the CLI prints them).

Plain text, no colour: the CLI decides how to show it. Keys are named, never shown.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from samokoder.errors import SamokoderError
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


def usage_report(root: Path, run_id: str | None = None) -> str:
    """Tokens and cost of the workspace at ``root``, by run, agent and model."""
    from samokoder.store.db import STATE_DIR, STATE_FILE, Store

    if not (root / STATE_DIR / STATE_FILE).is_file():
        return f"No usage recorded in {root} yet (no {STATE_DIR}/{STATE_FILE})."
    try:
        with Store.open(root) as store:
            usage = store.usage(run_id)
    except SamokoderError as exc:
        return f"Cannot read usage: {exc.message}"
    return format_usage(usage, run_id)


def format_usage(usage: Mapping[str, object], run_id: str | None = None) -> str:
    """``Store.usage`` as aligned tables."""
    total = usage.get("total")
    if not isinstance(total, Mapping) or not total.get("requests"):
        scope = f"run {run_id}" if run_id else "this workspace"
        return f"No LLM requests recorded for {scope}."
    lines = [f"Usage {'of run ' + run_id if run_id else '(all runs)'}"]
    lines.append(_row("", total))
    for title, key, label in (
        ("By run", "byRun", "runId"),
        ("By agent", "byAgent", "agent"),
        ("By model", "byModel", "model"),
    ):
        groups = usage.get(key)
        if not isinstance(groups, Sequence) or not groups:
            continue
        lines.append(title)
        for group in groups:
            if isinstance(group, Mapping):
                lines.append(_row(str(group.get(label) or "(no run)"), group))
    return "\n".join(lines)


def _row(name: str, totals: Mapping[str, object]) -> str:
    prompt = _int(totals.get("promptTokens"))
    completion = _int(totals.get("completionTokens"))
    requests = _int(totals.get("requests"))
    cost = totals.get("costUsd")
    cost_text = f"${float(cost):.4f}" if isinstance(cost, int | float) else "$?"
    label = f"  {name:<28}" if name else "  total                       "
    row = f"{label} {requests:>6} requests  {prompt:>9} in  {completion:>9} out  {cost_text:>10}"
    cached = _int(totals.get("cachedTokens"))
    saved = totals.get("savedUsd")
    if cached:  # prompt tokens the provider served from its cache, at its cached price
        row += f"  ({cached} cached"
        row += f", ${float(saved):.4f} saved)" if isinstance(saved, int | float) else ")"
    estimated = _int(totals.get("estimatedTokens"))
    # tokens a server did not report were counted here: say so instead of passing them off
    return f"{row}  ({estimated} tokens estimated)" if estimated else row


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0
