"""Commands with consent, the troubleshooter loop and the code actions, over stdio."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.fixing_team import (
    CALC,
    CALC_TESTS,
    EXPLANATION,
    GREET_TESTS,
    HANGS,
    INJECTION,
    TEST_COMMAND,
    calc_team,
    diagnostics_team,
    explain_team,
    unit_tests_team,
)
from tests.e2e.harness import Editor, git, start_editor, stop_editor
from tests.e2e.scripted_team import greeter_team
from tests.fakes.fake_provider import FakeProvider, Reply

GREET = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}


async def nth_proposal(editor: Editor, run_id: str, index: int) -> dict[str, Any]:
    found = await editor.wait_until(
        lambda: [p for p in editor.proposals if p["runId"] == run_id][index:]
    )
    return found[0]  # type: ignore[no-any-return]


async def accept(editor: Editor, run_id: str, index: int) -> dict[str, Any]:
    proposal = await nth_proposal(editor, run_id, index)
    await editor.command("samokoder.review.accept", {"proposalId": proposal["proposalId"]})
    return proposal


async def test_consent_is_asked_run_and_skip_are_obeyed(editor: Editor) -> None:
    editor.provider.responder = greeter_team()
    editor.answers += ["Run", "Skip"]
    run = await editor.command("samokoder.generate", {"description": "greeter", "folder": "app"})
    run_id = run["runId"]
    await accept(editor, run_id, 0)
    await accept(editor, run_id, 1)
    readme = await nth_proposal(editor, run_id, 2)
    await editor.command("samokoder.review.reject", {"proposalId": readme["proposalId"]})
    finished = await editor.finished_run(run_id)
    assert finished["status"] == "succeeded", finished
    assert "Task 1/2: 1 command(s) passed." in finished["summary"]
    assert "Task 2/2: commands not run (skipped: not confirmed)." in finished["summary"]
    asks = [a for a in editor.asks if "wants to run a command" in a["question"]]
    assert len(asks) == 2
    assert asks[0]["choices"] == ["Run", "Skip", "Always for this run"]
    assert "python -m pytest" in asks[0]["question"] and "in app " in asks[0]["question"]
    history = await editor.command("samokoder.history", {})
    newest, oldest = history["commands"]
    assert oldest["status"] == "ran" and oldest["exitCode"] == 0 and oldest["cwd"] == "app"
    assert oldest["argv"] == ["python", "-m", "pytest"] and "1 passed" in oldest["output"]
    assert newest["status"] == "skipped" and newest["runId"] == run_id
    assert len(history["steps"]) == 2


@pytest.fixture
def calc_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "calc"
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(CALC_TESTS)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "calc with a bug")
    return root


async def test_troubleshooter_fixes_a_failing_test(
    calc_workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []
    fake_provider.responder = calc_team(seen)
    ed = await start_editor(calc_workspace, fake_provider, tmp_path, "vscode")
    try:
        ed.answers.append("Always for this run")
        run = await ed.command("samokoder.implement", {"description": "add mul"})
        run_id = run["runId"]
        await accept(ed, run_id, 0)
        fix = await accept(ed, run_id, 1)
        assert fix["title"] == "Fix: add() subtracts instead of adding"
        finished = await ed.finished_run(run_id)
        assert finished["status"] == "succeeded", finished
        assert "Task 1/1: 1 command(s) passed after 1 fix(es); 1 not run." in finished["summary"]
        assert len(finished["steps"]) == 2
        assert "return a + b" in (calc_workspace / "calc.py").read_text()
        assert len(ed.asks) == 1  # "Always for this run": the re-run was not asked about
        assert not (calc_workspace / "pwned").exists()
        history = await ed.command("samokoder.history", {})
        statuses = [(c["command"], c["status"], c["exitCode"]) for c in history["commands"]]
        assert statuses == [
            (TEST_COMMAND, "ran", 0),
            (INJECTION, "refused", None),
            (TEST_COMMAND, "ran", 1),
            (INJECTION, "refused", None),
        ]
        assert "shell syntax" in history["commands"][1]["message"]
        assert "1 failed" in history["commands"][2]["output"]
        assert [s["agent"] for s in history["steps"]] == ["troubleshooter", "developer"]
    finally:
        await stop_editor(ed)


@pytest.mark.parametrize("how", ["cancel", "shutdown"])
async def test_cancel_or_shutdown_kills_a_running_command(
    calc_workspace: Path, fake_provider: FakeProvider, tmp_path: Path, how: str
) -> None:
    fake_provider.responder = calc_team([], commands=(HANGS,))
    ed = await start_editor(calc_workspace, fake_provider, tmp_path, "neovim")
    pid_file = calc_workspace / "pid.txt"
    try:
        ed.answers.append("Run")
        run = await ed.command("samokoder.implement", {"description": "add mul"})
        await accept(ed, run["runId"], 0)
        await ed.wait_until(lambda: pid_file.exists() and pid_file.read_text())
        pid = int(pid_file.read_text())
        assert alive(pid)
        if how == "cancel":
            await ed.command("samokoder.cancel", {"runId": run["runId"]})
            finished = await ed.finished_run(run["runId"])
            assert finished["status"] == "cancelled"
            await ed.wait_until(lambda: not alive(pid), 10)
            [row] = (await ed.command("samokoder.history", {}))["commands"]
            assert row["status"] == "cancelled" and "process group was killed" in row["message"]
    finally:
        await stop_editor(ed)
    await asyncio.sleep(0)
    deadline = asyncio.get_running_loop().time() + 10
    while alive(pid) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert not alive(pid)


def alive(pid: int) -> bool:
    """A live process (a zombie waiting to be reaped counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def code_actions(
    editor: Editor, rel: str, rng: types.Range, diagnostics: list[types.Diagnostic]
) -> list[dict[str, Any]]:
    """Actions as {title, command: {command, arguments}} (kinds are checked in unit tests:
    the test client's converter reads a CodeAction as a Command, stringifying its command)."""
    result = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=editor.uri(rel)),
            range=rng,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    actions = []
    for action in result or []:
        assert isinstance(action, types.Command) and action.command.startswith("{")
        actions.append({"title": action.title, "command": ast.literal_eval(action.command)})
    return actions


