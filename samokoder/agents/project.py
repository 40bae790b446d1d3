"""One workspace folder's durable parts: confinement, store and checkpoints.

Opened lazily on first use (in a worker thread: it imports Git and SQLite code
and touches the disk), never on the server's startup path.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from samokoder.store.db import Store
from samokoder.workspace.checkpoints import CheckpointRepo
from samokoder.workspace.confinement import IgnoreMatcher, Workspace

log = logging.getLogger(__name__)


@dataclass
class Project:
    """A workspace folder and the state kept for it under `.samokoder/`."""

    workspace: Workspace
    store: Store
    checkpoints: CheckpointRepo
    ignore: IgnoreMatcher
    run_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by the running run: one run at a time per folder, the rest queue."""
    step_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Serialises applying, undoing and redoing steps."""

    @property
    def root(self) -> Path:
        return self.workspace.root

    @classmethod
    def open(cls, root: Path, checkpoint_mode: str) -> Project:
        """Blocking: call through `asyncio.to_thread`."""
        workspace = Workspace.at(root)
        store = Store.open(workspace.root)
        interrupted = store.mark_interrupted()
        if interrupted:
            log.info("runs interrupted by an earlier server: %s", ", ".join(interrupted))
        checkpoints = CheckpointRepo.open(
            workspace.root, "repo" if checkpoint_mode == "repo" else "shadow"
        )
        return cls(workspace, store, checkpoints, IgnoreMatcher(workspace.root))

    def is_secret(self, rel: str) -> bool:
        return self.workspace.is_secret(rel, self.ignore)

    def close(self) -> None:
        self.store.close()
