"""Pure: which workspace files agents are shown first, and the map as prompt text.

No file system here: `file_index` walks the folder and builds the `RepoMap` these
functions rank and render, so ranking is tested on hand-made entries; the files a
task points at are found in `map_search`.

Token counts are estimated as ``len(text) / 4`` (rounded up): close enough for
English and code with the usual tokenizers, and free to compute.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

CHARS_PER_TOKEN = 4
SYMBOLS_PER_LINE = 30


@dataclass(frozen=True, slots=True)
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
    search: object = field(default=None, compare=False, repr=False)
    """The `map_search.TermIndex` of the scan that made this map, if any."""
    generation: int = field(default=0, compare=False, repr=False)
    """Which state of ``search`` this map is (it moves on when files change)."""
    ranked: tuple[FileEntry, ...] = field(default=(), compare=False, repr=False)
    """``entries`` by `rank_key`, when the scan kept them so (else `render_map` sorts)."""


def rank_key(entry: FileEntry) -> tuple[int, int, str]:
    """Where a file with no tie to the focus files goes: shallow first, then large first."""
    return (entry.path.count("/"), -entry.size, entry.path)


def estimate_tokens(text: str) -> int:
    """Token estimate used for every budget here: ``len(text) / 4``, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


# --- rendering --------------------------------------------------------------------

_MAP_HEADER = "Workspace files (path [lines, size]: top-level symbols)\n"
_SHORTEST_LINE = len("a [1 lines, 1 B]\n")
_MAX_MISSES = 1000
"""Files in a row that did not fit after which the rest (ranked lower) are not tried."""


def render_map(repo: RepoMap, *, budget_tokens: int, focus: Sequence[str] = ()) -> str:
    """The map as prompt text, at most ``budget_tokens`` by ``estimate_tokens``.

    Files are grouped under their folder. Which files make it in: ``focus`` files
    first (in the order given), then files related to them (a name containing a
    focus file's stem, such as its test) and files nearest them in the tree, then
    shallow before deep and large before small. A file whose symbols do not fit
    is shown without them; once 1,000 files in a row did not fit, the rest are
    not tried. Ends with ``... N more files not shown`` when cut.
    """
    budget = budget_tokens * CHARS_PER_TOKEN
    total = len(repo.entries)
    used = len(_MAP_HEADER) + len(_footer(total))
    if used > budget:
        return ""
    chosen: dict[str, str] = {}
    folders: set[str] = set()
    most = (budget - used) // _SHORTEST_LINE + 1  # no more files than this can fit
    misses = 0
    for entry in _rank(repo, focus, most):
        if budget - used < _SHORTEST_LINE or misses >= _MAX_MISSES:
            break
        misses += 1
        folder, _, name = entry.path.rpartition("/")
        if used + len(name) + _SHORTEST_LINE - 1 > budget:
            continue  # not even its bare line fits: skipped without building it
        folder_cost = 0 if not folder or folder in folders else len(folder) + 2
        for line in (_file_line(entry, with_symbols=True), _file_line(entry, with_symbols=False)):
            cost = folder_cost + len(line) + (3 if folder else 1)  # indent and newline
            if used + cost <= budget:
                chosen[entry.path] = line
                folders.add(folder)
                used += cost
                misses = 0
                break
    text = _MAP_HEADER + _tree(chosen)
    if len(chosen) < total:
        text += _footer(total - len(chosen))
    return text


def _footer(omitted: int) -> str:
    return f"... {omitted} more files not shown\n"


def _tree(chosen: dict[str, str]) -> str:
    by_folder: dict[str, list[str]] = {}
    for path in sorted(chosen, key=lambda p: (parent_of(p), p)):
        by_folder.setdefault(parent_of(path), []).append(chosen[path])
    out: list[str] = []
    for folder, lines in by_folder.items():
        if folder:
            out.append(f"{folder}/\n")
        out.extend(f"{line}\n" if not folder else f"  {line}\n" for line in lines)
    return "".join(out)


def _file_line(entry: FileEntry, *, with_symbols: bool) -> str:
    line = f"{name_of(entry.path)} [{entry.lines} lines, {_human_size(entry.size)}]"
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


def parent_of(path: str) -> str:
    return path.rpartition("/")[0]


