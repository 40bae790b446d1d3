"""Change sets: what agents hand back instead of writing files (DESIGN §3).

A change set is checked as a whole before anything else happens; one bad file
refuses all of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from samokoder.errors import InvalidArgumentError
from samokoder.workspace.confinement import Workspace
from samokoder.workspace.textedits import count_changes

__all__ = [
    "MAX_FILE_BYTES",
    "ChangeSet",
    "FileChange",
    "count_changes",
    "validate_change_set",
]

MAX_FILE_BYTES = 2_000_000
"""Largest content (UTF-8 bytes) a change may write; bigger files are not agent work."""


class FileChange(BaseModel):
    """One file's change, with its full new content (None for a delete)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    """Workspace-relative POSIX path."""
    kind: Literal["create", "modify", "delete"]
    content: str | None = None


class ChangeSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    files: list[FileChange]


def validate_change_set(cs: ChangeSet, ws: Workspace, exists: Callable[[str], bool]) -> ChangeSet:
    """The same change set with normalized paths, or the first problem as an error.

    ``exists`` answers for a normalized relative path (the server's view: open
    document or disk). Confinement problems raise ``OutsideWorkspaceError``,
    everything else ``InvalidArgumentError``; each message names the path.
    """
    if not cs.files:
        raise InvalidArgumentError(f"change set {cs.title!r} has no files")
    seen: set[str] = set()
    checked: list[FileChange] = []
    for change in cs.files:
        rel = ws.relative(change.path)
        if rel in seen:
            raise InvalidArgumentError(f"change set names {rel!r} more than once")
        seen.add(rel)
        _check_content(rel, change)
        present = exists(rel)
        if change.kind == "create" and present:
            raise InvalidArgumentError(f"cannot create {rel!r}: the file already exists")
        if change.kind != "create" and not present:
            raise InvalidArgumentError(f"cannot {change.kind} {rel!r}: the file does not exist")
        checked.append(change.model_copy(update={"path": rel}))
    return cs.model_copy(update={"files": checked})


def _check_content(rel: str, change: FileChange) -> None:
    if change.kind == "delete":
        if change.content is not None:
            raise InvalidArgumentError(f"delete of {rel!r} must not carry content")
        return
    if change.content is None:
        raise InvalidArgumentError(f"{change.kind} of {rel!r} has no content")
    try:
        size = len(change.content.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArgumentError(f"content for {rel!r} is not valid text") from None
    if size > MAX_FILE_BYTES:
        raise InvalidArgumentError(
            f"content for {rel!r} is {size} bytes, over the {MAX_FILE_BYTES // 1_000_000} MB limit"
        )