async def test_fix_with_samokoder_quick_fix(editor: Editor) -> None:
    seen: list[tuple[str, str]] = []
    editor.provider.responder = diagnostics_team(seen)
    line0 = types.Range(types.Position(0, 0), types.Position(0, 9))
    diagnostic = types.Diagnostic(
        range=line0,
        message='"os" is not accessed',
        severity=types.DiagnosticSeverity.Warning,
        source="Pyright",
        code="reportUnusedImport",
    )
    empty = types.Range(types.Position(0, 3), types.Position(0, 3))
    [action] = await code_actions(editor, "app.py", empty, [diagnostic])
    assert action["title"] == "Fix with Samokoder"
    command = action["command"]
    assert command["command"] == "samokoder.fixDiagnostics"
    [arg] = command["arguments"]
    assert arg["diagnostics"] == [
        {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 9}},
            "message": '"os" is not accessed',
            "severity": 2,
            "source": "Pyright",
            "code": "reportUnusedImport",
        }
    ]
    run = await editor.command(command["command"], arg)
    proposal = await accept(editor, run["runId"], 0)
    assert proposal["title"] == "Fix: os is imported but unused"
    finished = await editor.finished_run(run["runId"])
    assert finished["status"] == "succeeded"
    assert finished["summary"] == "Fixed 1 problem(s) in app.py:1."
    assert (editor.root / "app.py").read_text().startswith("def greet(name):")
    prompt = next(text for role, text in seen if role == "troubleshooter")
    assert "line 1, column 1 (warning Pyright reportUnusedImport)" in prompt
    assert '"os" is not accessed' in prompt and "the line: `import os`" in prompt


async def test_selection_actions_and_explain(editor: Editor) -> None:
    seen: list[tuple[str, str]] = []
    editor.provider.responder = explain_team(seen)
    selection = types.Range(types.Position(3, 0), types.Position(5, 0))
    actions = await code_actions(editor, "app.py", selection, [])
    assert [(a["title"], a["command"]["command"]) for a in actions] == [
        ("Edit selection…", "samokoder.editSelection"),
        ("Explain", "samokoder.explain"),
        ("Write tests", "samokoder.writeTests"),
    ]
    explain = actions[1]["command"]
    run = await editor.command(explain["command"], *explain["arguments"])
    finished = await editor.finished_run(run["runId"])
    assert finished["status"] == "succeeded", finished
    assert finished["text"] == EXPLANATION
    assert "def greet(name):" in seen[0][1]
    [shown] = editor.client.shown_documents  # both recorded clients support showDocument
    path = Path(shown.uri.removeprefix("file://"))
    assert path.parent == editor.root / ".samokoder" / "explain"
    assert EXPLANATION in path.read_text() and shown.take_focus
    assert finished["summary"] == "Explained app.py:4-5 (opened in the editor)."
    assert editor.proposals == []


