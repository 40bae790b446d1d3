"""The file index behind the map (issue 13): no file cap, rescans and refreshes, indexed search."""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from samokoder.workspace import (
    file_index,
    file_index_store,
    map_ranking,
    parse_pool,
    repo_map,
    symbols,
)
from samokoder.workspace.confinement import IgnoreMatcher, Workspace
from samokoder.workspace.map_ranking import FileEntry, RepoMap
from samokoder.workspace.map_search import TermIndex, relevant_files
from samokoder.workspace.repo_map import refresh_workspace, scan_workspace


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    repo_map.clear_caches()
    yield
    repo_map.clear_caches()


def make_tree(root: Path) -> tuple[Workspace, IgnoreMatcher]:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def serve():\n    pass\n")
    (root / "src" / "util.py").write_text("def slugify(s):\n    return s\n")
    (root / ".gitignore").write_text("*.log\nbuild_out/\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    ws = Workspace.at(root)
    return ws, IgnoreMatcher(ws.root)


def paths(repo: RepoMap) -> list[str]:
    return [e.path for e in repo.entries]


def bump(path: Path, text: str, stamp: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(stamp, stamp))  # a distinct mtime even on coarse clocks


@pytest.mark.parametrize("told", [False, True], ids=["full rescan", "refresh told which"])
def test_changed_added_deleted_and_ignored_files_are_seen(tmp_path: Path, told: bool) -> None:
    ws, ignore = make_tree(tmp_path / "ws")
    root = ws.root
    first = scan_workspace(ws, ignore)
    assert paths(first) == [".gitignore", "src/app.py", "src/util.py"]

    def rescan(*changed: str) -> RepoMap:
        if told:
            return refresh_workspace(ws, ignore, changed)
        return scan_workspace(ws, ignore)

    bump(root / "src" / "app.py", "def serve():\n    pass\n\ndef stop():\n    pass\n", 1)
    (root / "src" / "new_mod.py").write_text("class Fresh:\n    pass\n")
    (root / "src" / "util.py").unlink()
    (root / "run.log").write_text("ignored\n")
    (root / "lib" / "deep").mkdir(parents=True)
    (root / "lib" / "deep" / "core.py").write_text("def core():\n    pass\n")
    (root / ".env.local").write_text("KEY=v\n")
    after = rescan("src/app.py", "src/new_mod.py", "src/util.py", "run.log", "lib", ".env.local")
    assert paths(after) == [".gitignore", "lib/deep/core.py", "src/app.py", "src/new_mod.py"]
    assert next(e for e in after.entries if e.path == "src/app.py").lines == 5
    assert after.skipped.get("ignored") == 1 and after.skipped.get("secret") == 1
    assert relevant_files(after, "the Fresh class")[:1] == ["src/new_mod.py"]
    assert relevant_files(after, "slugify breaks") == []  # deleted: gone from the index too
    assert relevant_files(after, "core is slow")[:1] == ["lib/deep/core.py"]

    (root / "lib" / "deep" / "core.py").unlink()
    (root / "lib" / "deep").rmdir()
    (root / "lib").rmdir()
    gone = rescan("lib")
    assert paths(gone) == [".gitignore", "src/app.py", "src/new_mod.py"]
    assert relevant_files(gone, "core is slow") == []
    assert gone == scan_workspace(ws, ignore)  # the refresh agrees with a full walk
    for repo in (after, gone):  # the order kept for render_map follows every change
        assert repo.ranked == tuple(sorted(repo.entries, key=map_ranking.rank_key))


def test_refresh_keeps_out_what_the_walk_keeps_out(tmp_path: Path) -> None:
    ws, ignore = make_tree(tmp_path / "ws")
    root = ws.root
    scan_workspace(ws, ignore)
    (root / "build_out").mkdir()
    (root / "build_out" / "gen.py").write_text("x = 1\n")
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / "node_modules" / "dep" / "index.js").write_text("function dep() {}\n")
    (root / "link.py").symlink_to(root / "src" / "app.py")
    (tmp_path / "outside.py").write_text("def outside(): pass\n")
    changed = ["build_out/gen.py", "node_modules/dep/index.js", "link.py", "nope.py"]
    changed += ["../outside.py", str(tmp_path / "outside.py"), ".git/config", str(root / "src")]
    told = refresh_workspace(ws, ignore, changed)
    assert paths(told) == [".gitignore", "src/app.py", "src/util.py"]
    assert told.skipped == {"excluded_dir": 1, "symlink": 1}  # .git, from the first scan
    assert paths(scan_workspace(ws, ignore)) == paths(told)


