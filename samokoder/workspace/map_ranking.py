"""Pure: which workspace files agents are shown first, and the map as prompt text.

No file system here: `repo_map` walks the folder and builds the `RepoMap` these
functions rank and render, so ranking is tested on hand-made entries.

Token counts are estimated as ``len(text) / 4`` (rounded up): close enough for
English and code with the usual tokenizers, and free to compute.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from samokoder.workspace import symbols

CHARS_PER_TOKEN = 4
SYMBOLS_PER_LINE = 30


@dataclass(frozen=True)
class FileEntry:
    """One listed file; ``symbols`` are top-level names, methods as ``Class.method``."""

    path: str
    size: int
    lines: int
    language: str | None
    symbols: tuple[str, ...]


@dataclass(frozen=True)
class RepoMap:
    """The files that may be shown to agents, sorted by path, and why others were not.

    ``skipped`` counts by reason: ``secret``, ``ignored``, ``binary``, ``too_large``,
    ``limit``, ``undecodable`` (not UTF-8), ``unreadable``, ``symlink`` (one that
    stays inside: its target is listed under its own path), ``outside`` (a symlink
    the confinement rules refuse), ``special`` (FIFOs, devices) and
    ``excluded_dir``. A skipped folder counts once, whatever it holds.
    """

    entries: tuple[FileEntry, ...]
    skipped: dict[str, int] = field(default_factory=dict)


def estimate_tokens(text: str) -> int:
    """Token estimate used for every budget here: ``len(text) / 4``, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


# --- rendering --------------------------------------------------------------------

_MAP_HEADER = "Workspace files (path [lines, size]: top-level symbols)\n"
_SHORTEST_LINE = len("a [1 lines, 1 B]\n")


def render_map(repo: RepoMap, *, budget_tokens: int, focus: Sequence[str] = ()) -> str:
    """The map as prompt text, at most ``budget_tokens`` by ``estimate_tokens``.

    Files are grouped under their folder. Which files make it in: ``focus`` files
    first (in the order given), then files related to them (a name containing a
    focus file's stem, such as its test) and files nearest them in the tree, then
    shallow before deep and large before small. A file whose symbols do not fit
    is shown without them. Ends with ``... N more files not shown`` when cut.
    """
    budget = budget_tokens * CHARS_PER_TOKEN
    total = len(repo.entries)
    used = len(_MAP_HEADER) + len(_footer(total))
    if used > budget:
        return ""
    chosen: dict[str, str] = {}
    folders: set[str] = set()
    for entry in _rank(repo.entries, focus):
        if budget - used < _SHORTEST_LINE:
            break
        folder = _parent(entry.path)
        folder_cost = 0 if not folder or folder in folders else len(folder) + 2
        for line in (_file_line(entry, with_symbols=True), _file_line(entry, with_symbols=False)):
            cost = folder_cost + len(line) + (3 if folder else 1)  # indent and newline
            if used + cost <= budget:
                chosen[entry.path] = line
                folders.add(folder)
                used += cost
                break
    text = _MAP_HEADER + _tree(chosen)
    if len(chosen) < total:
        text += _footer(total - len(chosen))
    return text


def _footer(omitted: int) -> str:
    return f"... {omitted} more files not shown\n"


def _tree(chosen: dict[str, str]) -> str:
    by_folder: dict[str, list[str]] = {}
    for path in sorted(chosen, key=lambda p: (_parent(p), p)):
        by_folder.setdefault(_parent(path), []).append(chosen[path])
    out: list[str] = []
    for folder, lines in by_folder.items():
        if folder:
            out.append(f"{folder}/\n")
        out.extend(f"{line}\n" if not folder else f"  {line}\n" for line in lines)
    return "".join(out)


def _file_line(entry: FileEntry, *, with_symbols: bool) -> str:
    line = f"{_name(entry.path)} [{entry.lines} lines, {_human_size(entry.size)}]"
    if with_symbols and entry.symbols:
        shown = ", ".join(entry.symbols[:SYMBOLS_PER_LINE])
        extra = len(entry.symbols) - SYMBOLS_PER_LINE
        line += f": {shown}" + (f" (+{extra} more)" if extra > 0 else "")
    return line


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _name(path: str) -> str:
    return path.rpartition("/")[2]


