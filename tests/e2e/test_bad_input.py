"""Bad input gets a JSON-RPC error a person can act on, and the server keeps serving."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.harness import start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider

RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}


def bad_requests(root: Path, outside: Path) -> list[tuple[str, list[Any], str]]:
    uri = (root / "app.py").as_uri()
    return [
        ("samokoder.nope", [{}], "not defined"),
        ("samokoder.editSelection", [], "uri must be a non-empty string"),
        ("samokoder.editSelection", ["just a string"], "takes one object argument"),
        ("samokoder.editSelection", [{"uri": 42, "range": RANGE}], "uri must be"),
        ("samokoder.editSelection", [{"uri": uri}], "'range' is required"),
        (
            "samokoder.editSelection",
            [{"uri": uri, "range": {"start": {"line": -1, "character": 0}, "end": {}}}],
            "non-negative integer",
        ),
        (
            "samokoder.editSelection",
            [
                {
                    "uri": uri,
                    "range": {
                        "start": {"line": 999, "character": 0},
                        "end": {"line": 999, "character": 1},
                    },
                    "instruction": "x",
                }
            ],
            "range is not inside app.py",
        ),
        (
            "samokoder.editSelection",
            [{"uri": uri, "range": RANGE, "instruction": ["not", "text"]}],
            "'instruction' must be a string",
        ),
        (
            "samokoder.editSelection",
            [{"uri": outside.as_uri(), "range": RANGE, "instruction": "x"}],
            "not inside any workspace folder",
        ),
        (
            "samokoder.editSelection",
            [{"uri": (root / ".." / outside.name).as_uri(), "range": RANGE, "instruction": "x"}],
            "refused path",
        ),
        (
            "samokoder.editSelection",
            [
                {
                    "uri": (root / "link_out" / "secret.py").as_uri(),
                    "range": RANGE,
                    "instruction": "x",
                }
            ],
            "refused path",
        ),
        (
            "samokoder.editSelection",
            [{"uri": (root / ".git" / "config").as_uri(), "range": RANGE, "instruction": "x"}],
            ".git",
        ),
        (
            "samokoder.editSelection",
            [
                {
                    "uri": (root / ".samokoder" / "state.db").as_uri(),
                    "range": RANGE,
                    "instruction": "x",
                }
            ],
            ".samokoder",
        ),
        (
            "samokoder.editSelection",
            [{"uri": (root / ".env").as_uri(), "range": RANGE, "instruction": "x"}],
            "secret",
        ),
        (
            "samokoder.editSelection",
            [{"uri": "untitled:Untitled-1", "range": RANGE, "instruction": "x"}],
            "file://",
        ),
        (
            "samokoder.editSelection",
            [{"uri": uri + "%00.py", "range": RANGE, "instruction": "x"}],
            "NUL",
        ),
        (
            "samokoder.editSelection",
            [{"uri": (root / "missing.py").as_uri(), "range": RANGE, "instruction": "x"}],
            "does not exist",
        ),
        ("samokoder.review.accept", [{"proposalId": "p-unknown"}], "No pending proposal"),
        ("samokoder.review.accept", [{}], "proposalId must be"),
        ("samokoder.review.reject", [{"proposalId": "p-unknown"}], "No pending proposal"),
        ("samokoder.cancel", [{"runId": "r-unknown"}], "No active run"),
        ("samokoder.cancel", [{}], "'runId' is required"),
        ("samokoder.undo", [{}], "Nothing to undo"),
        ("samokoder.redo", [{}], "Nothing to redo"),
        ("samokoder.history", [{"limit": "ten"}], "'limit' must be an integer"),
    ]


async def test_bad_requests_get_clear_errors(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("TOKEN = 'do not read me'\n")
    os.symlink(outside, workspace / "link_out")
    (workspace / ".env").write_text("OPENAI_API_KEY=sk-live-secret\n")
    ed = await start_editor(workspace, fake_provider, tmp_path, "vscode")
    try:
        for command, args, expected in bad_requests(workspace, outside / "secret.py"):
            with pytest.raises(JsonRpcException) as info:
                await ed.command(command, *args)
            assert expected in str(info.value), (command, args, str(info.value))
        # still serving, and nothing reached the provider
        history = await ed.command("samokoder.history", {})
        assert history == {"steps": [], "commands": []}
        assert fake_provider.requests == []
        assert ed.finished == []
    finally:
        await stop_editor(ed)


async def test_no_model_configured(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(
        workspace, fake_provider, tmp_path, "neovim", env={"SAMOKODER_MODEL": ""}
    )
    try:
        with pytest.raises(JsonRpcException, match="No model configured: set SAMOKODER_MODEL"):
            await ed.command(
                "samokoder.editSelection",
                {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "x"},
            )
    finally:
        await stop_editor(ed)


async def test_invalid_setting_is_reported_and_default_kept(
    workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    ed = await start_editor(
        workspace,
        fake_provider,
        tmp_path,
        "neovim",
        options={"review": "sometimes", "maxParallel": "many"},
    )
    try:

        def reported() -> list[str]:
            return [m.message for m in ed.client.messages if "Samokoder" in m.message]

        messages = await ed.wait_until(lambda: len(reported()) >= 2 and reported())
        assert len(messages) == 2, messages
        assert any("'review'" in m and "using the default" in m for m in messages)
        assert any("'maxParallel'" in m for m in messages)
        # the server still works, in the default review mode (proposal for this client)
        result = await ed.command(
            "samokoder.editSelection",
            {"uri": ed.uri("app.py"), "range": RANGE, "instruction": "x"},
        )
        assert await ed.proposal_for(result["runId"])
    finally:
        await stop_editor(ed)
