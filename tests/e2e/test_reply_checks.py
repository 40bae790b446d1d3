"""Broken model output through the real server: refused with the reason, sent back to
the model, never proposed nor written; what a reply holds that is not used is said.

One client is enough here (the checks sit in the agents, not in the protocol), so these
tests start their own editor instead of the two-client `editor` fixture.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from tests.e2e.harness import Editor, start_editor, stop_editor
from tests.e2e.scripted_team import _role, _user
from tests.fakes.fake_provider import FakeProvider, Reply

SELECTION = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
APP = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
UNTERMINATED = (  # no >>>>>>> REPLACE and no closing fence
    "<<<<<<< SEARCH\ndef greet(name):\n    return 'hi ' + name\n=======\n"
    "def greet(name):\n    return f'hello {name}'\n"
)


@pytest_asyncio.fixture
async def ed(workspace: Path, fake_provider: FakeProvider, tmp_path: Path) -> AsyncIterator[Editor]:
    editor = await start_editor(workspace, fake_provider, tmp_path, "vscode")
    try:
        yield editor
    finally:
        await stop_editor(editor)


async def edit_selection(ed: Editor) -> str:
    args = {"uri": ed.uri("app.py"), "range": SELECTION, "instruction": "use an f-string"}
    return str((await ed.command("samokoder.editSelection", args))["runId"])


def last_user_message(ed: Editor, index: int) -> str:
    return str(ed.provider.requests[index].body["messages"][-1]["content"])


async def test_selection_replies_that_fail_the_checks_are_never_proposed(ed: Editor) -> None:
    ed.provider.script(
        Reply(text=UNTERMINATED),
        Reply(text="```python\ndef greet(name):\n    return 'hi\x00' + name\n```"),
        Reply(text="```python\ndef greet(name):\n    # ... existing code ...\n```"),
    )
    run_id = await edit_selection(ed)
    finished = await ed.finished_run(run_id)

    assert finished["status"] == "failed", finished
    for text in (finished["summary"], finished["error"]):
        assert "Gave up on app.py" in text
        assert "leftover edit marker `<<<<<<< SEARCH`" in text
        assert "NUL byte" in text and "placeholder `# ... existing code ...`" in text
    assert [p for p in ed.proposals if p["runId"] == run_id] == []
    assert (ed.root / "app.py").read_text() == APP and ed.applied_edits == []
    assert len(ed.provider.requests) == 3
    assert "leftover edit marker" in last_user_message(ed, 1)  # the model was told why
    assert "NUL byte" in last_user_message(ed, 2)
    assert any("reply not used" in m for m in ed.progress_messages())


async def test_selection_empty_and_unclosed_replies_go_back_extra_block_is_said(
    ed: Editor,
) -> None:
    good = "def greet(name):\n    return f'hello {name}'\n"
    ed.provider.script(
        Reply(text=""),
        Reply(text=f"```python\n{good}"),
        Reply(text=f"```python\n{good}```\nUsage:\n```python\nprint(greet('Ann'))\n```\n"),
    )
    run_id = await edit_selection(ed)
    proposal = await ed.proposal_for(run_id)
    assert proposal["title"] == "Edit app.py: use an f-string"
    first = last_user_message(ed, 1)
    assert "is empty" in first and "empty fenced code block" in first
    assert "never closed" in last_user_message(ed, 2)
    assert [p for p in ed.proposals if p["runId"] == run_id] == [proposal]  # one, the third

    await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    finished = await ed.finished_run(run_id)
    assert finished["status"] == "succeeded"
    note = "app.py: the reply had 2 code blocks; only the first was used."
    assert note in finished["summary"]
    assert note in ed.progress_messages()
    assert (ed.root / "app.py").read_text() == APP.replace("    return 'hi ' + name\n", good[17:])


async def test_selection_explicit_empty_block_is_a_deletion_the_title_names(ed: Editor) -> None:
    ed.provider.script(Reply(text="Deleted as asked:\n```python\n```"))
    run_id = await edit_selection(ed)
    proposal = await ed.proposal_for(run_id)
    assert proposal["title"] == "Edit app.py: delete lines 4-5"
    assert proposal["files"] == [
        {"path": "app.py", "kind": "modify", "additions": 0, "deletions": 2}
    ]
    await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    finished = await ed.finished_run(run_id)
    assert finished["summary"] == "Deleted lines 4-5 of app.py."
    assert (ed.root / "app.py").read_text() == "import os\n\n\n\n\nprint(greet('x'))\n"


Script = dict[str, list[str]]


def team(files: list[dict[str, str]], writer: Script, seen: list[tuple[str, str]]) -> Any:
    """One implement task over `files`; the code writer answers each file from its queue."""

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role, text = _role(messages), _user(messages)
        seen.append((role, str(messages[-1]["content"])))
        if role == "tech lead":
            task = {
                "title": "Greet politely",
                "description": "greet() says hello",
                "files": [f["path"] for f in files],
            }
            return Reply(text=json.dumps({"tasks": [task]}))
        if role == "developer":
            return Reply(text=json.dumps({"files": files}))
        if role == "code writer":
            path = text.split("\nFile: ", 1)[1].split("\n", 1)[0]
            return Reply(text=writer[path].pop(0))
        if role == "reviewer":
            return Reply(text=json.dumps({"approved": True}))
        raise AssertionError(f"unexpected role {role!r}")

    return respond


def block(path: str, search: str, replace: str, *, tail: bool = True) -> str:
    end = ">>>>>>> REPLACE\n```" if tail else ""
    return f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}{end}"


def writer_feedback(seen: list[tuple[str, str]]) -> list[str]:
    return [message for role, message in seen if role == "code writer"]


async def implement(ed: Editor) -> str:
    run = await ed.command("samokoder.implement", {"description": "greet politely"})
    return str(run["runId"])


async def test_implement_never_empties_a_file_or_writes_raw_markers(ed: Editor) -> None:
    seen: list[tuple[str, str]] = []
    modify = {"path": "app.py", "action": "modify", "instructions": "say hello"}
    ed.provider.responder = team(
        [modify],
        {
            "app.py": [
                block("app.py", "    return 'howdy ' + name\n", "    return 'hello ' + name\n"),
                block(
                    "app.py",
                    "def greet(name):\n    return 'hi ' + name\n",
                    "def greet(name):\n    # ... existing code ...\n",
                ),
                block(
                    "app.py", "    return 'hi ' + name\n", "    return 'yo' + name\n", tail=False
                ),
                "",  # asked for the whole file: an empty reply
                UNTERMINATED,  # and then the raw markers
            ]
        },
        seen,
    )
    run_id = await implement(ed)
    finished = await ed.finished_run(run_id)

    assert finished["status"] == "failed", finished
    error = finished["error"]
    assert error.startswith("Gave up on app.py: its SEARCH/REPLACE edits failed 3 times")
    assert "is empty, which would leave the existing code empty" in error
    assert "leftover edit marker `<<<<<<< SEARCH`" in error
    assert ed.proposals == [] and ed.applied_edits == []
    assert (ed.root / "app.py").read_text() == APP
    asked = writer_feedback(seen)
    assert len(asked) == 5
    assert "could not be applied" in asked[1]  # the first block matched nowhere
    assert "placeholder `# ... existing code ...`" in asked[2]
    assert "Current content of app.py" in asked[3]  # the whole-file request
    assert "is empty" in asked[4] and "empty fenced code block" in asked[4]


async def test_implement_refuses_nul_and_says_what_it_left_out(ed: Editor) -> None:
    seen: list[tuple[str, str]] = []
    (ed.root / "legacy.py").write_text("OLD = 1\n")
    files = [
        {"path": "app.py", "action": "modify", "instructions": "say hello"},
        {"path": "util.py", "action": "create", "instructions": "a helper"},
        {"path": "legacy.py", "action": "modify", "instructions": "empty it"},
    ]
    util = "def shout(text):\n    return text.upper()\n"
    ed.provider.responder = team(
        files,
        {
            "app.py": [
                block("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
                + "\n\n"
                + block("other.py", "", "X = 1\n"),
                block("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n"),
            ],
            "util.py": [
                "```python\ndef shout(text):\n    return text.upper()\x00\n```",
                f"```python\n{util}```\nAnd its test:\n```python\nassert shout('a') == 'A'\n```",
                f"```python\n{util}```",
            ],
            "legacy.py": [block("legacy.py", "OLD = 1\n", "")] * 2,
        },
        seen,
    )
    run_id = await implement(ed)
    proposal = await ed.proposal_for(run_id)
    assert proposal["title"] == "Task 1/1: Greet politely (empties legacy.py)"
    assert sorted(f["path"] for f in proposal["files"]) == ["app.py", "legacy.py", "util.py"]
    util_requests = [m for m in writer_feedback(seen) if "util.py" in m]
    assert any("NUL byte" in m for m in util_requests)

    # rejected: the next attempt's code writers hear what was left out of the last one
    reject = {"proposalId": proposal["proposalId"], "feedback": "looks fine, again please"}
    await ed.command("samokoder.review.reject", reject)
    second = await ed.wait_until(lambda: [p for p in ed.proposals if p["runId"] == run_id][1:])
    again = [m for m in writer_feedback(seen) if "looks fine, again please" in m]
    assert again and all("other.py, which is not part of this step" in m for m in again)
    assert all("had 2 code blocks; only the first was used" in m for m in again)
    await ed.command("samokoder.review.accept", {"proposalId": second[0]["proposalId"]})
    finished = await ed.finished_run(run_id)
    assert finished["status"] == "succeeded", finished
    outside = "app.py: a block for other.py, which is not part of that step, was ignored."
    extra = "util.py: the reply had 2 code blocks; only the first was used."
    for note in (outside, extra):
        assert note in finished["summary"] and note in ed.progress_messages()
    assert (ed.root / "util.py").read_text() == util
    assert (ed.root / "legacy.py").read_text() == ""
    assert not (ed.root / "other.py").exists()
    assert "return 'hello ' + name" in (ed.root / "app.py").read_text()


def refusing_troubleshooter(seen: list[tuple[str, str]]) -> Callable[[dict[str, Any]], Reply]:
    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        seen.append((_role(messages), str(messages[-1]["content"])))
        step = {"path": "../outside.py", "action": "modify", "instructions": "fix it there"}
        return Reply(text=json.dumps({"diagnosis": "the bug is elsewhere", "files": [step]}))

    return respond


async def test_a_fix_naming_only_refused_paths_says_so(ed: Editor) -> None:
    seen: list[tuple[str, str]] = []
    ed.provider.responder = refusing_troubleshooter(seen)
    run = await ed.command("samokoder.fixDiagnostics", {"uri": ed.uri("app.py")})
    finished = await ed.finished_run(run["runId"])
    assert finished["status"] == "failed", finished
    assert "found nothing to change" not in finished["summary"]
    assert "names only refused paths" in finished["error"]
    assert "refused path '../outside.py'" in finished["error"]
    assert len(seen) == 3  # told twice, then it stops
    assert "These paths are refused" in seen[1][1] and "../outside.py" in seen[1][1]
    assert ed.proposals == [] and (ed.root / "app.py").read_text() == APP


async def test_blocks_that_applied_are_kept_when_the_rest_is_resent(ed: Editor) -> None:
    seen: list[tuple[str, str]] = []
    modify = {"path": "app.py", "action": "modify", "instructions": "say hello, use sys"}
    first = block("app.py", "import os\n", "import sys\n")
    missing = block("app.py", "    return 'howdy ' + name\n", "    return 'hello ' + name\n")
    fixed = block("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
    ed.provider.responder = team([modify], {"app.py": [f"{first}\n\n{missing}", fixed]}, seen)
    run_id = await implement(ed)
    proposal = await ed.proposal_for(run_id)
    assert "Every block not listed here was applied" in writer_feedback(seen)[1]
    view = await ed.client.protocol.send_request_async(
        "samokoder/proposalFile", {"proposalId": proposal["proposalId"], "path": "app.py"}
    )
    expected = APP.replace("import os", "import sys").replace("'hi '", "'hello '")
    assert view.proposed == expected  # the first reply's good block was not lost


async def test_a_fix_that_names_a_refused_path_beside_a_good_one_says_what_it_left_out(
    ed: Editor,
) -> None:
    seen: list[tuple[str, str]] = []

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role = _role(messages)
        seen.append((role, str(messages[-1]["content"])))
        if role == "troubleshooter":
            steps = [
                {"path": "../outside.py", "action": "modify", "instructions": "there"},
                {"path": "app.py", "action": "modify", "instructions": "drop `import os`"},
            ]
            return Reply(text=json.dumps({"diagnosis": "os is unused", "files": steps}))
        return Reply(text=block("app.py", "import os\n\n\n", ""))

    ed.provider.responder = respond
    run = await ed.command("samokoder.fixDiagnostics", {"uri": ed.uri("app.py")})
    proposal = await ed.proposal_for(run["runId"])
    assert [f["path"] for f in proposal["files"]] == ["app.py"]
    assert [role for role, _ in seen].count("troubleshooter") == 3
    await ed.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    finished = await ed.finished_run(run["runId"])
    assert finished["status"] == "succeeded", finished
    assert "left out refused paths: refused path '../outside.py'" in finished["summary"]
    assert (ed.root / "app.py").read_text().startswith("def greet(name):")