def test_unchanged_rescan_returns_the_same_map(tmp_path: Path) -> None:
    ws, ignore = make_tree(tmp_path / "ws")
    first = scan_workspace(ws, ignore)
    assert scan_workspace(ws, ignore) is first
    assert refresh_workspace(ws, ignore, ["src/app.py"]) is first


def test_scan_of_2000_files(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for i in range(2000):
        folder = root / f"pkg{i % 40}" / f"mod{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file_{i}.py").write_text(
            f"CONST_{i} = {i}\n\nclass Thing{i}:\n    def go(self):\n        return {i}\n\n"
            f"def helper_{i}():\n    return Thing{i}()\n" * 5
        )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    ws = Workspace.at(root)
    ignore = IgnoreMatcher(ws.root)
    started = time.perf_counter()
    cold = scan_workspace(ws, ignore)
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    warm = scan_workspace(ws, ignore)
    warm_s = time.perf_counter() - started
    assert len(cold.entries) == 2000 and warm == cold
    print(f"2000 files: cold {cold_s * 1000:.0f} ms, warm {warm_s * 1000:.0f} ms")


def test_files_past_the_5000th_are_listed_and_found(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for i in range(6000):
        folder = root / f"pkg{i % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note_{i}.txt").write_text(f"note {i}\n")
    ws = Workspace.at(root)
    repo = scan_workspace(ws, IgnoreMatcher(ws.root))
    assert len(repo.entries) == 6000 and "limit" not in repo.skipped
    assert relevant_files(repo, "see note_5999 please")[:1] == ["pkg19/note_5999.txt"]


# --- the indexed search gives what scoring every file gives --------------------------


WORDS = ["invoice", "render", "user", "store", "engine", "cache", "server", "start", "total"]


def random_entry(rng: random.Random, i: int) -> FileEntry:
    folders = [
        rng.choice([*WORDS, "src", "lib", "my-app", "Engine"]) for _ in range(rng.randint(0, 3))
    ]
    stem = rng.choice(WORDS) + rng.choice(["", "_store", "Cache", str(i)])
    path = "/".join([*folders, f"{stem}{i % 3}.{rng.choice(['py', 'ts', 'go'])}"])
    names: list[str] = []
    for _ in range(rng.randint(0, 8)):
        owner = rng.choice(WORDS).title() + rng.choice(["", "Store", "Engine"])
        member = rng.choice(WORDS) + rng.choice(["", "_total", "Start"])
        names.append(rng.choice([owner, member, f"{owner}.{member}"]))
    return FileEntry(path, rng.randint(1, 9000), 10, None, tuple(dict.fromkeys(names)))


def test_indexed_search_equals_a_full_scoring() -> None:
    rng = random.Random(13)
    entries = {e.path: e for e in (random_entry(rng, i) for i in range(600))}
    index = TermIndex()
    for entry in entries.values():
        index.add(entry)
    for path in list(entries)[::7]:  # removals and re-adds keep postings right
        index.remove(path)
        index.add(entries[path])
    ordered = tuple(sorted(entries.values(), key=lambda e: e.path))
    indexed = RepoMap(entries=ordered, search=index, generation=index.generation)
    plain = RepoMap(entries=ordered)
    tasks = [
        "render the invoice total",
        "UserStore.start fails in engine/server.py",
        "the cacheStore is slow; see my-app/ and lib",
        "Engine.render_total and StoreEngine.userStart",
        "start",
        "nothing relevant here at all",
    ]
    for task in tasks:
        for limit in (1, 3, 8, 50):
            assert relevant_files(indexed, task, limit=limit) == relevant_files(
                plain, task, limit=limit
            ), (task, limit)


