"""The command log: one row per command an agent proposed, whether it ran or not.

A mixin of ``Store`` (it uses the store's locked connection), kept apart so the
store module stays about runs, proposals and steps.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal, get_args

from samokoder.errors import InvalidArgumentError

CommandStatus = Literal[
    "ran", "skipped", "refused", "timeout", "cancelled", "output_limit", "error"
]
COMMAND_STATUSES: frozenset[str] = frozenset(get_args(CommandStatus))

INSERT_COMMAND_RUN = (
    "INSERT INTO command_runs (run_id, command, argv, cwd, status, exit_code, duration_ms, "
    "output, truncated_bytes, sandboxed, message, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = (
    "SELECT id, run_id, command, argv, cwd, status, exit_code, duration_ms, output, "
    "truncated_bytes, sandboxed, message, created_at FROM command_runs "
)
SELECT_COMMAND_RUNS = _COLUMNS + "ORDER BY id DESC LIMIT ?"
SELECT_RUN_COMMAND_RUNS = _COLUMNS + "WHERE run_id = ? ORDER BY id DESC LIMIT ?"


@dataclass(frozen=True)
class CommandRunRow:
    """``cwd`` is workspace-relative ("" for the folder itself); ``output`` already capped."""

    run_id: str | None
    command: str
    argv: tuple[str, ...]
    cwd: str
    status: str
    exit_code: int | None
    duration_ms: float
    output: str
    truncated_bytes: int
    sandboxed: bool
    message: str
    created_at: float
    id: int | None = None


class CommandRunLog:
    """Store methods for ``command_runs``; the store provides the connection."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def add_command_run(self, row: CommandRunRow) -> int:
        """Record a command; a run id that does not exist (any more) is stored as None."""
        if row.status not in COMMAND_STATUSES:
            raise InvalidArgumentError(f"unknown command status {row.status!r}")
        with self._write() as conn:
            run_id = row.run_id
            if (
                run_id is not None
                and conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                is None
            ):
                run_id = None
            cursor = conn.execute(
                INSERT_COMMAND_RUN,
                (
                    run_id,
                    row.command,
                    json.dumps(list(row.argv)),
                    row.cwd,
                    row.status,
                    row.exit_code,
                    row.duration_ms,
                    row.output,
                    row.truncated_bytes,
                    int(row.sandboxed),
                    row.message,
                    row.created_at,
                ),
            )
            return int(cursor.lastrowid or 0)

    def list_command_runs(self, run_id: str | None = None, limit: int = 50) -> list[CommandRunRow]:
        """The newest ``limit`` commands (of one run, when given), newest first."""
        if limit < 1:
            raise InvalidArgumentError(f"limit must be at least 1, got {limit}")
        with self._read() as conn:
            if run_id is None:
                rows = conn.execute(SELECT_COMMAND_RUNS, (limit,)).fetchall()
            else:
                rows = conn.execute(SELECT_RUN_COMMAND_RUNS, (run_id, limit)).fetchall()
        return list(_rows(rows))


def _rows(rows: list[tuple[object, ...]]) -> Iterator[CommandRunRow]:
    for ident, run, command, argv, cwd, status, code, ms, output, dropped, sbx, msg, at in rows:
        yield CommandRunRow(
            run_id=None if run is None else str(run),
            command=str(command),
            argv=tuple(json.loads(str(argv))),
            cwd=str(cwd),
            status=str(status),
            exit_code=None if code is None else int(str(code)),
            duration_ms=float(str(ms)),
            output=str(output),
            truncated_bytes=int(str(dropped)),
            sandboxed=bool(sbx),
            message=str(msg),
            created_at=float(str(at)),
            id=int(str(ident)),
        )
