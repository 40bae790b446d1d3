"""A minimal LSP client over a child process's stdio, shared by the benchmarks.

Raw JSON-RPC with Content-Length framing keeps the measurement free of pytest-lsp
and of lsprotocol's (de)serialisation on the client side. Server->client requests
are always answered (editors must: a server awaiting `window/workDoneProgress/create`
or `workspace/configuration` would otherwise stall).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
NEOVIM_CAPABILITIES = "neovim_v0.11.0.json"  # recorded by pytest-lsp from a real Neovim

Handler = Callable[[Any], Any]


class LspError(Exception):
    """The server answered a request with a JSON-RPC error."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('code')} {error.get('message')}")
        self.code = error.get("code")


@dataclass(frozen=True)
class Received:
    """A notification or server->client request, stamped with `time.perf_counter()`."""

    at: float
    method: str
    params: Any


def default_handlers() -> dict[str, Handler]:
    """Answers an editor that shows nothing and decides nothing would give."""
    return {
        "window/workDoneProgress/create": lambda params: None,
        "workspace/configuration": lambda params: [None for _ in params.get("items", [])],
        "client/registerCapability": lambda params: None,
        "client/unregisterCapability": lambda params: None,
        "window/showMessageRequest": lambda params: None,
        "window/showDocument": lambda params: {"success": False},
        "workspace/applyEdit": lambda params: {"applied": False, "failureReason": "benchmark"},
        "samokoder/ask": lambda params: {"answer": None},
    }


class LspClient:
    """One server process, spoken to with raw JSON-RPC."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr_path: Path | None) -> None:
        self.proc = proc
        self.stderr_path = stderr_path
        self.handlers = default_handlers()
        self.received: list[Received] = []
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._ids = itertools.count(1)
        self._reader = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stderr_path: Path | None = None,
    ) -> LspClient:
        """Start the server; stderr goes to `stderr_path` (never a pipe nobody reads)."""
        stderr = stderr_path.open("wb") if stderr_path is not None else None
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr if stderr is not None else asyncio.subprocess.DEVNULL,
                env=env,
                cwd=cwd,
            )
        finally:
            if stderr is not None:
                stderr.close()
        return cls(proc, stderr_path)

    # -- sending -------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def send_request(self, method: str, params: Any = None) -> asyncio.Future[Any]:
        """Send a request now; the future resolves to its result (or raises LspError)."""
        if self._reader.done():
            raise ConnectionError(f"server is gone; cannot send {method}{self.stderr_tail()}")
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = (method, future)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        return future

    async def request(self, method: str, params: Any = None, seconds: float = 30.0) -> Any:
        """Send a request and wait up to `seconds` for its result."""
        return await asyncio.wait_for(self.send_request(method, params), seconds)

    # -- receiving -----------------------------------------------------------------

    async def _read_loop(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        error: BaseException = ConnectionError("server closed its stdout")
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = 0
                for line in header.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                self._dispatch(json.loads(await stdout.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            error = ConnectionError(f"server closed its stdout ({exc}){self.stderr_tail()}")
        except BaseException as exc:
            error = exc
            raise
        finally:
            for method, future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"{method}: {error}"))
            self._pending.clear()

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:  # a response to one of our requests
            method_name, future = self._pending.pop(message["id"], ("?", None))
            if future is None or future.done():
                return
            if "error" in message:
                future.set_exception(LspError(method_name, message["error"]))
            else:
                future.set_result(message.get("result"))
            return
        params = message.get("params")
        self.received.append(Received(time.perf_counter(), method, params))
        if "id" in message:  # a request from the server: always answer it
            handler = self.handlers.get(method)
            if handler is None:
                self._send(
                    {
                        "jsonrpc": "2.0",
                        "id": message["id"],
                        "error": {"code": -32601, "message": f"benchmark client: no {method}"},
                    }
                )
            else:
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": handler(params)})

    def of_method(self, method: str) -> list[Received]:
        return [r for r in self.received if r.method == method]

    async def wait_for(
        self, predicate: Callable[[], Any], seconds: float, what: str = "the server"
    ) -> Any:
        """Poll `predicate` until it returns something truthy (recorded, so never missed)."""
        deadline = time.monotonic() + seconds
        while not (value := predicate()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")
            if self._reader.done():
                raise ConnectionError(f"server exited while waiting for {what}")
            await asyncio.sleep(0.01)
        return value

    # -- ending --------------------------------------------------------------------

    async def stop(self, seconds: float = 10.0) -> int | None:
        """shutdown + exit when the server still runs; kill it if it does not end in time."""
        if self.proc.returncode is None and not self._reader.done():
            with contextlib.suppress(Exception):
                await self.request("shutdown", None, seconds)
                self.notify("exit")
        return await self.kill(seconds)

    async def kill(self, grace: float = 0.0) -> int | None:
        """Wait up to `grace` seconds for the process to end, then kill it. Idempotent."""
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5)
        finally:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        return self.proc.returncode

    def stderr_tail(self, lines: int = 15) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        tail = self.stderr_path.read_text(errors="replace").splitlines()[-lines:]
        return ("\n--- server stderr (tail) ---\n" + "\n".join(tail)) if tail else ""


# -- shared helpers -------------------------------------------------------------------


def neovim_capabilities() -> dict[str, Any]:
    """Neovim 0.11's recorded client capabilities (shipped with pytest-lsp)."""
    spec = importlib.util.find_spec("pytest_lsp")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pytest-lsp is not installed: run with `uv run` (dev dependencies)")
    path = Path(next(iter(spec.submodule_search_locations))) / "clients" / NEOVIM_CAPABILITIES
    caps: dict[str, Any] = json.loads(path.read_text())["capabilities"]
    return caps


def initialize_params(root: Path, capabilities: dict[str, Any], options: Any) -> dict[str, Any]:
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "Neovim", "version": "0.11.0"},
        "rootUri": root.as_uri(),
        "rootPath": str(root),
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
        "capabilities": capabilities,
        "initializationOptions": options,
        "trace": "off",
    }


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of samples <= it."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def python_argv(*args: str) -> list[str]:
    """The benchmark's own interpreter, so every server runs on the same Python and venv."""
    return [sys.executable, *args]
