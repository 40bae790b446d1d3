"""The next task is drafted while the user reviews this one, and used only if it still fits.

Plans here come with each task's steps (as the tech lead now gives them), so no
developer call is made; the fake provider's request log shows what was asked when.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.harness import Editor
from tests.e2e.scripted_team import GREETER_FILES, GREETER_TASKS, _json, _role, _user, greeter_team
from tests.e2e.test_generate import accept_next
from tests.fakes.fake_provider import Reply


def with_steps(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **t,
            "steps": [
                {"path": p, "action": "create", "instructions": f"write {p}"} for p in t["files"]
            ],
            "commands": [],
        }
        for t in tasks
    ]


def writer_paths(editor: Editor) -> list[str]:
    found = []
    for request in editor.provider.requests:
        messages = request.body.get("messages", [])
        if messages and _role(messages) == "code writer":
            match = re.search(r"^File: (\S+)", _user(messages), re.M)
            if match:
                found.append(match.group(1))
    return found


async def test_next_task_is_drafted_during_review_and_used_at_once(editor: Editor) -> None:
    seen: list[tuple[str, str]] = []
    editor.provider.responder = greeter_team(seen, tasks=with_steps(GREETER_TASKS))
    run = await editor.command(
        "samokoder.generate", {"description": "a command line greeter", "folder": "app"}
    )
    run_id = run["runId"]
    first = await accept_next(editor, run_id, 0)
    assert first["title"] == "Task 1/2: Core module"
    # task 2 is written and reviewed while task 1 waits for the user
    await editor.wait_until(lambda: "greeter/__main__.py" in writer_paths(editor))
    assert not (editor.root / "app").exists()
    await editor.command("samokoder.review.accept", {"proposalId": first["proposalId"]})
    second = await accept_next(editor, run_id, 1)
    assert second["title"] == "Task 2/2: Command line entry point"
    # the README is written while the last task waits for the user
    await editor.wait_until(lambda: "technical writer" in [role for role, _ in seen])
    await editor.command("samokoder.review.accept", {"proposalId": second["proposalId"]})
    readme = await accept_next(editor, run_id, 2)
    assert readme["title"] == "Documentation: README.md"
    await editor.command("samokoder.review.reject", {"proposalId": readme["proposalId"]})
    finished = await editor.finished_run(run_id)

    assert finished["status"] == "succeeded", finished
    assert "not used" not in finished["summary"]
    for path, content in GREETER_FILES.items():
        assert (editor.root / "app" / path).read_text() == content
    assert writer_paths(editor).count("greeter/__main__.py") == 1  # the draft was used
    roles = [role for role, _ in seen]
    assert "developer" not in roles and "tech lead" not in roles  # steps came with the plan
    assert roles.count("technical writer") == 1  # the README drafted ahead was used
    assert roles[:2] == ["spec writer", "architect and tech lead"]


async def test_a_draft_that_failed_is_done_again_and_the_summary_says_why(
    editor: Editor,
) -> None:
    """Task 2's file, drafted during task 1's review, comes back cut off at the output
    limit: the draft is not used, task 2 is written again after the accept (this time
    whole), and the summary says the draft failed (not that files changed)."""
    team = greeter_team(tasks=with_steps(GREETER_TASKS))
    cut = []

    def respond(body: dict[str, Any]) -> Reply:
        reply = team(body)
        messages = body["messages"]
        writes_main = "File: greeter/__main__.py" in _user(messages)
        if _role(messages) == "code writer" and writes_main and not cut:
            cut.append(body)
            return Reply(text=reply.text[: len(reply.text) // 2], finish_reason="length")
        return reply

    editor.provider.responder = respond
    run = await editor.command("samokoder.generate", {"description": "greeter", "folder": "app"})
    run_id = run["runId"]
    first = await accept_next(editor, run_id, 0)
    await editor.wait_until(lambda: bool(cut))  # the draft met the cut-off reply
    await editor.command("samokoder.review.accept", {"proposalId": first["proposalId"]})
    second = await accept_next(editor, run_id, 1)
    assert second["title"] == "Task 2/2: Command line entry point"
    await editor.command("samokoder.review.accept", {"proposalId": second["proposalId"]})
    readme = await accept_next(editor, run_id, 2)
    await editor.command("samokoder.review.reject", {"proposalId": readme["proposalId"]})
    finished = await editor.finished_run(run_id)

    assert finished["status"] == "succeeded", finished
    assert writer_paths(editor).count("greeter/__main__.py") == 2  # drafted, then again
    assert (editor.root / "app/greeter/__main__.py").read_text() == GREETER_FILES[
        "greeter/__main__.py"
    ]
    assert (
        "1 draft(s) made ahead during review were not used (1: drafting failed and the "
        "work was done again)" in finished["summary"]
    ), finished


CORE_V1 = "def greet(name):\n    return f'Hello, {name}!'\n"
CORE_V2 = "def greet(name):\n    return f'Hi, {name}!'\n"
SHOUT = "\n\ndef shout(name):\n    return greet(name).upper()\n"


def two_task_team() -> Any:
    """Task 1 writes core.py (v2 once the user rejected v1); task 2 adds shout() to it."""
    tasks = [
        {
            "title": "Core",
            "description": "greet(name)",
            "files": ["core.py"],
            "steps": [{"path": "core.py", "action": "create", "instructions": "greet"}],
        },
        {
            "title": "Shout",
            "description": "shout(name)",
            "files": ["core.py"],
            "steps": [{"path": "core.py", "action": "modify", "instructions": "add shout"}],
        },
    ]

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role, text = _role(messages), _user(messages)
        if role == "spec writer":
            return _json({"summary": "A greeter.", "features": ["greets"]})
        if role == "architect and tech lead":
            architecture = {"stack": "Python", "files": [{"path": "core.py", "purpose": "all"}]}
            return _json({"architecture": architecture, "tasks": tasks})
        if role == "developer":  # asked again after the rejection, with the feedback
            assert "say Hi" in text, text
            return _json({"files": tasks[0]["steps"]})
        if role == "code writer" and "Task: Shout" in text:
            current = text.split("```\n", 1)[1].split("```", 1)[0]
            last = current.rstrip("\n").splitlines()[-1]
            return Reply(
                text=f"core.py\n```python\n<<<<<<< SEARCH\n{last}\n=======\n{last}{SHOUT}"
                ">>>>>>> REPLACE\n```"
            )
        if role == "code writer":
            content = CORE_V2 if "rejected" in text else CORE_V1
            return Reply(text=f"```python\n{content}```")
        if role == "reviewer":
            return _json({"approved": True})
        if role == "technical writer":
            return Reply(text="```markdown\n# Greeter\n```")
        raise AssertionError(f"unexpected role {role!r}")

    return respond


async def test_a_draft_made_against_a_rejected_proposal_is_thrown_away(editor: Editor) -> None:
    editor.provider.responder = two_task_team()
    run = await editor.command("samokoder.generate", {"description": "greeter", "folder": "app"})
    run_id = run["runId"]
    first = await accept_next(editor, run_id, 0)
    await editor.wait_until(lambda: "Task: Shout" in _all_user_text(editor))
    await editor.command(
        "samokoder.review.reject", {"proposalId": first["proposalId"], "feedback": "say Hi"}
    )
    second = await accept_next(editor, run_id, 1)
    assert second["title"] == "Task 1/2: Core"
    await editor.command("samokoder.review.accept", {"proposalId": second["proposalId"]})
    third = await accept_next(editor, run_id, 2)
    assert third["title"] == "Task 2/2: Shout"
    await editor.command("samokoder.review.accept", {"proposalId": third["proposalId"]})
    readme = await accept_next(editor, run_id, 3)
    await editor.command("samokoder.review.reject", {"proposalId": readme["proposalId"]})
    finished = await editor.finished_run(run_id)

    assert finished["status"] == "succeeded", finished
    # task 2 is built on the accepted v2, not on the rejected v1 it was first drafted against
    core = (editor.root / "app/core.py").read_text()
    assert core.startswith(CORE_V2) and "def shout(name):" in core and "Hello" not in core
    assert (
        "1 draft(s) made ahead during review were not used (1: the files changed before they "
        "were needed)" in finished["summary"]
    )


def _all_user_text(editor: Editor) -> str:
    return "\n".join(
        _user(r.body["messages"]) for r in editor.provider.requests if "messages" in r.body
    )
