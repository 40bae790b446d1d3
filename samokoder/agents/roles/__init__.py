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


def system(role_text: str, shared: str = "") -> dict[str, str]:
    """The preamble, then the run's shared context, then the role's own text.

    Everything before the role text is byte-identical across the calls of a run, so
    providers bill it as a cached prompt prefix (issue 13); see ``shared_context``.
    """
    return {"role": "system", "content": PREAMBLE + shared + role_text}


def shared_context(design: str) -> str:
    """The part of a run every role after the architect sees alike: its design.

    An implement run's design carries the project map too (see ``with_map``).
    """
    return f"\n\nThe design of this run:\n{design}\n\n"


def with_map(design: str, workspace_map: str) -> str:
    """A design that carries the project map, shared by every call of the run."""
    return f"{design}\n\nThe project folder at the start of this run:\n{workspace_map}"


def map_unless_shared(design: str, workspace_map: str) -> str:
    """The map for the per-call part, unless the shared design already carries it."""
    return "" if workspace_map in design else f"\nThe project folder now:\n{workspace_map}\n"


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