def test_a_map_older_than_its_index_is_scored_in_full(tmp_path: Path) -> None:
    ws, ignore = make_tree(tmp_path / "ws")
    old = scan_workspace(ws, ignore)
    (ws.root / "src" / "app.py").unlink()
    new = scan_workspace(ws, ignore)
    assert old.generation != new.generation
    assert relevant_files(old, "serve it") == ["src/app.py"]  # the old map's own files
    assert relevant_files(new, "serve it") == []


# --- the cheap ranking puts files in the order the plain one did ---------------------


def plain_rank(entries: tuple[FileEntry, ...], focus: list[str]) -> list[str]:
    """The ranking as first written: one full sort on a key per file."""
    known = {e.path for e in entries}
    order = {p: i for i, p in enumerate(dict.fromkeys(focus)) if p in known}
    dirs = [tuple(p.split("/")[:-1]) for p in order]
    generic = {"__init__", "index", "main", "mod", "lib"}
    stems = {s for s in (p.rpartition("/")[2].split(".", 1)[0].lower() for p in order)}
    stems = {s for s in stems if len(s) >= 3 and s not in generic}

    def common(a: tuple[str, ...], b: tuple[str, ...]) -> int:
        n = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            n += 1
        return n + 1 if a == b else n

    def key(e: FileEntry) -> tuple[int, int, int, int, int, int, str]:
        if e.path in order:
            return (0, order[e.path], 0, 0, 0, 0, e.path)
        parts = tuple(e.path.split("/")[:-1])
        stem = e.path.rpartition("/")[2].split(".", 1)[0].lower()
        related = any(s in stem for s in stems)
        near = max((common(parts, d) for d in dirs), default=0)
        return (1, 0, -int(related), -near, len(parts), -e.size, e.path)

    return [e.path for e in sorted(entries, key=key)]


def test_cheap_ranking_keeps_the_plain_order() -> None:
    rng = random.Random(7)
    unique = {e.path: e for e in (random_entry(rng, i) for i in range(400))}
    entries = tuple(sorted(unique.values(), key=lambda e: e.path))
    root_file = next(e.path for e in entries if "/" not in e.path)
    for trial in range(40):
        focus = [rng.choice(entries).path for _ in range(trial % 4)]
        if trial % 5 == 0:
            focus.append(root_file)
        if trial % 3 == 0:
            focus.append("missing.py")
        first = rng.choice([0, 1, 10, 100, 1000])
        plain = plain_rank(entries, focus)
        repo = RepoMap(entries=entries)
        assert [e.path for e in map_ranking._rank(repo, focus, first)] == plain, (focus, first)
        kept = RepoMap(entries=entries, ranked=tuple(sorted(entries, key=map_ranking.rank_key)))
        assert [e.path for e in map_ranking._rank(kept, focus, first)] == plain, (focus, first)


# --- the index on disk: a new process reads only what changed -----------------------


def counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = parse_pool._analyze

    def counting(path: str, rel: str, **kwargs: int) -> symbols.FileFacts:
        reads.append(rel)
        return real(path, rel, **kwargs)

    real_unstamped = parse_pool._analyze_unstamped

    def counting_unstamped(
        path: str, rel: str, limit: int
    ) -> tuple[tuple[int, int], symbols.FileFacts]:
        reads.append(rel)
        return real_unstamped(path, rel, limit)

    monkeypatch.setattr(parse_pool, "_analyze", counting)
    monkeypatch.setattr(parse_pool, "_analyze_unstamped", counting_unstamped)
    return reads


