"""What the step modules share: a folder's durable parts, a file's state, a step's files
and what it records.

A leaf of `agents/` (it imports none of it): the step modules (`steps`, `step_record`,
`disk_writes`, `recovery`) take any `StepFolder`, a `Project` or a test's folder, and
none of them needs `project` for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from samokoder.store.db import Store
from samokoder.workspace.checkpoints import CheckpointRepo
from samokoder.workspace.confinement import Workspace


class StepFolder(Protocol):
    """What writing, recording and recovering a step needs of a workspace folder."""

    @property
    def workspace(self) -> Workspace: ...

    @property
    def store(self) -> Store: ...

    @property
    def checkpoints(self) -> CheckpointRepo: ...

    @property
    def root(self) -> Path: ...


@dataclass(frozen=True)
class FileState:
    """A file as the user sees it now: the open buffer, else the disk."""

    rel: str
    uri: str
    text: str | None  # None: the file does not exist
    version: int | None  # set when the editor has it open


@dataclass(frozen=True)
class PlannedFile:
    """One file of a step: what it holds now and what it will hold."""

    rel: str
    uri: str
    before: str | None
    after: str | None
    version: int | None


@dataclass(frozen=True)
class StepSpec:
    """What a step records about itself: its store row and its commit's trailers."""

    agent: str
    summary: str
    run_id: str | None
    kind: str = "apply"
    """"apply", or "undo"/"redo" of the step `target`."""
    target: str | None = None
    model: str = ""
    tokens: int = 0
    mark: tuple[str, str] | None = None
    """A run artifact (name, body) stored in the same transaction as the step."""
