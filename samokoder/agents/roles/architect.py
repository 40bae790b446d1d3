"""Architect: stack, dependencies and file layout for the specification."""

from __future__ import annotations

from samokoder.agents.roles import Messages, system, user
from samokoder.agents.schemas import Architecture

AGENT = "architect"
SCHEMA = Architecture

ROLE = (
    "You are the architect. Choose the simplest stack that fits the specification (any "
    "language; prefer the standard library and few dependencies), list the dependencies and "
    "the files of the project with their purpose, and say how to run it and its tests. Paths "
    "are relative to the project folder, with forward slashes."
)


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
