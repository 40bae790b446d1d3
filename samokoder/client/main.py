"""The client subcommands: check the command line, start a session, map the outcome
to an exit code (see `exitcodes`) and, with --json, to one JSON object (see `outcome`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from samokoder.client.exitcodes import ExitCode
from samokoder.client.jsonrpc import ConnectionLost, RpcError
from samokoder.client.options import SettingError, settings_from_args
from samokoder.client.outcome import bad_usage, outcome_json, refused, succeeded
from samokoder.client.render import (
    make_console,
    print_history,
    print_json,
    print_usage,
    print_walk,
)
from samokoder.client.selection import SelectionError, parse_lines, selection_range
from samokoder.client.session import Session, SessionOptions

Plan = Callable[[Session], Awaitable[ExitCode]]
GIT_TIMEOUT_SECONDS = 10


class UsageError(Exception):
    """The command line cannot work as given; exit code 2."""


@dataclass(frozen=True)
class Prepared:
    options: SessionOptions
    plan: Plan
    created: Path | None = None  # a folder `generate` made, removed again if left empty


def run(args: argparse.Namespace) -> int:
    out, err = make_console(), make_console(stderr=True)
    command: str = args.command
    try:
        prepared = prepare(args, Path.cwd(), interactive=sys.stdin.isatty())
    except UsageError as exc:
        err.print(f"samokoder {command}: {exc}", style="red", markup=False, soft_wrap=True)
        if getattr(args, "json", False):
            print_json(out, outcome_json(command, ExitCode.USAGE, bad_usage(str(exc))))
        return ExitCode.USAGE
    body: dict[str, Any] = {}
    try:
        code, body = asyncio.run(drive(prepared.options, prepared.plan, out, err))
    except KeyboardInterrupt:
        code, body = ExitCode.CANCELLED, {"status": "cancelled", "error": "Interrupted."}
    if prepared.created is not None and code != ExitCode.OK:
        _remove_if_empty(prepared.created)
    if prepared.options.json:
        print_json(out, outcome_json(command, code, body))
    return int(code)


# -- the command line ------------------------------------------------------------------


def git_toplevel(cwd: Path) -> Path | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    top = result.stdout.strip()
    return Path(top) if result.returncode == 0 and top else None


def resolve_root(folder: str | None, cwd: Path) -> Path:
    """The workspace folder: --folder, else the Git top level of cwd, else cwd."""
    if folder is None:
        return (git_toplevel(cwd) or cwd).resolve()
    root = (cwd / Path(folder).expanduser()).resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"--folder {folder} is not a directory")
    if not root.exists():
        raise UsageError(f"--folder {folder} does not exist")
    return root


def initialization_options(args: argparse.Namespace) -> dict[str, Any]:
    try:
        return settings_from_args(args)
    except SettingError as exc:
        raise UsageError(str(exc)) from None


def generate_target(folder: str | None, cwd: Path) -> tuple[Path, str | None, Path | None]:
    """Where `generate --folder DIR` builds: (workspace root, DIR relative to it, folder to
    create first). DIR inside the current Git repository is a subfolder of that
    workspace; anywhere else DIR is a workspace of its own.
    """
    if folder is None:
        return resolve_root(None, cwd), None, None
    target = (cwd / Path(folder).expanduser()).resolve()
    if target.exists() and not target.is_dir():
        raise UsageError(f"--folder {folder} is not a directory")
    top = git_toplevel(cwd)
    if top is not None:
        top = top.resolve()
        if target == top or top in target.parents:
            rel = target.relative_to(top).as_posix()
            return top, (None if rel == "." else rel), None
    return target, None, (None if target.exists() else target)


def prepare(args: argparse.Namespace, cwd: Path, *, interactive: bool) -> Prepared:
    """Everything that can be checked before the server starts."""
    command: str = args.command
    yes = bool(getattr(args, "yes", False))
    interactive = interactive and not yes and not getattr(args, "no_input", False)
    created: Path | None = None
    subfolder: str | None = None
    if command == "generate":
        root, subfolder, created = generate_target(args.folder, cwd)
    else:
        root = resolve_root(args.folder, cwd)
    options = SessionOptions(
        root=root,
        settings=initialization_options(args),
        yes=yes,
        interactive=interactive,
        json=bool(args.json),
        verbose=bool(args.verbose),
    )
    plan: Plan
    argument: dict[str, Any]
    if command == "edit":
        plan = _edit_plan(args, cwd, interactive)
    elif command == "generate":
        argument = {"description": _description(args)}
        if subfolder is not None:
            argument["folder"] = subfolder
        plan = _run_plan("samokoder.generate", argument, "generate")
        if created is not None:
            created.mkdir(parents=True)
    elif command == "implement":
        argument = {"description": _description(args)}
        if args.files:
            argument["files"] = [_workspace_path(f, cwd, root) for f in args.files]
        plan = _run_plan("samokoder.implement", argument, "implement")
    elif command in ("explain", "write-tests"):
        plan = _file_plan(args, cwd, command)
    elif command in ("undo", "redo"):
        plan = _walk_plan(command)
    elif command == "history":
        if not 1 <= args.limit <= 1000:
            raise UsageError("--limit takes a number from 1 to 1000")
        plan = _query_plan("samokoder.history", {"limit": args.limit}, "history")
    elif command == "usage":
        argument = {"runId": args.run} if args.run else {}
        plan = _query_plan("samokoder.usage", argument, "usage")
    else:
        raise UsageError(f"unknown command {command!r}")
    return Prepared(options, plan, created)


def _description(args: argparse.Namespace) -> str:
    description = " ".join(args.description).strip()
    if not description:
        raise UsageError("say what to build: a DESCRIPTION is required")
    return description


def _workspace_path(name: str, cwd: Path, root: Path) -> str:
    """A path relative to the workspace folder when it is inside, else as given absolute."""
    path = Path(os.path.abspath(cwd / Path(name).expanduser()))
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def edit_argument(path_arg: str, lines: str, instruction: str | None, cwd: Path) -> dict[str, Any]:
    """`samokoder.editSelection`'s argument; the file is read here only to clip the range."""
    start, end = parse_lines(lines)
    path = Path(os.path.abspath(cwd / Path(path_arg).expanduser()))
    try:
        text: str | None = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = None  # missing, a directory, unreadable: the server names the problem
    argument: dict[str, Any] = {
        "uri": path.as_uri(),
        "range": selection_range(start, end, text),
    }
    if instruction is not None and instruction.strip():
        argument["instruction"] = instruction.strip()
    return argument


