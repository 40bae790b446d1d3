"""Parse workers (issue 13): a large first scan read by worker processes finds what one thread does.

The pool's threshold and batch size are lowered so that a small tree goes through
real worker processes in several batches. Symbols need the tree-sitter grammar
wheels; without them both sides find none, and the comparisons still hold.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from samokoder.workspace import parse_pool, repo_map, symbols
from samokoder.workspace.confinement import IgnoreMatcher, Workspace

LIMIT = 4096
SOURCES = {
    "src/app.py": "MAX = 1\n\nclass Store:\n    def add(self): pass\n\ndef serve(): pass\n",
    "web/api.ts": "export interface Invoice { id: string }\nexport class Client { send() {} }\n",
    "cmd/main.go": "package main\n\ntype Server struct{}\n\nfunc (s *Server) Start() {}\n",
    "core/lib.rs": "pub struct Engine;\nimpl Engine { pub fn run(&self) {} }\n",
    "app/Main.java": "class Main {\n  void run() {}\n}\n",
    "docs/notes.md": "# Notes\n",
}


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    repo_map.clear_caches()
    yield
    repo_map.clear_caches()


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for any number of files, two of them, three files a batch."""
    monkeypatch.setattr(parse_pool, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(parse_pool, "WORKERS", 2)
    monkeypatch.setattr(parse_pool, "BATCH_FILES", 3)


def make_tree(root: Path) -> None:
    """Each language several times, plus files a scan lists without symbols or leaves out."""
    for copy in range(3):
        for rel, text in SOURCES.items():
            path = root / f"v{copy}" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("Store", f"Store{copy}"))
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (root / "big.txt").write_text("x" * (LIMIT + 1))


def items_of(root: Path) -> list[tuple[str, parse_pool.Stamp]]:
    items = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        info = path.stat()
        items.append((path.relative_to(root).as_posix(), (info.st_mtime_ns, info.st_size)))
    items.append(("gone.py", (1, 10)))  # listed, then deleted before it was read
    return items


def serial(root: Path, items: list[tuple[str, parse_pool.Stamp]]) -> list[Any]:
    return [(rel, stamp, parse_pool._facts(str(root), rel, stamp, LIMIT)) for rel, stamp in items]


@pytest.mark.usefixtures("pooled")
def test_workers_find_what_the_calling_thread_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    items = items_of(tmp_path)
    spawned = spy_on_workers(monkeypatch)
    found = list(parse_pool.analyze(str(tmp_path), items, LIMIT))
    assert found == serial(tmp_path, items)
    assert len(spawned) == 2  # they did the reading
    by_path = {rel: facts for rel, _, facts in found}
    assert by_path["gone.py"] is None  # unreadable: not remembered, tried again next scan
    assert by_path["big.txt"] == ("too_large", 0, None, ())
    assert by_path["logo.png"].status == "binary"
    assert by_path["latin1.txt"].status == "undecodable"
    if symbols.has_symbol_support("python"):
        assert by_path["v1/src/app.py"].symbols == ("MAX", "Store1", "Store1.add", "serve")


