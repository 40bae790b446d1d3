"""Tech lead: the plan, as tasks with acceptance criteria, in the order they are done."""

from __future__ import annotations

from samokoder.agents.roles import Messages, map_unless_shared, shared_context, system, user
from samokoder.agents.schemas import MAX_TASKS, Plan

AGENT = "tech_lead"
SCHEMA = Plan

ROLE = (
    "You are the tech lead. Split the work into a few tasks (at most "
    f"{MAX_TASKS}), each a coherent change the user reviews at once, in the order they must "
    "be done. Each task has a title, a precise description, acceptance criteria and the files "
    "it touches. Prefer fewer, larger tasks for small projects."
)


def messages(goal: str, design: str, workspace_map: str) -> Messages:
    return [
        system(ROLE, shared_context(design)),
        user(f"Goal:\n{goal}\n{map_unless_shared(design, workspace_map)}"),
    ]
