"""A raw, synchronous JSON-RPC client for `samokoder serve`, for tests that break things.

Unlike pytest-lsp it sends whatever it is given (malformed params, broken frames),
survives the server being killed, and counts the responses to every request id,
so a test can check that each request was answered exactly once. Server->client
requests are answered like an editor that applies edits to closed files would.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from tests.e2e.harness import server_env
from tests.fakes.fake_provider import FakeProvider

Handler = Callable[[Any], Any]
NEOVIM_CAPABILITIES = "neovim_v0.11.0.json"


class ServerGone(Exception):
    """The server process ended (or closed its stdout) before answering."""


def neovim_capabilities(*, review: bool = True, ask: bool = True) -> dict[str, Any]:
    """Neovim's recorded capabilities (shipped with pytest-lsp), plus Samokoder's own."""
    spec = importlib.util.find_spec("pytest_lsp")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))) / "clients"
    caps: dict[str, Any] = json.loads((folder / NEOVIM_CAPABILITIES).read_text())["capabilities"]
    caps["experimental"] = {"samokoderReview": review, "samokoderAsk": ask}
    return caps


class WireClient:
    """One `samokoder serve` process over stdio."""

    def __init__(self, proc: subprocess.Popen[bytes], stderr_path: Path) -> None:
        self.proc = proc
        self.stderr_path = stderr_path
        self.handlers: dict[str, Handler] = {
            "window/workDoneProgress/create": lambda p: None,
            "workspace/configuration": lambda p: [None for _ in (p or {}).get("items", [])],
            "client/registerCapability": lambda p: None,
            "window/showMessageRequest": lambda p: None,
            "window/showDocument": lambda p: {"success": False},
            "workspace/applyEdit": lambda p: {"applied": False, "failureReason": "test"},
            "samokoder/ask": lambda p: {"answer": None},
        }
        self.notifications: list[tuple[str, Any]] = []
        self.answers: Counter[Any] = Counter()
        self.unknown_answers: list[dict[str, Any]] = []
        self._pending: dict[Any, Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, name="wire-reader", daemon=True)
        self._reader.start()

    @classmethod
    def spawn(
        cls,
        provider: FakeProvider,
        tmp: Path,
        *,
        env: dict[str, str] | None = None,
        log_name: str = "server.log",
    ) -> WireClient:
        stderr_path = tmp / log_name
        with stderr_path.open("ab") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "samokoder.cli", "serve", "--log-level", "INFO"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=server_env(provider, tmp, **(env or {})),
            )
        return cls(proc, stderr_path)

    # -- sending ---------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError) as exc:
                raise ServerGone(f"cannot write to the server: {exc}{self.stderr_tail()}") from exc

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def start_request(self, method: Any, params: Any = None) -> tuple[int, Future[dict[str, Any]]]:
        """Send a request; the future gets the whole response message."""
        msg_id = next(self._ids)
        future: Future[dict[str, Any]] = Future()
        with self._cond:
            self._pending[msg_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id, future

    def call(self, method: Any, params: Any = None, timeout: float = 15.0) -> dict[str, Any]:
        """The response message (with `result` or `error`) to one request."""
        msg_id, future = self.start_request(method, params)
        try:
            return future.result(timeout)
        except TimeoutError:
            raise TimeoutError(f"no answer to {method} (id {msg_id}) in {timeout} s") from None

    def request(self, method: str, params: Any = None, timeout: float = 15.0) -> Any:
        """The result of one request; an error response raises AssertionError."""
        response = self.call(method, params, timeout)
        if "error" in response:
            raise AssertionError(f"{method} failed: {response['error']}")
        return response.get("result")

    def command(self, name: str, arg: Any = None, timeout: float = 15.0) -> dict[str, Any]:
        arguments = [] if arg is None else [arg]
        return self.call(
            "workspace/executeCommand", {"command": name, "arguments": arguments}, timeout
        )

    # -- the session -----------------------------------------------------------------

    def initialize(
        self,
        root: Path,
        *,
        options: dict[str, Any] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": capabilities or neovim_capabilities(),
                "initializationOptions": options or {},
            },
            timeout=30,
        )
        self.notify("initialized", {})
        return dict(result)

    def open(self, root: Path, rel: str, version: int = 1) -> str:
        uri = (root / rel).as_uri()
        text = (root / rel).read_text()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": text,
                }
            },
        )
        return uri

    def close(self, timeout: float = 15.0) -> int | None:
        """shutdown + exit, then wait; kill if the server does not end."""
        if self.alive():
            with contextlib.suppress(Exception):
                self.call("shutdown", None, timeout)
                self.notify("exit")
        return self.kill(grace=timeout)

    def kill(self, grace: float = 0.0) -> int | None:
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        self._reader.join(5)
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc.poll() is None

    # -- receiving -------------------------------------------------------------------

    def _read_loop(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            while True:
                length = None
                while True:
                    line = stdout.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length is None:
                    continue
                self._dispatch(json.loads(stdout.read(length)))
        except (OSError, ValueError):
            return
        finally:
            with self._cond:
                pending = list(self._pending.values())
                self._pending.clear()
                self._cond.notify_all()
            for future in pending:
                if not future.done():
                    future.set_exception(ServerGone(f"server ended{self.stderr_tail()}"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            with self._cond:
                self.answers[message.get("id")] += 1
                future = self._pending.pop(message.get("id"), None)
                if future is None:
                    self.unknown_answers.append(message)
            if future is not None and not future.done():
                future.set_result(message)
            return
        params = message.get("params")
        if "id" in message:
            handler = self.handlers.get(method)
            try:
                if handler is None:
                    raise LookupError(f"test client: no {method}")
                answer = {"result": handler(params)}
            except Exception as exc:  # a broken handler must not stop the reader
                answer = {"error": {"code": -32603, "message": f"{type(exc).__name__}: {exc}"}}
            self.send({"jsonrpc": "2.0", "id": message["id"], **answer})
        with self._cond:
            self.notifications.append((method, params))
            self._cond.notify_all()

    def of_method(self, method: str) -> list[Any]:
        with self._cond:
            return [params for m, params in self.notifications if m == method]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
        """Poll `predicate` until truthy (notifications are recorded, so none is missed)."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what or predicate}{self.stderr_tail()}")
            if not self.alive() and not predicate():
                raise ServerGone(f"server ended while waiting for {what}{self.stderr_tail()}")
            time.sleep(0.01)
        return value

    def finished(self, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
        return dict(
            self.wait_for(
                lambda: next(
                    (p for p in self.of_method("samokoder/runFinished") if p["runId"] == run_id),
                    None,
                ),
                timeout,
                f"runFinished of {run_id}",
            )
        )

    def proposal(self, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
        return dict(
            self.wait_for(
                lambda: next(
                    (p for p in self.of_method("samokoder/proposal") if p["runId"] == run_id),
                    None,
                ),
                timeout,
                f"a proposal of {run_id}",
            )
        )

    def stderr_tail(self, lines: int = 20) -> str:
        if not self.stderr_path.exists():
            return ""
        tail = self.stderr_path.read_text(errors="replace").splitlines()[-lines:]
        return ("\n--- server stderr (tail) ---\n" + "\n".join(tail)) if tail else ""
