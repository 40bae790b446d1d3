"""`samokoder serve` as a child process, spoken to over its stdin/stdout.

The child gets its own session (process group), so a Ctrl-C in the terminal
reaches only the CLI, which then cancels the run through the protocol instead
of the server dying mid-step. Its stderr is kept (last lines, for a crash
report) and shown only with --verbose.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from samokoder.client.jsonrpc import ConnectionLost, JsonRpcConnection, RpcError

SHUTDOWN_SECONDS = 10.0
EXIT_SECONDS = 5.0
STDERR_LINES = 30
STREAM_LIMIT = 64 * 1024 * 1024  # one message may carry whole files


def server_command(verbose: bool) -> list[str]:
    command = [sys.executable, "-m", "samokoder.cli", "serve"]
    if verbose:
        command += ["--log-level", "INFO"]
    return command


class ServerProcess:
    """The child server and the JSON-RPC connection to it."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        connection: JsonRpcConnection,
        echo: Callable[[str], None] | None,
    ) -> None:
        self.process = process
        self.connection = connection
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_LINES)
        self._echo = echo
        self._stderr_task: asyncio.Task[None] | None = None

    @classmethod
    async def spawn(
        cls, env: dict[str, str] | None = None, echo: Callable[[str], None] | None = None
    ) -> ServerProcess:
        """Start the server; `echo` receives its stderr lines as they come (--verbose)."""
        detach: dict[str, Any]
        if sys.platform == "win32":
            detach = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        else:
            detach = {"start_new_session": True}
        process = await asyncio.create_subprocess_exec(
            *server_command(echo is not None),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env if env is not None else dict(os.environ),
            limit=STREAM_LIMIT,
            **detach,
        )
        assert process.stdin is not None and process.stdout is not None
        connection = JsonRpcConnection(process.stdout, process.stdin)
        server = cls(process, connection, echo)
        connection.start()
        server._stderr_task = asyncio.create_task(server._drain_stderr(), name="server stderr")
        return server

    async def _drain_stderr(self) -> None:
        stream = self.process.stderr
        if stream is None:
            return
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip()
            self.stderr_tail.append(text)
            if self._echo is not None:
                self._echo(text)

    async def stop(self) -> int | None:
        """Shut the server down politely, then firmly; returns its exit code."""
        conn = self.connection
        if self.process.returncode is None and not conn.closed.is_set():
            with contextlib.suppress(RpcError, TimeoutError):
                await asyncio.wait_for(conn.request("shutdown"), SHUTDOWN_SECONDS)
            with contextlib.suppress(ConnectionLost):
                await conn.notify("exit")
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), EXIT_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        await conn.close()
        if self._stderr_task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._stderr_task, 2)
        return self.process.returncode

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
