"""Workspace context (issue 4): the map, its symbols and skips, rendering, relevance, reads.

Symbol tests need the tree-sitter grammar wheels and are skipped without them;
everything else passes with or without them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from samokoder.workspace import parse_pool, repo_map, symbols
from samokoder.workspace.confinement import IgnoreMatcher, Workspace
from samokoder.workspace.repo_map import (
    FileEntry,
    RepoMap,
    estimate_tokens,
    read_context_files,
    relevant_files,
    render_map,
    scan_workspace,
)

GRAMMAR_MODULES = (
    "tree_sitter",
    "tree_sitter_python",
    "tree_sitter_javascript",
    "tree_sitter_typescript",
    "tree_sitter_go",
    "tree_sitter_rust",
    "tree_sitter_java",
)

SOURCES = {
    "src/app.py": (
        "import os\n\nMAX_USERS = 10\nlower = 1\n\n\n@dataclass\nclass UserStore:\n"
        "    def add_user(self, name):\n        pass\n\n    @property\n"
        "    def count(self):\n        return 0\n\n\nasync def serve():\n    pass\n"
    ),
    "src/util.js": (
        "export function slugify(s) { return s }\nconst helper = () => 1\nlet plain = 2\n"
        "export class Cache { get(k) {} #evict() {} }\n"
    ),
    "web/api.ts": (
        "export interface Invoice { id: string }\nexport type Id = string\n"
        "export enum Status { Open }\nexport const BASE_URL = '/api'\n"
        "export abstract class Client { abstract send(): void; fetchInvoice(id: Id) {} }\n"
    ),
    "web/App.tsx": "export const App = () => <div>hi</div>;\nfunction Footer() { return <p/> }\n",
    "cmd/main.go": (
        'package main\n\nconst Version = "1"\nconst internal = 2\n\ntype Server struct{}\n\n'
        "func (s *Server) Start() error { return nil }\n\nfunc main() {}\n"
    ),
    "core/lib.rs": (
        "pub struct Engine;\nimpl Engine { pub fn run(&self) {} }\n"
        "pub trait Plugin { fn load(&self); }\npub fn start() {}\nconst LIMIT: u32 = 3;\n"
    ),
    "app/Main.java": (
        "package app;\npublic class Main {\n  public static void main(String[] a) {}\n"
        "  private int helper() { return 1; }\n}\n"
    ),
    "README.md": "# Demo\n\nSome text.\n",
}


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    repo_map.clear_caches()
    yield
    repo_map.clear_caches()


@pytest.fixture
def grammars() -> None:
    for module in GRAMMAR_MODULES:
        pytest.importorskip(module)


@pytest.fixture
def no_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as if the tree-sitter packages were not installed."""
    for module in GRAMMAR_MODULES:
        monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    repo_map.clear_caches()


