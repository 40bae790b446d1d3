"""Samokoder against a real (tiny) model behind llama.cpp's real OpenAI-compatible server.

SmolLM2-135M writes garbage, and with a small `maxTokens` its replies are often cut
off at the output limit: that is the point. Nothing here checks what the model said;
each test checks what must hold whatever it says: every run ends with one
`samokoder/runFinished` in a stated time, with a clear status (a readable error when
it failed); a reply cut off at the output limit is never applied as complete; nothing
outside the workspace changes; every file in the workspace is text; the ledger counts
every call; history works and undoing every step restores the original files.

A relay between Samokoder and llama.cpp notes each reply's text and `finish_reason`
(the ledger keeps neither), so `check_cut_off` knows which replies were cut off and
can look for what they said in every proposal and file. It relies on the LLM layer
failing a call whose reply ended with finish_reason "length" (with `maxTokens` set and
a model that cannot continue a reply, as here); everything else held before that
change too. With `structuredOutput: grammar` the server holds the model to each
schema, so generate and implement go past their plans into tasks, proposals, review
and work drafted ahead.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import Editor, git, start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider
from tests.real_model.relay import Relay, Seen

pytestmark = [pytest.mark.real_model, pytest.mark.timeout(240)]

API_KEY = "sk-none"
STATUSES = {"succeeded", "failed", "rejected", "cancelled", "budget_exhausted"}
SERVER_DIRS = {".git", ".samokoder"}  # the user's repository and Samokoder's own state
CUT_OFF = re.compile(r"cut off|truncat|output limit|maxTokens", re.IGNORECASE)
LOG_NAME = "samokoder.log"  # the server's stderr, next to the workspace
# llama.cpp takes `json_object` (grammar-constrained JSON), not `json_schema`
JSON_MODE = {"default": "json_object"}
# ... and with the schema beside it, a grammar of that schema: replies of the right shape
GRAMMAR_MODE = {"default": "grammar"}
SELECTION = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}


@dataclass(frozen=True)
class _Endpoint:
    """Stands in for the fake provider where the harness only needs its URL."""

    base_url: str


def settings(relay: Relay, **extra: Any) -> dict[str, Any]:
    return {
        "model": "openai/smollm2",
        "apiBase": relay.base_url,
        "apiKeys": {"openai": API_KEY},
        "maxTokens": 96,
        "requestTimeout": 30,
        "cache": False,  # every run meets the model
        "commands": "never",  # whatever the model proposes to run, nothing runs
        "fixAttempts": 0,
        "maxParallel": 1,  # one thread in llama.cpp: calls would only queue
        **extra,
    }


def files(root: Path, skip: set[str] = SERVER_DIRS) -> dict[str, bytes]:
    """Every file under `root` (not following links), by relative path, with its bytes."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in skip or path.is_dir():
            continue
        found[rel.as_posix()] = b"<link>" if path.is_symlink() else path.read_bytes()
    return found


async def start(workspace: Path, relay: Relay, tmp_path: Path, kind: str, **extra: Any) -> Editor:
    relay.reset()
    return await start_editor(
        workspace,
        cast(FakeProvider, _Endpoint(relay.base_url)),
        tmp_path,
        kind,
        options=settings(relay, **extra),
        env={"OPENAI_API_KEY": API_KEY},
        log_file=tmp_path / LOG_NAME,
    )


async def finish(
    ed: Editor, run_id: str, bound: float, proposed: list[str]
) -> tuple[dict[str, Any], float]:
    """Wait for the run's end, accepting each of its proposals (after reading them into
    ``proposed``)."""
    started = time.monotonic()
    handled: set[str] = set()
    while time.monotonic() - started < bound:
        done = [f for f in ed.finished if f["runId"] == run_id]
        if done:
            return done[0], time.monotonic() - started
        for proposal in [p for p in ed.proposals if p["runId"] == run_id]:
            if proposal["proposalId"] not in handled:
                handled.add(proposal["proposalId"])
                await read_and_accept(ed, proposal, proposed)
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} sent no samokoder/runFinished within {bound:.0f} s")


