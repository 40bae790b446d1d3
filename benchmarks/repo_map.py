"""How long a workspace scan and a map render take, cold and warm.

Run: uv run python benchmarks/repo_map.py [FILES ...]   (default: 2000 5000)

Builds a Git workspace of FILES source files (Python, TypeScript, Go, Rust, Java
and Markdown, ~40 lines each, in nested folders, plus an ignored folder), then
times ``scan_workspace`` cold (empty caches: every file read and parsed) and
warm (median of 5 rescans: stat only), ``render_map`` at a 4,000-token budget and
``relevant_files``. Says whether the tree-sitter grammars were found: without
them files are listed without symbols and the cold scan is cheaper.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.workspace import repo_map, symbols
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


def build(root: Path, files: int) -> None:
    suffixes = list(TEMPLATES)
    for i in range(files):
        suffix = suffixes[i % len(suffixes)]
        folder = root / f"pkg{i % 50}" / f"sub{i % 9}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file_{i}{suffix}").write_text(TEMPLATES[suffix].format(i=i) * 5)
    (root / "out").mkdir()
    for i in range(200):
        (root / "out" / f"gen_{i}.js").write_text("x\n")
    (root / ".gitignore").write_text("out/\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def bench(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp), files)
        ws = Workspace.at(tmp)
        repo_map.clear_caches()
        cold = timed(lambda: repo_map.scan_workspace(ws, IgnoreMatcher(ws.root)))
        ignore = IgnoreMatcher(ws.root)
        repo_map.scan_workspace(ws, ignore)
        warm = statistics.median(
            timed(lambda: repo_map.scan_workspace(ws, ignore)) for _ in range(5)
        )
        result = repo_map.scan_workspace(ws, ignore)
        render = timed(lambda: repo_map.render_map(result, budget_tokens=4000, focus=["pkg1"]))
        relevant = timed(lambda: repo_map.relevant_files(result, "Engine7 start_7 in Store12"))
        with_symbols = sum(1 for e in result.entries if e.symbols)
        print(
            f"{files:>6} files: cold scan {cold:7.0f} ms, warm scan {warm:6.0f} ms, "
            f"render {render:5.1f} ms, relevant {relevant:5.1f} ms "
            f"({len(result.entries)} listed, {with_symbols} with symbols, skipped {result.skipped})"
        )


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [2000, 5000]
    grammars = symbols.has_symbol_support("python")
    print(f"tree-sitter grammars: {'found' if grammars else 'missing (no symbols)'}")
    for files in sizes:
        bench(files)


if __name__ == "__main__":
    main()
