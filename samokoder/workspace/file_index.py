"""Every file of a workspace, remembered between scans so that a rescan reads only what changed.

One `FileIndex` per workspace folder lives as long as the process, and what it
read is also kept in ``.samokoder/file_index.db`` (`file_index_store`) so that a
new process does not parse 100,000 files again. A full `scan` walks the whole
tree and checks each file's ``(mtime_ns, size)``, and has the changed ones read by
`parse_pool` (in worker processes when they are many); `refresh` looks only at
paths it is told changed (a watcher's or the editor's events), for a rescan that
costs milliseconds whatever the tree's size.

The walk (`tree_walk`) keeps to the confinement rules (DESIGN §3). Odd files
(unreadable, binary, not UTF-8, huge) are skipped and counted, never raised.
Synchronous and thread-safe (one scan at a time per folder); callers use
``asyncio.to_thread``.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable

from samokoder.errors import SamokoderError
from samokoder.workspace import parse_pool
from samokoder.workspace.confinement import IgnoreMatcher, Workspace
from samokoder.workspace.file_index_store import IndexFile, Row
from samokoder.workspace.map_ranking import FileEntry, RepoMap, rank_key
from samokoder.workspace.map_search import TermIndex
from samokoder.workspace.tree_walk import Stamp, reachable, walk

logger = logging.getLogger(__name__)

_REBUILD_AFTER = 256  # listing changes past which one sort beats inserting one by one
_SAVE_EVERY = 20_000  # rows: a first scan writes them while the workers still parse
PROGRESS_FILES = 5_000
"""A scan that reads at least this many files says how far it got, every this many."""

Progress = Callable[[int, int], None]
"""Told ``(files read, files to read)`` while a long scan reads (from its thread)."""


class FileIndex:
    """The files of one workspace folder and why the others are left out.

    Per file only plain tuples and strings are kept beside the listed entries,
    which the garbage collector does not track: a rescan of 100,000 files must
    not pay for full collections over them.
    """

    def __init__(self, ws: Workspace, max_file_bytes: int) -> None:
        self.ws = ws
        self._root = str(ws.root)
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()
        self._stamps: dict[str, Stamp] = {}  # every regular file read (or too large to)
        self._unlisted: dict[str, str] = {}  # of those, the ones not listed: why
        self._skips: dict[str, str] = {}  # path -> reason, for everything else left out
        self._entries: dict[str, FileEntry] = {}  # the listed files
        self._listed: list[FileEntry] = []  # the same, by path
        self._ranked: list[FileEntry] = []  # the same, in `map_ranking.rank_key` order
        self._adds: dict[str, FileEntry] = {}  # changes to the two lists, made by _snapshot
        self._removes: dict[str, FileEntry] = {}
        self._terms = TermIndex()
        self._repo: RepoMap | None = None
        self._dirty = False
        self._file: IndexFile | None = None  # the index on disk, when the folder has one
        self._loaded = False
        self._unsaved: dict[str, Row | None] = {}
        self.folders: set[str] = {""}
        """Every folder the walks went into (for a folder watcher); gone ones stay."""

    def listed_folders(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self.folders)

    def scan(self, ignore: IgnoreMatcher, progress: Progress | None = None) -> RepoMap:
        """Walk the whole tree; files whose ``(mtime_ns, size)`` did not change are not read."""
        with self._lock, parse_pool.collector_paused():
            return self._scan(ignore, progress)

    def _scan(self, ignore: IgnoreMatcher, progress: Progress | None = None) -> RepoMap:
        self._load()
        folders: set[str] = set()
        # Nothing known yet: each file is read, so its reader stats it (off this thread).
        stat_files = bool(self._stamps)
        found, skips = walk(self.ws, ignore, [""], folders=folders, stat_files=stat_files)
        self.folders = folders
        for rel in [r for r in self._stamps if r not in found]:
            self._drop(rel)
        self._visit_all(found, skips, progress)
        self._skips = skips
        return self._snapshot()

    def refresh(self, ignore: IgnoreMatcher, changed: Iterable[str]) -> RepoMap:
        """Look again at ``changed`` paths only (files or folders, added, modified or gone).

        Paths are workspace-relative or absolute; ones the confinement rules refuse
        (outside, through ``.git/``) are passed over.
        """
        with self._lock, parse_pool.collector_paused():
            if self._repo is None:
                return self._scan(ignore)
            for path in dict.fromkeys(changed):
                try:
                    rel = self.ws.relative(path)  # confined, normalized; absolute paths too
                except SamokoderError as exc:
                    logger.debug("change outside the map ignored: %s", exc)
                    continue
                self._refresh_one(ignore, rel)
            return self._snapshot()

    def _refresh_one(self, ignore: IgnoreMatcher, rel: str) -> None:
        parent, _, name = rel.rpartition("/")
        found: dict[str, Stamp | None] = {}
        skips: dict[str, str] = {}
        if reachable(self.ws, ignore, parent):
            try:
                with os.scandir(self.ws.root / parent) as it:
                    entry = next((e for e in it if e.name == name), None)
            except OSError:
                entry = None
            if entry is not None:  # else it is gone
                found, skips = walk(self.ws, ignore, [parent], only=entry, folders=self.folders)
        for old in self._known_under(rel):
            if old not in found:
                self._drop(old)
        for old in [r for r in self._skips if _under(r, rel)]:
            del self._skips[old]
        self._visit_all(found, skips)
        self._skips.update(skips)

    def _known_under(self, rel: str) -> list[str]:
        """Files read before at ``rel`` or under it, found without looking at every file."""
        self._apply_changes()
        prefix = f"{rel}/"
        at = bisect.bisect_left(self._listed, rel, key=_path)
        known: list[str] = []
        for entry in itertools.islice(self._listed, at, None):
            if entry.path != rel and not entry.path.startswith(prefix):
                break
            known.append(entry.path)
        known.extend(r for r in self._unlisted if _under(r, rel))
        return known

    def _visit_all(
        self,
        found: dict[str, Stamp | None],
        skips: dict[str, str],
        progress: Progress | None = None,
    ) -> None:
        """Read the files whose stamp changed or is not known (in worker processes when
        they are many)."""
        stamps = self._stamps
        changed = [
            (rel, stamp)
            for rel, stamp in found.items()
            if stamp is None or stamps.get(rel) != stamp
        ]
        total = len(changed)
        if total < PROGRESS_FILES:
            progress = None
        if progress is not None:
            progress(0, total)
        read = 0
        for rel, stamp, facts in parse_pool.analyze(self._root, changed, self.max_file_bytes):
            read += 1
            if progress is not None and read % PROGRESS_FILES == 0:
                progress(read, total)
            self._drop(rel)
            if facts is None or stamp is None:
                skips[rel] = "unreadable"  # not remembered: tried again next scan
                continue
            status, lines, language, names = facts
            entry = None
            if status == "ok":
                entry = FileEntry(rel, stamp[1], lines, language, names)
                self._unsaved[rel] = Row(rel, *stamp, status, lines, language, names)
            else:
                self._unsaved[rel] = Row(rel, *stamp, status, 0, None, ())
            self._remember(rel, stamp, entry, status)
            if len(self._unsaved) >= _SAVE_EVERY:
                self._save()

    def _remember(self, rel: str, stamp: Stamp, entry: FileEntry | None, reason: str) -> None:
        self._stamps[rel] = stamp
        if entry is None:
            self._unlisted[rel] = reason
        else:
            self._changing()
            self._entries[rel] = self._adds[rel] = entry
            self._terms.add(entry)

    def _drop(self, rel: str) -> None:
        if self._stamps.pop(rel, None) is None:
            return
        self._unsaved[rel] = None
        if self._unlisted.pop(rel, None) is not None:
            return
        self._changing()
        old = self._entries.pop(rel)
        if self._adds.pop(rel, None) is None:  # else its listed version is in _removes
            self._removes[rel] = old
        self._terms.remove(rel)

    def _changing(self) -> None:
        # Before the first change: a map from an earlier scan is not searched with an
        # index half-way between two states.
        if not self._dirty:
            with self._terms.lock:
                self._terms.generation += 1
            self._dirty = True

    def _load(self) -> None:
        """Once: what an earlier process read, from the index file (the walk then checks it)."""
        if self._loaded:
            return
        self._loaded = True
        self._file = IndexFile.open(self.ws.root, self.max_file_bytes)
        if self._file is None:
            return
        for row in self._file.load():
            entry = None
            if row.status == "ok":
                entry = FileEntry(row.path, row.size, row.lines, row.language, row.symbols)
            self._remember(row.path, (row.mtime_ns, row.size), entry, row.status)
        self._unsaved.clear()

    def close(self) -> None:
        """Close the index file (the index in memory stays usable)."""
        with self._lock:
            if self._file is not None:
                self._file.close()

    def _save(self) -> None:
        if self._unsaved:
            if self._file is not None:
                self._file.save(self._unsaved.items())
            self._unsaved.clear()

    def _snapshot(self) -> RepoMap:
        self._save()
        skipped = Counter(self._skips.values())
        skipped.update(self._unlisted.values())
        counts = {k: v for k, v in sorted(skipped.items()) if v}
        self._apply_changes()
        if self._repo is None or self._dirty or self._repo.skipped != counts:
            self._repo = RepoMap(
                entries=tuple(self._listed),
                ranked=tuple(self._ranked),
                skipped=counts,
                search=self._terms,
                generation=self._terms.generation,
            )
            self._dirty = False
        return self._repo

    def _apply_changes(self) -> None:
        if len(self._adds) + len(self._removes) > _REBUILD_AFTER:
            self._listed = sorted(self._entries.values(), key=_path)
            self._ranked = sorted(self._listed, key=rank_key)
        else:
            for old in self._removes.values():
                del self._listed[bisect.bisect_left(self._listed, old.path, key=_path)]
                del self._ranked[bisect.bisect_left(self._ranked, rank_key(old), key=rank_key)]
            for entry in self._adds.values():
                bisect.insort(self._listed, entry, key=_path)
                bisect.insort(self._ranked, entry, key=rank_key)
        self._adds.clear()
        self._removes.clear()


def _under(path: str, rel: str) -> bool:
    return path == rel or path.startswith(f"{rel}/")


def _path(entry: FileEntry) -> str:
    return entry.path


_INDEXES: dict[tuple[str, int], FileIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index_for(ws: Workspace, max_file_bytes: int) -> FileIndex:
    """The process's index of ``ws`` (made empty on first use)."""
    key = (str(ws.root), max_file_bytes)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            index = _INDEXES[key] = FileIndex(ws, max_file_bytes)
        return index


def clear_indexes() -> None:
    """Forget every workspace's index (the next scan starts from the index file, if any)."""
    with _INDEXES_LOCK:
        indexes = list(_INDEXES.values())
        _INDEXES.clear()
    for index in indexes:
        index.close()