def spy_on_workers(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[str]]:
    """The processes started from now on (in these tests: only parse workers)."""
    started: list[subprocess.Popen[str]] = []
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        assert "OPENAI_API_KEY" in os.environ and "OPENAI_API_KEY" not in kwargs["env"]
        proc = real(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-passed-on")  # DESIGN §7

    monkeypatch.setattr(subprocess, "Popen", popen)
    return started


@pytest.mark.usefixtures("pooled")
def test_a_scan_through_workers_equals_one_in_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    make_tree(root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    ws = Workspace.at(root)
    through_workers = repo_map.scan_workspace(ws, IgnoreMatcher(ws.root), max_file_bytes=LIMIT)
    repo_map.clear_caches()
    monkeypatch.setattr(parse_pool, "WORKERS", 1)
    in_thread = repo_map.scan_workspace(ws, IgnoreMatcher(ws.root), max_file_bytes=LIMIT)
    assert through_workers.entries == in_thread.entries
    assert (
        through_workers.skipped
        == in_thread.skipped
        == {"binary": 1, "excluded_dir": 1, "too_large": 1, "undecodable": 1}  # .git/
    )


ANSWERS_FIRST_BATCH_ONLY = (
    "import json, sys; sys.path[:0] = sys.argv[1:]; from {0} import _facts; "
    "root, limit, batches = json.load(sys.stdin); "
    "print(json.dumps([_facts(root, r, tuple(s), limit) for r, s in batches[0]]))"
)


@pytest.mark.usefixtures("pooled")
@pytest.mark.parametrize(
    ("executable", "code"),
    [
        ("/nonexistent/python", parse_pool._WORKER),  # cannot start
        (None, "import sys"),  # exits without a word
        (None, "print('not json')"),
        (None, "print('[1, 2, 3]')"),  # JSON, but not facts
        (None, ANSWERS_FIRST_BATCH_ONLY),  # stops half-way: the rest is read here
    ],
)
def test_workers_that_fail_leave_the_reading_to_the_caller(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    executable: str | None,
    code: str,
) -> None:
    make_tree(tmp_path)
    items = items_of(tmp_path)
    if executable is not None:
        monkeypatch.setattr(parse_pool.sys, "executable", executable)
    monkeypatch.setattr(parse_pool, "_WORKER", code)
    with caplog.at_level(logging.WARNING, logger=parse_pool.__name__):
        found = list(parse_pool.analyze(str(tmp_path), items, LIMIT))
    assert found == serial(tmp_path, items)
    assert "parse workers failed" in caplog.text


@pytest.mark.usefixtures("pooled")
def test_a_caller_that_stops_early_leaves_no_worker_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    spawned = spy_on_workers(monkeypatch)
    results = parse_pool.analyze(str(tmp_path), items_of(tmp_path), LIMIT)
    next(results)
    assert len(spawned) == 2
    results.close()
    assert all(proc.returncode is not None for proc in spawned)


def test_few_files_are_read_in_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    spawned = spy_on_workers(monkeypatch)
    items = items_of(tmp_path)
    assert list(parse_pool.analyze(str(tmp_path), items, LIMIT)) == serial(tmp_path, items)
    assert spawned == []  # far fewer than POOL_MIN_FILES


def test_a_worker_answers_one_json_line_per_batch(tmp_path: Path) -> None:
    make_tree(tmp_path)
    items = items_of(tmp_path)
    batches = [items[:2], items[2:]]
    out = io.StringIO()
    parse_pool.serve(io.StringIO(json.dumps([str(tmp_path), LIMIT, batches])), out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    answers = [parse_pool._from_json(answer) for line in lines for answer in json.loads(line)]
    assert answers == [(stamp, facts) for _, stamp, facts in serial(tmp_path, items)]


def test_files_listed_without_a_stamp_get_the_stamp_of_what_was_read(tmp_path: Path) -> None:
    """A first scan does not stat what it lists: the reader does, and says what it saw."""
    make_tree(tmp_path)
    stamped = items_of(tmp_path)
    unstamped = [(rel, None) for rel, _ in stamped]
    out = io.StringIO()
    parse_pool.serve(io.StringIO(json.dumps([str(tmp_path), LIMIT, [unstamped]])), out)
    through_worker = [parse_pool._from_json(answer) for answer in json.loads(out.getvalue())]
    in_thread = [(s, f) for _, s, f in parse_pool.analyze(str(tmp_path), unstamped, LIMIT)]
    expected = [(stamp, facts) for _, stamp, facts in serial(tmp_path, stamped)]
    expected[-1] = (None, None)  # gone.py: never read, so no stamp either
    assert through_worker == in_thread == expected


@pytest.fixture
def collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


@pytest.mark.usefixtures("collector")
def test_a_large_scan_is_frozen_and_collection_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    gc.unfreeze()
    gc.collect()  # the count of new objects starts at 0
    monkeypatch.setattr(parse_pool, "FREEZE_AFTER", 1000)
    with parse_pool.collector_paused():
        assert not gc.isenabled()
        small = [[i] for i in range(10)]
    assert gc.isenabled() and gc.get_freeze_count() == 0  # few objects: collected as usual
    with parse_pool.collector_paused():
        kept = [[i] for i in range(5000)]  # lists are tracked by the collector
    assert gc.isenabled() and gc.get_freeze_count() >= len(kept)
    assert len(small) == 10  # alive until here, so counted while paused


@pytest.mark.usefixtures("collector")
def test_a_pause_inside_a_pause_leaves_resuming_to_the_outer_one() -> None:
    gc.disable()  # as while litellm loads (llm.runtime)
    with parse_pool.collector_paused():
        pass
    assert not gc.isenabled()
