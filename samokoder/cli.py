"""`samokoder serve` (the language server); more subcommands come as thin LSP clients."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys


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

    build_server().start_io()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="samokoder",
        description="Samokoder: AI agents that write code in your editor, every step reviewed "
        "and undoable.",
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
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
