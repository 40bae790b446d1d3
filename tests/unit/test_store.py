"""The workspace store against real SQLite files in tmp_path."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samokoder.errors import InvalidArgumentError, NotFoundError, SamokoderError
from samokoder.store import schema
from samokoder.store.db import Store, undo_redo_targets
from samokoder.store.rows import (
    LLMRequestRow,
    ProposalFileRow,
    ProposalRow,
    RunRow,
    StepFileRow,
    StepRow,
)

NOW = 1_700_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path, clock=lambda: NOW + 100)
    yield opened
    opened.close()


def run_row(run_id: str = "r1", status: str = "running", created_at: float = NOW) -> RunRow:
    return RunRow(run_id, "generate", "add a login page", status, "", None, created_at, None)


def step_row(
    step_id: str,
    kind: str = "apply",
    target: str | None = None,
    run_id: str | None = None,
    files: tuple[StepFileRow, ...] = (),
) -> StepRow:
    return StepRow(
        step_id, run_id, kind, target, "coder", f"{kind} {step_id}", None, "m", 0, NOW, files
    )


def llm_row(
    run_id: str | None, agent: str, model: str, prompt: int, completion: int, cost: float
) -> LLMRequestRow:
    return LLMRequestRow(run_id, agent, model, prompt, completion, cost, 12.5, False, 0, None, NOW)


def groups(usage: dict[str, object], key: str) -> list[dict[str, object]]:
    value = usage[key]
    assert isinstance(value, list)
    return value


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# opening, files, pragmas


def test_open_creates_state_dir_with_gitignore(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        assert store.path == tmp_path / ".samokoder" / "state.db"
        assert store.path.is_file()
    assert (tmp_path / ".samokoder" / ".gitignore").read_text() == "*\n"


def test_open_keeps_an_existing_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".samokoder").mkdir()
    (tmp_path / ".samokoder" / ".gitignore").write_text("state.db\n")
    Store.open(tmp_path).close()
    assert (tmp_path / ".samokoder" / ".gitignore").read_text() == "state.db\n"


def test_open_refuses_a_missing_workspace(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        Store.open(tmp_path / "nope")


def test_wal_mode_and_user_version(store: Store) -> None:
    conn = raw(store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    finally:
        conn.close()
    assert schema.SCHEMA_VERSION == len(schema.MIGRATIONS) >= 1


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [r[0] for r in rows]


def _leading_index_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    leading = set()
    for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
        columns = conn.execute(f"PRAGMA index_info({index[1]})").fetchall()
        leading.add(min(columns)[2])  # seqno 0 is the leading column
    return leading


def test_every_foreign_key_column_is_indexed(store: Store) -> None:
    conn = raw(store.path)
    try:
        tables = _tables(conn)
        assert set(tables) >= {
            "runs",
            "proposals",
            "proposal_files",
            "steps",
            "step_files",
            "llm_requests",
        }
        checked = 0
        for table in tables:
            indexed = _leading_index_columns(conn, table)
            for fk in conn.execute(f"PRAGMA foreign_key_list({table})").fetchall():
                assert fk[3] in indexed, f"{table}.{fk[3]} has no index"
                checked += 1
        assert checked == 11  # 7, + command_runs (1), + pending_steps (2) and files (1)
        assert "created_at" in _leading_index_columns(conn, "steps")
    finally:
        conn.close()


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(NotFoundError, match="run 'ghost'"):
        store.create_proposal(ProposalRow("p1", "ghost", "t", "pending", NOW, ()))
    with pytest.raises(NotFoundError, match="step 'ghost'"):
        store.add_step(step_row("s1", "undo", "ghost"))
    with pytest.raises(NotFoundError, match="run 'ghost'"):
        store.add_llm_request(llm_row("ghost", "coder", "m", 1, 1, 0.1))


def test_reopening_keeps_data(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.create_run(run_row())
        store.add_step(step_row("s1", run_id="r1", files=(StepFileRow("a.py", None, "abc"),)))
    with Store.open(tmp_path) as store:
        assert store.get_run("r1") == run_row()
        step = store.get_step("s1")
        assert step is not None
        assert step.files == (StepFileRow("a.py", None, "abc"),)


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    path = tmp_path / ".samokoder" / "state.db"
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SamokoderError, match="newer Samokoder"):
        Store.open(tmp_path)
    conn = raw(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION + 1
    finally:
        conn.close()


def test_corrupt_file_gives_a_samokoder_error(tmp_path: Path) -> None:
    (tmp_path / ".samokoder").mkdir()
    (tmp_path / ".samokoder" / "state.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SamokoderError, match="cannot open"):
        Store.open(tmp_path)


def test_closed_store_raises_and_close_is_idempotent(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    store.close()
    with pytest.raises(SamokoderError, match="closed"):
        store.get_run("r1")


# migrations


def test_older_database_gets_missing_migrations(tmp_path: Path) -> None:
    v1 = "CREATE TABLE a (x INTEGER);"
    v2 = "ALTER TABLE a ADD COLUMN y TEXT; CREATE INDEX a_by_y ON a(y);"
    conn = raw(tmp_path / "m.db")
    try:
        assert schema.migrate(conn, [v1]) == 1
        conn.execute("INSERT INTO a (x) VALUES (7)")
        assert schema.migrate(conn, [v1, v2]) == 2
        assert schema.user_version(conn) == 2
        assert conn.execute("SELECT x, y FROM a").fetchall() == [(7, None)]
        assert schema.migrate(conn, [v1, v2]) == 2  # idempotent
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()


def test_failing_migration_changes_nothing(tmp_path: Path) -> None:
    conn = raw(tmp_path / "m.db")
    try:
        schema.migrate(conn, ["CREATE TABLE a (x INTEGER);"])
        broken = "CREATE TABLE b (y INTEGER); INSERT INTO missing VALUES (1);"
        with pytest.raises(sqlite3.OperationalError):
            schema.migrate(conn, ["CREATE TABLE a (x INTEGER);", broken])
        assert schema.user_version(conn) == 1
        assert _tables(conn) == ["a"]
        assert not conn.in_transaction
    finally:
        conn.close()


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    script = """
    CREATE TABLE t (x);
    CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN UPDATE t SET x = 1; SELECT 2; END;
    -- a comment;
    """
    statements = schema.split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


# runs


def test_run_round_trip_and_update(store: Store) -> None:
    store.create_run(run_row())
    assert store.get_run("r1") == run_row()
    assert store.get_run("nope") is None

    store.update_run("r1", status="awaiting_review", summary="2 files")
    store.update_run("r1", status="failed", error="boom", finished=True)
    assert store.get_run("r1") == RunRow(
        "r1", "generate", "add a login page", "failed", "2 files", "boom", NOW, NOW + 100
    )


def test_run_errors(store: Store) -> None:
    store.create_run(run_row())
    with pytest.raises(InvalidArgumentError, match="already exists"):
        store.create_run(run_row())
    with pytest.raises(InvalidArgumentError, match="unknown run status 'done'"):
        store.update_run("r1", status="done")
    with pytest.raises(InvalidArgumentError, match="unknown run status"):
        store.create_run(run_row("r2", status="weird"))
    with pytest.raises(NotFoundError, match="run 'r9'"):
        store.update_run("r9", status="failed")
    assert store.get_run("r2") is None


def test_mark_interrupted(store: Store) -> None:
    for run_id, status in [
        ("a", "running"),
        ("b", "awaiting_review"),
        ("c", "succeeded"),
        ("d", "failed"),
    ]:
        store.create_run(run_row(run_id, status))
    store.update_run("b", status="awaiting_review", error="kept")
    assert store.mark_interrupted() == ["a", "b"]
    a, b, c = store.get_run("a"), store.get_run("b"), store.get_run("c")
    assert a is not None and b is not None and c is not None
    assert (a.status, a.finished_at) == ("interrupted", NOW + 100)
    assert a.error is not None and "stopped" in a.error
    assert (b.status, b.error) == ("interrupted", "kept")
    assert c.status == "succeeded" and c.finished_at is None
    assert store.mark_interrupted() == []


# proposals


def test_proposal_round_trip_keeps_file_order(store: Store) -> None:
    store.create_run(run_row())
    files = (
        ProposalFileRow("z.py", "modify", 3, 1),
        ProposalFileRow("a.py", "create", 10, 0),
        ProposalFileRow("m/old.py", "delete", 0, 7),
    )
    proposal = ProposalRow("p1", "r1", "Add login", "pending", NOW, files)
    store.create_proposal(proposal)
    assert store.get_proposal("p1") == proposal
    store.set_proposal_status("p1", "partially_accepted")
    got = store.get_proposal("p1")
    assert got is not None and got.status == "partially_accepted" and got.files == files
    assert store.get_proposal("p2") is None


def test_proposal_errors_leave_nothing_behind(store: Store) -> None:
    store.create_run(run_row())
    duplicate_paths = (ProposalFileRow("a.py", "modify", 1, 1),) * 2
    with pytest.raises(InvalidArgumentError, match="a file of proposal 'p1'"):
        store.create_proposal(ProposalRow("p1", "r1", "t", "pending", NOW, duplicate_paths))
    assert store.get_proposal("p1") is None
    with pytest.raises(InvalidArgumentError, match="unknown proposal status"):
        store.create_proposal(ProposalRow("p1", "r1", "t", "open", NOW, ()))
    with pytest.raises(NotFoundError, match="proposal 'p9'"):
        store.set_proposal_status("p9", "accepted")
    store.create_proposal(ProposalRow("p1", "r1", "t", "pending", NOW, ()))
    with pytest.raises(InvalidArgumentError, match="unknown proposal status"):
        store.set_proposal_status("p1", "maybe")


# steps


def test_step_round_trip(store: Store) -> None:
    store.create_run(run_row())
    files = (
        StepFileRow("new.py", None, "b" * 40),
        StepFileRow("gone.py", "c" * 40, None),
        StepFileRow("changed.py", "d" * 40, "e" * 40),
    )
    step = StepRow(
        "s1", "r1", "apply", None, "coder", "wrote it", "f" * 40, "gpt", 1234, NOW, files
    )
    store.add_step(step)
    undo = StepRow("s2", None, "undo", "s1", "user", "undo s1", None, "", 0, NOW)
    store.add_step(undo)
    assert store.get_step("s1") == step
    assert store.get_step("s2") == undo
    assert store.get_step("s3") is None


def test_step_validation(store: Store) -> None:
    store.add_step(step_row("s1"))
    with pytest.raises(InvalidArgumentError, match="already exists"):
        store.add_step(step_row("s1"))
    with pytest.raises(InvalidArgumentError, match="apply step has no target"):
        store.add_step(step_row("s2", "apply", "s1"))
    with pytest.raises(InvalidArgumentError, match="must name the step"):
        store.add_step(step_row("s2", "undo", None))
    with pytest.raises(InvalidArgumentError, match="unknown step kind"):
        store.add_step(step_row("s2", "revert", "s1"))
    assert [s.step_id for s in store.list_steps()] == ["s1"]


def test_list_steps_newest_first_with_files_and_limit(store: Store) -> None:
    for i in range(5):  # all share one timestamp: order must come from insertion
        store.add_step(step_row(f"s{i}", files=(StepFileRow(f"f{i}.py", None, f"{i}" * 40),)))
    steps = store.list_steps(limit=3)
    assert [s.step_id for s in steps] == ["s4", "s3", "s2"]
    assert [s.files[0].path for s in steps] == ["f4.py", "f3.py", "f2.py"]
    assert len(store.list_steps()) == 5
    with pytest.raises(InvalidArgumentError):
        store.list_steps(limit=0)


def test_step_chain_drives_undo_redo(store: Store) -> None:
    assert store.step_chain() == []
    assert undo_redo_targets(store.step_chain()) == (None, None)
    store.add_step(step_row("a"))
    store.add_step(step_row("b"))
    store.add_step(step_row("u1", "undo", "b"))
    assert store.step_chain() == [("a", "apply", None), ("b", "apply", None), ("u1", "undo", "b")]
    assert undo_redo_targets(store.step_chain()) == ("a", "b")
    store.add_step(step_row("r1", "redo", "b"))
    assert undo_redo_targets(store.step_chain()) == ("b", None)


# undo/redo replay


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ([], (None, None)),
        ([("a", "apply", None)], ("a", None)),
        ([("a", "apply", None), ("b", "apply", None)], ("b", None)),
        ([("a", "apply", None), ("u1", "undo", "a")], (None, "a")),
        ([("a", "apply", None), ("b", "apply", None), ("u1", "undo", "b")], ("a", "b")),
        (
            [("a", "apply", None), ("b", "apply", None), ("u1", "undo", "b"), ("u2", "undo", "a")],
            (None, "a"),
        ),
        (
            [
                ("a", "apply", None),
                ("b", "apply", None),
                ("u1", "undo", "b"),
                ("u2", "undo", "a"),
                ("r1", "redo", "a"),
            ],
            ("a", "b"),
        ),
        (
            [
                ("a", "apply", None),
                ("b", "apply", None),
                ("u1", "undo", "b"),
                ("u2", "undo", "a"),
                ("r1", "redo", "a"),
                ("r2", "redo", "b"),
            ],
            ("b", None),
        ),
        # a new apply clears the redo stack
        (
            [("a", "apply", None), ("u1", "undo", "a"), ("c", "apply", None)],
            ("c", None),
        ),
        (
            [
                ("a", "apply", None),
                ("b", "apply", None),
                ("u1", "undo", "b"),
                ("c", "apply", None),
                ("u2", "undo", "c"),
            ],
            ("a", "c"),
        ),
        # undo after redo targets the original step again
        (
            [("a", "apply", None), ("u1", "undo", "a"), ("r1", "redo", "a"), ("u2", "undo", "a")],
            (None, "a"),
        ),
        # inconsistent: target not on top is removed wherever it is
        ([("a", "apply", None), ("b", "apply", None), ("u1", "undo", "a")], ("b", "a")),
        (
            [
                ("a", "apply", None),
                ("b", "apply", None),
                ("u1", "undo", "b"),
                ("u2", "undo", "a"),
                ("r1", "redo", "b"),
            ],
            ("b", "a"),
        ),
        # inconsistent: acting on something not on the stack changes nothing
        ([("a", "apply", None), ("u1", "undo", "zz")], ("a", None)),
        ([("a", "apply", None), ("u1", "undo", "a"), ("u2", "undo", "a")], (None, "a")),
        ([("a", "apply", None), ("r1", "redo", "a")], ("a", None)),
        ([("a", "apply", None), ("u1", "undo", None), ("x", "weird", "a")], ("a", None)),
    ],
)
def test_undo_redo_targets(
    chain: list[tuple[str, str, str | None]], expected: tuple[str | None, str | None]
) -> None:
    assert undo_redo_targets(chain) == expected


@given(st.lists(st.sampled_from(["apply", "undo", "redo"]), max_size=30))
def test_undo_redo_replay_matches_a_consistent_session(actions: list[str]) -> None:
    """Drive a well-behaved client (it only undoes/redoes what is offered) and compare."""
    chain: list[tuple[str, str, str | None]] = []
    done: list[str] = []
    redo: list[str] = []
    for n, action in enumerate(actions):
        undo_next, redo_next = undo_redo_targets(chain)
        assert undo_next == (done[-1] if done else None)
        assert redo_next == (redo[-1] if redo else None)
        if action == "apply":
            chain.append((f"s{n}", "apply", None))
            done.append(f"s{n}")
            redo.clear()
        elif action == "undo" and undo_next is not None:
            chain.append((f"s{n}", "undo", undo_next))
            redo.append(done.pop())
        elif action == "redo" and redo_next is not None:
            chain.append((f"s{n}", "redo", redo_next))
            done.append(redo.pop())
    assert undo_redo_targets(chain) == (done[-1] if done else None, redo[-1] if redo else None)


# llm requests and usage


def test_llm_request_round_trip(store: Store) -> None:
    store.create_run(run_row())
    first = LLMRequestRow("r1", "planner", "gpt", 100, 20, 0.25, 812.5, True, 2, None, NOW)
    second = LLMRequestRow(None, "chat", "claude", 5, 6, 0.0, 1.0, False, 0, "RateLimitError", NOW)
    store.add_llm_request(first)
    store.add_llm_request(second)
    assert store.list_llm_requests() == [second, first]
    assert store.list_llm_requests(run_id="r1") == [first]
    assert store.list_llm_requests(limit=1) == [second]
    assert isinstance(store.list_llm_requests()[1].cache_hit, bool)


def test_usage_aggregation(store: Store) -> None:
    store.create_run(run_row("r1"))
    store.create_run(run_row("r2"))
    for row in [
        llm_row("r1", "planner", "gpt", 100, 10, 0.5),
        llm_row("r1", "coder", "gpt", 200, 50, 1.0),
        llm_row("r1", "coder", "claude", 300, 60, 2.0),
        llm_row("r2", "coder", "gpt", 400, 70, 0.25),
        llm_row(None, "chat", "claude", 1, 2, 0.125),
    ]:
        store.add_llm_request(row)

    usage = store.usage()
    assert usage["total"] == {
        "promptTokens": 1001,
        "completionTokens": 192,
        "costUsd": pytest.approx(3.875),
        "requests": 5,
    }
    assert usage["byRun"] == [
        {
            "runId": "r1",
            "promptTokens": 600,
            "completionTokens": 120,
            "costUsd": 3.5,
            "requests": 3,
        },
        {
            "runId": "r2",
            "promptTokens": 400,
            "completionTokens": 70,
            "costUsd": 0.25,
            "requests": 1,
        },
        {"runId": None, "promptTokens": 1, "completionTokens": 2, "costUsd": 0.125, "requests": 1},
    ]
    assert usage["byAgent"] == [
        {
            "agent": "planner",
            "promptTokens": 100,
            "completionTokens": 10,
            "costUsd": 0.5,
            "requests": 1,
        },
        {
            "agent": "coder",
            "promptTokens": 900,
            "completionTokens": 180,
            "costUsd": 3.25,
            "requests": 3,
        },
        {
            "agent": "chat",
            "promptTokens": 1,
            "completionTokens": 2,
            "costUsd": 0.125,
            "requests": 1,
        },
    ]
    assert usage["byModel"] == [
        {
            "model": "gpt",
            "promptTokens": 700,
            "completionTokens": 130,
            "costUsd": 1.75,
            "requests": 3,
        },
        {
            "model": "claude",
            "promptTokens": 301,
            "completionTokens": 62,
            "costUsd": 2.125,
            "requests": 2,
        },
    ]

    only_r1 = store.usage("r1")
    assert only_r1["total"] == {
        "promptTokens": 600,
        "completionTokens": 120,
        "costUsd": 3.5,
        "requests": 3,
    }
    assert [g["runId"] for g in groups(only_r1, "byRun")] == ["r1"]
    assert [(g["agent"], g["requests"]) for g in groups(only_r1, "byAgent")] == [
        ("planner", 1),
        ("coder", 2),
    ]
    assert [(g["model"], g["promptTokens"]) for g in groups(only_r1, "byModel")] == [
        ("gpt", 300),
        ("claude", 300),
    ]


def test_usage_of_empty_store(store: Store) -> None:
    assert store.usage() == {
        "total": {"promptTokens": 0, "completionTokens": 0, "costUsd": 0.0, "requests": 0},
        "byRun": [],
        "byAgent": [],
        "byModel": [],
    }
    assert store.usage("nope")["byRun"] == []


# threads


def test_concurrent_writes_from_threads_all_land(store: Store) -> None:
    start = threading.Barrier(8)

    def work(worker: int) -> None:
        start.wait()
        for i in range(50):
            run_id = f"w{worker}-{i}"
            store.create_run(run_row(run_id))
            store.add_llm_request(llm_row(run_id, f"agent{worker}", "m", 1, 2, 0.5))
            store.update_run(run_id, status="succeeded", finished=True)
            assert store.get_run(run_id) is not None

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(work, w) for w in range(8)]:
            future.result()

    usage = store.usage()
    assert usage["total"] == {
        "promptTokens": 400,
        "completionTokens": 800,
        "costUsd": 200.0,
        "requests": 400,
    }
    assert len(groups(usage, "byRun")) == 400
    assert store.mark_interrupted() == []  # every run reached "succeeded"


def test_two_stores_on_one_file_share_writes(tmp_path: Path) -> None:
    """Two server processes on one workspace: busy_timeout serialises their writers."""
    with Store.open(tmp_path) as one, Store.open(tmp_path) as two:

        def work(store: Store, prefix: str) -> None:
            for i in range(50):
                store.add_step(step_row(f"{prefix}{i}"))

        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(work, one, "a"), pool.submit(work, two, "b")]
            for future in futures:
                future.result()
        assert len(one.step_chain()) == len(two.step_chain()) == 100


def test_run_artifacts_round_trip_and_replace(store: Store) -> None:
    store.create_run(RunRow("r-art", "generate", "d", "running", "", None, 1.0, None))
    store.put_artifact("r-art", "plan", '{"tasks": []}')
    store.put_artifact("r-art", "task:1", "accepted")
    store.put_artifact("r-art", "plan", '{"tasks": [1]}')
    assert store.artifacts("r-art") == {"plan": '{"tasks": [1]}', "task:1": "accepted"}
    assert store.artifacts("r-other") == {}
    with pytest.raises(NotFoundError):
        store.put_artifact("ghost", "plan", "{}")