def _edit_plan(args: argparse.Namespace, cwd: Path, interactive: bool) -> Plan:
    if not args.instruction and not interactive:
        raise UsageError(
            "--instruction (-m) is required when there is no terminal to ask for it "
            "(or with --yes / --no-input)"
        )
    try:
        argument = edit_argument(args.path, args.lines, args.instruction, cwd)
    except SelectionError as exc:
        raise UsageError(str(exc)) from None
    return _run_plan("samokoder.editSelection", argument, "edit")


def _file_plan(args: argparse.Namespace, cwd: Path, command: str) -> Plan:
    """explain / write-tests: a file, or some of its lines (explain: the whole file)."""
    path = Path(os.path.abspath(cwd / Path(args.path).expanduser()))
    argument: dict[str, Any] = {"uri": path.as_uri()}
    if args.lines:
        try:
            argument = edit_argument(args.path, args.lines, None, cwd)
        except SelectionError as exc:
            raise UsageError(str(exc)) from None
    elif command == "explain":
        argument["range"] = {
            "start": {"line": 0, "character": 0},
            "end": {"line": 0, "character": 0},
        }
    name = "samokoder.explain" if command == "explain" else "samokoder.writeTests"
    return _run_plan(name, argument, command)


# -- plans: what a subcommand does with a started session -----------------------------------


def _run_plan(name: str, argument: dict[str, Any], what: str) -> Plan:
    async def plan(session: Session) -> ExitCode:
        return await session.run(name, argument, what)

    return plan


def _walk_plan(verb: str) -> Plan:
    async def plan(session: Session) -> ExitCode:
        try:
            result = await session.command(f"samokoder.{verb}", {})
        except ConnectionLost:
            raise
        except RpcError as error:
            return session.report_error(error, verb)
        session.result = succeeded(result)
        if not session.options.json and isinstance(result, dict):
            print_walk(session.out, "Undid" if verb == "undo" else "Redid", result)
        return ExitCode.OK

    return plan


def _query_plan(name: str, argument: dict[str, Any], what: str) -> Plan:
    async def plan(session: Session) -> ExitCode:
        try:
            result = await session.command(name, argument)
        except ConnectionLost:
            raise
        except RpcError as error:
            return session.report_error(error, what)
        session.result = succeeded(result)
        if session.options.json:
            pass
        elif not isinstance(result, dict):
            print_json(session.out, result)
        elif what == "history":
            print_history(session.out, result)
        else:
            print_usage(session.out, result)
        return ExitCode.OK

    return plan


# -- running ---------------------------------------------------------------------------


async def drive(
    options: SessionOptions, plan: Plan, out: Console, err: Console
) -> tuple[ExitCode, dict[str, Any]]:
    """Start the server, carry out the plan, stop the server; Ctrl-C goes to the session.

    Returns the exit code and the body of the --json outcome.
    """
    session = Session(options, out, err)
    code = await _drive(session, plan)
    return code, session.result or refused("No outcome.")


async def _drive(session: Session, plan: Plan) -> ExitCode:
    options, err = session.options, session.err
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_sigint(_signum: int, _frame: object) -> None:
        loop.call_soon_threadsafe(session.interrupt, main)

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, on_sigint)
    try:
        await session.start()
        return await plan(session)
    except asyncio.CancelledError:
        if main is not None:
            main.uncancel()
        err.print("Interrupted.", style="yellow")
        session.result = {**session.result, "status": "cancelled", "error": "Interrupted."}
        return ExitCode.CANCELLED
    except ConnectionLost as exc:
        err.print(exc.message, style="red", markup=False)
        session.result = refused(exc.message)
        report = session.server_died_report()
        if report and not options.verbose:
            err.print(report, style="dim", markup=False, soft_wrap=True)
        return ExitCode.FAILED
    except RpcError as exc:
        return session.report_error(exc, "start")
    except OSError as exc:
        message = f"Could not start the Samokoder server: {exc}"
        err.print(message, style="red", markup=False)
        session.result = refused(message)
        return ExitCode.FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
        await session.stop()


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
