"""Edit instructions written in the file itself, for editors that cannot ask for one.

A plain LSP client (Helix, Zed, Emacs, Neovim without the plugin) has no way to
prompt for an instruction when a code action runs. So the user writes it as a comment
in the file's own syntax, in or just above the selection:

    # samokoder: use pathlib

and the code action is titled with it; the edit removes the comment. Pure functions
on the text and line numbers, fast enough for a code-action request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

MARKER = "samokoder:"
MAX_ABOVE = 5  # comment lines looked at above the selection
MAX_INSTRUCTION = 500

HASH, SLASHES, DASHES, SEMI, PERCENT, QUOTE = "#", "//", "--", ";", "%", '"'
C_BLOCK, XML_BLOCK, ML_BLOCK = ("/*", "*/"), ("<!--", "-->"), ("(*", "*)")
_LINE_PREFIXES: dict[str, tuple[str, ...]] = {}
_BLOCKS: dict[str, tuple[tuple[str, str], ...]] = {}


def _languages(
    extensions: str, prefixes: tuple[str, ...], blocks: tuple[tuple[str, str], ...]
) -> None:
    for ext in extensions.split():
        _LINE_PREFIXES[ext] = prefixes
        _BLOCKS[ext] = blocks


_languages(
    "py pyi pyw sh bash zsh fish rb pl pm r yaml yml toml cfg conf nix ex exs jl tf hcl "
    "mk cmake ps1 coffee gd dockerfile makefile gitignore",
    (HASH,),
    (),
)
_languages(
    "c h cc cpp cxx hpp hh cs java js jsx mjs cjs ts tsx mts cts go rs swift kt kts scala "
    "dart zig groovy gradle proto scss less sol v",
    (SLASHES,),
    (C_BLOCK,),
)
_languages("php", (SLASHES, HASH), (C_BLOCK,))
_languages("css", (), (C_BLOCK,))
_languages("lua sql hs elm ada adb ads vhd vhdl", (DASHES,), ())
_languages("el lisp cl clj cljs cljc edn scm ss rkt asm s ini", (SEMI,), ())
_languages("tex sty erl hrl m", (PERCENT,), ())
_languages("vim", (QUOTE,), ())
_languages("html htm xml xhtml svg md markdown vue svelte", (), (XML_BLOCK,))
_languages("ml mli fs fsi", (SLASHES,), (ML_BLOCK,))
_ANY_PREFIXES = (HASH, SLASHES, DASHES, SEMI, PERCENT)
_ANY_BLOCKS = (C_BLOCK, XML_BLOCK)
_NAMES = {"makefile": "makefile", "dockerfile": "dockerfile", "cmakelists.txt": "cmake"}


@dataclass(frozen=True)
class InstructionComment:
    instruction: str
    line: int  # 0-based line of the comment
    start: int  # str offsets in the text of what the edit removes (the line when the
    end: int  # comment is all it holds, else the comment and the blanks before it)


def selection_lines(start_line: int, end_line: int, end_character: int) -> tuple[int, int]:
    """The lines a range covers; a range ending at a line's start does not cover it."""
    if end_character == 0 and end_line > start_line:
        end_line -= 1
    return start_line, end_line


def find_instruction(
    text: str, path: str, first_line: int, last_line: int
) -> InstructionComment | None:
    """The `samokoder:` comment in lines first..last (the first one), else in the comment
    lines just above them (the nearest one)."""
    pattern, comment_start = _syntax(path)
    first_line = max(first_line, 0)
    top = max(first_line - MAX_ABOVE, 0)
    base = _skip_lines(text, 0, top)
    if base is None:
        return None
    above = _line_spans(text, base, first_line - top + 1)
    if len(above) <= first_line - top:
        return None  # the selection starts past the end of the text
    selection_start = above.pop()[0]
    selection_end = _skip_lines(text, selection_start, last_line - first_line + 1)
    pos, end = selection_start, len(text) if selection_end is None else selection_end
    while (hit := _MARKER.search(text, pos, end)) is not None:  # one scan, top down
        start, content_end, _ = _span_at(text, hit.start())
        found = _match(
            text,
            (start, content_end, 0),
            first_line + _breaks(text, selection_start, start),
            pattern,
        )
        if found is not None:
            return found
        pos = hit.end()
    for n in range(len(above) - 1, -1, -1):  # upwards from the line above the selection
        found = _match(text, above[n], top + n, pattern)
        if found is not None:
            return found
        if not comment_start.match(text, above[n][0], above[n][1]):
            break
    return None


def without(text: str, found: InstructionComment, start: int, end: int) -> tuple[str, int, int]:
    """`text` without the comment, and the offsets start/end moved to match."""

    def moved(offset: int) -> int:
        if offset <= found.start:
            return offset
        if offset >= found.end:
            return offset - (found.end - found.start)
        return found.start

    return text[: found.start] + text[found.end :], moved(start), moved(end)


