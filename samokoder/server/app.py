"""The pygls server object and the state it carries between messages.

Only pygls, lsprotocol, the standard library and the server's light leaves
(`capabilities`, `connection`, `framing`, `logs`) are imported here: this module
is on the startup path, and `initialize` must be answered before anything
heavy (pydantic, Git, SQLite, litellm) loads. The domain is loaded by
`SamokoderServer.services()` on first need, in a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.protocol import lsp_method

from samokoder.server.connection import LspConnection
from samokoder.server.framing import AnsweringProtocol
from samokoder.server.logs import add_secrets, detach

if TYPE_CHECKING:
    from samokoder.agents.prepare import RunRequest
    from samokoder.agents.project import Project
    from samokoder.agents.review import ProposalBook
    from samokoder.agents.runs import RunManager
    from samokoder.server.lsp_host import LspHost
    from samokoder.settings import Settings

log = logging.getLogger(__name__)

VERSION = "0.1.0"
DOMAIN_MODULES = (
    "samokoder.settings",
    "samokoder.agents.project",
    "samokoder.agents.recovery",
    "samokoder.agents.review",
    "samokoder.agents.runs",
    "samokoder.agents.steps",
    "samokoder.agents.edit_selection",
    "samokoder.agents.pipeline",
    "samokoder.agents.code_tasks",
    "samokoder.agents.command_args",
    "samokoder.agents.prepare",
    "samokoder.agents.instruction_comments",
    "samokoder.server.lsp_host",
)


class SamokoderProtocol(AnsweringProtocol):
    """Pins positions to UTF-16, the unit every edit computation here uses; answers
    malformed requests (see `framing`)."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        options = params.initialization_options
        keys = options.get("apiKeys") if isinstance(options, dict) else None
        if isinstance(keys, dict):
            add_secrets(str(v) for v in keys.values())
        general = params.capabilities.general
        if general is not None:
            general.position_encodings = [types.PositionEncodingKind.Utf16]
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result


@dataclass
class Services:
    """The domain side, created once after `initialize`."""

    book: ProposalBook
    runs: RunManager
    host: LspHost
    projects: dict[Path, Project] = field(default_factory=dict)


