"""Code writer: the content of one file (whole for new files, edit blocks for changes)."""

from __future__ import annotations

from samokoder.agents.edit_blocks import SYSTEM_RULES
from samokoder.agents.roles import Messages, shared_context, system, user
from samokoder.agents.schemas import FileStep, Task

AGENT = "code_monkey"

NEW_FILE_ROLE = (
    "You are the code writer. Write the complete content of the file you are given, following "
    "the instructions. Reply with the whole file in one fenced code block and nothing else."
)
EDIT_ROLE = (
    "You are the code writer. Change the file you are given, following the instructions, "
    "with search/replace blocks.\n" + SYSTEM_RULES
)


def messages(
    task: Task,
    step: FileStep,
    design: str,
    current: str | None,
    neighbours: dict[str, str],
    *,
    whole_file: bool = False,
    notes: str | None = None,
) -> Messages:
    context = "\n\n".join(f"{path}:\n```\n{text}\n```" for path, text in neighbours.items())
    text = f"Task: {task.title}\n{task.description}\n\n"
    if context:
        text += f"Files already written for this task:\n{context}\n\n"
    text += f"File: {step.path}\nInstructions: {step.instructions or task.description}\n"
    if current is not None:
        text += f"\nCurrent content of {step.path}:\n```\n{current}\n```\n"
    if notes:
        text += f"\n{notes}\n"
    if current is None or whole_file:
        if current is not None:
            text += (
                "\nReply with the whole new content of the file in one fenced code block: "
                "every line, never a comment standing for lines left out.\n"
            )
        return [system(NEW_FILE_ROLE, shared_context(design)), user(text)]
    return [system(EDIT_ROLE, shared_context(design)), user(text)]
