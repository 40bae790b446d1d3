"""Settings from the command line, and the one JSON object `--json` prints for any outcome."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from samokoder.cli import build_parser, main
from samokoder.client.exitcodes import ExitCode
from samokoder.client.main import UsageError, initialization_options
from samokoder.client.options import SettingError, check_settings, parse_assignment
from samokoder.client.outcome import bad_usage, outcome_json, refused, succeeded


def settings(*argv: str) -> dict[str, object]:
    return initialization_options(
        build_parser().parse_args(["edit", "a.py", "--lines", "1", *argv])
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maxParallel=2", ("maxParallel", 2)),
        ("cache=false", ("cache", False)),
        ("review=off", ("review", "off")),  # not JSON: the text as it is
        ("model=openai/gpt-4.1-mini", ("model", "openai/gpt-4.1-mini")),
        ('fallbackModels=["a/b", "c/d"]', ("fallbackModels", ["a/b", "c/d"])),
        ('agentModels={"code_monkey": "x/y"}', ("agentModels", {"code_monkey": "x/y"})),
        ("apiBase=http://h:1/v1?a=b", ("apiBase", "http://h:1/v1?a=b")),  # only the first '='
        ('model="1"', ("model", "1")),  # quoted: a string that looks like a number
    ],
)
def test_set_values_are_json_when_they_parse(text: str, expected: tuple[str, object]) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["maxParallel", "=2", " =x"])
def test_set_needs_key_and_value(text: str) -> None:
    with pytest.raises(SettingError, match="KEY=VALUE"):
        parse_assignment(text)


def test_named_flags_and_set_become_initialization_options() -> None:
    assert settings() == {}
    assert settings(
        *("--model", "m", "--api-base", "u", "--max-tokens", "77", "--request-timeout", "30"),
        *("--no-cache", "--review", "off", "--commands", "never", "--budget-usd", "0.5"),
    ) == {
        "model": "m",
        "apiBase": "u",
        "maxTokens": 77,
        "requestTimeout": 30.0,
        "cache": False,
        "review": "off",
        "commands": "never",
        "budgetUsd": 0.5,
    }
    both = settings("--set", "maxTokens=10", "--max-tokens", "20", "--set", "temperature=0.3")
    assert both == {"maxTokens": 20, "temperature": 0.3}  # the named flag wins


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "max_tokens=5"], "unknown setting 'max_tokens' (did you mean 'maxTokens'?)"),
        (["--set", "colour=red"], "unknown setting 'colour'; known: agentModels"),
        (["--set", "maxParallel=0"], "setting 'maxParallel': Input should be greater than"),
        (["--set", "review=maybe"], "setting 'review'"),
        (["--set", "cache=perhaps"], "setting 'cache'"),
        (["--max-tokens", "0"], "setting 'maxTokens'"),
        (["--budget-usd", "-1"], "setting 'budgetUsd'"),
        (["--set", "maxParallel"], "KEY=VALUE"),
    ],
)
def test_bad_settings_are_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        settings(*argv)


def test_a_bad_key_never_echoes_an_api_key_value() -> None:
    with pytest.raises(SettingError) as info:
        check_settings({"apiKeys": {"openai": 12345}})
    assert "12345" not in str(info.value) and "apiKeys" in str(info.value)


def test_outcome_always_has_command_status_and_exit_code() -> None:
    run = {"runId": "r-1", "status": "rejected", "summary": "s", "steps": [], "usage": {}}
    assert outcome_json("edit", ExitCode.REJECTED, run) == {
        "command": "edit",
        "status": "rejected",
        "exitCode": 3,
        "runId": "r-1",
        "summary": "s",
        "steps": [],
        "usage": {},
    }
    assert outcome_json("history", 0, succeeded({"steps": []})) == {
        "command": "history",
        "status": "succeeded",
        "exitCode": 0,
        "steps": [],
    }
    assert outcome_json("usage", 0, succeeded([1]))["result"] == [1]
    assert outcome_json("undo", 1, refused("Nothing to undo", -32602)) == {
        "command": "undo",
        "status": "error",
        "exitCode": 1,
        "error": "Nothing to undo",
        "errorCode": -32602,
    }
    assert outcome_json("edit", 2, bad_usage("no"))["status"] == "usage"
    assert outcome_json("edit", 5, {})["status"] == "error"  # never without a status
    # an answer cannot overwrite the envelope
    assert outcome_json("x", 1, {"exitCode": 0, "command": "y"})["exitCode"] == 1


def test_parse_errors_are_json_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edit", "a.py", "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "command": "edit",
        "status": "usage",
        "exitCode": 2,
        "error": "the following arguments are required: --lines",
    }
    assert "usage: samokoder edit" in err
    assert main(["history", "--limit", "x"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "invalid int value" in err  # without --json, argparse's message only
    assert main(["nonsense", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["command"] is None


def test_usage_errors_found_before_the_server_are_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["explain", "a.py", "--lines", "9-1", "--json", "--folder", str(tmp_path)])
    assert code == 2
    out = json.loads(capsys.readouterr().out)
    assert (out["command"], out["status"], out["exitCode"]) == ("explain", "usage", 2)
    assert "END is before START" in out["error"]
