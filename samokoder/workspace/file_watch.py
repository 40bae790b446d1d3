"""Which files of a workspace folder changed, heard from the OS (issue 13).

A map rescan told which paths changed looks only at them: about 9 ms at 100,000
files, against about 0.4 s for a walk that stats every file. `FolderWatch` runs
watchfiles (inotify, FSEvents, ReadDirectoryChangesW) in the background and
collects the changed paths; `take` hands them over, or None when only a full
scan can be trusted: before the watcher is armed, right after it is (the changes
made before it was armed were not heard), after it failed, once a new folder
appeared, and every `FULL_SCAN_EVERY` seconds in case the OS dropped events.
Paths a step of ours wrote are added by `touch`, so they count at once.

Only the folders the map lists are watched, each on its own (not recursively): a
recursive watch would also spend the user's inotify watches on `node_modules` and
ignored trees, which the editor's own watcher needs. A folder created later is
heard of (its parent is watched) but not watched: the owner then starts a new
watch over the folders the refresh went into (see `Project.current_map`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

from samokoder.workspace.tree_walk import EXCLUDED_DIRS

log = logging.getLogger(__name__)

FULL_SCAN_EVERY = 300.0  # seconds; a full scan also catches events the OS dropped
ARMED_AFTER_MS = 500  # the watcher says it is running by a first (empty) yield


class FolderWatch:
    def __init__(self, root: Path, folders: Iterable[str] = ("",)) -> None:
        self.root = root
        self.folders = frozenset(set(folders) | {""})  # workspace-relative; "" is the root
        self._changed: set[str] = set()
        self._armed = False
        self._synced = False
        self._failed = False
        self._last_full = 0.0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start watching (on the running loop); a failure leaves full scans in place."""
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._watch(), name=f"watch {self.root}")

    def touch(self, paths: Iterable[str]) -> None:
        """Workspace-relative paths we changed ourselves: seen by the next `take`."""
        self._changed.update(paths)

    def take(self) -> set[str] | None:
        """The paths changed since the last take, or None: do a full scan now."""
        changed, self._changed = self._changed, set()
        now = time.monotonic()
        trusted = self._armed and self._synced and not self._failed
        if not trusted or now - self._last_full > FULL_SCAN_EVERY:
            self._synced = self._armed and not self._failed  # this full scan follows arming
            self._last_full = now
            return None
        return changed

    @property
    def pending(self) -> frozenset[str]:
        """Paths changed since the last `take` (for measuring; `take` hands them over)."""
        return frozenset(self._changed)

    @property
    def watching(self) -> bool:
        return self._armed and not self._failed

    def stop(self) -> None:
        """Stop watching; from any thread (a project is closed in a worker thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile
                loop.call_soon_threadsafe(self._stop.set)

    async def _watch(self) -> None:
        try:
            from watchfiles import DefaultFilter, awatch

            watch_filter = DefaultFilter(ignore_dirs=tuple(EXCLUDED_DIRS))
            folders = [self.root / f if f else self.root for f in sorted(self.folders)]
            async for changes in awatch(
                *folders,
                watch_filter=watch_filter,
                recursive=False,
                stop_event=self._stop,
                step=20,
                rust_timeout=ARMED_AFTER_MS,
                yield_on_timeout=True,
                ignore_permission_denied=True,
            ):
                self._armed = True
                for _change, path in changes:
                    rel = self._relative(path)
                    if rel is not None:
                        self._changed.add(rel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no watcher (limits, platform): full scans, as before
            log.info("not watching %s for changes (%s); maps rescan the whole tree", self.root, exc)
        self._failed = True

    def _relative(self, path: str) -> str | None:
        try:
            rel = os.path.relpath(path, self.root)
        except ValueError:
            return None
        if rel.startswith(".."):
            return None
        rel = rel.replace(os.sep, "/")
        return None if any(part in EXCLUDED_DIRS for part in rel.split("/")) else rel