async def read_and_accept(ed: Editor, proposal: dict[str, Any], proposed: list[str]) -> None:
    for entry in proposal["files"]:
        view = await ed.client.protocol.send_request_async(
            "samokoder/proposalFile",
            {"proposalId": proposal["proposalId"], "path": entry["path"]},
        )
        assert "\x00" not in view.proposed, entry
        proposed.append(view.proposed)
    try:
        await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    except JsonRpcException as exc:  # refused (e.g. a path the server will not write)
        assert str(exc).strip(), proposal


async def check_run(
    ed: Editor, finished: dict[str, Any], seen: Seen, before: dict[str, bytes]
) -> None:
    """The checks that hold whatever the model said."""
    status, error, steps = finished["status"], finished.get("error"), finished["steps"]
    assert status in STATUSES, finished
    assert finished["summary"].strip(), finished
    assert not finished["summary"].startswith("Internal error"), finished  # garbage != crash
    if status == "failed":
        assert isinstance(error, str) and error.strip(), finished
        assert "Traceback" not in error and len(error) < 2000, error
    for text in (finished["summary"], error or ""):
        assert API_KEY not in text
    usage = await ed.command("samokoder.usage", {"runId": finished["runId"]})
    assert usage["total"]["requests"] == seen.requests, (usage, seen)  # every call in the ledger
    for rel, data in files(ed.root).items():
        text = data.decode("utf-8")  # raises on invalid UTF-8
        assert "\x00" not in text, rel
    history = await ed.command("samokoder.history", {"limit": 100})
    applied = [s for s in history["steps"] if s["kind"] == "apply"]
    assert sorted(s["stepId"] for s in applied) == sorted(steps), (history, finished)
    for _ in applied:
        await ed.command("samokoder.undo", {})
    assert files(ed.root) == before, "undoing every step did not restore the files"
    with pytest.raises(JsonRpcException, match="Nothing to undo"):
        await ed.command("samokoder.undo", {})
    assert [f["runId"] for f in ed.finished] == [finished["runId"]]  # exactly one runFinished


def went_past_the_plan(finished: dict[str, Any], seen: Seen) -> None:
    """With the grammar, complete structured replies (the specification, the plan) have
    the schema's shape: the run goes on, and does not end on a reply that failed it."""
    if seen.finishes[:2] == ["stop", "stop"]:
        assert seen.requests >= 3, (finished, seen)
        assert "did not match" not in (finished.get("error") or ""), finished


def check_cut_off(
    finished: dict[str, Any], seen: Seen, proposed: list[str], after: dict[str, bytes]
) -> None:
    """Nothing of a reply the server cut off at the output limit is proposed or written
    (its last 200 characters are in no proposal and no file), and a run whose last reply
    was cut off fails naming the setting (needs the LLM layer's finish_reason check).

    A run may go on after a cut-off reply: one drafted ahead is dropped and the task
    done again, and the tasks before it were whole."""
    written = [data.decode("utf-8", "replace") for data in after.values()]
    for reply in seen.replies:
        tail = reply.text.rstrip()[-200:]
        if reply.finish != "length" or len(tail) < 80:  # too short to tell apart
            continue
        for text in (*proposed, *written):
            assert tail not in text, f"a cut-off reply was used: {tail!r}"
    if seen.finishes[-1:] == ["length"]:
        assert finished["status"] == "failed", (finished, seen)
        assert "maxTokens" in (finished.get("error") or ""), finished


def beside(workspace: Path) -> dict[str, bytes]:
    """Everything next to the workspace (a sibling folder, the server's home), not its log."""
    return files(workspace.parent, {workspace.name, LOG_NAME})