def name_of(path: str) -> str:
    return path.rpartition("/")[2]


def folders_of(path: str) -> tuple[str, ...]:
    return tuple(path.split("/")[:-1])


def _rank(repo: RepoMap, focus: Sequence[str], first: int) -> Iterator[FileEntry]:
    """Entries in the order `render_map` gives them room; the ``first`` ones found cheaply.

    Cheap per file (string prefix tests, no splitting) since it sees every file of
    the tree. With ``repo.ranked`` (kept by the scan) only files tied to a focus
    file, by name or folder, are sorted; the rest keep that order.
    """
    entries = repo.entries
    found = (_find(entries, p) for p in dict.fromkeys(posix(f) for f in focus))
    chosen = [e for e in found if e is not None]
    focus_order = {e.path: i for i, e in enumerate(chosen)}
    generic = {"__init__", "index", "main", "mod", "lib"}
    focus_stems = tuple(s for s in map(stem_of, focus_order) if len(s) >= 3 and s not in generic)
    chains = [_prefixes(p) for p in focus_order]
    tops = tuple({c[0] for c in chains if c})
    at_root = any(not c for c in chains)

    named = re.compile("|".join(map(re.escape, focus_stems)), re.IGNORECASE)
    if not focus_stems or not all(s.isascii() for s in focus_stems):  # (re's case rules)
        named = re.compile(r"(?!)") if not focus_stems else re.compile(r"(?s).")
    search = named.search

    in_stem = re.compile("|".join(map(re.escape, focus_stems)) or r"(?!)").search

    def key(entry: FileEntry) -> tuple[int, int, int, int, str]:
        path = entry.path
        near = 0
        for chain in chains:
            near = max(near, _near(path, chain))
        related = in_stem(stem_of(path)) is not None
        return (-related, -near, path.count("/"), -entry.size, path)

    yield from chosen
    ranked = repo.ranked if len(repo.ranked) == len(entries) else None
    if ranked is not None and not chosen:
        yield from ranked  # nothing to be near: the kept order is the order
        return
    if ranked is None:
        near = [e for e in entries if e.path not in focus_order]
    else:  # only files that may be tied to a focus file, by folder or name
        near = [e for e in ranked if e.path.startswith(tops) or search(e.path)]
        if at_root:
            listed = {e.path for e in near}
            near.extend(e for e in ranked if "/" not in e.path and e.path not in listed)
    keyed = [(key(e), e) for e in near if e.path not in focus_order]
    if ranked is not None:
        keyed = [(k, e) for k, e in keyed if k[:2] != (0, 0)]
    batch = heapq.nsmallest(first, keyed, key=_first)
    yield from (e for _, e in batch)
    if len(batch) < len(keyed):  # many did not fit: the rest, in order
        yield from (e for _, e in sorted(keyed, key=_first)[len(batch) :])
    if ranked is not None:
        tied = {e.path for _, e in keyed}
        yield from (e for e in ranked if e.path not in tied and e.path not in focus_order)


def _first(
    item: tuple[tuple[int, int, int, int, str], FileEntry],
) -> tuple[int, int, int, int, str]:
    return item[0]


def _find(entries: Sequence[FileEntry], path: str) -> FileEntry | None:
    at = bisect.bisect_left(entries, path, key=_path_of)
    return entries[at] if at < len(entries) and entries[at].path == path else None


def _path_of(entry: FileEntry) -> str:
    return entry.path


def _prefixes(path: str) -> tuple[str, ...]:
    """``("a/", "a/b/")`` for ``a/b/c.py``: the folders a file nearer to it starts with."""
    parts = path.split("/")[:-1]
    return tuple("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))


def _near(path: str, chain: tuple[str, ...]) -> int:
    """Folders ``path`` shares with a focus file's, one more when it is the same folder."""
    shared = 0
    for depth in range(len(chain), 0, -1):
        if path.startswith(chain[depth - 1]):
            shared = depth
            break
    base = chain[-1] if chain else ""
    same = shared == len(chain) and "/" not in path[len(base) :]
    return shared + 1 if same else shared


def posix(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).as_posix().removeprefix("./")


def stem_of(path: str) -> str:
    return name_of(path).split(".", 1)[0].lower()
