"""The code writer at work on one file: whole content for new files, edit blocks otherwise.

A reply whose blocks do not apply goes back to the model with what failed and
the nearest lines, at most FORMAT_ROUNDS times; then the file is asked for
whole. Blocks that did apply are kept across rounds (the feedback tells the
model so). Every result passes :mod:`reply_checks` first (no leftover markers,
placeholders, binary data, unasked-for empty files); a refused reply goes back
with the reason, and when the attempts run out the run ends naming the file.
Nothing is guessed, and nothing the model sent is left out without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from samokoder.agents.edit_blocks import EditBlock, apply_blocks, feedback_for, parse_blocks
from samokoder.agents.llm_gateway import chat
from samokoder.agents.reply_checks import (
    ReplyProblem,
    check_content,
    check_reply,
    feedback,
    gave_up,
    reasons,
)
from samokoder.agents.roles import code_monkey
from samokoder.agents.runs import Run
from samokoder.agents.schemas import FileStep, Task
from samokoder.agents.selection_reply import extract_block

FORMAT_ROUNDS = 2
WHOLE_ROUNDS = 1  # further whole-file replies asked for after a refused one
NO_BLOCKS = (
    "Your reply had no SEARCH/REPLACE blocks. Reply with the changes to the file as "
    "SEARCH/REPLACE blocks, in the format described above."
)
BLOCKS_AGAIN = (
    "None of the blocks of that reply were applied; send them again, corrected, as "
    "SEARCH/REPLACE blocks."
)
WHOLE_AGAIN = "Reply with the complete new content of the file in one fenced code block."


@dataclass(frozen=True)
class WrittenFile:
    path: str  # relative to the project folder, as the model names it
    content: str | None  # None: delete
    tokens: int
    model: str
    ignored: tuple[str, ...] = ()
    """Parts of the replies left out (for the model, when it writes the file again)."""


async def write_file(
    ctx: Run,
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
    work = current
    ignored: list[str] = []
    for _ in range(FORMAT_ROUNDS + 1):
        reply = await chat(ctx, code_monkey.AGENT, messages)
        tokens += reply.prompt_tokens + reply.completion_tokens
        blocks, problems = parse_blocks(reply.text, [step.path])
        mine = [b for b in blocks if b.path == step.path]
        outside = [_outside(ctx, step.path, b) for b in blocks if b.path != step.path]
        ignored += outside
        result = apply_blocks(mine, {step.path: work})
        new = result.files.get(step.path, work)
        refused = check_content(new, current) if new != work else []
        if refused:
            ctx.progress(f"{step.path}: edit not used: it {reasons(refused)}")
            answer = feedback(f"The file after your blocks for {step.path}", refused, BLOCKS_AGAIN)
        else:
            work = new
            problems = [*problems, *result.problems]
            if mine and not problems:
                return WrittenFile(step.path, work, tokens, reply.model, tuple(ignored))
            answer = feedback_for(problems) if problems else NO_BLOCKS
        if outside:
            answer += "\n\n" + "\n".join(outside)
        messages = [
            *messages,
            {"role": "assistant", "content": reply.text},
            {"role": "user", "content": answer},
        ]
    before = (
        f"its SEARCH/REPLACE edits failed {FORMAT_ROUNDS + 1} times; asked for the whole file, "
    )
    fallback = await _whole(ctx, task, step, design, current, neighbours, notes, before)
    return WrittenFile(
        fallback.path,
        fallback.content,
        tokens + fallback.tokens,
        fallback.model,
        (*ignored, *fallback.ignored),
    )


def _outside(ctx: Run, path: str, block: EditBlock) -> str:
    """Tell the user a block for another file was ignored; the sentence for the model."""
    ctx.note(f"{path}: a block for {block.path}, which is not part of that step, was ignored.")
    return (
        f"Block {block.number} edits {block.path}, which is not part of this step (it "
        f"changes only {path}); it was ignored. Send blocks for {path} only."
    )


async def _whole(
    ctx: Run,
    task: Task,
    step: FileStep,
    design: str,
    current: str | None,
    neighbours: dict[str, str],
    notes: str | None,
    before: str = "",
) -> WrittenFile:
    messages = code_monkey.messages(
        task, step, design, current, neighbours, whole_file=True, notes=notes
    )
    tokens = 0
    seen: list[ReplyProblem] = []
    for _ in range(WHOLE_ROUNDS + 1):
        reply = await chat(ctx, code_monkey.AGENT, messages)
        tokens += reply.prompt_tokens + reply.completion_tokens
        block = extract_block(reply.text)
        problems = check_reply(block, current)
        if not problems:
            content = block.code
            if content and not content.endswith("\n"):
                content += "\n"
            ignored: tuple[str, ...] = ()
            if block.others:
                count = block.others + 1
                ctx.note(
                    f"{step.path}: the reply had {count} code blocks; only the first was used."
                )
                ignored = (
                    f"Your reply for {step.path} had {count} code blocks; only the first was "
                    "used as the file's content.",
                )
            return WrittenFile(step.path, content, tokens, reply.model, ignored)
        seen += problems
        ctx.progress(f"{step.path}: reply not used: it {reasons(problems)}")
        answer = feedback(f"Your reply for {step.path}", problems, WHOLE_AGAIN)
        messages = [
            *messages,
            {"role": "assistant", "content": reply.text},
            {"role": "user", "content": answer},
        ]
    raise gave_up(step.path, WHOLE_ROUNDS + 1, seen, before)
