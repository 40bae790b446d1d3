"""Turning a model's reply into the replacement for a selection (DESIGN §6).

Pure functions: the reply's code block is found, then fitted to the selection's
indentation, line ending and trailing newline, so a model that dedents its
answer or drops the final newline still produces a clean edit.
"""

from __future__ import annotations

import re
import textwrap

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)


def extract_code(reply: str) -> str:
    """The first fenced block of the reply, or the whole reply when it has no fence."""
    text = reply.replace("\r\n", "\n")
    match = _FENCE.search(text)
    if match:
        return match.group("body")
    stripped = text.strip("\n")
    # An unterminated fence (the model stopped early): drop the opening line only.
    if re.match(r"^(`{3,}|~{3,})", stripped):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
    return stripped + ("\n" if text.endswith("\n") and stripped else "")


def _line_ending(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _common_indent(lines: list[str]) -> str:
    indents = [_indent_of(line) for line in lines if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def fit_replacement(line_prefix: str, selection: str, code: str, *, eol: str | None = None) -> str:
    """Fit `code` to replace `selection`, which starts after `line_prefix` on its line.

    Keeps the selection's base indentation, its line ending and whether it ended
    with a newline. `eol` overrides the line ending (use the document's when the
    selection has no line break of its own).
    """
    ending = eol or _line_ending(selection)
    sel_lines = selection.replace("\r\n", "\n").split("\n")
    new = code.replace("\r\n", "\n")
    if selection.endswith(("\n", "\r\n")):
        new = new.rstrip("\n") + "\n" if new.strip() else new
    else:
        new = new.rstrip("\n")
    owns_line = line_prefix.strip() == ""
    if owns_line:
        full_lines = [line_prefix + sel_lines[0], *sel_lines[1:]]
        base = _common_indent(full_lines)
        body = textwrap.dedent(new)
        indented = textwrap.indent(body, base, lambda line: bool(line.strip()))
        if indented.startswith(line_prefix):
            indented = indented[len(line_prefix) :]
        new = indented
    else:
        first, _, rest = new.partition("\n")
        if rest:
            rest_base = _common_indent(sel_lines[1:]) if len(sel_lines) > 1 else ""
            rest = textwrap.indent(
                textwrap.dedent(rest), rest_base, lambda line: bool(line.strip())
            )
            new = first.lstrip() + "\n" + rest
        else:
            new = first.lstrip() + ("\n" if new.endswith("\n") else "")
    return new.replace("\n", ending) if ending != "\n" else new
