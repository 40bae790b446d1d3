"""The file index on disk, ``.samokoder/file_index.db``: a new process starts warm.

A first scan of 100,000 files parses every one of them (seconds); with what an
earlier process read kept here, a new one (a restarted server, each terminal
command) reads only the files changed since. Rows hold what the map shows (path,
size, lines, language, symbols) for files the walk lists, never file contents;
secret-looking and ignored files are never read, so never here. Written only
when ``.samokoder/`` exists (the store makes it when a folder is opened). Any
SQLite failure turns the file off for the process: the index then lives in
memory only, as it would without it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from samokoder.workspace import symbol_walkers, symbols
from samokoder.workspace.checkpoint_rules import STATE_DIR

logger = logging.getLogger(__name__)

FILE_NAME = "file_index.db"
SYMBOL_LANGUAGES = ("python", "javascript", "typescript", "tsx", "go", "rust", "java")
SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 2000


class Row(NamedTuple):
    """One file read before: its stamp and what was found (``status`` ``ok`` when listed)."""

    path: str
    mtime_ns: int
    size: int
    status: str
    lines: int
    language: str | None
    symbols: tuple[str, ...]


class IndexFile:
    """One workspace's index file; thread-safe (one connection, one lock)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._lock = threading.Lock()

    @classmethod
    def open(cls, root: Path, max_file_bytes: int) -> IndexFile | None:
        """The index file under ``root/.samokoder``, emptied when its `signature` differs.

        Rows made under another signature (size limit, grammars, extractor code)
        are not trusted. A file that is not a database is made again; a symlink
        there is never followed. None when there is no state folder or no usable file.
        """
        state = root / STATE_DIR
        if not state.is_dir() or state.is_symlink():
            return None
        path = state / FILE_NAME
        wanted = f"{SCHEMA_VERSION}:{signature(max_file_bytes)}"
        for attempt in (1, 2):
            if path.is_symlink():
                logger.warning("file index %s not used: it is a symlink", path)
                return None
            try:
                return cls(_connect(path, wanted), path)
            except sqlite3.DatabaseError as exc:
                if attempt == 1 and "not a database" in str(exc):
                    logger.warning("file index %s is damaged; making it again", path)
                    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                        leftover.unlink(missing_ok=True)
                    continue
                logger.warning("file index %s not used: %s", path, exc)
            except (sqlite3.Error, OSError) as exc:
                logger.warning("file index %s not used: %s", path, exc)
            return None
        return None

    def load(self) -> Iterator[Row]:
        """Every row; nothing when the file failed (it is then turned off)."""
        with self._lock:
            if self._conn is None:
                return iter(())
            try:
                rows = self._conn.execute("SELECT * FROM files").fetchall()
            except sqlite3.Error as exc:
                self._fail(exc)
                return iter(())
        return (
            Row(p, m, s, st, li, la, tuple(sy.split("\n")) if sy else ())
            for p, m, s, st, li, la, sy in rows
        )

    def save(self, changed: Iterable[tuple[str, Row | None]]) -> None:
        """Write rows (None: the file is gone or no longer read) in one transaction."""
        upserts: list[tuple[object, ...]] = []
        deletes: list[tuple[str]] = []
        for path, row in changed:
            if row is None:
                deletes.append((path,))
            else:
                upserts.append((*row[:6], "\n".join(row.symbols)))
        with self._lock:
            if self._conn is None or not (upserts or deletes):
                return
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.executemany("DELETE FROM files WHERE path = ?", deletes)
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", upserts
                    )
            except sqlite3.Error as exc:
                self._fail(exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _fail(self, exc: sqlite3.Error) -> None:
        logger.warning("file index %s turned off: %s", self._path, exc)
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _connect(path: Path, wanted: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, mtime_ns INTEGER,"
            " size INTEGER, status TEXT, lines INTEGER, language TEXT, symbols TEXT)"
        )
        found = conn.execute("SELECT value FROM meta WHERE key = 'signature'").fetchone()
        if found is None or found[0] != wanted:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("DELETE FROM files")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('signature', ?)", (wanted,))
    except BaseException:
        conn.close()
        raise
    return conn


def signature(max_file_bytes: int) -> str:
    """What rows on disk depend on: the size limit, the grammars that load, the extractors."""
    grammars = ",".join(lang for lang in SYMBOL_LANGUAGES if symbols.has_symbol_support(lang))
    code = []
    for module in (symbols, symbol_walkers):
        try:
            info = os.stat(module.__file__ or "")
            code.append(f"{info.st_size}.{info.st_mtime_ns}")
        except OSError:
            code.append("?")
    return f"{max_file_bytes}:{grammars}:{':'.join(code)}"