async def run_case(
    workspace: Path,
    relay: Relay,
    kind: str,
    command: str,
    arguments: dict[str, Any],
    bound: float,
    check: Callable[[dict[str, Any], Seen], None] | None = None,
    **extra: Any,
) -> None:
    """Run one command against the real model, accept what it proposes, check the rest
    (and what ``check`` adds)."""
    before, around = files(workspace), beside(workspace)
    repo = [git(workspace, "rev-parse", "HEAD"), git(workspace, "status", "--porcelain")]
    ed = await start(workspace, relay, workspace.parent, kind, **extra)
    try:
        run = await ed.command(command, arguments)
        proposed: list[str] = []
        finished, elapsed = await finish(ed, run["runId"], bound, proposed)
        seen = relay.seen()
        print(f"{command}: {finished['status']} in {elapsed:.1f} s; replies {seen.finishes}")
        print(f"  steps {finished['steps']}; {finished.get('error') or finished['summary']}")
        assert seen.requests >= 1
        check_cut_off(finished, seen, proposed, files(workspace))
        await check_run(ed, finished, seen, before)
        if check is not None:
            check(finished, seen)
    finally:
        await stop_editor(ed)
    assert beside(workspace) == around, "something outside the workspace changed"
    # the user's repository: same commit, and after the undos the same working tree state
    assert [git(workspace, "rev-parse", "HEAD"), git(workspace, "status", "--porcelain")] == repo


@pytest.mark.parametrize(
    ("kind", "review", "max_tokens", "instruction"),
    [
        # 16 tokens: always cut off at the output limit
        ("neovim", "off", 16, "use an f-string"),
        # enough tokens for this model to close its code block: a step to undo
        ("vscode", "proposal", 128, "add a docstring"),
        ("neovim", "off", 128, "rename the function to hello"),
    ],
)
async def test_edit_selection(
    workspace: Path,
    outside: Path,
    relay: Relay,
    kind: str,
    review: str,
    max_tokens: int,
    instruction: str,
) -> None:
    arguments = {
        "uri": (workspace / "app.py").as_uri(),
        "range": SELECTION,
        "instruction": instruction,
    }
    await run_case(
        workspace, relay, kind, "samokoder.editSelection", arguments, bound=90,
        review=review, maxTokens=max_tokens,
    )  # fmt: skip


@pytest.mark.parametrize("mode", ["json_object", "grammar"])
async def test_implement(workspace: Path, outside: Path, relay: Relay, mode: str) -> None:
    (workspace / "util.py").write_text("def shout(text):\n    return text.upper()\n")
    arguments = {"description": "greet() should say hello and shout the name", "files": ["app.py"]}
    await run_case(
        workspace, relay, "vscode", "samokoder.implement", arguments, bound=150,
        check=went_past_the_plan if mode == "grammar" else None,
        review="proposal", structuredOutput={"default": mode}, maxTokens=384,
    )  # fmt: skip


async def test_generate_into_empty_folder(workspace: Path, outside: Path, relay: Relay) -> None:
    (workspace / "app").mkdir()
    arguments = {"description": "a tiny command line greeter", "folder": "app"}
    await run_case(
        workspace, relay, "vscode", "samokoder.generate", arguments, bound=150,
        review="proposal", structuredOutput=JSON_MODE,
    )  # fmt: skip


async def test_generate_past_the_plan_with_schema_grammar(
    workspace: Path, outside: Path, relay: Relay
) -> None:
    """With the schema as a grammar (``structuredOutput: grammar``) every structured
    reply has the right shape, nonsense inside: the specification and the architect's
    layout and plan are taken, and the run goes on into the plan's tasks (their paths
    and steps as garbled as the rest), where it ends as the model's output decides:
    here, code that rambles to the output limit and is not used."""
    (workspace / "app").mkdir()
    arguments = {"description": "a tiny command line greeter", "folder": "app"}

    await run_case(
        workspace, relay, "vscode", "samokoder.generate", arguments, bound=200,
        check=went_past_the_plan, review="proposal", structuredOutput=GRAMMAR_MODE,
        maxTokens=384,
    )  # fmt: skip
