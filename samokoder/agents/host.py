"""The only way agents reach the outside world (DESIGN §1).

The LSP server implements `Host` with LSP messages; tests can implement it in
memory. Nothing here imports pygls or lsprotocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FileKind = Literal["create", "modify", "delete"]


@dataclass(frozen=True)
class OpenDocument:
    """An editor buffer as the server last saw it."""

    uri: str
    text: str
    version: int


@dataclass(frozen=True)
class FileEdit:
    """One file of a workspace edit the host asks the editor to apply."""

    uri: str
    kind: FileKind
    old_text: str  # what the edit is computed against ("" for create)
    new_text: str  # "" for delete
    version: int | None  # the open document's version, None when the file is not open


@dataclass(frozen=True)
class ProposalNotice:
    """What a client is told about a change set waiting for review."""

    proposal_id: str
    run_id: str
    title: str
    files: list[dict[str, Any]] = field(default_factory=list)


class Host(Protocol):
    """Services the editor side provides to a run."""

    def open_document(self, uri: str) -> OpenDocument | None:
        """The open buffer for `uri`, or None when the editor does not have it open."""
        ...

    async def run_started(self, run_id: str, title: str) -> str | None:
        """A run begins: show cancellable progress titled `title`; the progress token
        (the run keeps it), or None when the client shows no progress."""
        ...

    def progress(self, token: str | None, message: str, percentage: int | None = None) -> None:
        """Report what the run holding progress `token` is doing now."""
        ...

    async def ask(self, question: str, choices: list[str], free_text: bool) -> str | None:
        """Ask the user; None when dismissed or when the client cannot ask."""
        ...

    async def propose(self, notice: ProposalNotice) -> None:
        """Tell the client a proposal waits for review."""
        ...

    async def apply_edit(self, label: str, edits: list[FileEdit], needs_confirmation: bool) -> bool:
        """Apply edits to editor buffers with one versioned workspace edit."""
        ...

    async def run_finished(self, payload: dict[str, Any], token: str | None) -> None:
        """The run is over: end its progress `token` and send `samokoder/runFinished`."""
        ...

    def log(self, message: str, *, error: bool = False) -> None:
        """A line for the editor's log (never secrets)."""
        ...

    async def show_document(self, uri: str) -> bool:
        """Open a file in the editor (window/showDocument); False when the client cannot."""
        ...
