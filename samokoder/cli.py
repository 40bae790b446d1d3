"""`samokoder serve` (the language server) and the terminal commands, thin LSP clients of it.

Only argparse is imported here: `serve` must not pay for rich or the client, and
the client must not pay for the server; each loads what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import NoReturn


def _serve(args: argparse.Namespace) -> int:
    from samokoder.server.logs import configure_stderr

    configure_stderr(args.log_level)
    if args.tcp is not None:
        import asyncio
        import secrets

        from samokoder.server.tcp import serve_tcp

        token = os.environ.get("SAMOKODER_TOKEN") or secrets.token_urlsafe(24)

        def announce() -> None:
            print(f"samokoder: listening on 127.0.0.1:{args.tcp}; token: {token}", flush=True)

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_tcp(args.tcp, token, announce))
        return 0
    from samokoder.server import build_server
    from samokoder.server.framing import ResyncingStdin

    build_server().start_io(stdin=ResyncingStdin(sys.stdin.buffer))  # type: ignore[arg-type]
    return 0


def _models(args: argparse.Namespace) -> int:
    from samokoder.llm.report import models_report

    print(models_report())
    return 0


def _client(args: argparse.Namespace) -> int:
    from samokoder.client.main import run

    return run(args)


FOLDER_HELP = (
    "workspace folder (default: the Git top level of the current directory, else the "
    "current directory)"
)
GENERATE_FOLDER_HELP = (
    "where to build (created if missing); inside the current Git repository it is a "
    "subfolder of that workspace, elsewhere a workspace of its own"
)


class UsageExit(SystemExit):
    """argparse refused the command line (exit 2); `main` adds the --json outcome."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(2)
        self.prog = prog
        self.message = message


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors `main` can also report as a --json outcome."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise UsageExit(self.prog, message)


def _setting_options(parser: argparse.ArgumentParser) -> None:
    """The settings a terminal user sets per command (the protocol's, in camelCase)."""
    group = parser.add_argument_group("settings (sent as initializationOptions)")
    group.add_argument("--max-tokens", type=int, metavar="N", help="completion cap per call")
    group.add_argument(
        "--request-timeout", type=float, metavar="SECONDS", help="one model call (default 120)"
    )
    group.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    group.add_argument(
        "--review",
        choices=["proposal", "annotated", "off"],
        help="how changes are reviewed (default: proposal, a diff to accept or reject)",
    )
    group.add_argument(
        "--commands",
        choices=["ask", "never", "allow"],
        help="whether commands the agents propose run (default: ask)",
    )
    group.add_argument("--budget-usd", type=float, metavar="USD", help="cost cap for the run")
    group.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="any setting by its protocol name (camelCase), e.g. --set maxParallel=2 or "
        "--set 'fallbackModels=[\"openai/gpt-4.1-mini\"]'; VALUE is JSON when it parses, "
        "else text; repeatable; the options above win over it",
    )


def _client_options(*, runs: bool, folder_help: str = FOLDER_HELP) -> CliParser:
    """Options every client command takes (after the command name)."""
    common = CliParser(add_help=False)
    common.add_argument("--folder", metavar="DIR", help=folder_help)
    common.add_argument("--model", help="litellm model string (default: $SAMOKODER_MODEL)")
    common.add_argument(
        "--api-base", metavar="URL", help="OpenAI-compatible server, Ollama or LiteLLM proxy"
    )
    common.add_argument(
        "--json",
        action="store_true",
        help="print the outcome, whatever it is, as one JSON object on stdout",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the run's progress and the server's log on stderr as they come",
    )
    if runs:
        _setting_options(common)
        common.add_argument(
            "-y", "--yes", action="store_true", help="accept every proposal without asking"
        )
        common.add_argument(
            "--no-input",
            action="store_true",
            help="never prompt: proposals are rejected unless --yes is given",
        )
    return common


def _add_client_commands(sub: argparse._SubParsersAction[CliParser]) -> None:
    """The terminal commands; each starts `samokoder serve` and speaks LSP to it."""
    runs, queries = _client_options(runs=True), _client_options(runs=False)
    edit = sub.add_parser(
        "edit",
        parents=[runs],
        help="rewrite lines of a file as you say; review the diff, then accept or reject",
    )
    edit.add_argument("path", metavar="PATH", help="the file to edit")
    edit.add_argument(
        "--lines", required=True, metavar="START-END", help="1-based, inclusive (e.g. 10-24)"
    )
    edit.add_argument(
        "-m", "--instruction", metavar="TEXT", help="what to do (asked for when omitted)"
    )
    generate = sub.add_parser(
        "generate",
        parents=[_client_options(runs=True, folder_help=GENERATE_FOLDER_HELP)],
        help="build a new application from a description",
    )
    generate.add_argument("description", nargs="+", metavar="DESCRIPTION")
    implement = sub.add_parser(
        "implement", parents=[runs], help="add a feature to the codebase in the folder"
    )
    implement.add_argument("description", nargs="+", metavar="DESCRIPTION")
    implement.add_argument("--files", nargs="+", metavar="F", help="files to start from")
    explain = sub.add_parser(
        "explain", parents=[runs], help="explain a file or some of its lines (Markdown)"
    )
    tests = sub.add_parser(
        "write-tests", parents=[runs], help="write tests for a file or some of its lines"
    )
    for parser in (explain, tests):
        parser.add_argument("path", metavar="PATH", help="the file")
        parser.add_argument(
            "--lines", metavar="START-END", help="1-based, inclusive (default: the whole file)"
        )
    undo = sub.add_parser("undo", parents=[queries], help="take back the last step")
    redo = sub.add_parser("redo", parents=[queries], help="re-apply the last undone step")
    history = sub.add_parser("history", parents=[queries], help="list the steps, newest first")
    history.add_argument("--limit", type=int, default=20, metavar="N", help="default 20")
    usage = sub.add_parser("usage", parents=[queries], help="tokens and cost")
    usage.add_argument("--run", metavar="ID", help="only this run")
    for parser in (edit, generate, implement, explain, tests, undo, redo, history, usage):
        parser.set_defaults(func=_client)


EXIT_CODES = """exit codes: 0 success or accepted, 1 the run failed or the server answered with an
error, 2 bad usage or not available in this server version, 3 rejected, 4 cancelled
(Ctrl-C), 5 no model configured"""


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="samokoder",
        description="Samokoder: AI agents that write code in your editor, every step reviewed "
        "and undoable.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument(
        "--tcp",
        type=int,
        metavar="PORT",
        help="listen on 127.0.0.1:PORT; clients must send the printed token "
        "(or $SAMOKODER_TOKEN) as initializationOptions.token",
    )
    serve.add_argument("--log-level", default="WARNING", help="stderr log level (default WARNING)")
    serve.set_defaults(func=_serve)
    models = sub.add_parser(
        "models", help="the model each agent will use and which provider keys were found"
    )
    models.set_defaults(func=_models)
    _add_client_commands(sub)
    return parser


def _wants_json(argv: list[str]) -> bool:
    return "--json" in (argv[: argv.index("--")] if "--" in argv else argv)


def _usage_exit(exc: UsageExit, argv: list[str]) -> int:
    """Bad usage (argparse said why on stderr): with --json, the outcome on stdout."""
    if _wants_json(argv):
        import json

        prog = exc.prog.split()
        command = prog[1] if len(prog) > 1 else None
        outcome = {"command": command, "status": "usage", "exitCode": 2, "error": exc.message}
        print(json.dumps(outcome, indent=2))
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageExit as exc:
        return _usage_exit(exc, argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