def git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def make_workspace(tmp_path: Path) -> tuple[Workspace, IgnoreMatcher]:
    """Several languages plus every kind of file the map must leave out."""
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "stolen.py").write_text("def stolen(): pass\n")
    for rel, text in SOURCES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git_init(root)
    (root / ".gitignore").write_text("ignored.txt\nlogs/\n")
    (root / "ignored.txt").write_text("ignored\n")
    (root / "logs").mkdir()
    (root / "logs" / "run.log").write_text("log\n")
    (root / ".env").write_text("API_KEY=sk-secret\n")
    (root / "certs").mkdir()
    (root / "certs" / "server.pem").write_text("-----BEGIN-----\n")
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "node_modules" / "pkg" / "index.js").write_text("function dep() {}\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (root / "huge.txt").write_text("x" * 1_000_000 + "\n")  # over the default limit
    (root / "link_out.py").symlink_to(outside / "stolen.py")
    (root / "dir_out").symlink_to(outside)
    (root / "alias.py").symlink_to(root / "src" / "app.py")
    os.mkfifo(root / "pipe")
    ws = Workspace.at(root)
    return ws, IgnoreMatcher(ws.root)


def scan(ws: Workspace, ignore: IgnoreMatcher) -> RepoMap:
    return scan_workspace(ws, ignore)


# --- scanning -----------------------------------------------------------------------


def test_scan_lists_text_files_and_counts_every_skip(tmp_path: Path) -> None:
    ws, ignore = make_workspace(tmp_path)
    result = scan(ws, ignore)
    assert [e.path for e in result.entries] == sorted([*SOURCES, ".gitignore"])
    assert result.skipped == {
        "ignored": 2,  # ignored.txt and the logs/ folder
        "secret": 2,  # .env and certs/server.pem
        "excluded_dir": 2,  # .git and node_modules
        "binary": 1,
        "undecodable": 1,
        "too_large": 1,
        "outside": 2,  # link_out.py and dir_out
        "symlink": 1,  # alias.py, listed under its real path
        "special": 1,  # the FIFO
    }
    app = next(e for e in result.entries if e.path == "src/app.py")
    assert (app.size, app.lines, app.language) == (len(SOURCES["src/app.py"]), 18, "python")
    readme = next(e for e in result.entries if e.path == "README.md")
    assert (readme.language, readme.symbols) == ("markdown", ())


def test_scan_extracts_symbols_for_each_language(tmp_path: Path, grammars: None) -> None:
    ws, ignore = make_workspace(tmp_path)
    found = {e.path: e.symbols for e in scan(ws, ignore).entries}
    assert found["src/app.py"] == (
        "MAX_USERS",
        "UserStore",
        "UserStore.add_user",
        "UserStore.count",
        "serve",
    )
    assert found["src/util.js"] == ("slugify", "helper", "Cache", "Cache.get", "Cache.#evict")
    assert found["web/api.ts"] == (
        "Invoice",
        "Id",
        "Status",
        "BASE_URL",
        "Client",
        "Client.send",
        "Client.fetchInvoice",
    )
    assert found["web/App.tsx"] == ("App", "Footer")
    assert found["cmd/main.go"] == ("Version", "Server", "Server.Start", "main")
    assert found["core/lib.rs"] == (
        "Engine",
        "Engine.run",
        "Plugin",
        "Plugin.load",
        "start",
        "LIMIT",
    )
    assert found["app/Main.java"] == ("Main", "Main.main", "Main.helper")


def test_without_the_parser_files_are_listed_without_symbols(
    tmp_path: Path, no_parser: None
) -> None:
    ws, ignore = make_workspace(tmp_path)
    result = scan(ws, ignore)
    assert len(result.entries) == len(SOURCES) + 1
    assert all(e.symbols == () for e in result.entries)
    assert {e.path: e.language for e in result.entries}["web/App.tsx"] == "tsx"
    assert not symbols.has_symbol_support("python")


def test_rescan_reads_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, ignore = make_workspace(tmp_path)
    first = scan(ws, ignore)
    reads: list[str] = []
    real_analyze = parse_pool._analyze

    def counting(path: str, rel: str, **kwargs: int) -> symbols.FileFacts:
        reads.append(rel)
        return real_analyze(path, rel, **kwargs)

    monkeypatch.setattr(parse_pool, "_analyze", counting)
    again = scan(ws, ignore)
    assert again is first and reads == []  # nothing read again, the same map
    app = ws.root / "src" / "app.py"
    app.write_text("def only():\n    pass\n")
    os.utime(app, ns=(1, 1))  # a distinct mtime even on coarse clocks
    changed = {e.path: e for e in scan(ws, ignore).entries}["src/app.py"]
    assert changed.lines == 2
    assert reads == ["src/app.py"]


def test_unreadable_files_are_skipped_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, ignore = make_workspace(tmp_path)
    real_open = os.open

    def refusing_open(path: str, flags: int, *args: int) -> int:
        if str(path).endswith("app.py"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    result = scan(ws, ignore)
    assert "src/app.py" not in {e.path for e in result.entries}
    assert result.skipped["unreadable"] == 1
    monkeypatch.setattr(os, "open", real_open)
    assert "src/app.py" in {e.path for e in scan(ws, ignore).entries}  # failure not cached


def test_without_git_nothing_counts_as_ignored(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "logs").mkdir(parents=True)
    (root / ".gitignore").write_text("logs/\n")
    (root / "logs" / "a.txt").write_text("a\n")
    ws = Workspace.at(root)
    result = scan_workspace(ws, IgnoreMatcher(ws.root))
    assert [e.path for e in result.entries] == [".gitignore", "logs/a.txt"]
    assert result.skipped == {}


def test_concurrent_scans_agree(tmp_path: Path) -> None:
    ws, ignore = make_workspace(tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: scan(ws, ignore), range(8)))
    assert all(r == results[0] for r in results)


# --- rendering ----------------------------------------------------------------------


def entry(path: str, size: int = 100, symbols: tuple[str, ...] = ()) -> FileEntry:
    return FileEntry(path, size, size // 20, symbols_language(path), symbols)


def symbols_language(path: str) -> str | None:
    return symbols.language_for(path)


SAMPLE = RepoMap(
    entries=tuple(
        sorted(
            [
                entry("README.md", 900),
                entry("pyproject.toml", 400),
                entry("src/app/server.py", 5000, ("Server", "Server.start", "main")),
                entry("src/app/handlers.py", 3000, ("on_open", "on_change")),
                entry("src/app/db/models.py", 4000, ("User", "Invoice")),
                entry("src/billing/invoice.py", 2500, ("render_invoice",)),
                entry("tests/test_server.py", 1200, ("test_start",)),
                entry("docs/guide.md", 8000),
            ],
            key=lambda e: e.path,
        )
    ),
    skipped={},
)


@pytest.mark.parametrize("budget", [0, 5, 20, 40, 60, 100, 200, 1000])
def test_render_stays_within_budget(budget: int) -> None:
    text = render_map(SAMPLE, budget_tokens=budget)
    assert estimate_tokens(text) <= budget
    if budget >= 40:
        assert text.startswith("Workspace files")


def test_render_full_map_groups_files_under_folders() -> None:
    text = render_map(SAMPLE, budget_tokens=10_000)
    assert "more files not shown" not in text
    assert "src/app/\n  handlers.py [150 lines, 2.9 KB]: on_open, on_change\n" in text
    assert "README.md [45 lines, 900 B]\n" in text
    assert text.index("README.md") < text.index("src/app/")


def test_render_cut_puts_focus_and_neighbours_first() -> None:
    text = render_map(SAMPLE, budget_tokens=60, focus=["src/billing/invoice.py", "nope.py"])
    assert "invoice.py" in text and text.endswith("more files not shown\n")
    assert estimate_tokens(text) <= 60
    shown = render_map(SAMPLE, budget_tokens=90, focus=["src/app/server.py"])
    # the focus file, then its test and its folder, before unrelated top-level files
    assert "server.py" in shown and "test_server.py" in shown and "handlers.py" in shown
    assert "guide.md" not in shown
    omitted = int(shown.rsplit("... ", 1)[1].split()[0])
    assert omitted == len(SAMPLE.entries) - shown.count(" lines, ")


def test_render_drops_symbols_before_dropping_a_file() -> None:
    many = tuple(f"function_number_{i}" for i in range(100))
    repo = RepoMap(entries=(entry("big.py", 50_000, many),), skipped={})
    text = render_map(repo, budget_tokens=40)
    assert "big.py [2500 lines, 48.8 KB]" in text and "function_number_0" not in text
    full = render_map(repo, budget_tokens=2_000)
    assert "function_number_29 (+70 more)" in full


# --- relevance ----------------------------------------------------------------------


def test_relevant_files_ranks_explicit_paths_first() -> None:
    task = "The Server in src/app/server.py crashes; see handlers too"
    assert relevant_files(SAMPLE, task)[:2] == ["src/app/server.py", "src/app/handlers.py"]


def test_relevant_files_match_symbols_and_split_names() -> None:
    assert relevant_files(SAMPLE, "renderInvoice must round totals")[0] == (
        "src/billing/invoice.py"
    )
    assert relevant_files(SAMPLE, "add a field to the User model")[0] == "src/app/db/models.py"
    assert relevant_files(SAMPLE, "fix on_change so edits are kept") == ["src/app/handlers.py"]


def test_relevant_files_tie_break_limit_and_no_match() -> None:
    assert relevant_files(SAMPLE, "invoice", limit=1) == ["src/billing/invoice.py"]
    repo = RepoMap(entries=(entry("b/x/cache.py"), entry("a/cache.py"), entry("c/cache.py")))
    assert relevant_files(repo, "the cache is slow") == ["a/cache.py", "c/cache.py", "b/x/cache.py"]
    assert relevant_files(SAMPLE, "make it nicer and faster") == []


# --- context files ------------------------------------------------------------------


def test_read_context_files_within_budget(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    texts = {"a.py": "a" * 400, "big.py": "b" * 4000, "c.py": "c" * 200, ".env": "K=v"}
    chosen = read_context_files(
        ws,
        ["a.py", "../escape.py", "big.py", ".env", "missing.py", "c.py", "a.py"],
        budget_tokens=200,
        read=texts.get,
    )
    assert list(chosen) == ["a.py", "c.py"]  # big.py does not fit; c.py still does
    assert sum(estimate_tokens(f"{p}{t}") + 4 for p, t in chosen.items()) <= 200


def test_read_context_files_survive_a_failing_reader(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)

    def read(rel: str) -> str | None:
        if rel == "bad.py":
            raise OSError("gone")
        return "ok"

    assert read_context_files(ws, ["bad.py", "good.py"], budget_tokens=100, read=read) == {
        "good.py": "ok"
    }


# --- symbols directly ---------------------------------------------------------------


def test_symbols_tolerate_broken_and_binary_input(grammars: None) -> None:
    assert symbols.extract_symbols("python", b"def ok():\n    pass\ndef broken(:\n") == (
        "ok",
        "broken",
    )
    assert symbols.extract_symbols("python", b"\xff\xfe\x00\x01garbage") == ()
    assert symbols.extract_symbols("ruby", b"def x; end") == ()
    assert symbols.extract_symbols(None, b"") == ()


def test_name_parts_split_camel_and_snake_case() -> None:
    assert symbols.name_parts("parseHTTPResponse_v2") == {"parse", "http", "response"}
    assert symbols.name_parts("the_file") == set()
    assert symbols.language_for("web/Component.TSX") == "tsx"
    assert symbols.language_for("Makefile") == "make"
    assert symbols.language_for("notes") is None
