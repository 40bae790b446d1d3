"""The README step of a generate run: the technical writer on what the tasks built.

Not a task (the summary counts it apart). Like a task, it is drafted ahead while the
last task is reviewed, against that task's proposed files (see `lookahead`), and
used when the files accepted are those it was written for.
"""

from __future__ import annotations

from dataclasses import dataclass

from samokoder.agents.llm_gateway import chat
from samokoder.agents.reply_checks import check_reply, reasons
from samokoder.agents.roles import tech_writer
from samokoder.agents.runs import Run
from samokoder.agents.selection_reply import extract_block
from samokoder.agents.task_runner import ProjectFolder
from samokoder.workspace.changeset import ChangeSet, FileChange


@dataclass(frozen=True)
class ReadmeDraft:
    files: tuple[str, ...]  # workspace-relative: what the README was written about
    rel: str
    current: str | None  # the README it was written over (None: there was none)
    change_set: ChangeSet | None  # None: nothing to propose
    model: str = ""
    tokens: int = 0


async def draft_readme(
    ctx: Run, where: ProjectFolder, spec_text: str, design: str, files: list[str]
) -> ReadmeDraft:
    rel = where.to_workspace(tech_writer.README)
    current = await where.read(tech_writer.README)
    if not files:
        return ReadmeDraft((), rel, current, None)
    ctx.progress("Writing the README")
    reply = await chat(
        ctx, tech_writer.AGENT, tech_writer.messages(spec_text, design, files, current)
    )
    tokens = reply.prompt_tokens + reply.completion_tokens
    nothing = ReadmeDraft(tuple(files), rel, current, None, reply.model, tokens)
    block = extract_block(reply.text)
    problems = check_reply(block, current)
    if problems:  # one attempt, as before, but never silently
        ctx.note(f"{tech_writer.README}: the technical writer's reply {reasons(problems)}.")
        return nothing
    content = block.code
    if not content.strip() or content == current:
        return nothing
    if not content.endswith("\n"):
        content += "\n"
    change = FileChange(path=rel, kind="create" if current is None else "modify", content=content)
    change_set = ChangeSet(title="Documentation: README.md", files=[change])
    return ReadmeDraft(tuple(files), rel, current, change_set, reply.model, tokens)


async def fits(draft: ReadmeDraft, where: ProjectFolder, files: list[str]) -> bool:
    """Written for these files, over the README there is now."""
    return draft.files == tuple(files) and await where.read(tech_writer.README) == draft.current


async def propose_readme(ctx: Run, draft: ReadmeDraft) -> list[str]:
    """The files the README step applied."""
    if draft.change_set is None:
        return []
    decision = await ctx.propose(
        draft.change_set,
        {draft.rel: draft.current},
        agent=tech_writer.AGENT,
        model=draft.model,
        tokens=draft.tokens,
    )
    return list(decision.applied) if decision.verdict == "accepted" else []
