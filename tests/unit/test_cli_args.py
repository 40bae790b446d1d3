"""The command line: parsing, --lines to an LSP range, folders, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from samokoder.cli import build_parser
from samokoder.client.exitcodes import ExitCode, for_error, for_run
from samokoder.client.jsonrpc import RpcError
from samokoder.client.main import (
    UsageError,
    edit_argument,
    generate_target,
    initialization_options,
    prepare,
    resolve_root,
)
from samokoder.client.selection import SelectionError, parse_lines, selection_range

TEXT = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"


def git_init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path.resolve()


# -- --lines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4-5", (4, 5)), ("7", (7, 7)), (" 10 - 24 ", (10, 24)), ("3:3", (3, 3)), ("1,2", (1, 2))],
)
def test_parse_lines(value: str, expected: tuple[int, int]) -> None:
    assert parse_lines(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5-4", "END is before START"),
        ("0-3", "counts from 1"),
        ("a-b", "START-END"),
        ("", "START-END"),
    ],
)
def test_parse_lines_refuses(value: str, message: str) -> None:
    with pytest.raises(SelectionError, match=message):
        parse_lines(value)


def test_range_covers_whole_lines() -> None:
    assert selection_range(4, 5, TEXT) == {
        "start": {"line": 3, "character": 0},
        "end": {"line": 5, "character": 0},
    }


def test_range_to_the_last_line_with_a_final_newline_ends_at_the_empty_line() -> None:
    # 8 lines and a final newline: the end of line 8 is the start of (empty) line 9
    assert selection_range(8, 8, TEXT)["end"] == {"line": 8, "character": 0}
    assert selection_range(8, 99, TEXT)["end"] == {"line": 8, "character": 0}


def test_range_is_clipped_to_a_file_without_final_newline() -> None:
    text = "a = 1\nb = '€😀'"
    # line 2 has 9 UTF-16 units: the emoji counts twice
    assert selection_range(1, 5, text) == {
        "start": {"line": 0, "character": 0},
        "end": {"line": 1, "character": 9},
    }


def test_range_handles_crlf_lines() -> None:
    text = "a\r\nb\r\nc\r\n"
    assert selection_range(2, 2, text)["end"] == {"line": 2, "character": 0}
    assert selection_range(3, 9, text)["end"] == {"line": 3, "character": 0}


def test_range_start_past_the_end_is_refused() -> None:
    with pytest.raises(SelectionError, match="the file has 8 lines; --lines starts at 9"):
        selection_range(9, 10, TEXT)
    with pytest.raises(SelectionError, match="has 0 lines"):
        selection_range(1, 1, "")


def test_unreadable_file_keeps_the_range_for_the_server_to_judge() -> None:
    assert selection_range(2, 3, None) == {
        "start": {"line": 1, "character": 0},
        "end": {"line": 3, "character": 0},
    }


def test_edit_argument(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(TEXT)
    arg = edit_argument("app.py", "4-5", "  use an f-string ", tmp_path)
    assert arg == {
        "uri": (tmp_path / "app.py").as_uri(),
        "range": {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}},
        "instruction": "use an f-string",
    }
    missing = edit_argument("../nope.py", "1-2", None, tmp_path)
    assert missing["uri"] == (tmp_path.parent / "nope.py").as_uri()
    assert "instruction" not in missing


# -- the parser and prepare -------------------------------------------------------------


def test_parser_reads_client_options() -> None:
    args = build_parser().parse_args(
        ["edit", "a.py", "--lines", "1-2", "-m", "x", "--yes", "--model", "m", "--api-base", "u"]
    )
    assert (args.command, args.path, args.lines, args.instruction, args.yes) == (
        "edit",
        "a.py",
        "1-2",
        "x",
        True,
    )
    assert initialization_options(args) == {"model": "m", "apiBase": "u"}
    args = build_parser().parse_args(["history", "--limit", "5", "--json"])
    assert (args.limit, args.json) == (5, True)
    args = build_parser().parse_args(["implement", "add", "login", "--files", "a.py", "b.py"])
    assert (args.description, args.files) == (["add", "login"], ["a.py", "b.py"])
    assert initialization_options(args) == {}


def test_bad_usage_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["edit", "a.py"])  # --lines is required
    assert info.value.code == 2


def test_instruction_is_required_without_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(TEXT)
    args = build_parser().parse_args(["edit", "a.py", "--lines", "1-2", "--folder", "."])
    with pytest.raises(UsageError, match="--instruction"):
        prepare(args, tmp_path, interactive=False)
    prepared = prepare(args, tmp_path, interactive=True)  # asked for at the terminal
    assert prepared.options.interactive and not prepared.options.yes
    yes = build_parser().parse_args(["edit", "a.py", "--lines", "1-2", "--folder", ".", "-y"])
    with pytest.raises(UsageError, match="--instruction"):
        prepare(yes, tmp_path, interactive=True)


def test_prepare_checks_lines_and_limit(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    args = build_parser().parse_args(
        ["edit", "a.py", "--lines", "3-4", "-m", "x", "--folder", str(tmp_path)]
    )
    with pytest.raises(UsageError, match="has 1 line;"):
        prepare(args, tmp_path, interactive=False)
    args = build_parser().parse_args(["history", "--limit", "0", "--folder", str(tmp_path)])
    with pytest.raises(UsageError, match="--limit"):
        prepare(args, tmp_path, interactive=False)


def test_root_is_the_git_top_level_else_the_folder(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / "src").mkdir()
    assert resolve_root(None, repo / "src") == repo
    plain = tmp_path / "plain"
    plain.mkdir()
    assert resolve_root(None, plain) == plain.resolve()
    assert resolve_root("src", repo) == (repo / "src").resolve()
    with pytest.raises(UsageError, match="does not exist"):
        resolve_root("missing", repo)


def test_generate_folder_inside_a_repository_is_a_subfolder(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    assert generate_target("apps/todo", repo) == (repo, "apps/todo", None)
    assert generate_target(".", repo) == (repo, None, None)
    assert generate_target(None, repo) == (repo, None, None)
    elsewhere = tmp_path / "new-app"
    assert generate_target(str(elsewhere), repo) == (elsewhere.resolve(), None, elsewhere)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        generate_target(str(tmp_path / "file"), repo)


def test_serve_path_imports_neither_rich_nor_the_client() -> None:
    code = (
        "import sys\n"
        "from samokoder.cli import build_parser\n"
        "args = build_parser().parse_args(['serve'])\n"
        "assert args.func.__name__ == '_serve'\n"
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('samokoder.client')"
        " or m == 'lsprotocol'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- exit codes ---------------------------------------------------------------------------


def test_exit_codes_for_server_errors() -> None:
    assert for_error(RpcError("No model configured: …", -32004)) == ExitCode.NO_MODEL
    unknown = RpcError("Invalid Params: Command name 'samokoder.generate' is not defined", -32602)
    assert for_error(unknown) == ExitCode.USAGE
    assert for_error(RpcError("refused path '/etc/x': outside", -32602)) == ExitCode.FAILED
    assert for_error(RpcError("changed since", -32001, {"kind": "X"})) == ExitCode.FAILED


def test_exit_codes_for_run_statuses() -> None:
    assert for_run("succeeded", None) == ExitCode.OK
    assert for_run("failed", "boom") == ExitCode.FAILED
    assert for_run("failed", "No model configured: set SAMOKODER_MODEL") == ExitCode.NO_MODEL
    assert for_run("rejected", None) == ExitCode.REJECTED
    assert for_run("cancelled", None) == ExitCode.CANCELLED
    assert for_run("budget_exhausted", "over budget") == ExitCode.FAILED
