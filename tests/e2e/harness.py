"""Drives `samokoder serve` over stdio the way an editor does.

`Editor` wraps a pytest-lsp client: it keeps open buffers with versions, sends
didOpen/didChange, applies `workspace/applyEdit` like VS Code (refusing a stale
version) and records Samokoder's notifications so a test can wait on them
without racing (pytest-lsp's wait_for_notification misses early ones).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from samokoder.workspace.textedits import Position, Range, TextEdit, apply_edits
from tests.fakes.fake_provider import FakeProvider

CLIENTS = {"neovim": "neovim", "vscode": "visual_studio_code"}
MODEL = "openai/fake-model"
API_KEY = "sk-test-e2e-0123456789abcdef"


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
        "GIT_AUTHOR_NAME": "User",
        "GIT_AUTHOR_EMAIL": "user@example.com",
        "GIT_COMMITTER_NAME": "User",
        "GIT_COMMITTER_EMAIL": "user@example.com",
    }
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A user's Git repository with a committed file to edit."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text(
        "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


class Editor:
    """The client side of a session: buffers, recorded notifications, helpers."""

    def __init__(self, client: LanguageClient, root: Path, provider: FakeProvider) -> None:
        self.client = client
        self.root = root
        self.provider = provider
        self.buffers: dict[str, tuple[str, int]] = {}
        self.proposals: list[dict[str, Any]] = []
        self.finished: list[dict[str, Any]] = []
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.asks: list[dict[str, Any]] = []
        self.answers: list[str | None] = []
        self.refuse_edits = False

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def progress_messages(self) -> list[str]:
        """Every `$/progress` message the server sent, of every run, in order per token."""
        return [
            str(getattr(report, "message", "") or "")
            for reports in self.client.progress_reports.values()
            for report in reports
        ]

    # -- buffers ---------------------------------------------------------------------

    def open(self, rel: str) -> str:
        uri = self.uri(rel)
        text = (self.root / rel).read_text()
        self.buffers[uri] = (text, 1)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        return uri

    def text(self, rel: str) -> str:
        return self.buffers[self.uri(rel)][0]

    def type(self, rel: str, line: int, character: int, new_text: str) -> None:
        """Insert `new_text` at a position, as a keystroke batch."""
        uri = self.uri(rel)
        text, version = self.buffers[uri]
        pos = Position(line, character)
        text = apply_edits(text, [TextEdit(Range(pos, pos), new_text)])
        self.buffers[uri] = (text, version + 1)
        lsp_pos = types.Position(line, character)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(lsp_pos, lsp_pos), text=new_text
                    )
                ],
            )
        )

    def _apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.applied_edits.append(params)
        if self.refuse_edits:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="refused")
        edit = params.edit
        ops: list[Any] = list(edit.document_changes or [])
        # VS Code refuses the whole edit when any open document's version moved on.
        for op in ops:
            if isinstance(op, types.TextDocumentEdit):
                uri = op.text_document.uri
                if uri in self.buffers and op.text_document.version not in (
                    None,
                    self.buffers[uri][1],
                ):
                    return types.ApplyWorkspaceEditResult(applied=False)
        for op in ops:
            if isinstance(op, types.TextDocumentEdit):
                self._apply_text_edits(op.text_document.uri, list(op.edits))
            elif isinstance(op, types.CreateFile):
                path = Path(op.uri.removeprefix("file://"))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            elif isinstance(op, types.DeleteFile):
                Path(op.uri.removeprefix("file://")).unlink(missing_ok=True)
                self.buffers.pop(op.uri, None)
        for uri, edits in (edit.changes or {}).items():
            self._apply_text_edits(uri, list(edits))
        return types.ApplyWorkspaceEditResult(applied=True)

    def _apply_text_edits(self, uri: str, edits: list[Any]) -> None:
        ours = [
            TextEdit(
                Range(
                    Position(e.range.start.line, e.range.start.character),
                    Position(e.range.end.line, e.range.end.character),
                ),
                e.new_text,
            )
            for e in edits
        ]
        if uri in self.buffers:
            text, version = self.buffers[uri]
            new = apply_edits(text, ours)
            self.buffers[uri] = (new, version + 1)
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(
                        uri=uri, version=version + 1
                    ),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=new)],
                )
            )
        else:  # a closed file edited by the editor: saved, for the test's purposes
            path = Path(uri.removeprefix("file://"))
            old = path.read_text() if path.exists() else ""
            path.write_text(apply_edits(old, ours))

    # -- commands and waiting --------------------------------------------------------

    async def command(self, name: str, *args: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(args))
        )

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("timed out waiting for the server")
            await asyncio.sleep(0.02)

    async def proposal_for(self, run_id: str) -> dict[str, Any]:
        return await self.wait_until(  # type: ignore[no-any-return]
            lambda: next((p for p in self.proposals if p["runId"] == run_id), None)
        )

    async def finished_run(self, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
        return await self.wait_until(  # type: ignore[no-any-return]
            lambda: next((f for f in self.finished if f["runId"] == run_id), None), timeout
        )

    def shadow_log(self) -> list[str]:
        gitdir = self.root / ".samokoder" / "checkpoints.git"
        if not gitdir.exists():
            return []
        out = subprocess.run(
            ["git", "--git-dir", str(gitdir), "log", "--format=%s", "refs/heads/checkpoints"],
            capture_output=True,
            text=True,
            check=False,
        )
        return [line for line in out.stdout.splitlines() if line]


def server_env(provider: FakeProvider, tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(
        HOME=str(tmp / "home"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        SAMOKODER_MODEL=MODEL,
        SAMOKODER_API_BASE=provider.base_url,
        OPENAI_API_KEY=API_KEY,
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def _tweaked(
    caps: types.ClientCapabilities, tweak: Callable[[types.ClientCapabilities], None] | None
) -> types.ClientCapabilities:
    if tweak is not None:
        tweak(caps)
    return caps


def capabilities(kind: str, *, review: bool = True, ask: bool = True) -> types.ClientCapabilities:
    caps = client_capabilities(CLIENTS[kind])
    caps.experimental = {"samokoderReview": review, "samokoderAsk": ask}
    return caps


async def start_editor(
    root: Path,
    provider: FakeProvider,
    tmp: Path,
    kind: str,
    *,
    review: bool = True,
    ask: bool = True,
    options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
    tweak: Callable[[types.ClientCapabilities], None] | None = None,
) -> Editor:
    """A server on stdio and a client of ``kind``; ``tweak`` edits its capabilities."""
    client = make_test_lsp_client()
    ed = Editor(client, root, provider)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return ed._apply(params)

    @client.feature("samokoder/proposal")
    def on_proposal(params: Any) -> None:
        ed.proposals.append(_plain(params))

    @client.feature("samokoder/runFinished")
    def on_finished(params: Any) -> None:
        ed.finished.append(_plain(params))

    @client.feature("samokoder/ask")
    def on_ask(params: Any) -> dict[str, Any]:
        ed.asks.append(_plain(params))
        return {"answer": ed.answers.pop(0) if ed.answers else None}

    command = [sys.executable, "-m", "samokoder.cli", "serve"]
    if log_file is not None:  # keep the server's stderr, at DEBUG, for the test to read
        command = ["sh", "-c", f'exec "$@" --log-level DEBUG 2>>"{log_file}"', "sh", *command]
    await client.start_io(*command, env=server_env(provider, tmp, **(env or {})))
    await client.initialize_session(
        types.InitializeParams(
            capabilities=_tweaked(capabilities(kind, review=review, ask=ask), tweak),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options or {},
        )
    )
    return ed


def _plain(params: Any) -> dict[str, Any]:
    if isinstance(params, dict):
        return params
    # pygls hands custom notification params over as a namedtuple-like object
    if hasattr(params, "_asdict"):
        return {k: _plain_value(v) for k, v in params._asdict().items()}
    return dict(vars(params))


def _plain_value(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain_value(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


async def stop_editor(ed: Editor) -> None:
    try:
        await asyncio.wait_for(ed.client.shutdown_session(), 15)
    finally:
        await ed.client.stop()


@pytest_asyncio.fixture(params=list(CLIENTS))
async def editor(
    request: pytest.FixtureRequest, workspace: Path, fake_provider: FakeProvider, tmp_path: Path
) -> AsyncIterator[Editor]:
    ed = await start_editor(workspace, fake_provider, tmp_path, request.param)
    try:
        yield ed
    finally:
        await stop_editor(ed)
