"""Scripted models for the fake provider: they prove the harness, not a model.

`exercise_team` answers `samokoder.implement` with one scripted solution per
attempt (the second attempt is told apart by the failing test output the
harness sends back). `app_team` replays an app's reference through
`samokoder.generate`. Roles are told apart by their system prompt, as in
tests/e2e/scripted_team.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from benchmarks.quality.tracks import FAILED_MARK
from tests.e2e.scripted_team import _role, _user, greeter_team
from tests.fakes import Reply

Files = dict[str, str]
Responder = Callable[[dict[str, Any]], Reply]


def _json(value: dict[str, Any]) -> Reply:
    return Reply(text=json.dumps(value))


def _current(text: str, path: str) -> str | None:
    """The file's content as the code writer's prompt shows it."""
    head = f"Current content of {path}:\n```\n"
    start = text.find(head)
    if start < 0:
        return None
    start += len(head)
    end = text.rfind("\n```\n", start)
    return text[start:end] if end >= 0 else None


def exercise_team(attempts: list[Files], seen: list[tuple[str, str]] | None = None) -> Responder:
    """Attempt n (1-based) writes `attempts[n-1]`; the last entry repeats after that."""

    def attempt_of(text: str) -> int:
        match = re.search(r"Task: Attempt (\d+)", text)
        return int(match.group(1)) if match else 1

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role, text = _role(messages), _user(messages)
        if seen is not None:
            seen.append((role, text))
        if role == "tech lead":
            number = 2 if FAILED_MARK in text else 1
            files = attempts[min(number, len(attempts)) - 1]
            task = {
                "title": f"Attempt {number}",
                "description": "Write the solution.",
                "acceptance_criteria": ["the tests pass"],
                "files": list(files),
            }
            return _json({"tasks": [task]})
        files = attempts[min(attempt_of(text), len(attempts)) - 1]
        if role == "developer":
            steps = [{"path": p, "action": "modify", "instructions": "solve it"} for p in files]
            return _json({"files": steps, "commands": []})
        if role == "code writer":
            found = re.search(r"^File: (\S+)", text, re.M)
            assert found is not None, text
            path = found.group(1)
            current = _current(text, path)
            if current is None or "whole new content" in text:
                return Reply(text=f"```python\n{files[path]}```")
            return Reply(
                text=f"{path}\n```python\n<<<<<<< SEARCH\n{current}=======\n"
                f"{files[path]}>>>>>>> REPLACE\n```"
            )
        if role == "reviewer":
            return _json({"approved": True})
        raise AssertionError(f"unexpected role {role!r}")

    return respond


def app_team(
    description: str, files: Files, seen: list[tuple[str, str]] | None = None
) -> Responder:
    """generate writes `files` (an app's reference) in one task."""
    task = {
        "title": "Build the app",
        "description": description[:500],
        "acceptance_criteria": ["the hidden tests pass"],
        "files": list(files),
    }
    return greeter_team(seen=seen, files=files, tasks=[task])
