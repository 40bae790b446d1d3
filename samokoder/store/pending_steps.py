"""The write-ahead record of steps: what a step is about to change, stored before it does.

A step writes its row here (with the blob ids of every file before and after)
before it touches a file, and `Store.add_step` deletes it in the transaction that
records the finished step. A row still here when a folder is opened belongs to
a step a dead server left half-done; recovery (`agents/recovery.py`) finishes it
or reports it. A mixin of ``Store``: it uses the store's locked connection.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Any

from samokoder.errors import InvalidArgumentError, NotFoundError
from samokoder.store.rows import STEP_KINDS, StepFileRow, StepRow

INSERT_PENDING_STEP = (
    "INSERT INTO pending_steps (step_id, run_id, kind, target_step_id, agent, summary, "
    "model, tokens, created_at, mark_name, mark_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PENDING_FILE = (
    "INSERT INTO pending_step_files (step_id, path, before_blob, after_blob) VALUES (?, ?, ?, ?)"
)
SELECT_PENDING_STEPS = (
    "SELECT step_id, run_id, kind, target_step_id, agent, summary, model, tokens, created_at "
    "FROM pending_steps WHERE state = 'pending' ORDER BY created_at, step_id"
)
SELECT_PENDING_FILES = (
    "SELECT path, before_blob, after_blob FROM pending_step_files WHERE step_id = ? ORDER BY id"
)
_RUN_EXISTS = "SELECT 1 FROM runs WHERE run_id = ?"
_STEP_EXISTS = "SELECT 1 FROM steps WHERE step_id = ?"
DELETE_PENDING_STEP = "DELETE FROM pending_steps WHERE step_id = ?"
# Run by `Store.add_step` just before DELETE_PENDING_STEP: the mark becomes a run artifact
# in the transaction that records the step, so it exists exactly when the step does.
PROMOTE_PENDING_MARK = (
    "INSERT INTO run_artifacts (run_id, name, body, created_at) "
    "SELECT run_id, mark_name, mark_body, created_at FROM pending_steps "
    "WHERE step_id = ? AND run_id IS NOT NULL AND mark_name IS NOT NULL "
    "ON CONFLICT (run_id, name) DO UPDATE SET body = excluded.body"
)
ABANDON_PENDING_STEP = (
    "UPDATE pending_steps SET state = 'abandoned', note = ? WHERE step_id = ? AND state = 'pending'"
)


class PendingStepLog:
    """Store methods for ``pending_steps``; the store provides the connection."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def plan_step(self, step: StepRow, mark: tuple[str, str] | None = None) -> None:
        """Record a step about to be applied (its `commit_sha` is not known yet).

        Checks what `add_step` will check, so a step that could not be recorded is
        refused before any file changes. `mark` (name, body) becomes an artifact of the
        step's run when, and only when, the step is recorded (e.g. "task 2 accepted").
        """
        if step.kind not in STEP_KINDS or (step.kind == "apply") != (step.target_step_id is None):
            raise InvalidArgumentError(
                f"step {step.step_id!r}: kind {step.kind!r} with target {step.target_step_id!r}"
            )
        with self._write() as conn:
            for sql, key in ((_RUN_EXISTS, step.run_id), (_STEP_EXISTS, step.target_step_id)):
                if key is not None and conn.execute(sql, (key,)).fetchone() is None:
                    raise NotFoundError(f"{key!r} does not exist; the step was not applied")
            conn.execute(
                INSERT_PENDING_STEP,
                (
                    step.step_id,
                    step.run_id,
                    step.kind,
                    step.target_step_id,
                    step.agent,
                    step.summary,
                    step.model,
                    step.tokens,
                    step.created_at,
                    *(mark or (None, None)),
                ),
            )
            conn.executemany(
                INSERT_PENDING_FILE,
                [(step.step_id, f.path, f.before_blob, f.after_blob) for f in step.files],
            )

    def drop_pending_step(self, step_id: str) -> None:
        """The step changed nothing after all (refused, failed before any write)."""
        with self._write() as conn:
            conn.execute(DELETE_PENDING_STEP, (step_id,))

    def abandon_pending_step(self, step_id: str, note: str) -> None:
        """Keep the record, marked as not recoverable, with the reason."""
        with self._write() as conn:
            conn.execute(ABANDON_PENDING_STEP, (note, step_id))

    def pending_steps(self) -> list[StepRow]:
        """Steps planned but neither recorded nor abandoned, oldest first."""
        with self._read() as conn:
            rows = conn.execute(SELECT_PENDING_STEPS).fetchall()
            found = []
            for row in rows:
                files = conn.execute(SELECT_PENDING_FILES, (row[0],)).fetchall()
                found.append(_step(row, files))
        return found


def _step(row: tuple[Any, ...], files: list[tuple[Any, ...]]) -> StepRow:
    step_id, run_id, kind, target, agent, summary, model, tokens, created_at = row
    return StepRow(
        step_id=str(step_id),
        run_id=None if run_id is None else str(run_id),
        kind=str(kind),
        target_step_id=None if target is None else str(target),
        agent=str(agent),
        summary=str(summary),
        commit_sha=None,
        model=str(model),
        tokens=int(tokens),
        created_at=float(created_at),
        files=tuple(
            StepFileRow(str(p), None if b is None else str(b), None if a is None else str(a))
            for p, b, a in files
        ),
    )