async def test_write_tests_places_and_runs_them(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    seen: list[tuple[str, str]] = []
    fake_provider.responder = unit_tests_team(seen)
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim")
    try:
        ed.answers.append("Run")
        run = await ed.command("samokoder.writeTests", {"uri": ed.uri("app.py"), "range": GREET})
        proposal = await accept(ed, run["runId"], 0)
        assert proposal["title"] == "Tests: tests/test_app.py"
        assert proposal["files"][0]["path"] == "tests/test_app.py"
        finished = await ed.finished_run(run["runId"])
        assert finished["status"] == "succeeded", finished
        assert finished["summary"] == (
            "Wrote tests for app.py:4-5 in tests/test_app.py. Tests: 1 command(s) passed."
        )
        assert (workspace / "tests" / "test_app.py").read_text() == GREET_TESTS
        assert "python -m pytest -q tests/test_app.py" in ed.asks[0]["question"]
        assert "def greet(name):" in seen[0][1]
    finally:
        await stop_editor(ed)


async def test_code_run_bad_input(editor: Editor, tmp_path: Path) -> None:
    uri = editor.uri("app.py")
    outside = (tmp_path / "elsewhere.py").as_uri()
    for command, args, expected in [
        ("samokoder.explain", {"uri": uri}, "'range' is required"),
        ("samokoder.explain", {"uri": outside, "range": GREET}, "not inside any workspace"),
        ("samokoder.writeTests", {"uri": editor.uri("missing.py")}, "does not exist"),
        ("samokoder.fixDiagnostics", {"uri": uri, "diagnostics": "x"}, "'diagnostics' must"),
        ("samokoder.fixDiagnostics", {"uri": uri, "diagnostics": [{}]}, "message must"),
        (
            "samokoder.fixDiagnostics",
            {"uri": uri, "diagnostics": [{"message": "m", "range": {"start": {"line": -1}}}]},
            "non-negative",
        ),
    ]:
        with pytest.raises(JsonRpcException, match=expected):
            await editor.command(command, args)
    assert editor.provider.requests == []


async def test_a_provider_key_alone_starts_every_command(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    """Only OPENAI_API_KEY (and the OpenAI SDK's own base URL variable, pointing at the
    fake): no model setting, no apiBase. Every command that starts a run starts it."""
    env = {
        "SAMOKODER_MODEL": "",
        "SAMOKODER_API_BASE": "",
        "OPENAI_BASE_URL": fake_provider.base_url,
    }
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode", env=env)
    try:
        uri = ed.uri("app.py")
        run = await ed.command("samokoder.explain", {"uri": uri, "range": GREET})
        finished = await ed.finished_run(run["runId"])
        assert finished["status"] == "succeeded", finished
        assert fake_provider.requests[0].body["model"] == "gpt-4.1-mini"
        diagnostic = {"range": GREET, "message": "unused name"}
        for command, arg in [
            ("samokoder.writeTests", {"uri": uri, "range": GREET}),
            ("samokoder.fixDiagnostics", {"uri": uri, "diagnostics": [diagnostic]}),
            ("samokoder.editSelection", {"uri": uri, "range": GREET, "instruction": "x"}),
            ("samokoder.generate", {"description": "a greeter", "folder": "new"}),
            ("samokoder.implement", {"description": "greet loudly"}),
        ]:
            started = await ed.command(command, arg)
            await ed.command("samokoder.cancel", {"runId": started["runId"]})
            finished = await ed.finished_run(started["runId"])
            assert finished["status"] == "cancelled", (command, finished)
    finally:
        await stop_editor(ed)


COMMENTED_APP = (
    "import os\n\n\n# samokoder: use an f-string\n"
    "def greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
)


async def test_instruction_comment_in_a_plain_client(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    """A client without Samokoder's extensions (annotated review, nobody to ask): the
    comment is the instruction, the edit removes it, undo brings it back."""
    (workspace / "app.py").write_text(COMMENTED_APP)
    fake_provider.script(Reply(text="```python\ndef greet(name):\n    return f'hi {name}'\n```"))
    ed = await start_editor(workspace, fake_provider, tmp_path, "neovim", review=False, ask=False)
    try:
        ed.open("app.py")
        greet = types.Range(types.Position(4, 0), types.Position(6, 0))
        actions = await code_actions(ed, "app.py", greet, [])
        assert [a["title"] for a in actions] == [
            "Samokoder: use an f-string",
            "Explain",
            "Write tests",
        ]
        command = actions[0]["command"]
        run = await ed.command(command["command"], *command["arguments"])
        finished = await ed.finished_run(run["runId"])
        assert finished["status"] == "succeeded", finished
        assert ed.text("app.py") == (
            "import os\n\n\ndef greet(name):\n    return f'hi {name}'\n\n\nprint(greet('x'))\n"
        )
        [edit] = ed.applied_edits
        assert edit.label and "use an f-string" in edit.label
        prompt = fake_provider.requests[0].body["messages"][-1]["content"]
        assert "Instruction: use an f-string" in prompt and "samokoder:" not in prompt
        undone = await ed.command("samokoder.undo", [])
        assert undone["files"] == ["app.py"]
        assert ed.text("app.py") == COMMENTED_APP
        # the same command once the comment is gone says what to write
        last = {"start": {"line": 8, "character": 0}, "end": {"line": 9, "character": 0}}
        with pytest.raises(JsonRpcException, match="# samokoder: add type hints"):
            await ed.command(command["command"], {**command["arguments"][0], "range": last})
    finally:
        await stop_editor(ed)
