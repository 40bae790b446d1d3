"""The workspace's embedded store: runs, proposals, steps and LLM usage in SQLite.

One connection guarded by a lock, so a single ``Store`` can be shared by the
threads that ``asyncio.to_thread`` uses. Each write method is one explicit
transaction; reads that need several queries run in one read transaction so
they see a consistent snapshot even when another process writes (WAL mode).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from samokoder.errors import InvalidArgumentError, NotFoundError, SamokoderError
from samokoder.store import schema
from samokoder.store.command_runs import CommandRunLog
from samokoder.store.pending_steps import (
    DELETE_PENDING_STEP,
    PROMOTE_PENDING_MARK,
    PendingStepLog,
)
from samokoder.store.rows import (
    PROPOSAL_STATUSES,
    RUN_STATUSES,
    STEP_KINDS,
    LLMRequestRow,
    ProposalFileRow,
    ProposalRow,
    RunRow,
    StepFileRow,
    StepRow,
)
from samokoder.store.undo_stack import undo_redo_targets
from samokoder.store.usage import fold_usage

__all__ = ["STATE_DIR", "STATE_FILE", "Store", "undo_redo_targets"]

logger = logging.getLogger(__name__)

STATE_DIR = ".samokoder"
STATE_FILE = "state.db"
BUSY_TIMEOUT_MS = 5000
INTERRUPTED_ERROR = "the server stopped before this run finished"

_EXISTS = {
    "run": "SELECT 1 FROM runs WHERE run_id = ?",
    "step": "SELECT 1 FROM steps WHERE step_id = ?",
}


class Store(CommandRunLog, PendingStepLog):
    """History of one workspace in ``<root>/.samokoder/state.db``; open with ``Store.open``."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        self._clock = clock

    @classmethod
    def open(cls, root: Path, *, clock: Callable[[], float] = time.time) -> Store:
        """Open (creating and migrating as needed) the store of the workspace at ``root``."""
        if not root.is_dir():
            raise NotFoundError(f"workspace folder {str(root)!r} does not exist")
        state_dir = root / STATE_DIR
        path = state_dir / STATE_FILE
        try:
            state_dir.mkdir(exist_ok=True)
            gitignore = state_dir / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise SamokoderError(f"cannot create {path}: {exc}") from exc
        try:
            _configure(conn, path)
            schema.migrate(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise SamokoderError(f"cannot open {path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        logger.debug("opened store %s", path)
        return cls(path, conn, clock)

    def close(self) -> None:
        """Close the connection; later calls raise. Closing twice is harmless."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                logger.debug("PRAGMA optimize failed on %s", self.path, exc_info=True)
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # runs

    def create_run(self, run: RunRow) -> None:
        _check_member("run status", run.status, RUN_STATUSES)
        with self._write() as conn:
            _insert(conn, schema.INSERT_RUN, [_columns(run)], f"run {run.run_id!r}")

    def update_run(
        self,
        run_id: str,
        *,
        status: str,
        summary: str | None = None,
        error: str | None = None,
        finished: bool = False,
    ) -> None:
        """Set the status; summary and error only when given; ``finished`` stamps the time."""
        _check_member("run status", status, RUN_STATUSES)
        finished_at = self._clock() if finished else None
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET status = ?, summary = COALESCE(?, summary), "
                "error = COALESCE(?, error), finished_at = COALESCE(?, finished_at) "
                "WHERE run_id = ?",
                (status, summary, error, finished_at, run_id),
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"run {run_id!r} does not exist")

    def get_run(self, run_id: str) -> RunRow | None:
        with self._read() as conn:
            row = conn.execute(schema.SELECT_RUN, (run_id,)).fetchone()
        return None if row is None else RunRow(*row)

    def put_artifact(self, run_id: str, name: str, body: str) -> None:
        """Record (or replace) something a run settled, e.g. its plan."""
        with self._write() as conn:
            _require(conn, "run", run_id)
            conn.execute(schema.PUT_ARTIFACT, (run_id, name, body, self._clock()))

    def artifacts(self, run_id: str) -> dict[str, str]:
        with self._read() as conn:
            return dict(conn.execute(schema.SELECT_ARTIFACTS, (run_id,)).fetchall())

    def mark_interrupted(self) -> list[str]:
        """Mark runs a previous server process left live as interrupted; return their ids.

        Call once at startup, before any run of this process exists.
        """
        with self._write() as conn:
            ids = [str(row[0]) for row in conn.execute(schema.SELECT_LIVE_RUNS)]
            conn.execute(schema.INTERRUPT_LIVE_RUNS, (self._clock(), INTERRUPTED_ERROR))
            conn.executemany(schema.INTERRUPT_PROPOSALS, [(run_id,) for run_id in ids])
        if ids:
            logger.info("marked %d run(s) left by a previous server as interrupted", len(ids))
        return ids

    # proposals

    def create_proposal(self, proposal: ProposalRow) -> None:
        _check_member("proposal status", proposal.status, PROPOSAL_STATUSES)
        with self._write() as conn:
            _require(conn, "run", proposal.run_id)
            _insert(
                conn,
                "INSERT INTO proposals (proposal_id, run_id, title, status, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [_columns(proposal)],
                f"proposal {proposal.proposal_id!r}",
            )
            _insert(
                conn,
                "INSERT INTO proposal_files (proposal_id, path, kind, additions, deletions) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (proposal.proposal_id, f.path, f.kind, f.additions, f.deletions)
                    for f in proposal.files
                ],
                f"a file of proposal {proposal.proposal_id!r}",
            )

    def set_proposal_status(self, proposal_id: str, status: str) -> None:
        _check_member("proposal status", status, PROPOSAL_STATUSES)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE proposals SET status = ? WHERE proposal_id = ?", (status, proposal_id)
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"proposal {proposal_id!r} does not exist")

    def get_proposal(self, proposal_id: str) -> ProposalRow | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT proposal_id, run_id, title, status, created_at FROM proposals "
                "WHERE proposal_id = ?",
                (proposal_id,),
            ).fetchone()
            if row is None:
                return None
            files = conn.execute(
                "SELECT path, kind, additions, deletions FROM proposal_files "
                "WHERE proposal_id = ? ORDER BY id",
                (proposal_id,),
            ).fetchall()
        return ProposalRow(*(*row, tuple(ProposalFileRow(*f) for f in files)))

    # steps

    def add_step(self, step: StepRow) -> None:
        _check_member("step kind", step.kind, STEP_KINDS)
        if (step.kind == "apply") != (step.target_step_id is None):
            raise InvalidArgumentError(
                f"step {step.step_id!r}: an apply step has no target, "
                "an undo or redo step must name the step it acts on"
            )
        with self._write() as conn:
            if step.run_id is not None:
                _require(conn, "run", step.run_id)
            if step.target_step_id is not None:
                _require(conn, "step", step.target_step_id)
            _insert(conn, schema.INSERT_STEP, [_columns(step)], f"step {step.step_id!r}")
            _insert(
                conn,
                "INSERT INTO step_files (step_id, path, before_blob, after_blob) "
                "VALUES (?, ?, ?, ?)",
                [(step.step_id, f.path, f.before_blob, f.after_blob) for f in step.files],
                f"a file of step {step.step_id!r}",
            )
            conn.execute(PROMOTE_PENDING_MARK, (step.step_id,))  # from its write-ahead record,
            conn.execute(DELETE_PENDING_STEP, (step.step_id,))  # which goes

    def get_step(self, step_id: str) -> StepRow | None:
        with self._read() as conn:
            row = conn.execute(schema.SELECT_STEP, (step_id,)).fetchone()
            if row is None:
                return None
            files = conn.execute(
                "SELECT path, before_blob, after_blob FROM step_files "
                "WHERE step_id = ? ORDER BY id",
                (step_id,),
            ).fetchall()
        return StepRow(*(*row, tuple(StepFileRow(*f) for f in files)))

    def list_steps(self, limit: int = 50) -> list[StepRow]:
        """The newest ``limit`` steps, newest first, each with its files."""
        _check_limit(limit)
        with self._read() as conn:
            rows = conn.execute(schema.SELECT_NEWEST_STEPS, (limit,)).fetchall()
            files: dict[str, list[StepFileRow]] = {}
            for step_id, path, before, after in conn.execute(
                "SELECT step_id, path, before_blob, after_blob FROM step_files WHERE step_id IN "
                "(SELECT step_id FROM steps ORDER BY seq DESC LIMIT ?) ORDER BY id",
                (limit,),
            ):
                files.setdefault(step_id, []).append(StepFileRow(path, before, after))
        return [StepRow(*(*row, tuple(files.get(row[0], ())))) for row in rows]

    def step_chain(self) -> list[tuple[str, str, str | None]]:
        """``(step_id, kind, target_step_id)`` oldest first, for ``undo_redo_targets``."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT step_id, kind, target_step_id FROM steps ORDER BY seq"
            ).fetchall()
        return [(str(s), str(k), None if t is None else str(t)) for s, k, t in rows]

    # llm requests

    def add_llm_request(self, row: LLMRequestRow) -> None:
        with self._write() as conn:
            if row.run_id is not None:
                _require(conn, "run", row.run_id)
            conn.execute(schema.INSERT_LLM_REQUEST, _columns(row))

    def list_llm_requests(
        self, run_id: str | None = None, limit: int = 1000
    ) -> list[LLMRequestRow]:
        """The newest ``limit`` requests (of one run, when given), newest first."""
        _check_limit(limit)
        with self._read() as conn:
            if run_id is None:
                rows = conn.execute(schema.SELECT_LLM_REQUESTS, (limit,)).fetchall()
            else:
                rows = conn.execute(schema.SELECT_RUN_LLM_REQUESTS, (run_id, limit)).fetchall()
        return [_llm_row(row) for row in rows]

    def usage(self, run_id: str | None = None) -> dict[str, object]:
        """Token and cost totals, also by run, agent and model (camelCase: sent as JSON).

        Groups are listed in the order of their first request; requests outside any run
        appear in ``byRun`` with ``runId`` None.
        """
        with self._read() as conn:
            if run_id is None:
                rows = conn.execute(schema.USAGE).fetchall()
            else:
                rows = conn.execute(schema.RUN_USAGE, (run_id,)).fetchall()
        return fold_usage(rows)

    # plumbing

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SamokoderError(f"the store {self.path} is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        logger.warning("%s: SQLite refused WAL mode (got %r); continuing", path, mode)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def _check_member(what: str, value: str, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise InvalidArgumentError(
            f"unknown {what} {value!r}; expected one of {', '.join(sorted(allowed))}"
        )


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise InvalidArgumentError(f"limit must be at least 1, got {limit}")


def _require(conn: sqlite3.Connection, what: str, key: str) -> None:
    if conn.execute(_EXISTS[what], (key,)).fetchone() is None:
        raise NotFoundError(f"{what} {key!r} does not exist")


def _insert(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]], subject: str) -> None:
    """Insert rows, turning a constraint failure into an error the client can act on."""
    try:
        conn.executemany(sql, rows)
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc):
            raise InvalidArgumentError(f"{subject} already exists (duplicate id or path)") from exc
        raise InvalidArgumentError(f"{subject} was refused by the store: {exc}") from exc


def _columns(row: Any) -> tuple[Any, ...]:
    """A row dataclass as SQL parameters: its fields in declaration order, minus ``files``."""
    return tuple(getattr(row, f.name) for f in fields(row) if f.name != "files")


def _llm_row(row: tuple[Any, ...]) -> LLMRequestRow:
    return LLMRequestRow(*(*row[:7], bool(row[7]), *row[8:11], bool(row[11]), *row[12:15]))
