"""Pure: the files a task text points at, found through an index of words and word parts.

Scoring every file of a 100,000-file tree for each task costs about a second, so
`TermIndex` keeps, per word, which files it could score in and at most how much.
A search adds those bounds up for the task's words, then scores files exactly in
the order of their bounds and stops once no file left can beat the ones found:
the answer is the one a full scan would give, for a fraction of the files.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
import threading
from array import array
from collections.abc import Iterable
from typing import TypeAlias

from samokoder.workspace import symbols
from samokoder.workspace.map_ranking import FileEntry, RepoMap, folders_of, name_of, posix, stem_of

_PATH_LIKE = re.compile(r"[\w.\-/]*\w\.[A-Za-z0-9]+|[\w.\-]+(?:/[\w.\-]+)+")
_WEIGHT_BITS = 10
_WEIGHT_MAX = (1 << _WEIGHT_BITS) - 1
_DOTTED_SIDE_MAX = 80  # longest class or member name a dotted symbol is looked up with
_DOTTED_MIN = 5
_SYMBOL_HITS_MAX = 5
_GROUPS = ("place", "word", "part", "dotted")

# A posting is packed ``file_id << _WEIGHT_BITS | bound``: an int alone when one file
# holds the word (most symbol names), an array when several do. Arrays, not lists of
# int objects: a third of the memory, and nothing for the garbage collector to walk.
Posting: TypeAlias = "int | array[int]"


class _Query:
    """The words of a task text, split as `_score` uses them."""

    def __init__(self, task_text: str) -> None:
        self.text = task_text.lower()
        self.paths = {posix(m).lower() for m in _PATH_LIKE.findall(task_text)}
        found = symbols.identifiers(task_text)
        self.words = {w.lower() for w in found} - symbols.STOPWORDS
        self.parts = {p for w in found for p in symbols.name_parts(w)}


def relevant_files(repo: RepoMap, task_text: str, *, limit: int = 8) -> list[str]:
    """Paths most relevant to a task description, best first, at most ``limit``.

    Scores explicit paths in the text highest, then file stems, folder names and
    symbol names that appear as identifiers (case-insensitive), then shared word
    parts of camelCase/snake_case names. Ties go to shallower, then alphabetical
    paths; files that score nothing are not returned. Uses the map's index when
    it still describes the map (it does unless files changed since), else scores
    every file.
    """
    query = _Query(task_text)
    index = repo.search
    if isinstance(index, TermIndex):
        found = index.search(query, limit, repo.generation)
        if found is not None:
            return found
    scored: list[tuple[int, int, str]] = []
    for entry in repo.entries:
        score = _score(entry, query)
        if score > 0:
            scored.append((-score, entry.path.count("/"), entry.path))
    scored.sort()
    return [path for _, _, path in scored[:limit]]


def _score(entry: FileEntry, query: _Query) -> int:
    path = entry.path.lower()
    name = name_of(path)
    paths, words, parts = query.paths, query.words, query.parts
    score = 0
    if any(p == path or p.endswith(f"/{path}") or path.endswith(f"/{p}") for p in paths):
        score += 100  # the path, an absolute form of it, or its tail with a folder
    elif any(p == name or p.endswith(f"/{name}") for p in paths):
        score += 50  # the file name, in some other folder
    elif any(path.startswith(f"{p.rstrip('/')}/") for p in paths):
        score += 20  # a folder that holds it
    stem = stem_of(path)
    if stem in words:
        score += 12
    score += 3 * len(symbols.name_parts(stem) & parts)
    for folder in folders_of(path):
        score += 4 if folder in words else len(symbols.name_parts(folder) & parts)
    symbol_hits = 0
    symbol_parts: set[str] = set()
    for symbol in entry.symbols:
        short = symbol.rsplit(".", 1)[-1]
        if (len(short) >= 3 and short.lower() in words) or (
            "." in symbol and len(symbol) >= _DOTTED_MIN and symbol.lower() in query.text
        ):
            symbol_hits += 1
        symbol_parts |= symbols.name_parts(short) & parts
    return score + 6 * min(symbol_hits, _SYMBOL_HITS_MAX) + min(len(symbol_parts), 5)


def _file_terms(entry: FileEntry) -> list[tuple[str, str, int]]:
    """``(group, term, bound)``: the most each term of the task can add to this file's score.

    Groups: ``place`` (last part of a path in the text), ``word`` (an identifier),
    ``part`` (a word part), ``dotted`` (``Class.method`` written in the text). A term
    may come more than once (its stem and a symbol): the bounds add up. The terms
    of the file's folders are the folder's (`_folder_terms`), kept once per folder.
    """
    name = entry.path.lower().rpartition("/")[2]
    stem = name.split(".", 1)[0]
    terms = [("place", name, 100), ("word", stem, 12)]
    terms.extend(("part", part, 3) for part in symbols.name_parts(stem))
    if not entry.symbols:
        return terms
    hits: dict[str, int] = {}
    symbol_parts: set[str] = set()
    for symbol in entry.symbols:
        short = symbol.rpartition(".")[2]
        if len(short) >= 3:
            lowered = short.lower()
            hits[lowered] = hits.get(lowered, 0) + 1
        if "." in symbol and len(symbol) >= _DOTTED_MIN:
            hits[symbol] = hits.get(symbol, 0) + 1  # counted apart below
        symbol_parts |= symbols.name_parts(short)
    for word, count in hits.items():
        bound = 6 * min(count, _SYMBOL_HITS_MAX)
        if "." in word:
            terms.append(("dotted", word.lower(), bound))
        else:
            terms.append(("word", word, bound))
    terms.extend(("part", part, 1) for part in symbol_parts)  # once per file, at most
    return terms


@functools.lru_cache(maxsize=4096)
def _folder_terms(folder: str) -> tuple[tuple[str, str, int], ...]:
    """The terms every file of a folder (lower-cased path) gets from it."""
    if not folder:
        return ()
    folders = folder.split("/")
    terms = [("place", f, 20) for f in dict.fromkeys(folders)]
    terms.extend(("word", f, 4) for f in folders)
    terms.extend(("part", part, 1) for f in folders for part in symbols.name_parts(f))
    return tuple(terms)


def _folder_key(path: str) -> str:
    return path.lower().rpartition("/")[0]


class TermIndex:
    """Files by id and, per group and term, the files it may score in with a bound.

    What a file's folders add is kept per folder (lower-cased), not per file: a
    folder's terms are shared by all its files, and deep trees have many of them.
    Changed in place by the scan that owns it (`add`, `remove`, ``generation``,
    under ``lock``); a map made by an earlier scan is searched only while the
    generation it carries is still the index's.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.generation = 0
        self._ids: dict[str, int] = {}
        self._entries: list[FileEntry | None] = []
        self._free: list[int] = []
        self._groups: dict[str, dict[str, Posting]] = {g: {} for g in _GROUPS}
        self._folder_files: dict[str, set[int]] = {}
        self._folder_groups: dict[str, dict[str, dict[str, int]]] = {g: {} for g in _GROUPS}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, entry: FileEntry) -> None:
        """Index ``entry`` (replacing what was indexed under its path)."""
        if entry.path in self._ids:
            self.remove(entry.path)
        fid = self._free.pop() if self._free else len(self._entries)
        if fid == len(self._entries):
            self._entries.append(entry)
        else:
            self._entries[fid] = entry
        self._ids[entry.path] = fid
        self._add_to_folder(_folder_key(entry.path), fid)
        groups = self._groups
        shifted = fid << _WEIGHT_BITS  # every bound is below _WEIGHT_MAX: no clamp
        for group, term, bound in _file_terms(entry):
            item = shifted | bound
            postings = groups[group]
            old = postings.get(term)
            if old is None:
                postings[term] = item
            elif isinstance(old, int):
                postings[term] = array("q", (old, item))
            else:
                old.append(item)

    def remove(self, path: str) -> None:
        """Forget the file at ``path``, if indexed."""
        fid = self._ids.pop(path, None)
        if fid is None:
            return
        entry = self._entries[fid]
        assert entry is not None
        self._remove_from_folder(_folder_key(path), fid)
        for group, term, bound in _file_terms(entry):
            postings = self._groups[group]
            item = fid << _WEIGHT_BITS | bound
            old = postings.get(term)
            if isinstance(old, int):
                if old == item:
                    del postings[term]
            elif old is not None:
                old.remove(item)
                if len(old) == 1:
                    postings[term] = old[0]
        self._entries[fid] = None
        self._free.append(fid)

    def _add_to_folder(self, folder: str, fid: int) -> None:
        files = self._folder_files.get(folder)
        if files is None:
            files = self._folder_files[folder] = set()
            for group, term, bound in _folder_terms(folder):
                folders = self._folder_groups[group].setdefault(term, {})
                folders[folder] = folders.get(folder, 0) + bound
        files.add(fid)

    def _remove_from_folder(self, folder: str, fid: int) -> None:
        files = self._folder_files[folder]
        files.discard(fid)
        if files:
            return
        del self._folder_files[folder]
        for group, term, _ in _folder_terms(folder):
            folders = self._folder_groups[group].get(term)
            if folders is not None:
                folders.pop(folder, None)  # a term twice in one path: gone the first time
                if not folders:
                    del self._folder_groups[group][term]

    def search(self, query: _Query, limit: int, generation: int) -> list[str] | None:
        """Best ``limit`` paths for ``query``; None when the index moved past ``generation``.

        Files are taken by bound, highest first; among files of one bound, by depth
        and path, only as many as could still be kept. Scoring stops once the last
        file kept scores above every bound left.
        """
        with self.lock:  # held throughout: entries are replaced by the next scan
            if generation != self.generation:
                return None
            by_bound: dict[int, list[int]] = {}
            for fid, bound in self._bounds(query).items():
                by_bound.setdefault(bound, []).append(fid)
            best: list[tuple[int, int, str]] = []  # sorted, at most ``limit``
            for bound in sorted(by_bound, reverse=True):
                if limit <= 0 or (len(best) == limit and -best[-1][0] > bound):
                    break  # no file left can score above the last one kept
                self._take(by_bound[bound], bound, query, limit, best)
            return [path for _, _, path in best]

    def _take(
        self,
        fids: list[int],
        bound: int,
        query: _Query,
        limit: int,
        best: list[tuple[int, int, str]],
    ) -> None:
        """Keep the best of ``fids`` (all with ``bound``) in ``best``."""
        entries = self._entries

        def order(fid: int) -> tuple[int, str]:
            path = entries[fid].path  # type: ignore[union-attr]  # indexed ids only
            return (path.count("/"), path)

        def keep(fid: int) -> bool:
            """Score the file, keep it if it is among the best; whether it reached ``bound``."""
            entry = entries[fid]
            assert entry is not None
            score = _score(entry, query)
            if score > 0:
                bisect.insort(best, (-score, entry.path.count("/"), entry.path))
                del best[limit:]
            return score == bound

        first = heapq.nsmallest(limit, fids, key=order)
        reached = [keep(fid) for fid in first]
        # The rest of this bound come after these by depth and path: they can only be
        # kept if one of these scored under its bound.
        if not all(reached) and len(first) < len(fids):
            chosen = set(first)
            for fid in fids:
                if fid not in chosen:
                    keep(fid)

    def _bounds(self, query: _Query) -> dict[int, int]:
        bounds: dict[int, int] = {}
        lookups: list[tuple[str, Iterable[str]]] = [
            ("place", {p.rstrip("/").rpartition("/")[2] for p in query.paths}),
            ("word", query.words),
            ("part", query.parts),
            ("dotted", _dotted_in(query.text, self._groups["dotted"])),
        ]
        for group, terms in lookups:
            postings = self._groups[group]
            by_folder = self._folder_groups[group]
            for term in terms:
                found = postings.get(term)
                if found is not None:
                    for item in (found,) if isinstance(found, int) else found:
                        fid = item >> _WEIGHT_BITS
                        bounds[fid] = bounds.get(fid, 0) + (item & _WEIGHT_MAX)
                for folder, bound in by_folder.get(term, {}).items():
                    for fid in self._folder_files[folder]:
                        bounds[fid] = bounds.get(fid, 0) + bound
        return bounds


def _dotted_in(text: str, known: dict[str, Posting]) -> set[str]:
    """Indexed ``class.member`` names written anywhere in ``text`` (as `_score` finds them)."""
    if not known:
        return set()
    found: set[str] = set()
    start = text.find(".")
    while start != -1:
        left = start
        while left > 0 and start - left < _DOTTED_SIDE_MAX and _part_char(text[left - 1]):
            left -= 1
        right = start + 1
        while right < len(text) and right - start <= _DOTTED_SIDE_MAX and _part_char(text[right]):
            right += 1
        for i in range(left, start):
            for j in range(start + 2, right + 1):
                candidate = text[i:j]
                if candidate in known:
                    found.add(candidate)
        start = text.find(".", start + 1)
    return found


def _part_char(char: str) -> bool:
    return char != "." and not char.isspace()
