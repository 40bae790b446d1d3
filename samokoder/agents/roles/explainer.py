"""Explainer: what the selected code does, for the person reading it (samokoder.explain)."""

from __future__ import annotations

from pathlib import PurePosixPath

from samokoder.agents.roles import Messages, system, user

AGENT = "explainer"
CONTEXT_LINES = 40

ROLE = (
    "You are the explainer. Explain the selected code to a developer who is reading it: "
    "what it does, how, and anything surprising (edge cases, bugs, side effects). Be brief "
    "and exact, in Markdown; quote identifiers in backticks; do not rewrite the code."
)


def messages(rel: str, text: str, start: int, end: int) -> Messages:
    language = PurePosixPath(rel).suffix.lstrip(".") or "text"
    before = "".join(text[:start].splitlines(keepends=True)[-CONTEXT_LINES:])
    after = "".join(text[end:].splitlines(keepends=True)[:CONTEXT_LINES])
    body = (
        f"File: {rel}\n\nCode before the selection:\n```{language}\n{before}\n```\n\n"
        f"Selected code:\n```{language}\n{text[start:end]}\n```\n\n"
        f"Code after the selection:\n```{language}\n{after}\n```\n\nExplain the selected code."
    )
    return [system(ROLE), user(body)]