def example(path: str, instruction: str = "add type hints") -> str:
    """An instruction comment in the file's own syntax, for messages."""
    key = _key(path)
    prefixes = _LINE_PREFIXES.get(key, (HASH,))
    if prefixes:
        return f"{prefixes[0]} {MARKER} {instruction}"
    start, end = _BLOCKS.get(key, (C_BLOCK,))[0]
    return f"{start} {MARKER} {instruction} {end}"


# -- matching -----------------------------------------------------------------------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
# The marker in any case, as a plain character scan (IGNORECASE would be slower).
_MARKER = re.compile("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in MARKER))
_syntax_cache: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _line_spans(text: str, start: int, count: int) -> list[tuple[int, int, int]]:
    """(start, end of content, end with the line break) of `count` lines from `start`."""
    spans: list[tuple[int, int, int]] = []
    for m in _LINE.finditer(text, start):
        if len(spans) >= count:
            break
        content_end = m.start() + len(m.group(0).rstrip("\r\n"))
        spans.append((m.start(), content_end, m.end()))
        if content_end == m.end():  # no line break: the last line
            break
    return spans


def _skip_lines(text: str, start: int, n: int) -> int | None:
    """Where the n-th line after the one at `start` begins; None past the end of the text.

    In C for the usual line breaks, so a code action deep in a large file stays fast.
    """
    if n <= 0:
        return start
    if n > 1000 and text.count("\r", start) == text.count("\r\n", start):  # no lone CR
        rest = text[start:].split("\n", n)
        return None if len(rest) <= n else len(text) - len(rest[-1])
    spans = _line_spans(text, start, n + 1)
    return spans[n][0] if len(spans) > n else None


def _breaks(text: str, start: int, end: int) -> int:
    """Line breaks (LF, CRLF, CR) between two offsets."""
    return (
        text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
    )


def _key(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    if name in _NAMES:
        return _NAMES[name]
    return PurePosixPath(name).suffix.lstrip(".") or name.lstrip(".")


def _syntax(path: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The marker comment pattern and a "this line is a comment" pattern for the file."""
    key = _key(path)
    if key in _syntax_cache:
        return _syntax_cache[key]
    prefixes = _LINE_PREFIXES.get(key, _ANY_PREFIXES)
    blocks = _BLOCKS.get(key, _ANY_BLOCKS)
    marker = rf"[ \t]*{re.escape(MARKER)}[ \t]*"
    alternatives = [
        rf"(?:{re.escape(p)})+{marker}(?P<line{i}>[^\r\n]*?)[ \t]*(?=[\r\n]|\Z)"
        for i, p in enumerate(prefixes)
    ]
    alternatives += [
        rf"{re.escape(a)}[*!-]*{marker}(?P<block{i}>[^\r\n]*?)[ \t*-]*{re.escape(b)}"
        for i, (a, b) in enumerate(blocks)
    ]
    starts = [re.escape(p) for p in prefixes] + [re.escape(a) for a, _ in blocks]
    starts += [r"\*"] if C_BLOCK in blocks else []  # the middle lines of a /* */ block
    pattern = re.compile(rf"[ \t]*(?:{'|'.join(alternatives)})", re.IGNORECASE | re.MULTILINE)
    comment_start = re.compile(rf"[ \t]*(?:{'|'.join(starts) or '(?!)'})")
    _syntax_cache[key] = (pattern, comment_start)
    return pattern, comment_start


def _match(
    text: str, span: tuple[int, int, int], line: int, pattern: re.Pattern[str]
) -> InstructionComment | None:
    m = pattern.search(text, span[0], span[1])
    return None if m is None else _found(text, m, line)


def _found(text: str, m: re.Match[str], line: int) -> InstructionComment | None:
    body = next((v for v in m.groupdict().values() if v is not None), "")
    instruction = " ".join(body.split())[:MAX_INSTRUCTION]
    if not instruction:
        return None
    start, content_end, line_end = _span_at(text, m.start())
    rest = text[start : m.start()] + text[m.end() : content_end]
    if not rest.strip():  # the comment is the whole line: remove the line
        return InstructionComment(instruction, line, start, line_end)
    return InstructionComment(instruction, line, m.start(), m.end())


def _span_at(text: str, offset: int) -> tuple[int, int, int]:
    """The span (as in _line_spans) of the line holding `offset`."""
    start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    breaks = [i for i in (text.find("\n", offset), text.find("\r", offset)) if i >= 0]
    content_end = min(breaks, default=len(text))
    line_end = content_end + (2 if text.startswith("\r\n", content_end) else 1 if breaks else 0)
    return start, content_end, line_end
