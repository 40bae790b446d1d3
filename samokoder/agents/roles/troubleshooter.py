"""Troubleshooter: reads command output, test failures and editor diagnostics; plans a fix.

It answers with a `FixPlan` (a diagnosis and the files to change, with
instructions); the code writers then write those files as in any task, and the
result is a proposal the user reviews like every other.
"""

from __future__ import annotations

from samokoder.agents.roles import Messages, bullet, shared_context, system, user
from samokoder.agents.schemas import FixPlan, Task

AGENT = "troubleshooter"
SCHEMA = FixPlan

ROLE = (
    "You are the troubleshooter. A command failed after a change, or the editor reports "
    "problems. Read the failure and the files, find the cause, and list the files to change "
    "to fix it, with instructions precise enough for a code writer who sees only that file. "
    "Fix the cause, not the symptom: do not delete or weaken a test to make it pass unless "
    "the test itself is wrong. When no change to the code can fix it (a missing program, no "
    "network), leave `files` empty and say so in the diagnosis."
)


def messages(task: Task, report: str, contents: dict[str, str], design: str) -> Messages:
    files = "\n\n".join(f"{path}:\n```\n{text}\n```" for path, text in contents.items())
    text = (
        f"The work being done:\nTask: {task.title}\n{task.description}\n"
        f"Acceptance criteria:\n{bullet(task.acceptance_criteria)}\n\n"
        f"What went wrong:\n{report}\n"
    )
    if files:
        text += f"\nThe files involved, as they are now:\n{files}\n"
    return [system(ROLE, shared_context(design)), user(text)]
