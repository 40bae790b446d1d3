"""Pure text-edit computation: old text + new text -> minimal LSP edits, diffs, rebase.

No I/O here. Positions follow LSP: lines end at ``\\n``, ``\\r\\n`` or ``\\r``, and
``character`` counts UTF-16 code units, so an emoji is two units wide.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Position:
    """Zero-based line and UTF-16 character offset, as in LSP."""

    line: int
    character: int


@dataclass(frozen=True)
class Range:
    start: Position
    end: Position


@dataclass(frozen=True)
class TextEdit:
    """Replace ``range`` of the original text with ``new_text``."""

    range: Range
    new_text: str


def split_lines(text: str) -> list[str]:
    """Lines with their terminators kept, split only at LSP line ends."""
    lines: list[str] = []
    start = 0
    for match in _LINE_END.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class _LineIndex:
    """Start offset and content end (before the terminator) of every LSP line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.content_ends: list[int] = []
        for match in _LINE_END.finditer(text):
            self.content_ends.append(match.start())
            self.starts.append(match.end())
        self.content_ends.append(len(text))

    def offset(self, pos: Position) -> int:
        if pos.line < 0 or pos.character < 0:
            raise ValueError(f"negative position {pos}")
        if pos.line >= len(self.starts):
            raise ValueError(f"{pos} is past the end of the document ({len(self.starts)} lines)")
        start, end = self.starts[pos.line], self.content_ends[pos.line]
        units = 0
        index = start
        while units < pos.character:
            if index >= end:
                raise ValueError(f"{pos} is past the end of line {pos.line}")
            units += 2 if ord(self.text[index]) > 0xFFFF else 1
            index += 1
        if units != pos.character:
            raise ValueError(f"{pos} falls inside a surrogate pair (the middle of a character)")
        return index

    def position(self, offset: int) -> Position:
        if not 0 <= offset <= len(self.text):
            raise ValueError(f"offset {offset} is outside the text (length {len(self.text)})")
        line = bisect.bisect_right(self.starts, offset) - 1
        if offset > self.content_ends[line]:
            raise ValueError(f"offset {offset} falls inside a line terminator")
        return Position(line, _utf16_len(self.text[self.starts[line] : offset]))


def offset_at(text: str, pos: Position) -> int:
    """Python string index of an LSP position; ValueError when the position is invalid."""
    return _LineIndex(text).offset(pos)


def position_at(text: str, offset: int) -> Position:
    """LSP position of a Python string index; ValueError inside a ``\\r\\n`` or out of range."""
    return _LineIndex(text).position(offset)


def _common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    i = 0
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    i = 0
    while i < limit and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


def minimal_edits(old: str, new: str) -> list[TextEdit]:
    """Small, non-overlapping edits in document order that turn ``old`` into ``new``.

    Lines are matched first (difflib), then each changed region is trimmed to its
    common prefix and suffix, so a one-word change becomes a one-word edit. An edit
    never starts or ends between ``\\r`` and ``\\n``, which clients would mis-place.
    """
    if old == new:
        return []
    old_lines, new_lines = split_lines(old), split_lines(new)
    old_starts = _offsets(old_lines)
    new_starts = _offsets(new_lines)
    index = _LineIndex(old)
    edits: list[TextEdit] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        o_start, o_end = old_starts[i1], old_starts[i2]
        n_start, n_end = new_starts[j1], new_starts[j2]
        old_seg, new_seg = old[o_start:o_end], new[n_start:n_end]
        prefix = _common_prefix(old_seg, new_seg)
        if prefix and old_seg[prefix - 1] == "\r" and old_seg[prefix : prefix + 1] == "\n":
            prefix -= 1
        suffix = _common_suffix(old_seg, new_seg, min(len(old_seg), len(new_seg)) - prefix)
        cut = len(old_seg) - suffix
        if suffix and old_seg[cut] == "\n" and cut > 0 and old_seg[cut - 1] == "\r":
            suffix -= 1
        start, end = o_start + prefix, o_end - suffix
        edits.append(
            TextEdit(
                Range(index.position(start), index.position(end)),
                new_seg[prefix : len(new_seg) - suffix],
            )
        )
    return edits


def _offsets(lines: list[str]) -> list[int]:
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    return offsets


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply LSP edits whose ranges all refer to ``text``; ValueError on overlap or bad range.

    Inserts at the same position keep their order in ``edits``, as LSP specifies.
    """
    index = _LineIndex(text)
    spans: list[tuple[int, int, str]] = []
    for edit in edits:
        start, end = index.offset(edit.range.start), index.offset(edit.range.end)
        if start > end:
            raise ValueError(f"edit range {edit.range} ends before it starts")
        spans.append((start, end, edit.new_text))
    spans.sort(key=lambda span: (span[0], span[1]))  # stable: equal inserts keep their order
    parts: list[str] = []
    cursor = 0
    for start, end, new_text in spans:
        if start < cursor:
            raise ValueError("edits overlap")
        parts.append(text[cursor:start])
        parts.append(new_text)
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)


def unified_diff(path: str, old: str, new: str) -> str:
    """Git-style unified diff (``a/path``, ``b/path``, 3 lines of context); empty if equal."""
    lines: list[str] = []
    for line in difflib.unified_diff(
        split_lines(old), split_lines(new), fromfile=f"a/{path}", tofile=f"b/{path}", n=3
    ):
        if line.endswith(("\n", "\r")):
            lines.append(line)
        else:
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def count_changes(old: str, new: str) -> tuple[int, int]:
    """(added lines, deleted lines), as a diff stat would count them."""
    additions = deletions = 0
    matcher = difflib.SequenceMatcher(None, split_lines(old), split_lines(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            deletions += i2 - i1
            additions += j2 - j1
    return additions, deletions


@dataclass(frozen=True)
class _Hunk:
    start: int  # first base line replaced
    end: int  # one past the last base line replaced (== start for a pure insert)
    lines: tuple[str, ...]


def _hunks(base: list[str], other: list[str]) -> list[_Hunk]:
    matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
    return [
        _Hunk(i1, i2, tuple(other[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def rebase(base: str, proposed: str, current: str) -> str | None:
    """Carry the change ``base -> proposed`` over to ``current``, or None if they collide.

    Used when the user typed while the agent worked: the agent's hunks apply only
    if each one touches base lines the user left alone and does not even abut a
    line the user changed. Anything closer is a conflict, never a guess.
    """
    if proposed == base:
        return current
    if current in (base, proposed):
        return proposed
    base_lines = split_lines(base)
    hunks = sorted(
        _hunks(base_lines, split_lines(proposed)) + _hunks(base_lines, split_lines(current)),
        key=lambda hunk: (hunk.start, hunk.end),
    )
    # Hunks from one side are separated by unchanged lines, so any collision shows
    # up between neighbours in start order.
    for before, after in itertools.pairwise(hunks):
        if after.start <= before.end:
            return None
    merged: list[str] = []
    cursor = 0
    for hunk in hunks:
        merged.extend(base_lines[cursor : hunk.start])
        merged.extend(hunk.lines)
        cursor = hunk.end
    merged.extend(base_lines[cursor:])
    return "".join(merged)
