"""Architect: stack, dependencies and file layout for the specification.

In a generate run the architect and the tech lead answer in one call (a
`Blueprint`): the plan needs nothing the layout does not already say, and one
sequential model call fewer brings the first proposal sooner (issue 13).
"""

from __future__ import annotations

from samokoder.agents.roles import Messages, system, tech_lead, user
from samokoder.agents.schemas import Architecture, Blueprint

AGENT = "architect"
SCHEMA = Architecture

ROLE = (
    "You are the architect. Choose the simplest stack that fits the specification (any "
    "language; prefer the standard library and few dependencies), list the dependencies and "
    "the files of the project with their purpose, and say how to run it and its tests. Paths "
    "are relative to the project folder, with forward slashes."
)


BLUEPRINT = Blueprint
BLUEPRINT_ROLE = (
    "You are the architect and tech lead. As the architect: "
    + ROLE.removeprefix("You are the architect. ")
    + " As the tech lead: "
    + tech_lead.ROLE.removeprefix("You are the tech lead. ")
)


def blueprint_messages(spec_text: str, workspace_map: str) -> Messages:
    """The layout (``architecture``) and the plan (``tasks``) in one answer."""
    return [
        system(BLUEPRINT_ROLE),
        user(f"Specification:\n{spec_text}\n\nThe project folder now:\n{workspace_map}"),
    ]


def messages(spec_text: str, workspace_map: str) -> Messages:
    return [
        system(ROLE),
        user(f"Specification:\n{spec_text}\n\nThe project folder now:\n{workspace_map}"),
    ]


def render(arch: Architecture) -> str:
    files = "\n".join(f"- {f.path}: {f.purpose}" for f in arch.files) or "- (none listed)"
    return (
        f"Stack: {arch.stack}\nDependencies: {', '.join(arch.dependencies) or 'none'}\n"
        f"Files:\n{files}\nRun: {arch.run_command or '-'}\nTest: {arch.test_command or '-'}"
    )
