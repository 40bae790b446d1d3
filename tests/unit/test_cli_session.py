"""The client's plumbing without a server: JSON-RPC framing, prompts, edits on disk."""

from __future__ import annotations

import asyncio
import builtins
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from samokoder.client import apply
from samokoder.client.exitcodes import ExitCode
from samokoder.client.jsonrpc import ConnectionLost, JsonRpcConnection, RpcError, encode
from samokoder.client.prompts import Prompter, Verdict
from samokoder.client.render import make_console
from samokoder.client.session import Session, SessionOptions, initialize_params


class Pipe:
    """The writing end of a connection: what the client sent, decoded."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None

    def messages(self) -> list[dict[str, Any]]:
        out, rest = [], self.data
        while rest:
            header, _, rest = rest.partition(b"\r\n\r\n")
            length = int(header.split(b":")[1])
            out.append(json.loads(rest[:length]))
            rest = rest[length:]
        return out


def connect() -> tuple[JsonRpcConnection, asyncio.StreamReader, Pipe]:
    reader, pipe = asyncio.StreamReader(), Pipe()
    conn = JsonRpcConnection(reader, pipe)  # type: ignore[arg-type]
    conn.start()
    return conn, reader, pipe


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def no_forced_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich treats any stream as a terminal when these are set."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


# -- JSON-RPC ---------------------------------------------------------------------------


async def test_request_gets_its_answer_and_errors_carry_code_and_data() -> None:
    conn, reader, pipe = connect()
    ok = asyncio.ensure_future(conn.request("samokoder/thing", {"a": 1}))
    bad = asyncio.ensure_future(conn.request("workspace/executeCommand", {}))
    await settle()
    sent = pipe.messages()
    assert [m["method"] for m in sent] == ["samokoder/thing", "workspace/executeCommand"]
    assert sent[0]["params"] == {"a": 1} and sent[0]["jsonrpc"] == "2.0"
    # answers out of order, split across reads
    error = {"code": -32001, "message": "changed since", "data": {"kind": "Conflict"}}
    frame = encode({"jsonrpc": "2.0", "id": sent[1]["id"], "error": error})
    reader.feed_data(frame[:7])
    await settle()
    reader.feed_data(frame[7:] + encode({"jsonrpc": "2.0", "id": sent[0]["id"], "result": [1]}))
    assert await ok == [1]
    with pytest.raises(RpcError) as info:
        await bad
    assert (info.value.code, info.value.message, info.value.kind) == (
        -32001,
        "changed since",
        "Conflict",
    )
    await conn.close()


async def test_server_requests_and_notifications_reach_handlers() -> None:
    conn, reader, pipe = connect()
    seen: list[Any] = []
    conn.on_request("samokoder/ask", lambda p: {"answer": p["question"].upper()})

    async def slow(params: Any) -> None:
        seen.append(params)

    conn.on_notification("samokoder/runFinished", slow)
    reader.feed_data(
        encode(
            {"jsonrpc": "2.0", "id": "x1", "method": "samokoder/ask", "params": {"question": "why"}}
        )
    )
    reader.feed_data(encode({"jsonrpc": "2.0", "id": 7, "method": "nobody/knows"}))
    reader.feed_data(
        encode({"jsonrpc": "2.0", "method": "samokoder/runFinished", "params": {"runId": "r"}})
    )
    reader.feed_data(encode({"jsonrpc": "2.0", "method": "ignored/notification"}))
    await settle()
    answers = {m["id"]: m for m in pipe.messages()}
    assert answers["x1"]["result"] == {"answer": "WHY"}
    assert answers[7]["error"]["code"] == -32601
    assert seen == [{"runId": "r"}]
    await conn.close()


async def test_end_of_stream_fails_pending_requests() -> None:
    conn, reader, _pipe = connect()
    pending = asyncio.ensure_future(conn.request("shutdown"))
    await settle()
    reader.feed_eof()
    with pytest.raises(ConnectionLost):
        await pending
    assert conn.closed.is_set()
    with pytest.raises(ConnectionLost):
        await conn.request("again")


# -- initialize and configuration ---------------------------------------------------------


def test_initialize_announces_review_ask_progress_and_edits(tmp_path: Path) -> None:
    params = initialize_params(tmp_path, {"model": "m"})
    caps = params["capabilities"]
    assert caps["experimental"] == {"samokoderReview": True, "samokoderAsk": True}
    assert caps["window"]["workDoneProgress"] is True
    assert caps["workspace"]["applyEdit"] is True
    assert caps["workspace"]["workspaceEdit"]["documentChanges"] is True
    assert params["rootUri"] == tmp_path.as_uri()
    assert params["workspaceFolders"] == [{"uri": tmp_path.as_uri(), "name": tmp_path.name}]
    assert params["initializationOptions"] == {"model": "m"}


async def test_configuration_answers_the_samokoder_section(tmp_path: Path) -> None:
    console = make_console(io.StringIO())
    session = Session(SessionOptions(tmp_path, {"model": "m"}), console, console)
    answer = session._on_configuration({"items": [{"section": "samokoder"}, {"section": "python"}]})
    assert answer == [{"model": "m"}, None]


def test_unknown_command_is_reported_as_not_available(tmp_path: Path) -> None:
    buffer = io.StringIO()
    console = make_console(buffer)
    session = Session(SessionOptions(tmp_path), console, console)
    unknown = RpcError("Invalid Params: Command name 'samokoder.explain' is not defined", -32602)
    assert session.report_error(unknown, "explain") == ExitCode.USAGE
    assert "samokoder explain is not available in this server version" in buffer.getvalue()
    refused = RpcError("refused path '/etc/x': it is not inside any workspace folder", -32602)
    assert session.report_error(refused, "edit") == ExitCode.FAILED
    assert buffer.getvalue().endswith(
        "refused path '/etc/x': it is not inside any workspace folder\n"
    )
    assert session.result == {  # what --json prints for it
        "status": "error",
        "error": "refused path '/etc/x': it is not inside any workspace folder",
        "errorCode": -32602,
    }


# -- prompts ---------------------------------------------------------------------------


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the user types, one line per prompt."""
    lines: list[str] = []

    def fake_input(prompt: str = "") -> str:
        if not lines:
            raise EOFError
        return lines.pop(0)

    monkeypatch.setattr(builtins, "input", fake_input)
    yield lines


