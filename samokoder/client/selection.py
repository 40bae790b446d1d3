"""`--lines START-END` (1-based, inclusive) to an LSP range over whole lines."""

from __future__ import annotations

import re
from typing import Any

from samokoder.workspace.textedits import position_at, split_lines

_LINES = re.compile(r"^\s*(\d+)\s*(?:[-:,]\s*(\d+)\s*)?$")


class SelectionError(ValueError):
    """The lines given do not make a selection; the message says why."""


def parse_lines(value: str) -> tuple[int, int]:
    """`"10-24"` → (10, 24); `"7"` → (7, 7)."""
    match = _LINES.match(value)
    if match is None:
        raise SelectionError(f"--lines takes START-END, e.g. 10-24 (got {value!r})")
    start = int(match.group(1))
    end = int(match.group(2) or start)
    if start < 1:
        raise SelectionError("--lines counts from 1")
    if end < start:
        raise SelectionError(f"--lines {value}: END is before START")
    return start, end


def selection_range(start: int, end: int, text: str | None) -> dict[str, Any]:
    """Lines START..END as `{start, end}` positions: from the start of line START to the
    start of the line after END, or to the end of the file when END is its last line.

    `text` None (the file could not be read here) leaves the range unclipped, for the
    server to judge the path.
    """
    range_start = {"line": start - 1, "character": 0}
    range_end = {"line": end, "character": 0}
    if text is None:
        return {"start": range_start, "end": range_end}
    count = len(split_lines(text))
    if start > count:
        raise SelectionError(
            f"the file has {count} line{'s' if count != 1 else ''}; --lines starts at {start}"
        )
    last = position_at(text, len(text))
    if end > last.line:
        range_end = {"line": last.line, "character": last.character}
    return {"start": range_start, "end": range_end}
