"""Reviewer: checks a task's change set against the task; may send it back (bounded)."""

from __future__ import annotations

from samokoder.agents.roles import Messages, bullet, system, user
from samokoder.agents.schemas import Review, Task
from samokoder.workspace.textedits import unified_diff

AGENT = "reviewer"
SCHEMA = Review

ROLE = (
    "You are the reviewer. Check the change against the task and its acceptance criteria: "
    "missing pieces, bugs, files that do not fit together. Approve when it does the task; "
    "otherwise list concrete issues per file. Do not ask for style changes."
)


def messages(task: Task, changes: dict[str, tuple[str | None, str | None]]) -> Messages:
    diffs = "\n".join(
        unified_diff(path, before or "", after or "") for path, (before, after) in changes.items()
    )
    text = (
        f"Task: {task.title}\n{task.description}\nAcceptance criteria:\n"
        f"{bullet(task.acceptance_criteria)}\n\nChange:\n```diff\n{diffs}\n```"
    )
    return [system(ROLE), user(text)]


def notes_for(review: Review, path: str) -> str | None:
    issues = [i.problem for i in review.issues if i.path == path]
    if not issues:
        return None
    return "The reviewer found these problems in your previous version:\n" + bullet(issues)
