"""The workspace context agents see: a map of files and symbols, relevant files, their text.

The walk and what it remembers between scans are in `file_index`; which files come
first and how the map reads as text is pure, in `map_ranking`; the files a task
points at are found in `map_search`. All re-exported here. Synchronous and
thread-safe; callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence

from samokoder.errors import SamokoderError
from samokoder.workspace import file_index, symbols
from samokoder.workspace.confinement import IgnoreMatcher, Workspace
from samokoder.workspace.map_ranking import (
    CHARS_PER_TOKEN,
    FileEntry,
    RepoMap,
    estimate_tokens,
    render_map,
)
from samokoder.workspace.map_search import relevant_files
from samokoder.workspace.tree_walk import EXCLUDED_DIRS

__all__ = [
    "EXCLUDED_DIRS",
    "FileEntry",
    "RepoMap",
    "clear_caches",
    "estimate_tokens",
    "read_context_files",
    "refresh_workspace",
    "relevant_files",
    "render_map",
    "scan_workspace",
]

logger = logging.getLogger(__name__)

# Per-file wrapper a caller adds around a context file (path line, code fence).
_CONTEXT_FILE_OVERHEAD_CHARS = 16


def clear_caches() -> None:
    """Forget every workspace's file index, cached file analyses and loaded grammars."""
    file_index.clear_indexes()
    symbols.clear_caches()


def scan_workspace(
    ws: Workspace,
    ignore: IgnoreMatcher,
    *,
    max_file_bytes: int = 1_000_000,
    progress: file_index.Progress | None = None,
) -> RepoMap:
    """Every file agents may see, however many; a rescan reads only files that changed.

    Walks the whole tree, only stat'ing files seen before: about 0.4 s per 100,000
    files warm (5 s cold on 2 CPUs, every file parsed), so callers run it in a worker
    thread. ``progress`` hears how far a scan that reads many files got.
    """
    return file_index.index_for(ws, max_file_bytes).scan(ignore, progress)


def refresh_workspace(
    ws: Workspace,
    ignore: IgnoreMatcher,
    changed: Iterable[str],
    *,
    max_file_bytes: int = 1_000_000,
) -> RepoMap:
    """The map after the workspace-relative paths ``changed`` changed; nothing else is looked at.

    For callers told what changed (a folder watcher, the editor's events): a
    rescan in milliseconds. The first call for a folder scans it whole.
    """
    return file_index.index_for(ws, max_file_bytes).refresh(ignore, changed)


def listed_folders(ws: Workspace, *, max_file_bytes: int = 1_000_000) -> frozenset[str]:
    """The folders the last scan (and refreshes) went into, "" for the root: what a
    folder watcher must watch to hear of every change the map would show."""
    return file_index.index_for(ws, max_file_bytes).listed_folders()


# --- context files ----------------------------------------------------------------


def read_context_files(
    ws: Workspace,
    paths: Sequence[str],
    *,
    budget_tokens: int,
    read: Callable[[str], str | None],
) -> dict[str, str]:
    """Texts of ``paths`` (in order) that fit in ``budget_tokens`` together.

    ``read`` gets the checked workspace-relative path and returns the open
    buffer's or the disk's text, or None. Paths outside the workspace, secret-
    looking names and files ``read`` cannot give are left out, as are files that
    do not fit (a later, smaller one may still fit); the caller lists those. Each
    file's cost includes a small allowance for the path and fence around it.
    """
    chosen: dict[str, str] = {}
    used = 0
    for path in paths:
        try:
            rel = ws.relative(path)
        except SamokoderError as exc:
            logger.debug("context file refused: %s", exc)
            continue
        if rel in chosen or ws.is_secret(rel):
            continue
        try:
            text = read(rel)
        except (OSError, SamokoderError, UnicodeDecodeError) as exc:
            logger.debug("context file %r unreadable: %s", rel, exc)
            continue
        if text is None:
            continue
        cost = math.ceil((len(text) + len(rel) + _CONTEXT_FILE_OVERHEAD_CHARS) / CHARS_PER_TOKEN)
        if used + cost <= budget_tokens:
            chosen[rel] = text
            used += cost
    return chosen
