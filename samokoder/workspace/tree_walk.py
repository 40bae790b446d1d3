"""Walking a workspace folder as the map sees it: what is listed, and why the rest is not.

The walk keeps to the confinement rules (DESIGN §3): it never follows a symlink,
never enters ``.git/``, ``.samokoder/`` or dependency and build folders, and leaves
out secret-looking and git-ignored files, so they cannot reach a prompt.
"""

from __future__ import annotations

import logging
import os

from samokoder.errors import SamokoderError
from samokoder.workspace.confinement import (
    PROTECTED_DIRS,
    IgnoreMatcher,
    Workspace,
    is_secret_name,
)

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

Stamp = tuple[int, int]
"""A file's ``(mtime_ns, size)``: when it is unchanged, so is what was read from it."""


def reachable(ws: Workspace, ignore: IgnoreMatcher, rel_dir: str) -> bool:
    """Whether the walk enters folder ``rel_dir`` (every folder on the way is walked)."""
    if not rel_dir:
        return True
    parts = rel_dir.split("/")
    chain = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    if any(part in EXCLUDED_DIRS for part in parts) or ignore.ignored(chain):
        return False
    return all(os.path.isdir(ws.root / d) and not os.path.islink(ws.root / d) for d in chain)


def walk(
    ws: Workspace,
    ignore: IgnoreMatcher,
    start: list[str],
    only: os.DirEntry[str] | None = None,
    folders: set[str] | None = None,
    stat_files: bool = True,
) -> tuple[dict[str, Stamp | None], dict[str, str]]:
    """Files to read (with their stamp) and what was left out why, breadth-first.

    One batched ignore check per folder level keeps git calls few. With ``only``,
    the first level is that one entry of ``start[0]`` (and what is under it).
    ``folders`` gets every folder gone into. Without ``stat_files`` the files' stamps
    are None (left to whoever reads them).
    """
    found: dict[str, Stamp | None] = {}
    skips: dict[str, str] = {}
    level = start
    first = only
    while level:
        if folders is not None:
            folders.update(level)
        subdirs: list[str] = []
        files: list[tuple[str, Stamp | None]] = []
        for rel_dir in level:
            _list_dir(ws, rel_dir, subdirs, files, skips, only=first, stat_files=stat_files)
        first = None
        ignored = ignore.ignored([*subdirs, *(rel for rel, _ in files)])
        level = []
        for rel in subdirs:
            if rel in ignored:
                skips[rel] = "ignored"
            else:
                level.append(rel)
        for rel, stamp in files:
            if rel in ignored:
                skips[rel] = "ignored"
            else:
                found[rel] = stamp
    return found, skips


def _list_dir(
    ws: Workspace,
    rel_dir: str,
    subdirs: list[str],
    files: list[tuple[str, Stamp | None]],
    skips: dict[str, str],
    only: os.DirEntry[str] | None,
    stat_files: bool = True,
) -> None:
    if only is not None:
        found = [only]
    else:
        try:
            with os.scandir(ws.root / rel_dir) as it:
                found = list(it)
        except OSError as exc:
            logger.debug("cannot list %r: %s", rel_dir, exc)
            skips[rel_dir or "."] = "unreadable"
            return
    for entry in found:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        try:
            reason = _classify(ws, rel, entry)
            if reason == "dir":
                subdirs.append(rel)
            elif reason == "file" and not stat_files:
                files.append((rel, None))
            elif reason == "file":
                info = entry.stat(follow_symlinks=False)
                files.append((rel, (info.st_mtime_ns, info.st_size)))
            else:
                skips[rel] = reason
        except OSError as exc:
            logger.debug("cannot inspect %r: %s", rel, exc)
            skips[rel] = "unreadable"


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
    return "secret" if is_secret_name(entry.name) else "file"