def test_a_new_process_reads_only_files_changed_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, ignore = make_tree(tmp_path / "ws")
    root = ws.root
    (root / ".samokoder").mkdir()
    (root / "logo.png").write_bytes(b"\x89PNG\x00\x00")
    first = scan_workspace(ws, ignore)
    assert (root / ".samokoder" / file_index_store.FILE_NAME).is_file()
    repo_map.clear_caches()  # as a new process would start
    reads = counting_reads(monkeypatch)
    again = scan_workspace(ws, IgnoreMatcher(ws.root))
    assert reads == [] and again == first
    assert relevant_files(again, "slugify is slow") == ["src/util.py"]

    bump(root / "src" / "app.py", "def serve():\n    pass\n\ndef stop():\n    pass\n", 5)
    (root / "src" / "util.py").unlink()
    (root / "src" / "extra.py").write_text("class Extra:\n    pass\n")
    scan_workspace(ws, ignore)
    repo_map.clear_caches()
    reads.clear()
    later = scan_workspace(ws, IgnoreMatcher(ws.root))
    assert reads == []  # the changes were written when the last process saw them
    assert paths(later) == [".gitignore", "src/app.py", "src/extra.py"]
    assert later.skipped == {"binary": 1, "excluded_dir": 2}  # .git and .samokoder
    assert relevant_files(later, "the Extra class")[:1] == ["src/extra.py"]


def test_an_untrusted_or_broken_index_file_is_read_past(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, ignore = make_tree(tmp_path / "ws")
    (ws.root / ".samokoder").mkdir()
    first = scan_workspace(ws, ignore)
    repo_map.clear_caches()
    monkeypatch.setattr(file_index_store, "signature", lambda limit: "other grammars")
    reads = counting_reads(monkeypatch)
    assert scan_workspace(ws, ignore) == first
    assert sorted(reads) == [".gitignore", "src/app.py", "src/util.py"]  # all read again

    repo_map.clear_caches()
    for name in os.listdir(ws.root / ".samokoder"):
        (ws.root / ".samokoder" / name).write_bytes(b"not a database at all" * 100)
    reads.clear()
    assert scan_workspace(ws, ignore) == first  # no raise: the file is made again
    assert len(reads) == 3
    repo_map.clear_caches()
    reads.clear()
    assert scan_workspace(ws, ignore) == first and reads == []

    repo_map.clear_caches()
    index = ws.root / ".samokoder" / file_index_store.FILE_NAME
    index.unlink()
    elsewhere = tmp_path / "elsewhere.db"
    elsewhere.write_bytes(b"")
    index.symlink_to(elsewhere)  # a repository may hold one: never followed
    assert scan_workspace(ws, ignore) == first
    assert elsewhere.read_bytes() == b"" and index.is_symlink()


def test_no_state_folder_no_index_file(tmp_path: Path) -> None:
    ws, ignore = make_tree(tmp_path / "ws")
    scan_workspace(ws, ignore)
    assert not (ws.root / ".samokoder").exists()


def test_a_scan_reading_many_files_says_how_far_it_got(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_index, "PROGRESS_FILES", 3)
    ws, ignore = make_tree(tmp_path / "ws")
    for i in range(5):
        (ws.root / "src" / f"part_{i}.py").write_text(f"X_{i} = {i}\n")
    heard: list[tuple[int, int]] = []
    scan_workspace(ws, ignore, progress=lambda done, total: heard.append((done, total)))
    assert heard == [(0, 8), (3, 8), (6, 8)]  # 8 files to read: .gitignore, 7 in src/
    heard.clear()
    (ws.root / "src" / "app.py").write_text("def serve():\n    return 1\n")
    scan_workspace(ws, ignore, progress=lambda done, total: heard.append((done, total)))
    assert heard == []  # one file read again: nothing worth saying
