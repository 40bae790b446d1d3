"""What the CLI prints: coloured diffs on a terminal, plain text elsewhere, tables, JSON."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from samokoder.client.render import (
    ProgressView,
    command_status,
    diff_renderable,
    history_table,
    make_console,
    print_history,
    print_json,
    print_proposal,
    print_run_finished,
    print_usage,
    print_walk,
    usage_line,
)
from samokoder.workspace.textedits import unified_diff

OLD = "def greet(name):\n    return 'hi ' + name\n"
NEW = "def greet(name):\n    return f'hello {name}'\n"
DIFF = unified_diff("app.py", OLD, NEW)
PROPOSAL = {
    "proposalId": "p-1",
    "runId": "r-1",
    "title": "Edit app.py: use an f-string",
    "files": [{"path": "app.py", "kind": "modify", "additions": 1, "deletions": 1}],
}
GREEN, RED = "\x1b[92", "\x1b[91"  # rich's ansi_dark theme: bright green / bright red


@pytest.fixture(autouse=True)
def no_forced_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich treats any stream as a terminal when these are set."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def terminal(width: int = 100) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="standard", width=width, highlight=False
    )
    return console, buffer


def plain(width: int = 40) -> tuple[Console, io.StringIO]:
    """A console as the CLI makes it for a pipe."""
    buffer = io.StringIO()
    console = make_console(buffer)
    console.width = width
    assert not console.is_terminal
    return console, buffer


def test_diff_is_coloured_on_a_terminal() -> None:
    console, buffer = terminal()
    console.print(diff_renderable(DIFF, terminal=True))
    out = buffer.getvalue()
    added = next(line for line in out.splitlines() if "return f'hello {name}'" in line)
    removed = next(line for line in out.splitlines() if "return 'hi ' + name" in line)
    assert GREEN in added and added.index(GREEN) < added.index("+")
    assert RED in removed and removed.index(RED) < removed.index("-")


def test_diff_is_the_plain_unified_diff_without_a_terminal() -> None:
    console, buffer = plain(width=20)  # narrower than the lines: still not wrapped
    print_proposal(console, PROPOSAL, {"app.py": DIFF})
    out = buffer.getvalue()
    assert "\x1b[" not in out
    assert DIFF.rstrip("\n") in out
    assert out.startswith("Proposal: Edit app.py: use an f-string  (1 file)\n")
    assert "  modify app.py  +1 -1\n" in out


def test_proposal_names_files_without_a_diff() -> None:
    console, buffer = plain(width=80)
    proposal = {**PROPOSAL, "files": [*PROPOSAL["files"], {"path": "b.py", "kind": "create"}]}
    print_proposal(console, proposal, {"app.py": DIFF, "b.py": None})
    out = buffer.getvalue()
    assert "(2 files)" in out
    assert "  create b.py  +0 -0" in out
    assert "(no diff available for b.py)" in out


def test_run_summary_shows_status_steps_and_cost() -> None:
    console, buffer = plain(width=60)
    print_run_finished(
        console,
        {
            "runId": "r-1",
            "status": "succeeded",
            "summary": "Applied the edit to app.py.",
            "steps": ["s1"],
            "usage": {
                "promptTokens": 1200,
                "completionTokens": 34,
                "costUsd": 0.00123,
                "requests": 1,
            },
        },
    )
    assert buffer.getvalue().splitlines() == [
        "Succeeded: Applied the edit to app.py.",
        "  steps: s1",
        "  1 model request, 1,200 + 34 tokens, $0.0012",
    ]


def test_failed_run_shows_its_error() -> None:
    console, buffer = plain(width=60)
    print_run_finished(
        console,
        {"status": "failed", "summary": "Model call failed", "error": "401: bad key", "steps": []},
    )
    assert buffer.getvalue().splitlines() == ["Failed: Model call failed", "  401: bad key"]


def test_usage_line_and_tables() -> None:
    assert usage_line({"requests": 2, "promptTokens": 10, "completionTokens": 5}) == (
        "2 model requests, 10 + 5 tokens, $0.0000"
    )
    console, buffer = plain(width=100)
    totals = {"promptTokens": 10, "completionTokens": 5, "costUsd": 0.5, "requests": 2}
    print_usage(
        console,
        {
            "total": totals,
            "byRun": [{"runId": "r-1", **totals}],
            "byAgent": [{"agent": "code_monkey", **totals}],
            "byModel": [{"model": "openai/fake-model", **totals}],
        },
    )
    out = buffer.getvalue()
    assert out.startswith("Total: 2 model requests, 10 + 5 tokens, $0.5000")
    assert "By model" in out and "openai/fake-model" in out and "$0.5000" in out
    assert "code_monkey" in out and "r-1" in out


def test_history_table_lists_steps() -> None:
    console, buffer = plain(width=120)
    console.print(
        history_table(
            [
                {
                    "stepId": "abc123",
                    "kind": "apply",
                    "summary": "Edit [app.py]",  # brackets are not markup
                    "createdAt": 0,
                    "files": [
                        {"path": "app.py", "change": "modify"},
                        {"path": "new.py", "change": "create"},
                    ],
                }
            ]
        )
    )
    out = buffer.getvalue()
    assert "abc123" in out and "apply" in out
    assert "Edit [app.py]" in out
    assert "app.py, new.py (create)" in out


def test_undo_answer_lists_files() -> None:
    console, buffer = plain(width=80)
    print_walk(console, "Undid", {"stepId": "s2", "target": "s1", "files": ["app.py"]})
    assert buffer.getvalue().splitlines() == ["Undid step s1 (new step s2)", "  app.py"]


def test_json_is_never_wrapped() -> None:
    console, buffer = plain(width=20)
    data = {"summary": "a long summary that is much wider than twenty columns", "n": 1}
    print_json(console, data)
    assert json.loads(buffer.getvalue()) == data


def test_progress_without_a_terminal_prints_one_line_per_run() -> None:
    console, buffer = plain(width=80)
    view = ProgressView(console)
    view.begin("t1", "Samokoder: editing app.py")
    view.report("t1", "Writing app.py: 812 characters received")
    with view.paused():
        console.print("a prompt")
    view.end("t1")
    assert buffer.getvalue().splitlines() == ["Samokoder: editing app.py…", "a prompt"]


def test_progress_on_a_terminal_is_transient() -> None:
    console, buffer = terminal()
    view = ProgressView(console)
    view.begin("t1", "Samokoder: editing app.py")
    view.report("t1", "Writing app.py")
    with view.paused():
        console.print("between")
    view.end("t1")
    view.stop()
    out = buffer.getvalue()
    assert "between" in out
    assert "Samokoder: editing app.py" in out


def test_verbose_progress_is_a_line_per_step() -> None:
    console, buffer = plain(width=60)
    view = ProgressView(console, verbose=True)
    view.begin("t1", "Samokoder: editing app.py")
    view.report("t1", "Asking openai/fake-model to edit app.py (attempt 1)")
    view.report("t1", None)  # nothing new to say: no line
    view.end("t1")
    view.end("t1")  # a second end (or one for a token never begun) says nothing
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0] == "Samokoder: editing app.py…"
    assert re.fullmatch(
        r"Samokoder: editing app\.py: Asking openai/fake-model to edit app\.py "
        r"\(attempt 1\) \(\d+\.\d s\)",
        lines[1],
    )
    assert re.fullmatch(r"Samokoder: editing app\.py: done \(\d+\.\d s\)", lines[2])


def test_verbose_progress_on_a_terminal_keeps_its_lines() -> None:
    console, buffer = terminal()
    view = ProgressView(console, verbose=True)
    view.begin("t1", "Samokoder: generating")
    view.report("t1", "Task 1/2: planning files")
    view.end("t1")
    out = buffer.getvalue()
    assert "Task 1/2: planning files (" in out and "Samokoder: generating: done (" in out


def test_history_lists_the_commands_the_agents_ran() -> None:
    console, buffer = plain(width=120)
    commands = [
        {
            "command": "pytest -q",
            "status": "ran",
            "exitCode": 1,
            "durationMs": 2500,
            "createdAt": 0,
            "message": "",
        },
        {"command": "make", "status": "ran", "exitCode": -9, "durationMs": 10, "createdAt": 0},
        {
            "command": "npm i",
            "status": "skipped",
            "exitCode": None,
            "durationMs": 0,
            "createdAt": 0,
            "message": "skipped: not confirmed",
        },
    ]
    print_history(console, {"steps": [], "commands": commands})
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "No steps yet."
    assert lines[2] == "Commands"
    assert lines[3].split() == ["when", "status", "time", "command", "note"]
    assert "exit 1" in lines[4] and "2.5 s" in lines[4] and "pytest -q" in lines[4]
    assert "killed by signal 9" in lines[5]
    assert "skipped" in lines[6] and "skipped: not confirmed" in lines[6] and " s " not in lines[6]
    assert [command_status(c) for c in commands] == ["exit 1", "killed by signal 9", "skipped"]


def test_explanation_is_markdown_on_a_terminal_and_text_elsewhere() -> None:
    payload = {
        "runId": "r",
        "status": "succeeded",
        "summary": "Explained app.py:4-5.",
        "text": "# Greet\n\n`greet` joins **hi** and the name.",
    }
    console, buffer = plain(width=80)
    print_run_finished(console, payload)
    assert buffer.getvalue().endswith("\n# Greet\n\n`greet` joins **hi** and the name.\n")
    console, buffer = terminal()
    print_run_finished(console, payload)
    rendered = buffer.getvalue()
    assert "**hi**" not in rendered and "hi" in rendered  # rendered, not shown as source


def test_usage_line_says_which_tokens_were_estimated() -> None:
    from samokoder.client.render import usage_line

    counted = {"promptTokens": 10, "completionTokens": 5, "costUsd": 0.0, "requests": 1}
    assert "estimated" not in usage_line(counted)
    line = usage_line({**counted, "estimatedTokens": 15})
    assert line.endswith("(15 tokens estimated)")
