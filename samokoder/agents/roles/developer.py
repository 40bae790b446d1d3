"""Developer: breaks one task into file steps (and commands to run later)."""

from __future__ import annotations

from samokoder.agents.roles import Messages, bullet, map_unless_shared, shared_context, system, user
from samokoder.agents.schemas import Task, TaskSteps

AGENT = "developer"
SCHEMA = TaskSteps

ROLE = (
    "You are the developer. For the task, list every file to create, modify or delete, with "
    "instructions precise enough for a code writer who sees only that file and your "
    "instructions. Use `depends_on` when a file must be written after another of this task "
    "(for example a module before the code that imports it); otherwise leave it empty so "
    "files are written in parallel. List commands to run afterwards (install, test)."
)


def messages(
    task: Task, design: str, workspace_map: str, contents: dict[str, str], feedback: str | None
) -> Messages:
    files = "\n\n".join(f"{path}:\n```\n{text}\n```" for path, text in contents.items())
    text = (
        f"Task: {task.title}\n{task.description}\nAcceptance criteria:\n"
        f"{bullet(task.acceptance_criteria)}\n{map_unless_shared(design, workspace_map)}"
    )
    if files:
        text += f"\nRelevant files:\n{files}\n"
    if feedback:
        text += f"\nThe user rejected the previous attempt at this task:\n{feedback}\n"
    return [system(ROLE, shared_context(design)), user(text)]
