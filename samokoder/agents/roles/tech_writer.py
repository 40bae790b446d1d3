"""Technical writer: the README of what was built."""

from __future__ import annotations

from samokoder.agents.roles import Messages, shared_context, system, user

AGENT = "tech_writer"
README = "README.md"

ROLE = (
    "You are the technical writer. Write the README.md of the project: what it does, how to "
    "install, run and test it, and its layout. Be brief and exact; do not invent features. "
    "Reply with the whole file in one fenced code block."
)


def messages(spec_text: str, design: str, files: list[str], current: str | None) -> Messages:
    listing = "\n".join(f"- {f}" for f in files)
    text = f"Specification:\n{spec_text}\n\nFiles:\n{listing}\n"
    if current is not None:
        text += f"\nThe current README.md, to update:\n```\n{current}\n```\n"
    return [system(ROLE, shared_context(design)), user(text)]
