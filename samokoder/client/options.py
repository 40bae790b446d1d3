"""Settings from the command line: the named flags and `--set KEY=VALUE`.

They are checked here, against the server's own Settings model, so that a typo
is a usage error (exit 2) before any server starts rather than a warning the
server reports and then ignores.
"""

from __future__ import annotations

import argparse
import difflib
import json
from typing import Any

from pydantic import ValidationError

from samokoder.settings import Settings

# argparse destination -> the protocol's camelCase setting
FLAGS = {
    "model": "model",
    "api_base": "apiBase",
    "max_tokens": "maxTokens",
    "request_timeout": "requestTimeout",
    "review": "review",
    "commands": "commands",
    "budget_usd": "budgetUsd",
}


class SettingError(ValueError):
    """A setting the server would not take; the message names it."""


def known_settings() -> list[str]:
    return sorted(str(field.alias or name) for name, field in Settings.model_fields.items())


def parse_assignment(text: str) -> tuple[str, Any]:
    """`KEY=VALUE`; the value is JSON when it parses as JSON, else the text as it is."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SettingError(f"--set takes KEY=VALUE, e.g. --set maxParallel=2 (got {text!r})")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def check_settings(settings: dict[str, Any]) -> None:
    """Refuse unknown keys and values the server's Settings model would drop."""
    known = known_settings()
    for key in settings:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1) or [
                k for k in known if k.lower() == key.replace("_", "").lower()
            ]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SettingError(f"unknown setting {key!r}{hint}; known: {', '.join(known)}")
    try:
        Settings.model_validate(settings)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            got = "" if where.startswith("apiKeys") else f" (got {err['input']!r})"
            problems.append(f"setting {where!r}: {err['msg']}{got}")
        raise SettingError("; ".join(problems)) from None


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """`initializationOptions`: `--set` pairs in order, then the named flags over them."""
    settings: dict[str, Any] = {}
    for item in getattr(args, "set", None) or []:
        key, value = parse_assignment(item)
        settings[key] = value
    for dest, key in FLAGS.items():
        value = getattr(args, dest, None)
        if value is not None and value != "":
            settings[key] = value
    if getattr(args, "no_cache", False):
        settings["cache"] = False
    check_settings(settings)
    return settings