def prompter(*, interactive: bool = True, yes: bool = False) -> tuple[Prompter, io.StringIO]:
    buffer = io.StringIO()
    return Prompter(make_console(buffer), interactive=interactive, yes=yes), buffer


def test_yes_accepts_and_no_terminal_rejects() -> None:
    assert prompter(yes=True)[0].review(["a.py"]) == Verdict("accept")
    quiet, buffer = prompter(interactive=False)
    assert quiet.review(["a.py"]) == Verdict("reject")
    assert "pass --yes" in buffer.getvalue()
    assert quiet.ask("What?", [], True) is None
    assert quiet.confirm("Apply?") is False
    assert prompter(yes=True)[0].ask("What?", [], True) is None  # --yes dismisses questions


def test_choose_files(typed: list[str]) -> None:
    typed.extend(["c", "y", "n", "y"])
    verdict = prompter()[0].review(["a.py", "b.py", "c.py"])
    assert verdict == Verdict("accept", files=("a.py", "c.py"))


def test_reject_with_feedback(typed: list[str]) -> None:
    typed.extend(["r", "  say hello  "])
    assert prompter()[0].review(["a.py"]) == Verdict("reject", feedback="say hello")
    typed.extend(["c", "n", "n", ""])  # choosing nothing rejects
    assert prompter()[0].review(["a.py", "b.py"]) == Verdict("reject")


def test_end_of_input_at_a_prompt_cancels(typed: list[str]) -> None:
    assert prompter()[0].review(["a.py"]) == Verdict("cancel")


def test_questions_take_a_number_or_text(typed: list[str]) -> None:
    typed.extend(["2"])
    assert prompter()[0].ask("Which?", ["Flask", "FastAPI"], False) == "FastAPI"
    typed.extend(["Django"])
    assert prompter()[0].ask("Which?", ["Flask"], True) == "Django"
    typed.extend(["nine", "1"])
    assert prompter()[0].ask("Which?", ["Flask"], False) == "Flask"
    typed.extend([""])
    assert prompter()[0].ask("What should change?", [], True) is None


# -- workspace/applyEdit on disk --------------------------------------------------------


def text_edit(line: int, start: int, end: int, new: str) -> dict[str, Any]:
    return {
        "range": {
            "start": {"line": line, "character": start},
            "end": {"line": line, "character": end},
        },
        "newText": new,
    }


def test_apply_edit_writes_creates_and_deletes(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ny = 2\n")
    (tmp_path / "old.py").write_text("gone\n")
    edit = {
        "documentChanges": [
            {
                "textDocument": {"uri": (tmp_path / "a.py").as_uri(), "version": None},
                "edits": [text_edit(1, 4, 5, "3")],
            },
            {
                "kind": "create",
                "uri": (tmp_path / "pkg" / "new.py").as_uri(),
                "options": {"ignoreIfExists": True},
            },
            {
                "textDocument": {"uri": (tmp_path / "pkg" / "new.py").as_uri(), "version": None},
                "edits": [text_edit(0, 0, 0, "hello\n")],
            },
            {"kind": "delete", "uri": (tmp_path / "old.py").as_uri()},
        ],
        "changeAnnotations": {"samokoder": {"label": "x", "needsConfirmation": True}},
    }
    assert apply.needs_confirmation(edit)
    apply.write_planned(apply.plan_edit(edit, tmp_path))
    assert (tmp_path / "a.py").read_text() == "x = 1\ny = 3\n"
    assert (tmp_path / "pkg" / "new.py").read_text() == "hello\n"
    assert not (tmp_path / "old.py").exists()


def test_apply_edit_outside_the_folder_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    edit = {
        "changes": {
            (root / "a.py").as_uri(): [text_edit(0, 4, 5, "2")],
            (tmp_path / "evil.py").as_uri(): [text_edit(0, 0, 0, "boom")],
        }
    }
    with pytest.raises(apply.EditRefused, match="outside the workspace"):
        apply.plan_edit(edit, root)
    assert (root / "a.py").read_text() == "x = 1\n"
    assert not apply.needs_confirmation(edit)
