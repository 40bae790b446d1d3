"""The first agent path: rewrite the selected lines as the user asks (DESIGN §6).

One model call whose reply replaces the selection; the result is a one-file
proposal. A rejection with feedback goes back to the model, a bounded number
of times.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from samokoder.agents.llm_gateway import chat, model_call
from samokoder.agents.reply_checks import ReplyProblem, check_reply, feedback, gave_up, reasons
from samokoder.agents.runs import Run, RunOutcome
from samokoder.agents.selection_reply import CodeReply, extract_block, fit_replacement
from samokoder.llm.client import Completion
from samokoder.workspace.changeset import ChangeSet, FileChange

AGENT = "code_monkey"
MAX_ATTEMPTS = 3
CONTEXT_LINES = 60
ASK_INSTRUCTION = "What should Samokoder do with the selected code?"
RESEND = "Reply with the replacement for the selected code in one fenced code block."

SYSTEM_PROMPT = (
    "You are the code writer of Samokoder, an AI pair programmer inside the user's editor. "
    "You rewrite the selected lines of a file exactly as the user instructs. Reply with the "
    "replacement for the selected lines only, in a single fenced code block, with no "
    "explanation. Keep the surrounding code's style. Do not repeat the lines before or after "
    "the selection. To delete the selected lines, reply with an empty fenced code block."
)


@dataclass(frozen=True)
class SelectionRequest:
    """A snapshot taken when the command arrived; the run works on this, not the live buffer."""

    rel: str
    text: str
    start: int  # str offsets of the selection in `text`
    end: int
    instruction: str | None
    # The file as it is when `text` is it minus an instruction comment (DESIGN §8): the
    # model sees `text`, the proposal applies to `base`, so the edit removes the comment.
    base: str | None = None

    @property
    def before(self) -> str:
        return self.text if self.base is None else self.base

    @property
    def selection(self) -> str:
        return self.text[self.start : self.end]

    @property
    def line_prefix(self) -> str:
        line_start = self.text.rfind("\n", 0, self.start) + 1
        return self.text[line_start : self.start]

    @property
    def eol(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"


def build_messages(request: SelectionRequest, instruction: str) -> list[dict[str, str]]:
    before_lines = request.text[: request.start].splitlines(keepends=True)
    after_lines = request.text[request.end :].splitlines(keepends=True)
    before = "".join(before_lines[-CONTEXT_LINES:])
    after = "".join(after_lines[:CONTEXT_LINES])
    language = PurePosixPath(request.rel).suffix.lstrip(".") or "text"
    user = (
        f"File: {request.rel}\n\n"
        f"Code before the selection:\n```{language}\n{before}\n```\n\n"
        f"Selected code:\n```{language}\n{request.selection}\n```\n\n"
        f"Code after the selection:\n```{language}\n{after}\n```\n\n"
        f"Instruction: {instruction}\n\n"
        "Reply with the replacement for the selected code in one fenced code block."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


async def run_edit_selection(ctx: Run, request: SelectionRequest) -> RunOutcome:
    instruction = request.instruction
    if not instruction:
        instruction = await ctx.host.ask(ASK_INSTRUCTION, [], True)
        if not instruction or not instruction.strip():
            return RunOutcome("cancelled", "No instruction given; nothing was changed.")
    model = model_call(ctx, AGENT).model
    messages = build_messages(request, instruction.strip())
    refused: list[ReplyProblem] = []
    last_refused = False
    for attempt in range(1, MAX_ATTEMPTS + 1):
        ctx.progress(f"Asking {model} to edit {request.rel} (attempt {attempt})")
        reply = await _stream(ctx, messages, request.rel)
        block = extract_block(reply.text)
        replacement = fit_replacement(
            request.line_prefix, request.selection, block.code, eol=request.eol
        )
        problems = check_reply(block, request.selection, replacement)
        last_refused = bool(problems)
        if problems:
            refused += problems
            ctx.progress(f"{request.rel}: reply not used: it {reasons(problems)}")
            answer = feedback("Your reply", problems, RESEND)
            messages = [*messages, {"role": "assistant", "content": reply.text}, _user(answer)]
            continue
        ignored = _ignored_blocks(block)
        if ignored:
            ctx.note(f"{request.rel}: the reply {ignored}")
        new_text = request.text[: request.start] + replacement + request.text[request.end :]
        if new_text == request.text:
            return RunOutcome("succeeded", f"The model proposed no change to {request.rel}.")
        deleted = _deleted_lines(request) if not replacement.strip() else ""
        change_set = ChangeSet(
            title=f"Edit {request.rel}: {f'delete {deleted}' if deleted else _short(instruction)}",
            files=[FileChange(path=request.rel, kind="modify", content=new_text)],
        )
        decision = await ctx.propose(
            change_set,
            {request.rel: request.before},
            agent=AGENT,
            model=reply.model,
            tokens=reply.prompt_tokens + reply.completion_tokens,
        )
        if decision.verdict == "accepted":
            done = f"Deleted {deleted} of" if deleted else "Applied the edit to"
            return RunOutcome("succeeded", f"{done} {request.rel}.")
        if decision.verdict != "rejected" or decision.feedback is None:
            return RunOutcome("rejected", f"Proposal {decision.verdict}; nothing was changed.")
        answer = (
            "The user rejected that replacement with this feedback: "
            f"{decision.feedback}\n{RESEND}" + (f"\nNote: your reply {ignored}" if ignored else "")
        )
        messages = [*messages, {"role": "assistant", "content": reply.text}, _user(answer)]
    if last_refused:
        raise gave_up(request.rel, MAX_ATTEMPTS, refused)
    return RunOutcome(
        "rejected", f"Stopped after {MAX_ATTEMPTS} rejected attempts; nothing was changed."
    )


def _user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def _ignored_blocks(block: CodeReply) -> str:
    """What of the reply was left out, as "had 2 code blocks; ..." ("" when nothing)."""
    if not block.others:
        return ""
    return f"had {block.others + 1} code blocks; only the first was used."


def _deleted_lines(request: SelectionRequest) -> str:
    """A deletion named for the title: lines 4-5, line 4, or the selected text in a line."""
    first = request.text.count("\n", 0, request.start) + 1
    last = request.text.count("\n", 0, max(request.start, request.end - 1)) + 1
    if request.line_prefix.strip() or not request.selection.endswith("\n"):
        return f"the selected text on line {first}" if first == last else "the selected text"
    return f"line {first}" if first == last else f"lines {first}-{last}"


async def _stream(ctx: Run, messages: list[dict[str, str]], rel: str) -> Completion:
    received = 0
    last = 0.0

    def on_delta(piece: str) -> None:
        nonlocal received, last
        received += len(piece)
        now = time.monotonic()
        if now - last >= 0.2:
            last = now
            ctx.progress(f"Writing {rel}: {received} characters received")

    return await chat(ctx, AGENT, messages, on_delta)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
