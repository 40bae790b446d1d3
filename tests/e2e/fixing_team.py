"""Scripted teams for commands and code actions: a bug the troubleshooter fixes, tests,
an explanation. Roles are told apart by their system prompt (see scripted_team)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.e2e.scripted_team import _role, _user
from tests.fakes.fake_provider import Reply

Responder = Callable[[dict[str, Any]], Reply]

CALC = "def add(a, b):\n    return a - b\n"
CALC_TESTS = (
    "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)
TEST_COMMAND = "python -m pytest -q"
INJECTION = "python -V && touch pwned"


def _json(value: dict[str, Any]) -> Reply:
    return Reply(text=json.dumps(value))


def _block(path: str, search: str, replace: str) -> Reply:
    return Reply(
        text=f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```"
    )


HANGS = (
    'python -c \'import os, time; open("pid.txt", "w").write(str(os.getpid())); time.sleep(600)\''
)


def calc_team(
    seen: list[tuple[str, str]], commands: tuple[str, ...] = (INJECTION, TEST_COMMAND)
) -> Responder:
    """implement "add mul": the developer's change leaves add() broken; the tests say so."""

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role, text = _role(messages), _user(messages)
        seen.append((role, text))
        if role == "tech lead":
            task = {
                "title": "Add mul",
                "description": "Add mul(a, b) to calc.py.",
                "acceptance_criteria": ["the tests pass"],
                "files": ["calc.py"],
            }
            return _json({"tasks": [task]})
        if role == "developer":
            step = {"path": "calc.py", "action": "modify", "instructions": "add mul"}
            return _json({"files": [step], "commands": list(commands)})
        if role == "reviewer":
            return _json({"approved": True})
        if role == "troubleshooter":
            assert "test_add" in text and "assert" in text, text
            step = {"path": "calc.py", "action": "modify", "instructions": "add must add"}
            return _json({"diagnosis": "add() subtracts instead of adding", "files": [step]})
        if role == "code writer" and "Task: Fix:" in text:
            return _block("calc.py", "    return a - b\n", "    return a + b\n")
        if role == "code writer":
            return _block(
                "calc.py",
                "    return a - b\n",
                "    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
            )
        raise AssertionError(f"unexpected role {role!r}")

    return respond


def diagnostics_team(seen: list[tuple[str, str]]) -> Responder:
    """The troubleshooter removes the unused import a diagnostic reports."""

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role, text = _role(messages), _user(messages)
        seen.append((role, text))
        if role == "troubleshooter":
            step = {"path": "app.py", "action": "modify", "instructions": "drop `import os`"}
            return _json({"diagnosis": "os is imported but unused", "files": [step]})
        if role == "code writer":
            return _block("app.py", "import os\n\n\n", "")
        raise AssertionError(f"unexpected role {role!r}")

    return respond


GREET_TESTS = "from app import greet\n\n\ndef test_greet():\n    assert greet('x') == 'hi x'\n"


def unit_tests_team(seen: list[tuple[str, str]]) -> Responder:
    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role, text = _role(messages), _user(messages)
        seen.append((role, text))
        if role == "code writer":
            return Reply(text=f"```python\n{GREET_TESTS}```")
        raise AssertionError(f"unexpected role {role!r}")

    return respond


EXPLANATION = "`greet` returns `'hi '` followed by the name.\n\n- No validation of `name`."


def explain_team(seen: list[tuple[str, str]]) -> Responder:
    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role, text = _role(messages), _user(messages)
        seen.append((role, text))
        if role == "explainer":
            return Reply(text=EXPLANATION)
        raise AssertionError(f"unexpected role {role!r}")

    return respond
