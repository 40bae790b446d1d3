"""The code writer at work on one file: whole content for new files, edit blocks otherwise.

A reply whose blocks do not apply goes back to the model with what failed and
the nearest lines, at most FORMAT_ROUNDS times; then the file is asked for
whole, once. Nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from samokoder.agents.edit_blocks import apply_blocks, feedback_for, parse_blocks
from samokoder.agents.llm_gateway import chat
from samokoder.agents.roles import code_monkey
from samokoder.agents.runs import RunContext
from samokoder.agents.schemas import FileStep, Task
from samokoder.agents.selection_reply import extract_code
from samokoder.errors import SamokoderError

FORMAT_ROUNDS = 2
NO_BLOCKS = (
    "Your reply had no SEARCH/REPLACE blocks. Reply with the changes to the file as "
    "SEARCH/REPLACE blocks, in the format described above."
)


class FormatError(SamokoderError):
    """The model kept failing the edit format for a file, whole-file fallback included."""


@dataclass(frozen=True)
class WrittenFile:
    path: str  # relative to the project folder, as the model names it
    content: str | None  # None: delete
    tokens: int
    model: str


async def write_file(
    ctx: RunContext,
    task: Task,
    step: FileStep,
    design: str,
    current: str | None,
    neighbours: dict[str, str],
    notes: str | None = None,
) -> WrittenFile:
    """One file of a task, by the rules above; `current` is None for a new file."""
    if step.action == "delete":
        return WrittenFile(step.path, None, 0, "")
    if current is None:
        return await _whole(ctx, task, step, design, None, neighbours, notes)
    messages = code_monkey.messages(task, step, design, current, neighbours, notes=notes)
    tokens = 0
    for _ in range(FORMAT_ROUNDS + 1):
        reply = await chat(ctx, code_monkey.AGENT, messages)
        tokens += reply.prompt_tokens + reply.completion_tokens
        blocks, problems = parse_blocks(reply.text, [step.path])
        result = apply_blocks(blocks, {step.path: current})
        problems = [*problems, *result.problems]
        if blocks and not problems:
            return WrittenFile(step.path, result.files.get(step.path, current), tokens, reply.model)
        feedback = feedback_for(problems) if problems else NO_BLOCKS
        messages = [
            *messages,
            {"role": "assistant", "content": reply.text},
            {"role": "user", "content": feedback},
        ]
    fallback = await _whole(ctx, task, step, design, current, neighbours, notes)
    return WrittenFile(fallback.path, fallback.content, tokens + fallback.tokens, fallback.model)


async def _whole(
    ctx: RunContext,
    task: Task,
    step: FileStep,
    design: str,
    current: str | None,
    neighbours: dict[str, str],
    notes: str | None,
) -> WrittenFile:
    messages = code_monkey.messages(
        task, step, design, current, neighbours, whole_file=True, notes=notes
    )
    reply = await chat(ctx, code_monkey.AGENT, messages)
    content = extract_code(reply.text)
    if not content.strip() and current is None:
        raise FormatError(f"The model wrote an empty {step.path}; nothing was kept for this task.")
    if content and not content.endswith("\n"):
        content += "\n"
    return WrittenFile(
        step.path, content, reply.prompt_tokens + reply.completion_tokens, reply.model
    )
