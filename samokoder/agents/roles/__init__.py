"""The agent roles: each a prompt template and the schema of its answer (DESIGN §6).

Roles are pure: they build messages from what the orchestrator hands them. The
orchestrator makes the calls, validates, and decides what happens next.
"""

from __future__ import annotations

Messages = list[dict[str, str]]

PREAMBLE = (
    "You are part of Samokoder, a team of AI agents that writes software inside the user's "
    "editor. Every change you produce is shown to the user as a diff before it is applied. "
)


def system(role_text: str) -> dict[str, str]:
    return {"role": "system", "content": PREAMBLE + role_text}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def bullet(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else "- (none)"


def refused_paths(answer_json: str, refused: list[str], lead: str) -> Messages:
    """The exchange that hands an answer naming refused paths back for another try."""
    return [
        {"role": "assistant", "content": answer_json},
        user(
            f"{lead}\n"
            + "\n".join(refused)
            + "\nAnswer again with paths inside the project folder."
        ),
    ]
