"""The workspace context agents see: a map of files and symbols, relevant files, their text.

This module does the I/O (walking the folder, reading files); which files come first
and how the map reads as text is pure, in `map_ranking`, and re-exported here.

Everything here keeps to the confinement rules (DESIGN §3): the walk never follows
a symlink, never enters ``.git/`` or ``.samokoder/``, and leaves out secret-looking
and git-ignored files, so they cannot reach a prompt. Odd files (unreadable,
binary, not UTF-8, huge) are skipped and counted, never raised. Synchronous and
thread-safe; callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Sequence

from samokoder.errors import SamokoderError
from samokoder.workspace import symbols
from samokoder.workspace.confinement import PROTECTED_DIRS, IgnoreMatcher, Workspace
from samokoder.workspace.map_ranking import (
    CHARS_PER_TOKEN,
    FileEntry,
    RepoMap,
    estimate_tokens,
    relevant_files,
    render_map,
)

__all__ = [
    "EXCLUDED_DIRS",
    "FileEntry",
    "RepoMap",
    "clear_caches",
    "estimate_tokens",
    "read_context_files",
    "relevant_files",
    "render_map",
    "scan_workspace",
]

logger = logging.getLogger(__name__)

EXCLUDED_DIRS = PROTECTED_DIRS | {
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "dist",
    "build",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
}
"""Folder names never walked: protected, dependencies, caches and build output."""

# Per-file wrapper a caller adds around a context file (path line, code fence).
_CONTEXT_FILE_OVERHEAD_CHARS = 16


def clear_caches() -> None:
    """Forget cached file analyses and loaded grammars."""
    symbols.clear_caches()


# --- scanning ---------------------------------------------------------------------


def scan_workspace(
    ws: Workspace,
    ignore: IgnoreMatcher,
    *,
    max_files: int = 5000,
    max_file_bytes: int = 1_000_000,
) -> RepoMap:
    """Walk the workspace breadth-first and list the files agents may see.

    Breadth-first so that ``max_files`` keeps the top of the tree; one batched
    ignore check per folder level keeps git calls few. File analyses are cached
    by ``(path, mtime_ns, size)``, so a rescan reads only what changed.
    """
    skipped: Counter[str] = Counter()
    entries: list[FileEntry] = []
    level = [""]
    while level:
        subdirs: list[str] = []
        files: list[tuple[str, os.stat_result]] = []
        for rel_dir in level:
            _list_dir(ws, rel_dir, subdirs, files, skipped)
        ignored = ignore.ignored([*subdirs, *(rel for rel, _ in files)])
        level = [d for d in subdirs if d not in ignored]
        skipped["ignored"] += len(subdirs) - len(level)
        for rel, info in files:
            if rel in ignored:
                skipped["ignored"] += 1
            elif len(entries) >= max_files:
                skipped["limit"] += 1
            elif info.st_size > max_file_bytes:
                skipped["too_large"] += 1
            else:
                entry = _entry(ws, rel, info, max_file_bytes)
                if isinstance(entry, FileEntry):
                    entries.append(entry)
                else:
                    skipped[entry] += 1
        if len(entries) >= max_files:  # full: stop walking, so a huge tree costs no more
            skipped["limit"] += len(level)
            level = []
    entries.sort(key=lambda e: e.path)
    return RepoMap(entries=tuple(entries), skipped={k: v for k, v in skipped.items() if v})


def _list_dir(
    ws: Workspace,
    rel_dir: str,
    subdirs: list[str],
    files: list[tuple[str, os.stat_result]],
    skipped: Counter[str],
) -> None:
    try:
        with os.scandir(ws.root / rel_dir) as it:
            found = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        logger.debug("cannot list %r: %s", rel_dir, exc)
        skipped["unreadable"] += 1
        return
    for entry in found:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        try:
            reason = _classify(ws, rel, entry)
            if reason == "dir":
                subdirs.append(rel)
            elif reason == "file":
                files.append((rel, entry.stat(follow_symlinks=False)))
            else:
                skipped[reason] += 1
        except OSError as exc:
            logger.debug("cannot inspect %r: %s", rel, exc)
            skipped["unreadable"] += 1


def _classify(ws: Workspace, rel: str, entry: os.DirEntry[str]) -> str:
    """``dir``, ``file`` or the reason to skip; never follows a symlink."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # a name that is not UTF-8 cannot go into a prompt
        return "undecodable"
    if entry.is_symlink():
        try:
            ws.resolve(rel)
        except SamokoderError:
            return "outside"
        return "symlink"  # inside, but listed once under its real path
    if entry.is_dir(follow_symlinks=False):
        return "excluded_dir" if entry.name in EXCLUDED_DIRS else "dir"
    if not entry.is_file(follow_symlinks=False):
        return "special"
    return "secret" if ws.is_secret(rel) else "file"


def _entry(ws: Workspace, rel: str, info: os.stat_result, limit: int) -> FileEntry | str:
    try:
        result = symbols.analyze_file(
            str(ws.root / rel), rel, mtime_ns=info.st_mtime_ns, size=info.st_size, limit=limit
        )
    except symbols.UnreadableFileError:
        return "unreadable"
    if result.status != "ok":
        return result.status
    return FileEntry(rel, info.st_size, result.lines, result.language, result.symbols)


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
