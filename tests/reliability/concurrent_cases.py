"""Concurrent-edit cases against a live server: the user types, another program rewrites
files, runs queue and requests race, while proposals wait or are being applied.

Each case returns what was typed or written by someone other than Samokoder (every
piece must survive), what the server reported for each accept, and what actually
happened to the file. Used by test_concurrent_edits.py and benchmarks/reliability.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pygls.exceptions import JsonRpcException

from tests.e2e.harness import Editor, git
from tests.fakes.fake_provider import Reply

BASE = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
SELECTION = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
NEW = "def greet(name):\n    return f'hello {name}'\n"
MARK = "return f'hello {name}'"  # the proposal's change, as found in the file
LAST_LINE = {"start": {"line": 7, "character": 0}, "end": {"line": 8, "character": 0}}


@dataclass
class CaseResult:
    name: str
    kept: list[str] = field(default_factory=list)
    """Text the user typed or another program wrote; all of it must still be there."""
    lost: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    """Accepts whose reported outcome differs from what happened to the file."""
    outcomes: list[str] = field(default_factory=list)
    """What the server reported, accept by accept."""
    keystrokes: int = 0
    """Characters typed one by one, each its own didChange (writes by other programs: 1)."""

    @property
    def keystrokes_lost(self) -> int:
        return sum(max(1, len(piece)) for piece in self.lost)


def reply(delay: float = 0.0, chunk_delay: float = 0.0, text: str = NEW) -> Reply:
    return Reply(text=f"```python\n{text}```", first_token_delay=delay, chunk_delay=chunk_delay)


class Cases:
    """Runs the cases one after another in one folder (one file each)."""

    def __init__(self, ed: Editor) -> None:
        self.ed = ed
        self.count = 0

    def new_file(self) -> str:
        self.count += 1
        rel = f"case{self.count}.py"
        (self.ed.root / rel).write_text(BASE)
        return rel

    def type(self, result: CaseResult, rel: str, line: int, character: int, text: str) -> None:
        """Type `text` at a position one character at a time, as a person would."""
        for char in text:
            self.ed.type(rel, line, character, char)
            line, character = (line + 1, 0) if char == "\n" else (line, character + 1)
        result.kept.append(text)
        result.keystrokes += len(text)

    def text(self, rel: str) -> str:
        uri = self.ed.uri(rel)
        if uri in self.ed.buffers:
            return self.ed.buffers[uri][0]
        path = self.ed.root / rel
        return path.read_text() if path.exists() else ""

    async def edit(self, rel: str, rng: dict[str, Any] = SELECTION) -> str:
        arg = {"uri": self.ed.uri(rel), "range": rng, "instruction": "f-string"}
        return str((await self.ed.command("samokoder.editSelection", arg))["runId"])

    async def accept(self, proposal: dict[str, Any]) -> str:
        """ "applied" or "refused", as the server answered."""
        try:
            answer = await self.ed.command(
                "samokoder.review.accept", {"proposalId": proposal["proposalId"]}
            )
        except JsonRpcException:
            return "refused"
        return "applied" if answer.get("stepId") else "refused"

    def check(
        self, result: CaseResult, rel: str, reported: str, mark: str = MARK, count: int = 1
    ) -> None:
        text = self.text(rel)
        result.outcomes.append(reported)
        result.lost += [p for p in result.kept if p not in text and p not in result.lost]
        actual = "applied" if text.count(mark) >= count else "refused"
        if actual != reported:
            result.mismatches.append(f"{rel}: reported {reported}, file says {actual}")

    # -- the cases ---------------------------------------------------------------------

    async def typing_outside_a_pending_proposal(self) -> CaseResult:
        result = CaseResult("typing outside a pending proposal")
        rel = self.new_file()
        self.ed.open(rel)
        self.ed.provider.script(reply())
        run_id = await self.edit(rel)
        proposal = await self.ed.proposal_for(run_id)
        for line, piece in ((7, "# k1 above the print\n"), (0, "# k2 at the top\n")):
            self.type(result, rel, line, 0, piece)
        await asyncio.sleep(0.1)  # the didChange notifications arrive first
        self.check(result, rel, await self.accept(proposal))
        await self.ed.finished_run(run_id)
        return result

    async def typing_inside_a_pending_proposal(self) -> CaseResult:
        result = CaseResult("typing inside a pending proposal")
        rel = self.new_file()
        self.ed.open(rel)
        self.ed.provider.script(reply())
        run_id = await self.edit(rel)
        proposal = await self.ed.proposal_for(run_id)
        self.type(result, rel, 4, 4, "k3 inside ")
        await asyncio.sleep(0.1)
        self.check(result, rel, await self.accept(proposal))
        await self.ed.finished_run(run_id)
        return result

    async def typing_while_the_model_writes(self) -> CaseResult:
        result = CaseResult("typing while the run streams")
        rel = self.new_file()
        self.ed.open(rel)
        self.ed.provider.script(reply(delay=0.3, chunk_delay=0.02))
        run_id = await self.edit(rel)
        await self.ed.wait_until(lambda: self.ed.provider.active_streams > 0)
        for line, piece in ((0, "# k4 typed while the model writes\n"), (9, "# k5 at the end\n")):
            self.type(result, rel, line, 0, piece)
        proposal = await self.ed.proposal_for(run_id)
        self.check(result, rel, await self.accept(proposal))
        await self.ed.finished_run(run_id)
        return result

    async def typing_while_the_edit_is_applied(self) -> CaseResult:
        """A keystroke lands between accept and the editor applying the edit."""
        result = CaseResult("typing while the accept is applied")
        rel = self.new_file()
        self.ed.open(rel)
        self.ed.provider.script(reply())
        run_id = await self.edit(rel)
        proposal = await self.ed.proposal_for(run_id)
        accepting = asyncio.ensure_future(self.accept(proposal))
        await asyncio.sleep(0)  # the accept request is on its way
        self.type(result, rel, 0, 0, "# k6\n")
        reported = await accepting
        self.check(result, rel, reported)
        if reported == "refused":  # the editor refused a stale edit: the proposal still waits
            await asyncio.sleep(0.1)
            self.check(result, rel, await self.accept(proposal))
        await self.ed.finished_run(run_id)
        return result

    async def checkout_while_a_proposal_waits(self, *, conflicting: bool) -> CaseResult:
        what = "touching the proposal's lines" if conflicting else "elsewhere in the file"
        result = CaseResult(f"git checkout rewrites the file {what}")
        rel = self.new_file()
        root = self.ed.root
        git(root, "add", rel)
        git(root, "commit", "-q", "-m", f"add {rel}")
        base = git(root, "branch", "--show-current").strip()
        branch = f"other-{self.count}"
        git(root, "checkout", "-q", "-b", branch)
        changed = (
            BASE.replace("return 'hi ' + name", "return 'hey ' + name")
            if conflicting
            else BASE.replace("print(greet('x'))", "print(greet('checked out'))")
        )
        (root / rel).write_text(changed)
        git(root, "commit", "-q", "-m", "their change", rel)
        git(root, "checkout", "-q", base)
        self.ed.provider.script(reply())
        run_id = await self.edit(rel)
        proposal = await self.ed.proposal_for(run_id)
        git(root, "checkout", "-q", branch)  # another program rewrites the closed file
        result.kept.append("'hey ' + name" if conflicting else "greet('checked out')")
        result.keystrokes += 1
        self.check(result, rel, await self.accept(proposal))
        await self.ed.finished_run(run_id)
        return result

    async def file_deleted_while_a_proposal_waits(self) -> CaseResult:
        result = CaseResult("the file is deleted while the proposal waits")
        rel = self.new_file()
        self.ed.provider.script(reply())
        run_id = await self.edit(rel)
        proposal = await self.ed.proposal_for(run_id)
        (self.ed.root / rel).unlink()
        reported = await self.accept(proposal)
        if (self.ed.root / rel).exists():
            result.mismatches.append(f"{rel} was deleted, and is back")
        if reported != "refused":
            result.mismatches.append(f"{rel}: reported {reported} for a deleted file")
        await self.ed.finished_run(run_id)
        return result

    async def two_runs_queued_on_one_file(self) -> CaseResult:
        result = CaseResult("two runs queued on the same file")
        rel = self.new_file()
        self.ed.provider.script(
            reply(), reply(text="print(greet('queued'))\n")
        )  # run 1: the function; run 2: the last line
        first = await self.edit(rel)
        second = await self.edit(rel, LAST_LINE)  # its snapshot predates run 1's change
        proposal = await self.ed.proposal_for(first)
        self.check(result, rel, await self.accept(proposal))
        await self.ed.finished_run(first)
        later = await self.ed.proposal_for(second)
        reported = await self.accept(later)
        self.check(result, rel, reported, mark="greet('queued')")
        self.check(result, rel, "applied")  # run 1's accepted change is still there
        await self.ed.finished_run(second)
        return result

    async def racing(self, name: str, other: str) -> CaseResult:
        """accept and `other` (cancel, accept, reject) sent at the same moment."""
        result = CaseResult(f"accept and {name} racing")
        rel = self.new_file()
        self.ed.provider.script(reply())
        run_id = await self.edit(rel)
        proposal = await self.ed.proposal_for(run_id)
        pid = proposal["proposalId"]
        second = {
            "cancel": ("samokoder.cancel", {"runId": run_id}),
            "accept": ("samokoder.review.accept", {"proposalId": pid}),
            "reject": ("samokoder.review.reject", {"proposalId": pid}),
        }[other]
        answers = await asyncio.gather(
            self.ed.command("samokoder.review.accept", {"proposalId": pid}),
            self.ed.command(*second),
            return_exceptions=True,
        )
        applied = [a for a in answers if isinstance(a, dict) and a.get("stepId")]
        if len(applied) > 1:
            result.mismatches.append(f"{rel}: applied {len(applied)} times")
        reported = "applied" if applied else "refused"
        self.check(result, rel, reported)
        finished = await self.ed.finished_run(run_id)
        steps = (await self.ed.command("samokoder.history", {"limit": 5}))["steps"]
        ours = [s["stepId"] for s in steps if s["runId"] == run_id]
        if (reported == "applied") != bool(ours) or sorted(finished["steps"]) != sorted(ours):
            result.mismatches.append(
                f"{rel}: accept said {reported}, history has {ours}, runFinished says "
                f"{finished['status']} with steps {finished['steps']}"
            )
        if len([f for f in self.ed.finished if f["runId"] == run_id]) != 1:
            result.mismatches.append(f"{run_id}: not exactly one runFinished")
        result.outcomes.append(f"run {finished['status']}")
        return result

    def all(self) -> list[Callable[[], Awaitable[CaseResult]]]:
        return [
            self.typing_outside_a_pending_proposal,
            self.typing_inside_a_pending_proposal,
            self.typing_while_the_model_writes,
            self.typing_while_the_edit_is_applied,
            lambda: self.checkout_while_a_proposal_waits(conflicting=False),
            lambda: self.checkout_while_a_proposal_waits(conflicting=True),
            self.file_deleted_while_a_proposal_waits,
            self.two_runs_queued_on_one_file,
            lambda: self.racing("cancel", "cancel"),
            lambda: self.racing("a second accept", "accept"),
            lambda: self.racing("reject", "reject"),
        ]
