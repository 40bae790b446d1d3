"""One LSP session with a child `samokoder serve`, seen from the terminal.

The session answers what the server asks of a client (progress tokens,
configuration, questions, edits), shows proposals as diffs and answers them,
and turns a run into an exit code. Ctrl-C cancels the active run through the
protocol; a second Ctrl-C gives up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from samokoder.client import apply
from samokoder.client.connection import ServerProcess
from samokoder.client.exitcodes import ExitCode, for_error, for_run, is_unknown_command
from samokoder.client.jsonrpc import ConnectionLost, RpcError
from samokoder.client.outcome import refused
from samokoder.client.prompts import Prompter, Verdict
from samokoder.client.render import ProgressView, print_proposal, print_run_finished

CANCEL_WAIT_SECONDS = 5.0
REVIEW_WAIT_SECONDS = 30.0
CONFIG_SECTION = "samokoder"
MESSAGE_STYLES = {1: "red", 2: "yellow"}  # window/showMessage types: Error, Warning


@dataclass(frozen=True)
class SessionOptions:
    """What the command line decided, frozen before the server starts."""

    root: Path
    settings: dict[str, Any] = field(default_factory=dict)  # initializationOptions
    yes: bool = False
    interactive: bool = False
    json: bool = False
    verbose: bool = False


def client_version() -> str:
    try:
        return metadata.version("samokoder")
    except metadata.PackageNotFoundError:
        return "0"


def initialize_params(root: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """`initialize` as the CLI sends it: a reviewing, asking client with one folder."""
    uri = root.as_uri()
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "samokoder-cli", "version": client_version()},
        "rootUri": uri,
        "rootPath": str(root),
        "workspaceFolders": [{"uri": uri, "name": root.name or str(root)}],
        "initializationOptions": settings,
        "capabilities": {
            "experimental": {"samokoderReview": True, "samokoderAsk": True},
            "general": {"positionEncodings": ["utf-16"]},
            "window": {"workDoneProgress": True},
            "workspace": {
                "applyEdit": True,
                "configuration": True,
                "workspaceEdit": {
                    "documentChanges": True,
                    "resourceOperations": ["create", "delete"],
                },
            },
        },
    }


class Session:
    """The client side of one server process."""

    def __init__(self, options: SessionOptions, out: Console, err: Console) -> None:
        self.options = options
        self.out = out
        self.err = err
        self.diff_console = err if options.json else out
        self.progress = ProgressView(err, verbose=options.verbose)
        self.prompter = Prompter(err, interactive=options.interactive, yes=options.yes)
        self.server: ServerProcess | None = None
        self._finished: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reviews: set[asyncio.Task[None]] = set()
        self._interrupted = asyncio.Event()
        self._interrupts = 0
        self._run_pending = False
        self._review_error: RpcError | None = None
        self._started = time.monotonic()
        self.result: dict[str, Any] = {}  # the body of the --json outcome

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        echo = self._echo_stderr if self.options.verbose else None
        self.server = await ServerProcess.spawn(echo=echo)
        conn = self.server.connection
        conn.on_request("window/workDoneProgress/create", lambda _p: None)
        conn.on_request("workspace/configuration", self._on_configuration)
        conn.on_request("samokoder/ask", self._on_ask)
        conn.on_request("window/showMessageRequest", self._on_message_request)
        conn.on_request("workspace/applyEdit", self._on_apply_edit)
        conn.on_request("client/registerCapability", lambda _p: None)
        conn.on_request("client/unregisterCapability", lambda _p: None)
        conn.on_request("window/showDocument", lambda _p: {"success": False})
        conn.on_notification("$/progress", self._on_progress)
        conn.on_notification("samokoder/proposal", self._on_proposal)
        conn.on_notification("samokoder/runFinished", self._on_run_finished)
        conn.on_notification("window/showMessage", self._on_show_message)
        conn.on_notification("window/logMessage", self._on_log_message)
        await conn.request(
            "initialize", initialize_params(self.options.root, self.options.settings)
        )
        await conn.notify("initialized", {})

    async def stop(self) -> None:
        self.progress.stop()
        if self.server is not None:
            await self.server.stop()

    def interrupt(self, main: asyncio.Task[Any] | None) -> None:
        """Ctrl-C: the first cancels the active run, a second (or no run) gives up."""
        self._interrupts += 1
        if self._interrupts == 1 and self._run_pending:
            self.progress.stop()
            self.err.print("Cancelling… (Ctrl-C again to quit at once)", style="yellow")
            self._interrupted.set()
        elif main is not None:
            main.cancel()

    def server_died_report(self) -> str:
        tail = list(self.server.stderr_tail) if self.server is not None else []
        return "\n".join(tail[-10:])

    # -- commands ------------------------------------------------------------------

    async def command(self, name: str, argument: dict[str, Any]) -> Any:
        assert self.server is not None
        self.trace(f"-> {name}")
        params = {"command": name, "arguments": [argument]}
        return await self.server.connection.request("workspace/executeCommand", params)

    def trace(self, message: str) -> None:
        """--verbose: what the client does and hears, with the seconds since it started."""
        if self.options.verbose:
            elapsed = time.monotonic() - self._started
            self.err.print(Text(f"[{elapsed:6.1f}s] {message}", style="dim"), soft_wrap=True)

    def report_error(self, error: RpcError, what: str) -> ExitCode:
        """Print a server error as it came (its messages are written for people)."""
        code = for_error(error)
        self.result = refused(error.message, error.code)
        if is_unknown_command(error):
            self.err.print(
                f"samokoder {what} is not available in this server version ({error.message}).",
                style="red",
                markup=False,
                soft_wrap=True,
            )
        else:
            self.err.print(error.message, style="red", markup=False, soft_wrap=True)
        return code

    async def run(self, name: str, argument: dict[str, Any], what: str) -> ExitCode:
        """Start a run, review what it proposes, and wait for it to end."""
        self._run_pending = True
        try:
            try:
                started = await self.command(name, argument)
            except ConnectionLost:
                raise
            except RpcError as error:
                return self.report_error(error, what)
            run_id = started.get("runId") if isinstance(started, dict) else None
            if not isinstance(run_id, str) or not run_id:
                message = f"The server answered {name} without a run id."
                self.err.print(message, style="red")
                self.result = refused(message)
                return ExitCode.FAILED
            self.trace(f"run {run_id} started")
            return await self._follow(run_id)
        finally:
            self._run_pending = False

    async def _follow(self, run_id: str) -> ExitCode:
        assert self.server is not None
        finished = self._finished_future(run_id)
        interrupted = asyncio.ensure_future(self._interrupted.wait())
        lost = asyncio.ensure_future(self.server.connection.closed.wait())
        waiting: set[asyncio.Future[Any]] = {finished, interrupted, lost}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            interrupted.cancel()
            lost.cancel()
        if not finished.done():
            if self._interrupted.is_set():
                return await self._cancel(run_id, finished)
            raise ConnectionLost()
        payload = finished.result()
        await self._settle_reviews()
        self.progress.stop()
        self.result = payload
        if not self.options.json:
            print_run_finished(self.out, payload)
        status = str(payload.get("status"))
        error = payload.get("error")
        code = for_run(status, error if isinstance(error, str) else None)
        if self._review_error is not None and code != ExitCode.OK:
            return for_error(self._review_error)
        return code

    async def _cancel(self, run_id: str, finished: asyncio.Future[dict[str, Any]]) -> ExitCode:
        with contextlib.suppress(RpcError, TimeoutError):
            await asyncio.wait_for(
                self.command("samokoder.cancel", {"runId": run_id}), CANCEL_WAIT_SECONDS
            )
        self.result = {"status": "cancelled", "runId": run_id, "error": "Cancelled."}
        with contextlib.suppress(TimeoutError, RpcError):
            payload = await asyncio.wait_for(asyncio.shield(finished), CANCEL_WAIT_SECONDS)
            self.progress.stop()
            self.result = payload
            if not self.options.json:
                print_run_finished(self.out, payload)
        return ExitCode.CANCELLED

    def _finished_future(self, run_id: str) -> asyncio.Future[dict[str, Any]]:
        future = self._finished.get(run_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._finished[run_id] = future
        return future

    async def _settle_reviews(self) -> None:
        """Let an accept's answer print before the run's summary."""
        if self._reviews:
            await asyncio.wait(set(self._reviews), timeout=REVIEW_WAIT_SECONDS)

    # -- notifications -------------------------------------------------------------

    def _on_run_finished(self, params: Any) -> None:
        if isinstance(params, dict) and isinstance(params.get("runId"), str):
            self.trace(f"<- runFinished {params['runId']}: {params.get('status')}")
            future = self._finished_future(params["runId"])
            if not future.done():
                future.set_result(params)

    def _on_progress(self, params: Any) -> None:
        if not isinstance(params, dict) or not isinstance(params.get("value"), dict):
            return
        token, value = str(params.get("token")), params["value"]
        kind, message = value.get("kind"), value.get("message")
        message = message if isinstance(message, str) else None
        if kind == "begin":
            self.progress.begin(token, str(value.get("title", "Samokoder")), message)
        elif kind == "report":
            self.progress.report(token, message)
        elif kind == "end":
            self.progress.end(token)

    def _on_show_message(self, params: Any) -> None:
        if isinstance(params, dict):
            style = MESSAGE_STYLES.get(int(params.get("type") or 4), "")
            self.err.print(str(params.get("message", "")), style=style, markup=False)

    def _on_log_message(self, params: Any) -> None:
        if self.options.verbose and isinstance(params, dict):
            self.err.print(str(params.get("message", "")), style="dim", markup=False)

    def _echo_stderr(self, line: str) -> None:
        self.err.print(Text(line, style="dim"), soft_wrap=True)

    def _on_proposal(self, params: Any) -> None:
        if not isinstance(params, dict):
            return
        files = params.get("files")
        count = len(files) if isinstance(files, list) else 0
        self.trace(
            f"<- proposal {params.get('proposalId')}: {params.get('title')} ({count} file(s))"
        )
        task = asyncio.create_task(self._review(params), name="review")
        self._reviews.add(task)
        task.add_done_callback(self._reviews.discard)

    # -- requests from the server -------------------------------------------------

    def _on_configuration(self, params: Any) -> list[Any]:
        items = params.get("items") if isinstance(params, dict) else None
        return [
            dict(self.options.settings)
            if isinstance(item, dict) and item.get("section") in (CONFIG_SECTION, None)
            else None
            for item in (items or [])
        ]

    def _on_ask(self, params: Any) -> dict[str, Any]:
        params = params if isinstance(params, dict) else {}
        choices = [str(c) for c in params.get("choices") or []]
        with self.progress.paused():
            answer = self.prompter.ask(
                str(params.get("question", "")), choices, bool(params.get("freeText"))
            )
        return {"answer": answer}

    def _on_message_request(self, params: Any) -> dict[str, Any] | None:
        params = params if isinstance(params, dict) else {}
        titles = [str(a.get("title")) for a in params.get("actions") or [] if isinstance(a, dict)]
        with self.progress.paused():
            answer = self.prompter.ask(str(params.get("message", "")), titles, False)
        return {"title": answer} if answer is not None else None

    def _on_apply_edit(self, params: Any) -> dict[str, Any]:
        edit = params.get("edit") if isinstance(params, dict) else None
        if not isinstance(edit, dict):
            return {"applied": False, "failureReason": "no edit"}
        label = str(params.get("label") or "Samokoder edit")
        if apply.needs_confirmation(edit):
            with self.progress.paused():
                if not self.prompter.confirm(f"Apply '{label}'?"):
                    return {"applied": False, "failureReason": "rejected in the terminal"}
        try:
            apply.write_planned(apply.plan_edit(edit, self.options.root))
        except (apply.EditRefused, OSError) as exc:
            return {"applied": False, "failureReason": str(exc)}
        return {"applied": True}

    # -- review --------------------------------------------------------------------

    async def _review(self, proposal: dict[str, Any]) -> None:
        proposal_id = proposal.get("proposalId")
        paths = [str(f.get("path")) for f in proposal.get("files") or [] if isinstance(f, dict)]
        diffs = {path: await self._diff(proposal_id, path) for path in paths}
        with self.progress.paused():
            print_proposal(self.diff_console, proposal, diffs)
            verdict = self.prompter.review(paths)
        if verdict.action == "cancel":
            self.interrupt(None)
            return
        try:
            await self._answer(proposal_id, verdict)
        except ConnectionLost:
            return
        except RpcError as error:
            self._review_error = error
            self.report_error(error, "review")

    async def _answer(self, proposal_id: Any, verdict: Verdict) -> None:
        if verdict.action == "accept":
            argument: dict[str, Any] = {"proposalId": proposal_id}
            if verdict.files is not None:
                argument["files"] = list(verdict.files)
            result = await self.command("samokoder.review.accept", argument)
            applied = result.get("applied", []) if isinstance(result, dict) else []
            step = result.get("stepId") if isinstance(result, dict) else None
            self.err.print(
                f"Applied {', '.join(map(str, applied)) or 'nothing'}"
                + (f" (step {step})" if step else ""),
                style="green",
                markup=False,
                soft_wrap=True,
            )
            return
        argument = {"proposalId": proposal_id}
        if verdict.feedback:
            argument["feedback"] = verdict.feedback
        await self.command("samokoder.review.reject", argument)
        if verdict.feedback:
            self.err.print("Sent your feedback; waiting for another attempt…", markup=False)

    async def _diff(self, proposal_id: Any, path: str) -> str | None:
        assert self.server is not None
        try:
            view = await self.server.connection.request(
                "samokoder/proposalFile", {"proposalId": proposal_id, "path": path}
            )
        except RpcError:
            return None
        diff = view.get("diff") if isinstance(view, dict) else None
        return diff if isinstance(diff, str) else None
