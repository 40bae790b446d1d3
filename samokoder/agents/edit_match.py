"""Finding a SEARCH section in a file: tolerant of model slips, never a guess (DESIGN §6).

Passes run from strict to loose and the first one with exactly one match wins; a
pass that matches two or more places stops the search as ambiguous, so a looser
pass can never pick one of several places. Texts here use ``\\n`` line endings.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

MAX_NEAREST_LINES = 12  # a long SEARCH shows at most this many nearest lines


@dataclass(frozen=True)
class Replaced:
    """The one place was found and replaced."""

    text: str
    pass_name: str  # "exact" | "trailing_whitespace" | "indentation" | "blank_ends"


@dataclass(frozen=True)
class Ambiguous:
    """The SEARCH matches several places; ``starts`` are 1-based line numbers."""

    starts: tuple[int, ...]
    length: int


@dataclass(frozen=True)
class NotFound:
    """No place matches; ``nearest`` holds (1-based line number, line) of the closest lines."""

    nearest: tuple[tuple[int, str], ...]
    already_applied: bool  # the REPLACE lines are already in the file


MatchOutcome = Replaced | Ambiguous | NotFound


@dataclass(frozen=True)
class _Shift:
    """Indentation the file has more (``add``) or less (``remove``) than the SEARCH."""

    add: str = ""
    remove: str = ""

    def apply(self, line: str) -> str:
        if not line.strip():
            return line
        if self.add:
            return self.add + line
        if self.remove:
            return line[len(self.remove) :] if line.startswith(self.remove) else line.lstrip()
        return line


_Matcher = Callable[[list[str], list[str]], _Shift | None]


def split_lines(text: str) -> tuple[list[str], bool]:
    """Lines without terminators, and whether the text ends with a newline."""
    if not text:
        return [], False
    ends = text.endswith("\n")
    return (text[:-1] if ends else text).split("\n"), ends


def join_lines(lines: list[str], final_newline: bool) -> str:
    return "\n".join(lines) + ("\n" if final_newline and lines else "")


def _exact(window: list[str], search: list[str]) -> _Shift | None:
    return _Shift() if window == search else None


def _trailing(window: list[str], search: list[str]) -> _Shift | None:
    same = all(f.rstrip() == s.rstrip() for f, s in zip(window, search, strict=True))
    return _Shift() if same else None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _shifted(window: list[str], search: list[str]) -> _Shift | None:
    """The same prefix added to (or removed from) every non-blank line, else None."""
    shift: _Shift | None = None
    for raw_f, raw_s in zip(window, search, strict=True):
        f, s = raw_f.rstrip(), raw_s.rstrip()
        if not f or not s:
            if f or s:
                return None
            continue
        if shift is None:
            lf, ls = _indent(f), _indent(s)
            if lf.endswith(ls):
                shift = _Shift(add=lf[: len(lf) - len(ls)])
            elif ls.endswith(lf):
                shift = _Shift(remove=ls[: len(ls) - len(lf)])
            else:
                return None
        if f != shift.add + s[len(shift.remove) :] or not s.startswith(shift.remove):
            return None
    return shift


_PASSES: tuple[tuple[str, _Matcher], ...] = (
    ("exact", _exact),
    ("trailing_whitespace", _trailing),
    ("indentation", _shifted),
)


def _find(lines: list[str], search: list[str], matcher: _Matcher) -> list[tuple[int, _Shift]]:
    n = len(search)
    found = []
    for start in range(len(lines) - n + 1):
        shift = matcher(lines[start : start + n], search)
        if shift is not None:
            found.append((start, shift))
    return found


def _trim_blank_ends(lines: list[str]) -> tuple[list[str], int, int]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], start, len(lines) - end


def _drop_blank_ends(lines: list[str], lead: int, trail: int) -> list[str]:
    """Drop up to `lead`/`trail` blank lines from the ends (the ones dropped from SEARCH)."""
    while lead and lines and not lines[0].strip():
        lines, lead = lines[1:], lead - 1
    while trail and lines and not lines[-1].strip():
        lines, trail = lines[:-1], trail - 1
    return lines


def replace_once(content: str, search: str, replace: str) -> MatchOutcome:
    """Replace the one place in `content` that `search` matches (search must not be blank)."""
    lines, final_newline = split_lines(content)
    search_lines, _ = split_lines(search)
    replace_lines, _ = split_lines(replace)
    trimmed, lead, trail = _trim_blank_ends(search_lines)
    attempts = [(name, search_lines, replace_lines, matcher) for name, matcher in _PASSES]
    if (lead or trail) and trimmed:
        trimmed_replace = _drop_blank_ends(replace_lines, lead, trail)
        attempts += [("blank_ends", trimmed, trimmed_replace, m) for _, m in _PASSES]
    for name, pattern, replacement, matcher in attempts:
        found = _find(lines, pattern, matcher)
        if len(found) > 1:
            return Ambiguous(tuple(start + 1 for start, _ in found), len(pattern))
        if found:
            start, shift = found[0]
            new_lines = [shift.apply(line) for line in replacement]
            lines[start : start + len(pattern)] = new_lines
            return Replaced(join_lines(lines, final_newline), name)
    return NotFound(nearest_lines(lines, search_lines), _already_applied(lines, replace_lines))


def _already_applied(lines: list[str], replace_lines: list[str]) -> bool:
    trimmed, _, _ = _trim_blank_ends(replace_lines)
    return bool(trimmed) and bool(_find(lines, trimmed, _shifted))


def nearest_lines(lines: list[str], search: list[str]) -> tuple[tuple[int, str], ...]:
    """The window of the file most like `search` (difflib ratio), with a line of context.

    Short SEARCH sections show 3-5 lines; long ones at most MAX_NEAREST_LINES, starting
    a little before the first line that differs.
    """
    if not lines:
        return ()
    size = max(1, min(len(search), len(lines)))
    wanted = "\n".join(line.strip() for line in search)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(wanted)
    best, best_ratio = 0, -1.0
    for start in range(len(lines) - size + 1):
        matcher.set_seq1("\n".join(line.strip() for line in lines[start : start + size]))
        if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best, best_ratio = start, ratio
    low, high = max(0, best - 1), min(len(lines), best + size + 1)
    while high - low < 3 and (low > 0 or high < len(lines)):
        low, high = max(0, low - 1), min(len(lines), high + 1)
    if high - low > MAX_NEAREST_LINES:
        first_diff = next(
            (best + k for k, s in enumerate(search[:size]) if lines[best + k].strip() != s.strip()),
            best,
        )
        low = max(low, min(first_diff - 2, high - MAX_NEAREST_LINES))
        high = low + MAX_NEAREST_LINES
    return tuple((number + 1, lines[number]) for number in range(low, high))


def describe(outcome: Ambiguous | NotFound, path: str) -> str:
    """What went wrong, for the model: the places matched, or the nearest lines."""
    if isinstance(outcome, Ambiguous):
        last = outcome.length - 1
        places = ", ".join(
            f"line {start}" if not last else f"lines {start}-{start + last}"
            for start in outcome.starts
        )
        return (
            f"matches {len(outcome.starts)} places in {path} ({places}). Add a few unchanged "
            "lines around the change to SEARCH (and REPLACE) so that it matches exactly one place."
        )
    if outcome.nearest:
        width = len(str(outcome.nearest[-1][0]))
        shown = "\n".join(f"{n:>{width}} | {line}" for n, line in outcome.nearest)
        nearest = f"The closest lines of {path} are:\n```\n{shown}\n```\n"
    else:
        nearest = f"{path} is empty.\n"
    text = (
        f"does not match any lines in {path}. {nearest}"
        "SEARCH must copy existing lines exactly (without the line numbers)."
    )
    if outcome.already_applied:
        text += " The REPLACE lines are already in the file: if that change is done, drop it."
    return text
