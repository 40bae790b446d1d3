"""One workspace folder's durable parts: confinement, store and checkpoints.

Opened lazily on first use (in a worker thread: it imports Git and SQLite code
and touches the disk), never on the server's startup path. Opening settles nothing:
the server runs `recovery.recover(project)` as the next step (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from samokoder.store.db import STATE_DIR, Store
from samokoder.workspace.checkpoints import CheckpointRepo
from samokoder.workspace.confinement import IgnoreMatcher, Workspace
from samokoder.workspace.file_index import Progress
from samokoder.workspace.file_watch import FolderWatch
from samokoder.workspace.repo_map import (
    RepoMap,
    listed_folders,
    refresh_workspace,
    scan_workspace,
)


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
    owner_lock: int | None = None
    """File descriptor holding `.samokoder/owner.lock` (None: another live server has it,
    so this one must not settle the folder's interrupted runs and steps)."""
    watch: FolderWatch | None = None
    """Started by the first `current_map`: later maps look only at what changed."""

    @property
    def root(self) -> Path:
        return self.workspace.root

    @classmethod
    def open(cls, root: Path, checkpoint_mode: str) -> Project:
        """Blocking: call through `asyncio.to_thread`."""
        workspace = Workspace.at(root)
        store = Store.open(workspace.root)
        owner = _claim(workspace.root / STATE_DIR / OWNER_LOCK)
        checkpoints = CheckpointRepo.open(
            workspace.root, "repo" if checkpoint_mode == "repo" else "shadow"
        )
        project = cls(workspace, store, checkpoints, IgnoreMatcher(workspace.root))
        project.owner_lock = owner
        return project

    async def current_map(self, progress: Callable[[str], None] | None = None) -> RepoMap:
        """The workspace map now: a full scan the first time (and when the folder watcher
        cannot be trusted), else only the files changed since (milliseconds).

        ``progress`` is told, on the event loop, how far a scan reading many files got
        (a first scan of a large tree takes seconds)."""
        told: Progress | None = None
        if progress is not None:
            loop = asyncio.get_running_loop()

            def told(done: int, total: int) -> None:
                text = f"Reading the project: {done:,} of {total:,} files"
                loop.call_soon_threadsafe(progress, text)

        watch = self.watch
        changed = watch.take() if watch is not None else None
        if watch is not None and changed is not None:
            repo, folders = await asyncio.to_thread(self._refresh, watch, changed)
        else:
            repo, folders = await asyncio.to_thread(self._scan, told)
            if watch is not None and folders == watch.folders:
                folders = None
        if folders is not None:  # the first map, or new folders: watch what is listed now
            if watch is not None:
                watch.stop()
            self.watch = FolderWatch(self.root, folders)
            self.watch.start()
        return repo

    def _scan(self, progress: Progress | None) -> tuple[RepoMap, frozenset[str]]:
        """Blocking. The whole map, and the folders a watcher must watch for it."""
        repo = scan_workspace(self.workspace, self.ignore, progress=progress)
        return repo, listed_folders(self.workspace)

    def _refresh(
        self, watch: FolderWatch, changed: set[str]
    ) -> tuple[RepoMap, frozenset[str] | None]:
        """Blocking. The map after `changed`, and the folders to watch when the refresh
        went into new ones (heard of through their parent, not watched yet)."""
        repo = refresh_workspace(self.workspace, self.ignore, changed)
        folders = listed_folders(self.workspace)
        return repo, None if folders <= watch.folders else folders

    def files_changed(self, rels: Iterable[str]) -> None:
        """Files a step of ours wrote: the next map looks at them before their events come."""
        if self.watch is not None:
            self.watch.touch(rels)

    def is_secret(self, rel: str) -> bool:
        return self.workspace.is_secret(rel, self.ignore)

    def close(self) -> None:
        if self.watch is not None:
            self.watch.stop()
        self.store.close()
        if self.owner_lock is not None and self.owner_lock >= 0:
            with contextlib.suppress(OSError):
                os.close(self.owner_lock)
            self.owner_lock = None


OWNER_LOCK = "owner.lock"


# How long a lock whose owner is dead may stay held: a child the dead server had just
# forked (not yet exec'd: its copy of the descriptor still holds the lock) lets go in ms.
_ORPHAN_GRACE = 5.0


def _claim(path: Path) -> int | None:
    """An exclusive lock on the folder's state for as long as this process keeps it open
    (the kernel drops it when the process dies, however it dies); None if another live
    process holds it. Without `fcntl` (Windows) every process counts as the owner.

    The owner's pid is kept in the file: a lock held although that process is gone is
    held by a child it forked a moment before it died, so it is waited for (briefly)
    instead of taking the folder for another live server's.
    """
    try:
        import fcntl
    except ImportError:
        return -1
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + _ORPHAN_GRACE
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            if _owner_alive(fd) or time.monotonic() > deadline:
                os.close(fd)
                return None
            time.sleep(0.02)
            continue
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return fd


def _owner_alive(fd: int) -> bool:
    """Whether the pid written by the lock's holder is a live process (unknown: alive)."""
    try:
        pid = int(os.pread(fd, 32, 0).decode().strip())
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (ValueError, OSError):
        return True  # no pid yet, or not ours to signal: count it as alive
    return True
