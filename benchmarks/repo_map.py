"""How long a workspace scan, a rescan, a map render and a relevance search take.

Run: uv run python benchmarks/repo_map.py [FILES ...]   (default: 20000 100000)

Builds a Git workspace of FILES source files (Python, TypeScript, Go, Rust, Java
and Markdown, ~40 lines each, in nested folders, plus an ignored folder), then
times, in a fresh process per size:

- ``scan_workspace`` cold (empty index: every file read, parsed, and written to
  ``.samokoder/file_index.db``; past 4,000 files the reads and parses go to one
  worker process per CPU, `parse_pool`), then as a new process would (index file
  loaded, tree walked, nothing read);
- a warm rescan (median of 5: every file stat'ed, none read);
- a rescan after one file changed: the full stat walk, and ``refresh_workspace``
  told which file (what a folder watcher or the editor's events would give);
- ``relevant_files`` on a warm map (median of 9), for a task naming symbols
  shared by thousands of files and for one naming a file past the 5,000th;
- ``render_map`` at a 4,000-token budget, plain and focused on the files found;
- memory: the process's resident set before the cold scan and after it, and the
  peak resident set of the largest child (a parse worker; they exit after the scan).

The last lines divide each figure of the largest size by the smallest's (the
default pair: 100,000 vs 20,000 files). Says whether the tree-sitter grammars
were found: without them files are listed without symbols and the cold scan is
cheaper.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.workspace import parse_pool, repo_map, symbols
from samokoder.workspace.confinement import IgnoreMatcher, Workspace

TEMPLATES = {
    ".py": "CONST_{i} = {i}\n\nclass Thing{i}:\n    def run(self):\n        return {i}\n\n"
    "def helper_{i}():\n    return Thing{i}()\n",
    ".ts": "export interface Shape{i} {{ id: number }}\nexport class Store{i} {{\n"
    "  get(id: number) {{ return id }}\n}}\nexport const make{i} = () => new Store{i}()\n",
    ".go": "package p\n\ntype Server{i} struct{{}}\n\nfunc (s *Server{i}) Start() error "
    "{{ return nil }}\n\nfunc New{i}() *Server{i} {{ return &Server{i}{{}} }}\n",
    ".rs": "pub struct Engine{i};\nimpl Engine{i} {{ pub fn run(&self) {{}} }}\n"
    "pub fn start_{i}() {{}}\n",
    ".java": "class Main{i} {{\n  void run() {{}}\n  int helper() {{ return {i}; }}\n}}\n",
    ".md": "# Notes {i}\n\nSome text about part {i}.\n",
}
SUFFIXES = list(TEMPLATES)


def file_path(root: Path, i: int) -> Path:
    return root / f"pkg{i % 50}" / f"sub{i % 9}" / f"file_{i}{SUFFIXES[i % len(SUFFIXES)]}"


def build(root: Path, files: int) -> None:
    for i in range(files):
        path = file_path(root, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATES[path.suffix].format(i=i) * 5)
    (root / "out").mkdir()
    for i in range(200):
        (root / "out" / f"gen_{i}.js").write_text("x\n")
    (root / ".gitignore").write_text("out/\n")
    (root / ".samokoder").mkdir()  # as in a folder the server opened: the index file goes here
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def rss_mib() -> float:
    """Resident set now (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def touch(path: Path, stamp: int) -> None:
    path.write_text(path.read_text() + "# changed\n")
    os.utime(path, ns=(stamp, stamp))  # a distinct mtime even on coarse clocks


def bench(files: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, files)
        ws = Workspace.at(tmp)
        repo_map.clear_caches()
        ignore = IgnoreMatcher(ws.root)
        rss_before = rss_mib()
        cold = timed(lambda: repo_map.scan_workspace(ws, ignore))
        rss_after = rss_mib()
        child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        repo_map.clear_caches()  # a new process: the index file, then the walk
        restart = timed(lambda: repo_map.scan_workspace(ws, IgnoreMatcher(ws.root)))
        index_file = root / ".samokoder" / "file_index.db"
        index_mib = index_file.stat().st_size / 2**20
        warm = statistics.median(
            timed(lambda: repo_map.scan_workspace(ws, ignore)) for _ in range(5)
        )
        touch(file_path(root, files // 2), 1)
        one_change = timed(lambda: repo_map.scan_workspace(ws, ignore))
        changed = file_path(root, files // 3)
        touch(changed, 2)
        rel = changed.relative_to(root).as_posix()
        told = timed(lambda: repo_map.refresh_workspace(ws, ignore, [rel]))
        result = repo_map.scan_workspace(ws, ignore)
        assert rel in {e.path for e in result.entries}
        task = "Engine7 start_7 in Store12"
        relevant = statistics.median(
            timed(lambda: repo_map.relevant_files(result, task)) for _ in range(9)
        )
        late = files - 1 - (files - 4) % len(SUFFIXES)  # the last Rust file, past the 5,000th
        found = repo_map.relevant_files(result, f"start_{late} is slow")
        assert found[0].endswith(f"file_{late}.rs"), found
        late_ms = statistics.median(
            timed(lambda: repo_map.relevant_files(result, f"start_{late} is slow"))
            for _ in range(9)
        )
        render = timed(lambda: repo_map.render_map(result, budget_tokens=4000))
        focused = timed(lambda: repo_map.render_map(result, budget_tokens=4000, focus=found))
        with_symbols = sum(1 for e in result.entries if e.symbols)
        print(
            f"{files:>7} files: cold scan {cold:7.0f} ms, new process {restart:6.0f} ms "
            f"(index file {index_mib:.0f} MiB), warm rescan {warm:6.0f} ms, "
            f"after one change {one_change:6.0f} ms (told which: {told:5.1f} ms), "
            f"relevant {relevant:5.1f} ms (file {late}: {late_ms:5.1f} ms), "
            f"render {render:5.1f} ms (focused: {focused:5.1f} ms), "
            f"RSS {rss_before:.0f} -> {rss_after:.0f} MiB (largest worker {child_mib:.0f} MiB) "
            f"({len(result.entries)} listed, {with_symbols} with symbols, "
            f"skipped {result.skipped})",
            flush=True,
        )
        return {
            "cold scan": cold,
            "new process, index file kept": restart,
            "warm rescan": warm,
            "rescan after one change": one_change,
            "refresh told which file": told,
            "relevant_files": relevant,
            "relevant_files, one late file": late_ms,
            "render_map": render,
            "render_map, focus on found files": focused,
            "memory (RSS growth, MiB)": rss_after - rss_before,
        }


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print("RESULT " + json.dumps(bench(int(sys.argv[2]))))
        return
    sizes = [int(arg) for arg in sys.argv[1:]] or [20000, 100000]
    grammars = symbols.has_symbol_support("python")
    print(f"tree-sitter grammars: {'found' if grammars else 'missing (no symbols)'}")
    print(f"parse workers: {parse_pool.usable_cpus()}, load average {os.getloadavg()[0]:.1f}")
    results: dict[int, dict[str, float]] = {}
    for files in sizes:  # a fresh process per size: its memory figure is its own
        run = subprocess.run(
            [sys.executable, __file__, "--one", str(files)],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in run.stdout.splitlines():
            if line.startswith("RESULT "):
                results[files] = json.loads(line.removeprefix("RESULT "))
            else:
                print(line)
    if len(results) >= 2:
        small, large = min(results), max(results)
        print(f"{large} vs {small} files ({large / small:.0f}x the files):")
        for name, value in results[large].items():
            base = results[small][name]
            ratio = f"{value / base:5.1f}x" if base > 0 else "  n/a"
            print(f"  {name:32} {value:8.1f} vs {base:8.1f}: {ratio}")


if __name__ == "__main__":
    main()
