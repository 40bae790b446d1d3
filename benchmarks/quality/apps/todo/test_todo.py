import sqlite3
import subprocess
import sys

import pytest


@pytest.fixture
def todo(tmp_path):
    db = tmp_path / "todo.db"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "todo", "--db", str(db), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    run.db = db
    return run


def test_add_prints_id_and_list(todo):
    first = todo("add", "buy milk")
    assert first.returncode == 0, first.stderr
    second = todo("add", "call Ann")
    assert int(second.stdout) > int(first.stdout)
    assert todo("list").stdout.splitlines() == [
        f"{first.stdout.strip()}. buy milk",
        f"{second.stdout.strip()}. call Ann",
    ]


def test_database_is_sqlite(todo):
    todo("add", "x")
    with sqlite3.connect(todo.db) as db:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables


def test_due_dates_first(todo):
    a = todo("add", "no date").stdout.strip()
    b = todo("add", "later", "--due", "2030-05-01").stdout.strip()
    c = todo("add", "sooner", "--due", "2030-01-01").stdout.strip()
    assert todo("list").stdout.splitlines() == [
        f"{c}. sooner (due 2030-01-01)",
        f"{b}. later (due 2030-05-01)",
        f"{a}. no date",
    ]


def test_done_and_all(todo):
    a = todo("add", "one").stdout.strip()
    b = todo("add", "two").stdout.strip()
    assert todo("done", a).returncode == 0
    assert todo("list").stdout.splitlines() == [f"{b}. two"]
    assert todo("list", "--all").stdout.splitlines() == [f"{b}. two", f"{a}. [x] one"]


def test_remove_and_ids_not_reused(todo):
    a = todo("add", "one").stdout.strip()
    assert todo("remove", a).returncode == 0
    assert todo("list").stdout == ""
    b = todo("add", "two").stdout.strip()
    assert int(b) > int(a)


def test_errors(todo):
    assert todo("done", "99").returncode == 1
    assert todo("remove", "99").returncode == 1
    bad = todo("add", "x", "--due", "tomorrow")
    assert bad.returncode == 1
    assert bad.stderr.strip()
    assert todo("add", "  ").returncode == 1
    assert todo("list").stdout == ""
