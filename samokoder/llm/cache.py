"""The response cache: identical requests are answered from disk, in every workspace.

litellm's own cache is not usable (its key ignores the endpoint, it skips long
conversations, its disk backend is gone), so this one is ours: one SQLite file in
the user's cache directory, keyed by a hash of the model, the endpoint, the messages
and every parameter that changes the reply (never the key), capped in size with
least-recently-used eviction. Methods block: call them via ``asyncio.to_thread``.
A cache that cannot be opened or written is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from samokoder.llm.client import ModelCall

logger = logging.getLogger(__name__)

CACHE_FILE: Final = "responses.db"
DEFAULT_MAX_BYTES: Final = 200 * 1024 * 1024
KEY_VERSION: Final = 1
_ROW_OVERHEAD = 200  # bytes counted per entry besides its text (key, numbers, index)
_EVICT_TO = 0.9  # evict down to this share of the cap, so not every put evicts
_BUSY_TIMEOUT_MS = 2000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS responses ("
    " key TEXT PRIMARY KEY, model TEXT NOT NULL, text TEXT NOT NULL,"
    " prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,"
    " size INTEGER NOT NULL, created_at REAL NOT NULL, last_used REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS responses_by_last_used ON responses(last_used)",
)
_TOTAL_SIZE = "SELECT COALESCE(SUM(size), 0) FROM responses"
# Keep the newest entries whose running size fits the target; delete the rest at once.
_EVICT = (
    "DELETE FROM responses WHERE key IN (SELECT key FROM (SELECT key, SUM(size) OVER "
    "(ORDER BY last_used DESC, key) AS running FROM responses) WHERE running > ?)"
)


@dataclass(frozen=True)
class CachedReply:
    model: str
    text: str
    prompt_tokens: int
    completion_tokens: int


def request_key(
    call: ModelCall,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any] | None = None,
) -> str:
    """A hash of everything that shapes the reply: model, endpoint, messages, parameters.

    The API key, the timeout and anything else that cannot change the text are left out.
    """
    material = {
        "v": KEY_VERSION,
        "model": call.model,
        "api_base": (call.api_base or "").rstrip("/"),
        "messages": list(messages),
        "temperature": call.temperature,
        "max_tokens": call.max_tokens,
        "params": dict(params or {}),
    }
    encoded = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def should_cache(temperature: float, *, enabled: bool, any_temperature: bool) -> bool:
    """Sampled replies (temperature > 0) differ by design: cached only when asked."""
    return enabled and (temperature <= 0 or any_temperature)


class ResponseCache:
    """One SQLite file shared by processes (WAL) and threads (one connection, a lock)."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    def get(self, key: str) -> CachedReply | None:
        """The cached reply, marking it recently used; None on a miss or any failure."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    "SELECT model, text, prompt_tokens, completion_tokens FROM responses "
                    "WHERE key = ?",
                    (key,),
                ).fetchone()
                if row is None:
                    return None
                conn.execute("UPDATE responses SET last_used = ? WHERE key = ?", (time.time(), key))
            except sqlite3.Error as exc:
                self._failed("read", exc)
                return None
        return CachedReply(str(row[0]), str(row[1]), int(row[2]), int(row[3]))

    def put(self, key: str, reply: CachedReply, max_bytes: int | None = None) -> None:
        """Store a reply, then evict the least recently used entries over the cap."""
        cap = self.max_bytes if max_bytes is None else max_bytes
        size = len(reply.text.encode("utf-8")) + _ROW_OVERHEAD
        if size > cap:
            return
        now = time.time()
        with self._lock:
            conn = self._connection()
            if conn is None:
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT OR REPLACE INTO responses (key, model, text, prompt_tokens, "
                    "completion_tokens, size, created_at, last_used) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        reply.model,
                        reply.text,
                        reply.prompt_tokens,
                        reply.completion_tokens,
                        size,
                        now,
                        now,
                    ),
                )
                total = int(
                    conn.execute("SELECT COALESCE(SUM(size), 0) FROM responses").fetchone()[0]
                )
                if total > cap:
                    conn.execute(_EVICT, (int(cap * _EVICT_TO),))
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._failed("write", exc)

    def discard(self, key: str) -> None:
        """Forget one entry (a reply the caller found unusable)."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return
            try:
                conn.execute("DELETE FROM responses WHERE key = ?", (key,))
            except sqlite3.Error as exc:
                self._failed("write", exc)

    def stats(self) -> tuple[int, int]:
        """(entries, bytes counted against the cap)."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return 0, 0
            try:
                row = conn.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM responses")
                count, size = row.fetchone()
            except sqlite3.Error as exc:
                self._failed("read", exc)
                return 0, 0
        return int(count), int(size)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._broken:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS:d}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            self._broken = True
            logger.warning("response cache %s unusable, caching off: %s", self.path, exc)
            return None
        self._conn = conn
        return conn

    def _failed(self, what: str, exc: sqlite3.Error) -> None:
        logger.warning("response cache %s: %s failed (%s); treated as a miss", self.path, what, exc)


_default_lock = threading.Lock()
_defaults: dict[Path, ResponseCache] = {}


def cache_dir() -> Path:
    """``platformdirs.user_cache_dir("samokoder")`` (honours XDG_CACHE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("samokoder", appauthor=False))


def default_cache() -> ResponseCache:
    """The cache in the user's cache directory, shared by every workspace and process."""
    path = cache_dir() / CACHE_FILE
    with _default_lock:
        cache = _defaults.get(path)
        if cache is None:
            cache = _defaults[path] = ResponseCache(path)
        return cache
