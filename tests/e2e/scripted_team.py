"""A scripted agent team for the fake provider: each role answers from its prompt.

The responder reads the system prompt to tell the roles apart and the user
message to tell tasks and files apart, so replies do not depend on call order
(files of a task are written concurrently).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.fakes.fake_provider import Reply

Files = dict[str, str]

GREETER_FILES: Files = {
    "greeter/__init__.py": '"""A tiny greeter."""\n',
    "greeter/core.py": "def greet(name):\n    return f'Hello, {name}!'\n",
    "greeter/__main__.py": (
        "import sys\n\nfrom greeter.core import greet\n\nprint(greet(sys.argv[1]))\n"
    ),
    "tests/test_core.py": (
        "from greeter.core import greet\n\n\ndef test_greet():\n"
        "    assert greet('Ann') == 'Hello, Ann!'\n"
    ),
}

GREETER_TASKS = [
    {
        "title": "Core module",
        "description": "Write the greeter package with greet(name).",
        "acceptance_criteria": ["greet('Ann') returns 'Hello, Ann!'"],
        "files": ["greeter/__init__.py", "greeter/core.py", "tests/test_core.py"],
    },
    {
        "title": "Command line entry point",
        "description": "python -m greeter NAME prints the greeting.",
        "acceptance_criteria": ["prints Hello, NAME!"],
        "files": ["greeter/__main__.py"],
    },
]


def _role(messages: list[dict[str, Any]]) -> str:
    """The role the system messages name last (the run's shared context comes first)."""
    systems = " ".join(str(m["content"]) for m in messages if m.get("role") == "system")
    found = re.findall(r"You are the ([a-z ]+?)\.", systems)
    return found[-1] if found else "?"


def _user(messages: list[dict[str, Any]]) -> str:
    return str(next((m["content"] for m in messages if m["role"] == "user"), ""))


def greeter_team(
    seen: list[tuple[str, str]] | None = None,
    files: Files | None = None,
    tasks: list[dict[str, Any]] | None = None,
    review: Callable[[str], dict[str, Any]] | None = None,
) -> Callable[[dict[str, Any]], Reply]:
    """A responder that builds the greeter app in two tasks."""
    files = files or GREETER_FILES
    tasks = tasks or GREETER_TASKS

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role = _role(messages)
        text = _user(messages)
        if seen is not None:
            seen.append((role, messages[-1]["content"]))
        if role == "spec writer":
            return _json({"summary": "A command line greeter.", "features": ["greets by name"]})
        architecture = {
            "stack": "Python 3 standard library",
            "files": [{"path": p, "purpose": "part of the greeter"} for p in files],
            "run_command": "python -m greeter NAME",
            "test_command": "python -m pytest",
        }
        if role == "architect and tech lead":  # generate: layout and plan in one call
            return _json({"architecture": architecture, "tasks": tasks})
        if role == "architect":
            return _json(architecture)
        if role == "tech lead":
            return _json({"tasks": tasks})
        if role == "developer":
            task = next(t for t in tasks if f"Task: {t['title']}" in text)
            steps = [
                {"path": p, "action": "create", "instructions": f"write {p}"} for p in task["files"]
            ]
            return _json({"files": steps, "commands": ["python -m pytest"]})
        if role == "code writer":
            path = re.search(r"^File: (\S+)", text, re.M)
            assert path is not None, text
            return Reply(text=f"```python\n{files[path.group(1)]}```")
        if role == "reviewer":
            return _json(review(text) if review else {"approved": True})
        if role == "technical writer":
            return Reply(text="```markdown\n# Greeter\n\nRun `python -m greeter NAME`.\n```")
        raise AssertionError(f"unexpected role {role!r}")

    return respond


def _json(value: dict[str, Any]) -> Reply:
    return Reply(text=json.dumps(value))