def _folders(path: str) -> tuple[str, ...]:
    return tuple(path.split("/")[:-1])


def _rank(entries: Iterable[FileEntry], focus: Sequence[str]) -> list[FileEntry]:
    entries = list(entries)
    known = {e.path for e in entries}
    focus_order = {
        p: i for i, p in enumerate(dict.fromkeys(_posix(f) for f in focus)) if p in known
    }
    focus_dirs = [_folders(p) for p in focus_order]
    generic = {"__init__", "index", "main", "mod", "lib"}
    focus_stems = {s for s in map(_stem, focus_order) if len(s) >= 3 and s not in generic}

    def key(entry: FileEntry) -> tuple[int, int, int, int, int, int, str]:
        if entry.path in focus_order:
            return (0, focus_order[entry.path], 0, 0, 0, 0, entry.path)
        parts = _folders(entry.path)
        stem = _stem(entry.path)
        related = any(s in stem for s in focus_stems)
        near = max((_common_prefix(parts, d) for d in focus_dirs), default=0)
        return (1, 0, -int(related), -near, len(parts), -entry.size, entry.path)

    return sorted(entries, key=key)


def _posix(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix().removeprefix("./")


def _stem(path: str) -> str:
    return _name(path).split(".", 1)[0].lower()


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n + 1 if a == b else n  # the same folder is nearer than a shared parent


# --- relevance --------------------------------------------------------------------

_PATH_LIKE = re.compile(r"[\w.\-/]*\w\.[A-Za-z0-9]+|[\w.\-]+(?:/[\w.\-]+)+")


def relevant_files(repo: RepoMap, task_text: str, *, limit: int = 8) -> list[str]:
    """Paths most relevant to a task description, best first, at most ``limit``.

    Scores explicit paths in the text highest, then file stems, folder names and
    symbol names that appear as identifiers (case-insensitive), then shared word
    parts of camelCase/snake_case names. Ties go to shallower, then alphabetical
    paths; files that score nothing are not returned.
    """
    lowered = task_text.lower()
    mentioned_paths = {_posix(m).lower() for m in _PATH_LIKE.findall(task_text)}
    identifiers = symbols.identifiers(task_text)
    words = {w.lower() for w in identifiers} - symbols.STOPWORDS
    parts = {p for w in identifiers for p in symbols.name_parts(w)}
    scored: list[tuple[int, int, str]] = []
    for entry in repo.entries:
        score = _score(entry, lowered, mentioned_paths, words, parts)
        if score > 0:
            scored.append((-score, entry.path.count("/"), entry.path))
    scored.sort()
    return [path for _, _, path in scored[:limit]]


def _score(entry: FileEntry, text: str, paths: set[str], words: set[str], parts: set[str]) -> int:
    path = entry.path.lower()
    name = _name(path)
    score = 0
    if any(p == path or p.endswith(f"/{path}") or path.endswith(f"/{p}") for p in paths):
        score += 100  # the path, an absolute form of it, or its tail with a folder
    elif any(p == name or p.endswith(f"/{name}") for p in paths):
        score += 50  # the file name, in some other folder
    elif any(path.startswith(f"{p.rstrip('/')}/") for p in paths):
        score += 20  # a folder that holds it
    stem = _stem(path)
    if stem in words:
        score += 12
    score += 3 * len(symbols.name_parts(stem) & parts)
    for folder in _folders(path):
        score += 4 if folder in words else len(symbols.name_parts(folder) & parts)
    symbol_hits = 0
    symbol_parts: set[str] = set()
    for symbol in entry.symbols:
        short = symbol.rsplit(".", 1)[-1]
        if (len(short) >= 3 and short.lower() in words) or (
            "." in symbol and len(symbol) >= 5 and symbol.lower() in text
        ):
            symbol_hits += 1
        symbol_parts |= symbols.name_parts(short) & parts
    return score + 6 * min(symbol_hits, 5) + min(len(symbol_parts), 5)
