"""All SQL of ``.samokoder/state.db``: the migrations and the statements the store runs.

``PRAGMA user_version`` holds the number of migrations applied. Never edit a
migration that has shipped; append a new one (and update the statements below).
Every foreign key column gets an index whose first column is that column (tests
check this generically).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence

from samokoder.errors import SamokoderError

logger = logging.getLogger(__name__)

_V1 = """
CREATE TABLE runs (
    run_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    description  TEXT NOT NULL,
    status       TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '',
    error        TEXT,
    created_at   REAL NOT NULL,
    finished_at  REAL
);
CREATE INDEX runs_by_status ON runs(status);

CREATE TABLE proposals (
    proposal_id  TEXT PRIMARY KEY,
    run_id       TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   REAL NOT NULL
);
CREATE INDEX proposals_by_run ON proposals(run_id);

CREATE TABLE proposal_files (
    id           INTEGER PRIMARY KEY,
    proposal_id  TEXT NOT NULL REFERENCES proposals(proposal_id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    additions    INTEGER NOT NULL,
    deletions    INTEGER NOT NULL
);
CREATE UNIQUE INDEX proposal_files_by_proposal ON proposal_files(proposal_id, path);

CREATE TABLE steps (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    step_id         TEXT NOT NULL UNIQUE,
    run_id          TEXT REFERENCES runs(run_id) ON DELETE SET NULL,
    kind            TEXT NOT NULL,
    target_step_id  TEXT REFERENCES steps(step_id),
    agent           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    commit_sha      TEXT,
    model           TEXT NOT NULL,
    tokens          INTEGER NOT NULL,
    created_at      REAL NOT NULL
);
CREATE INDEX steps_by_run ON steps(run_id);
CREATE INDEX steps_by_target ON steps(target_step_id);
CREATE INDEX steps_by_created_at ON steps(created_at);

CREATE TABLE step_files (
    id           INTEGER PRIMARY KEY,
    step_id      TEXT NOT NULL REFERENCES steps(step_id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    before_blob  TEXT,
    after_blob   TEXT
);
CREATE UNIQUE INDEX step_files_by_step ON step_files(step_id, path);

CREATE TABLE llm_requests (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id             TEXT REFERENCES runs(run_id) ON DELETE SET NULL,
    agent              TEXT NOT NULL,
    model              TEXT NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    cost_usd           REAL NOT NULL,
    latency_ms         REAL NOT NULL,
    cache_hit          INTEGER NOT NULL CHECK (cache_hit IN (0, 1)),
    retries            INTEGER NOT NULL,
    error_class        TEXT,
    created_at         REAL NOT NULL
);
CREATE INDEX llm_requests_by_run ON llm_requests(run_id);
"""

# What a generate/implement run has settled (request, spec, design, plan, tasks done),
# so an interrupted run can be resumed from its last accepted step.
_V2 = """
CREATE TABLE run_artifacts (
    run_id      TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""

# Every command the agents proposed, run or not (DESIGN §6): argv as JSON, output capped.
_V3 = """
CREATE TABLE command_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           TEXT REFERENCES runs(run_id) ON DELETE SET NULL,
    command          TEXT NOT NULL,
    argv             TEXT NOT NULL,
    cwd              TEXT NOT NULL,
    status           TEXT NOT NULL,
    exit_code        INTEGER,
    duration_ms      REAL NOT NULL,
    output           TEXT NOT NULL,
    truncated_bytes  INTEGER NOT NULL,
    sandboxed        INTEGER NOT NULL CHECK (sandboxed IN (0, 1)),
    message          TEXT NOT NULL,
    created_at       REAL NOT NULL
);
CREATE INDEX command_runs_by_run ON command_runs(run_id);
"""

# The write-ahead record of steps (store/pending_steps.py): a step's files with their blobs
# before and after, written before any file changes and removed when the step is recorded.
_V4 = """
CREATE TABLE pending_steps (
    step_id         TEXT PRIMARY KEY,
    run_id          TEXT REFERENCES runs(run_id) ON DELETE SET NULL,
    kind            TEXT NOT NULL,
    target_step_id  TEXT REFERENCES steps(step_id),
    agent           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    model           TEXT NOT NULL,
    tokens          INTEGER NOT NULL,
    created_at      REAL NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'abandoned')),
    note            TEXT,
    mark_name       TEXT,
    mark_body       TEXT
);
CREATE INDEX pending_steps_by_run ON pending_steps(run_id);
CREATE INDEX pending_steps_by_target ON pending_steps(target_step_id);
CREATE INDEX pending_steps_by_state ON pending_steps(state);

CREATE TABLE pending_step_files (
    id           INTEGER PRIMARY KEY,
    step_id      TEXT NOT NULL REFERENCES pending_steps(step_id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    before_blob  TEXT,
    after_blob   TEXT
);
CREATE UNIQUE INDEX pending_step_files_by_step ON pending_step_files(step_id, path);
"""

# Token counts the provider did not send (estimated here) are marked, so usage can say so.
_V5 = """
ALTER TABLE llm_requests ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0
    CHECK (tokens_estimated IN (0, 1));
"""

# Prompt-cache use the provider reported (issue 13), so usage can show the money saved.
_V6 = """
ALTER TABLE llm_requests ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE llm_requests ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE llm_requests ADD COLUMN saved_usd REAL NOT NULL DEFAULT 0;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
SCHEMA_VERSION = len(MIGRATIONS)

# Statements the store runs against the current schema, spelled out in full (no string
# building, so nothing user-supplied can reach the SQL text); the column lists repeat.
INSERT_RUN = (
    "INSERT INTO runs (run_id, kind, description, status, summary, error, created_at, "
    "finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_RUN = (
    "SELECT run_id, kind, description, status, summary, error, created_at, finished_at "
    "FROM runs WHERE run_id = ?"
)
SELECT_LIVE_RUNS = (
    "SELECT run_id FROM runs WHERE status IN ('running', 'awaiting_review') "
    "ORDER BY created_at, run_id"
)
INTERRUPT_LIVE_RUNS = (
    "UPDATE runs SET status = 'interrupted', finished_at = ?, error = COALESCE(error, ?) "
    "WHERE status IN ('running', 'awaiting_review')"
)
INTERRUPT_PROPOSALS = (
    "UPDATE proposals SET status = 'interrupted' WHERE status = 'pending' AND run_id = ?"
)
INSERT_STEP = (
    "INSERT INTO steps (step_id, run_id, kind, target_step_id, agent, summary, commit_sha, "
    "model, tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_STEP = (
    "SELECT step_id, run_id, kind, target_step_id, agent, summary, commit_sha, model, tokens, "
    "created_at FROM steps WHERE step_id = ?"
)
SELECT_NEWEST_STEPS = (
    "SELECT step_id, run_id, kind, target_step_id, agent, summary, commit_sha, model, tokens, "
    "created_at FROM steps ORDER BY seq DESC LIMIT ?"
)
INSERT_LLM_REQUEST = (
    "INSERT INTO llm_requests (run_id, agent, model, prompt_tokens, completion_tokens, "
    "cost_usd, latency_ms, cache_hit, retries, error_class, created_at, tokens_estimated, "
    "cached_tokens, cache_write_tokens, saved_usd) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_LLM_REQUESTS = (
    "SELECT run_id, agent, model, prompt_tokens, completion_tokens, cost_usd, latency_ms, "
    "cache_hit, retries, error_class, created_at, tokens_estimated, cached_tokens, "
    "cache_write_tokens, saved_usd FROM llm_requests "
    "ORDER BY id DESC LIMIT ?"
)
SELECT_RUN_LLM_REQUESTS = (
    "SELECT run_id, agent, model, prompt_tokens, completion_tokens, cost_usd, latency_ms, "
    "cache_hit, retries, error_class, created_at, tokens_estimated, cached_tokens, "
    "cache_write_tokens, saved_usd FROM llm_requests "
    "WHERE run_id = ? ORDER BY id DESC LIMIT ?"
)
PUT_ARTIFACT = (
    "INSERT INTO run_artifacts (run_id, name, body, created_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (run_id, name) DO UPDATE SET body = excluded.body, "
    "created_at = excluded.created_at"
)
SELECT_ARTIFACTS = "SELECT name, body FROM run_artifacts WHERE run_id = ? ORDER BY created_at"
# One row per (run, agent, model), in the order each group first appeared; folded in Python.
USAGE = (
    "SELECT run_id, agent, model, SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd), "
    "COUNT(*), SUM(CASE WHEN tokens_estimated = 1 THEN prompt_tokens + completion_tokens "
    "ELSE 0 END), SUM(cached_tokens), SUM(saved_usd) FROM llm_requests "
    "GROUP BY run_id, agent, model ORDER BY MIN(id)"
)
RUN_USAGE = (
    "SELECT run_id, agent, model, SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd), "
    "COUNT(*), SUM(CASE WHEN tokens_estimated = 1 THEN prompt_tokens + completion_tokens "
    "ELSE 0 END), SUM(cached_tokens), SUM(saved_usd) FROM llm_requests WHERE run_id = ? "
    "GROUP BY run_id, agent, model "
    "ORDER BY MIN(id)"
)


def split_statements(script: str) -> list[str]:
    """Cut a script into single statements (``execute`` refuses several at once).

    ``executescript`` would do it, but it commits any open transaction first, which
    would break the all-or-nothing migration.
    """
    statements: list[str] = []
    pending = ""
    for chunk in script.split(";"):
        pending += chunk + ";"
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                statements.append(pending.strip())
            pending = ""
    if _has_code(pending):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending!r}")
    return statements


def _has_code(sql: str) -> bool:
    """Whether anything but whitespace, semicolons and comments is left (a rough check)."""
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.DOTALL)
    return bool(without_comments.strip(" \t\r\n;"))


def user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Bring the database up to ``len(migrations)`` in one transaction; return that version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Foreign keys are off
    while migrating, so a later migration may rebuild a table, and are checked before
    the commit. The version is read again inside the write lock, so two processes
    opening the same old file do not both migrate it.
    """
    known = len(migrations)
    if _check_version(conn, known) == known:
        return known
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = _check_version(conn, known)
            for version in range(current + 1, known + 1):
                for statement in split_statements(migrations[version - 1]):
                    conn.execute(statement)
                logger.info("state.db migrated to schema version %d", version)
            violations = conn.execute("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise SamokoderError(
                    f"state.db migration left {len(violations)} broken foreign key(s), "
                    f"first in table {violations[0][0]!r}; nothing was changed"
                )
            conn.execute(f"PRAGMA user_version = {known:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return known


def _check_version(conn: sqlite3.Connection, known: int) -> int:
    current = user_version(conn)
    if current > known:
        raise SamokoderError(
            f"state.db has schema version {current}, but this Samokoder only knows versions "
            f"up to {known}: it was written by a newer Samokoder. Upgrade Samokoder to open "
            "this workspace's history."
        )
    return current
