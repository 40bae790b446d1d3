"""Turning a model's reply into the replacement for a selection (DESIGN §6).

Pure functions: the reply's code block is found, then fitted to the selection's
indentation, line ending and trailing newline, so a model that dedents its
answer or drops the final newline still produces a clean edit.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})[^`]*$")


@dataclass(frozen=True)
class CodeReply:
    """What a reply holds as code, and what of it the extraction could not vouch for."""

    code: str
    fenced: bool  # the code came from a fenced block
    closed: bool  # False: a fence was opened and never closed (the code may be cut short)
    others: int  # further complete fenced blocks after the first, which are not used

    @property
    def explicit_empty(self) -> bool:
        """An empty closed fenced block: the model says "nothing" on purpose."""
        return self.fenced and self.closed and not self.code.strip()


def extract_block(reply: str) -> CodeReply:
    """The first fenced block of the reply, or the whole reply when it has no fence.

    A fence inside the block that opens with a language (```` ```bash ````) opens a
    nested block, so a Markdown file with code examples is not cut at its first one.
    """
    text = reply.replace("\r\n", "\n")
    blocks, unclosed = _blocks(text.split("\n"))
    if blocks:
        return CodeReply(blocks[0], True, True, len(blocks) - 1)
    stripped = text.strip("\n")
    if unclosed is not None:  # the model stopped early, or never closed its block
        code = "\n".join(unclosed).strip("\n")
        return CodeReply(code + ("\n" if text.endswith("\n") and code else ""), True, False, 0)
    return CodeReply(stripped + ("\n" if text.endswith("\n") and stripped else ""), False, True, 0)


def _blocks(lines: list[str]) -> tuple[list[str], list[str] | None]:
    """The bodies of the complete fenced blocks, and the lines of an unclosed one."""
    bodies: list[str] = []
    index = 0
    while index < len(lines):
        opener = _OPEN.match(lines[index])
        if not opener:
            index += 1
            continue
        fence, depth = opener.group("fence"), 0
        for end in range(index + 1, len(lines)):
            line = lines[end].rstrip(" \t")
            if line == fence:
                if depth == 0:
                    bodies.append("".join(f"{body}\n" for body in lines[index + 1 : end]))
                    index = end + 1
                    break
                depth -= 1
            elif (nested := _OPEN.match(line)) and nested.group("fence") == fence:
                depth += 1  # only a fence with a language can get here: a bare one is `fence`
        else:
            return bodies, (None if bodies else lines[index + 1 :])
    return bodies, None


def extract_code(reply: str) -> str:
    """The first fenced block of the reply, or the whole reply when it has no fence."""
    return extract_block(reply).code


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