class SamokoderServer(LspConnection):
    """A pygls server with Samokoder's per-connection state."""

    def __init__(self, *, token: str | None = None) -> None:
        super().__init__(
            "samokoder",
            VERSION,
            protocol_cls=SamokoderProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.required_token = token
        if token is not None:
            add_secrets([token])
        self.init_options: dict[str, Any] = {}
        self.client_settings: dict[str, Any] = {}
        self._settings: Settings | None = None
        self._reported: set[str] = set()
        self._services: Services | None = None
        self._services_lock = asyncio.Lock()
        self._project_lock = asyncio.Lock()
        self.background: set[asyncio.Task[Any]] = set()
        self.log_handler: logging.Handler | None = None

    # -- background work ---------------------------------------------------------

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        """Run a background task whose failure is logged, never lost or fatal."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        task.set_name(name)
        self.background.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.background.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task %s failed", name, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    # -- domain, loaded lazily ----------------------------------------------------

    async def services(self) -> Services:
        async with self._services_lock:
            if self._services is None:
                await asyncio.to_thread(_import_domain)
                from samokoder.agents.review import ProposalBook
                from samokoder.agents.runs import RunManager
                from samokoder.server.lsp_host import LspHost

                book = ProposalBook()
                self._services = Services(book, RunManager(book), LspHost(self))
            return self._services

    async def settings(self) -> Settings:
        if self._settings is None:
            await self.services()
            self.refresh_settings()
        assert self._settings is not None
        return self._settings

    def refresh_settings(self) -> None:
        """Re-read settings from all sources, telling the user about bad values."""
        from samokoder.settings import parse_settings

        options = {k: v for k, v in self.init_options.items() if k != "token"}
        settings, problems = parse_settings(options, self.client_settings)
        add_secrets(settings.api_keys.values())
        self._settings = settings
        fresh = [p for p in problems if p not in self._reported]
        self._reported = set(problems)
        for problem in fresh:
            self.window_show_message(
                types.ShowMessageParams(types.MessageType.Warning, f"Samokoder: {problem}")
            )

    def folders(self) -> list[Path]:
        from pygls.uris import to_fs_path

        roots: list[Path] = []
        ws = self.workspace
        for folder in ws.folders.values():
            path = to_fs_path(folder.uri)
            if path:
                roots.append(Path(path))
        if not roots and ws.root_path:
            roots.append(Path(ws.root_path))
        return roots

    async def project_for(self, path: Path | None = None) -> Project:
        """The project of the folder holding `path` (the first folder when None)."""
        from samokoder.agents.project import Project
        from samokoder.agents.recovery import recover

        root = await asyncio.to_thread(_pick_root, self.folders(), path)
        services = await self.services()
        settings = await self.settings()
        async with self._project_lock:
            project = services.projects.get(root)
            if project is None:
                project = await asyncio.to_thread(Project.open, root, settings.checkpoints)
                try:  # the step after opening: settle what a killed server left half-done
                    recovery = await asyncio.to_thread(recover, project)
                except Exception:  # not kept: a retry opens it afresh, lock and all
                    await asyncio.to_thread(project.close)
                    raise
                services.projects[root] = project
                for settled in recovery.steps:
                    self.window_show_message(
                        types.ShowMessageParams(types.MessageType.Warning, settled.message)
                    )
            return project

    async def project_for_uri(self, uri: object) -> tuple[Project, str]:
        """The project holding a file URI and the file's confined relative path."""
        from pygls.uris import to_fs_path

        from samokoder.errors import InvalidArgumentError, OutsideWorkspaceError

        if not isinstance(uri, str) or not uri:
            raise InvalidArgumentError("uri must be a non-empty string (a file:// URI)")
        if not uri.startswith("file:"):
            raise OutsideWorkspaceError(uri, "only file:// URIs inside the workspace are accepted")
        fs_path = to_fs_path(uri)
        if not fs_path:
            raise OutsideWorkspaceError(uri, "it is not a file path")
        if "\x00" in fs_path:
            raise OutsideWorkspaceError(uri, "it contains a NUL byte")
        project = await self.project_for(Path(fs_path))
        ws = project.workspace
        return project, ws.relative(ws.path_from_uri(uri))

    async def close_session(self) -> None:
        """Stop runs and close stores; safe to call twice."""
        if self.log_handler is not None:
            detach(self.log_handler)
            self.log_handler = None
        services = self._services
        if services is None:
            return
        await services.runs.shutdown()
        from samokoder.workspace.processes import kill_all_groups

        kill_all_groups()  # cancelled runs killed theirs; this is the backstop
        for project in list(services.projects.values()):
            await asyncio.to_thread(project.close)
        services.projects.clear()

    async def start_run(self, request: RunRequest) -> str:
        """Start a prepared run with this connection's host, settings and review mode.

        Every command that starts a run comes through here, and `launch` makes the one
        "is a model configured" check for all of them (`request.agent`'s model).
        """
        from samokoder.agents.prepare import launch

        services = await self.services()
        settings = await self.settings()
        mode = self.review_mode(settings)
        return await launch(request, services.runs, settings, services.host, mode)

    def review_mode(self, settings: Settings) -> str:
        if settings.review is not None:
            return settings.review
        return "proposal" if self.features.review else "annotated"


def _pick_root(folders: list[Path], path: Path | None) -> Path:
    """The innermost workspace folder holding `path` (the first folder when None)."""
    from samokoder.errors import InvalidArgumentError, OutsideWorkspaceError

    roots = [r.resolve() for r in folders]
    if not roots:
        raise InvalidArgumentError("No workspace folder is open: open a folder first.")
    if path is None:
        return roots[0]
    real = path.resolve()
    inside = [r for r in roots if real == r or r in real.parents]
    if not inside:
        raise OutsideWorkspaceError(str(path), "it is not inside any workspace folder")
    return max(inside, key=lambda r: len(r.parts))


def _import_domain() -> None:
    for name in DOMAIN_MODULES:
        importlib.import_module(name)
