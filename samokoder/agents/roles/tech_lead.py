"""Tech lead: the plan, as tasks with acceptance criteria, in the order they are done.

Each task comes with its steps (the files to write and the commands to run), so a
task goes straight to the code writers: one sequential model call fewer per task
(issue 13). The developer is asked only for a task without steps, or again after
the user rejects a task with feedback.
"""

from __future__ import annotations

from samokoder.agents.roles import Messages, map_unless_shared, shared_context, system, user
from samokoder.agents.schemas import MAX_TASKS, Plan

AGENT = "tech_lead"
STEPS = (
    "Give each task its steps: every file to create, modify or delete, with instructions "
    "precise enough for a code writer who sees only that file and your instructions; use "
    "`depends_on` when a file must be written after another of the same task (a module "
    "before the code that imports it), otherwise leave it empty so files are written in "
    "parallel; and the commands to run after the task (install, test), if any."
)
SCHEMA = Plan

ROLE = (
    "You are the tech lead. Split the work into a few tasks (at most "
    f"{MAX_TASKS}), each a coherent change the user reviews at once, in the order they must "
    "be done. Each task has a title, a precise description, acceptance criteria and the files "
    "it touches. Prefer fewer, larger tasks for small projects. " + STEPS
)


def messages(goal: str, design: str, workspace_map: str) -> Messages:
    return [
        system(ROLE, shared_context(design)),
        user(f"Goal:\n{goal}\n{map_unless_shared(design, workspace_map)}"),
    ]
