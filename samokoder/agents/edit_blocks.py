"""Search/replace edit blocks in a model's reply: parsing, applying, feedback (DESIGN §6).

Pure functions. The parser forgives the usual slips (marker lengths 5-9, case, a file
name in backticks or bold or with an ``a/`` prefix, a name left out when the previous
block or the only known file makes it plain); the matcher (:mod:`edit_match`) forgives
trailing whitespace, a uniform indentation shift and blank lines at the ends of SEARCH.
What stays unclear (no place or several places match, an unknown file, a broken block)
is never guessed: it becomes a :class:`BlockProblem` whose message goes back to the model.

An empty SEARCH creates a file that is not among ``files``, replaces an existing file
that is empty (or only whitespace), and is refused on a non-empty file, where it could
mean "append" as well as "replace everything".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from samokoder.agents.edit_match import Ambiguous, Replaced, describe, replace_once

ProblemKind = Literal["no_match", "ambiguous", "malformed", "unknown_file", "no_file_name"]

_HEAD = re.compile(r"^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*:?[ \t]*$", re.I)
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_TAIL = re.compile(r"^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$", re.I)
_ANY_HEAD = re.compile(r"^[ \t]*<{3,}[ \t]*SEARCH\b", re.I)  # any length: to report it
_ANY_TAIL = re.compile(r"^[ \t]*>{3,}[ \t]*REPLACE\b", re.I)
_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})(?P<info>[^`]*)$")
_PATH_LIKE = re.compile(r"^[\w\-./\\+@~]+$")
_LOOKBACK = 4  # blank and fence lines skipped when looking for a block's file name
_KNOWN_LISTED = 10  # known paths named in an unknown_file message


@dataclass(frozen=True)
class EditBlock:
    """One complete block; ``line`` is where its SEARCH marker is in the reply (1-based)."""

    path: str | None
    search: str
    replace: str
    line: int
    number: int = 0  # ordinal of the block in the reply (1-based); 0: its place in the list


@dataclass(frozen=True)
class BlockProblem:
    """A block that was not applied; ``message`` is written for the model."""

    path: str | None
    block: int  # ordinal of the block in the reply, 1-based
    kind: ProblemKind
    message: str


@dataclass(frozen=True)
class EditResult:
    """New full content of every file changed (``\\n`` or the file's CRLF), and the problems."""

    files: dict[str, str]
    problems: list[BlockProblem] = field(default_factory=list)


def _norm(text: str) -> str:
    return text.replace("\r\n", "\n")


def _clean_name(text: str) -> str:
    """Strip markdown around a file name: ``**`a.py`**:``, ``### a.py``, ``File: a.py``."""
    name = re.sub(r"^#{1,6}[ \t]+", "", text.strip())
    name = re.sub(r"^(?:file(?:name)?|path)[ \t]*:[ \t]*", "", name, flags=re.I)
    previous = None
    while name != previous:
        previous = name
        name = name.strip().rstrip(":").strip("*`'\"")
    return name.replace("\\", "/")


def _looks_like_path(name: str, known: Sequence[str]) -> bool:
    if name in known:
        return True
    if not _PATH_LIKE.match(name) or name.endswith("."):
        return False
    return "/" in name or re.search(r"\.\w+$", name) is not None


def _resolve(name: str, known: Sequence[str], *, by_suffix: bool) -> str:
    """The known path `name` means, or `name` itself (without ``./``) when it is new."""
    while name.startswith("./"):
        name = name[2:]
    if name in known:
        return name
    if name[:2] in ("a/", "b/") and name[2:] in known:  # diff-style prefix
        return name[2:]
    if by_suffix:
        bare = name.lstrip("/")
        tails = [p for p in known if p.endswith("/" + bare) or name.endswith("/" + p)]
        if len(tails) == 1:
            return tails[0]
    return name


def _name_on_line(line: str, known: Sequence[str]) -> str | None:
    """The file name a line before a block gives: alone on it, or one known path in prose."""
    fence = _FENCE.match(line)
    if fence:  # ```python src/app.py  or  ```src/app.py
        for token in re.split(r"[\s:]+", fence.group("info")):
            name = _clean_name(token)
            if name and _looks_like_path(name, known) and ("/" in name or "." in name):
                return name
        return None
    name = _clean_name(line)
    if _looks_like_path(name, known):
        return name
    mentioned = {
        _resolve(_clean_name(token).rstrip(".,;:"), known, by_suffix=False)
        for token in re.findall(r"[^\s()\[\]]+", line)
    }
    in_known = [path for path in mentioned if path in known]
    return in_known[0] if len(in_known) == 1 else None


def _name_before(lines: list[str], head: int, known: Sequence[str]) -> str | None:
    skipped = 0
    for index in range(head - 1, -1, -1):
        line = lines[index]
        if _TAIL.match(line) or _HEAD.match(line) or _DIVIDER.match(line):
            return None
        if not line.strip() or _FENCE.match(line):
            name = _name_on_line(line, known) if line.strip() else None
            if name:
                return name
            skipped += 1
            if skipped > _LOOKBACK:
                return None
            continue
        return _name_on_line(line, known)
    return None


def _pick_divider(candidates: list[int], lines: list[str]) -> int:
    """The first divider, unless exactly one candidate is a plain unindented ``=======``."""
    plain = [index for index in candidates if lines[index].rstrip() == "======="]
    return plain[0] if len(plain) == 1 else candidates[0]


def _section(lines: list[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


def _snippet(text: str) -> str:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return f" (SEARCH starting `{first[:60]}`)" if first else ""


def parse_blocks(
    reply: str, known_paths: Sequence[str]
) -> tuple[list[EditBlock], list[BlockProblem]]:
    """Every complete block of the reply, and a problem for each broken or unnamed one.

    Blocks are numbered in reply order, broken ones included, so problem numbers from
    here and from :func:`apply_blocks` refer to the same blocks.
    """
    known = list(known_paths)
    lines = _norm(reply).replace("\r", "\n").split("\n")
    blocks: list[EditBlock] = []
    problems: list[BlockProblem] = []
    last_path: str | None = None
    number, index = 0, 0
    while index < len(lines):
        line = lines[index]
        if not _HEAD.match(line):
            if _ANY_HEAD.match(line) or _ANY_TAIL.match(line):
                number += 1
                problems.append(_malformed(None, number, index, _stray_marker(line)))
                index = _after_stray(lines, index)
            else:
                index += 1
            continue
        number += 1
        head = index
        name = _name_before(lines, head, known)
        if name is not None:
            last_path = _resolve(name, known, by_suffix=True)
        end, dividers = _block_end(lines, head)
        if end == len(lines) or not _TAIL.match(lines[end]):
            problems.append(_malformed(name, number, head, "it is not closed by >>>>>>> REPLACE"))
            index = end
            continue
        index = end + 1
        if not dividers:
            problems.append(_malformed(name, number, head, "it has no ======= line"))
            continue
        divider = _pick_divider(dividers, lines)
        search = _section(lines[head + 1 : divider])
        replace = _section(lines[divider + 1 : end])
        if name is not None:
            path: str | None = _resolve(name, known, by_suffix=bool(search.strip()))
        else:
            path = last_path or (known[0] if len(known) == 1 else None)
        if path is None:
            message = (
                f"Block {number}{_snippet(search)} has no file name, and it cannot be told "
                f"from the context. {_NAME_HINT}"
            )
            problems.append(BlockProblem(None, number, "no_file_name", message))
            continue
        last_path = path
        blocks.append(EditBlock(path, search, replace, head + 1, number))
    return blocks, problems


def _block_end(lines: list[str], head: int) -> tuple[int, list[int]]:
    """The index of the block's REPLACE line (or of what cut it short), and its dividers."""
    dividers: list[int] = []
    end = head + 1
    while end < len(lines) and not (_TAIL.match(lines[end]) or _ANY_HEAD.match(lines[end])):
        if _DIVIDER.match(lines[end]):
            dividers.append(end)
        end += 1
    return end, dividers


def _stray_marker(line: str) -> str:
    if _ANY_TAIL.match(line) and _TAIL.match(line):
        return "its >>>>>>> REPLACE line has no <<<<<<< SEARCH line before it"
    return "its markers must be 5 to 9 characters long, like <<<<<<< SEARCH"


def _after_stray(lines: list[str], index: int) -> int:
    """Skip the rest of a block with a bad marker, up to its REPLACE line if it has one."""
    for end in range(index + 1, len(lines)):
        if _ANY_HEAD.match(lines[end]):
            return end
        if _ANY_TAIL.match(lines[end]):
            return end + 1
    return len(lines)


def _malformed(path: str | None, number: int, index: int, why: str) -> BlockProblem:
    message = (
        f"Block {number} (line {index + 1} of your reply) is malformed: {why}. "
        "Write each block as: the file path, <<<<<<< SEARCH, the lines to find, "
        "=======, the new lines, >>>>>>> REPLACE."
    )
    return BlockProblem(path, number, "malformed", message)


def _is_crlf(text: str) -> bool:
    return "\r\n" in text and text.count("\r\n") == text.count("\n")


def apply_blocks(blocks: Sequence[EditBlock], files: Mapping[str, str]) -> EditResult:
    """Apply the blocks in order to `files` (path -> current text the model was shown).

    A later block sees what earlier ones produced; a failed block does not stop the
    blocks after it. A path outside `files` is only ever created, never edited. The
    caller must still check that a created path is allowed and does not exist on disk.
    """
    # A file with mixed line endings stays as it is; its "\r"s only count as trailing space.
    work = {path: _norm(text) if _is_crlf(text) else text for path, text in files.items()}
    problems: list[BlockProblem] = []
    for position, block in enumerate(blocks, start=1):
        number = block.number or position
        path, search, replace = block.path, _norm(block.search), _norm(block.replace)
        kind: ProblemKind | None = None
        if path is None:
            kind, detail = "no_file_name", "has no file name. " + _NAME_HINT
        elif not search.strip():
            if path in work and work[path].strip():
                kind, detail = "ambiguous", _EMPTY_SEARCH.format(path=path)
            else:
                work[path] = replace
        elif path not in work:
            listed = ", ".join(list(files)[:_KNOWN_LISTED]) or "none"
            more = ", ..." if len(files) > _KNOWN_LISTED else ""
            kind, detail = "unknown_file", _UNKNOWN.format(path=path, listed=listed + more)
        else:
            outcome = replace_once(work[path], search, replace)
            if isinstance(outcome, Replaced):
                work[path] = outcome.text
            else:
                kind = "ambiguous" if isinstance(outcome, Ambiguous) else "no_match"
                detail = describe(outcome, path)
        if kind is not None:
            message = f"Block {number}{_snippet(search)} {detail}"
            problems.append(BlockProblem(path, number, kind, message))
    changed: dict[str, str] = {}
    for path, text in work.items():
        if path in files:
            if _is_crlf(files[path]):
                text = text.replace("\n", "\r\n")
            if text == files[path]:
                continue
        changed[path] = text
    return EditResult(changed, problems)


_NAME_HINT = "Put the file's path alone on the line before the block."
_EMPTY_SEARCH = (
    "has an empty SEARCH section, but {path} exists and is not empty. To change lines, "
    "put them in SEARCH; to add code, put the lines next to where it goes in SEARCH and "
    "repeat them in REPLACE with the new code."
)
_UNKNOWN = (
    "edits {path}, which is not one of the files you were shown ({listed}). Use one of "
    "those paths exactly; to create a new file, leave SEARCH empty."
)


def feedback_for(problems: Sequence[BlockProblem]) -> str:
    """One message asking the model to resend only the failed blocks ("" when none failed)."""
    if not problems:
        return ""
    count = len(problems)
    header = (
        f"{count} of your edit blocks could not be applied. Every block not listed here "
        "was applied, so do not send those again. Resend only the blocks below, "
        "corrected, each with its file path, with SEARCH copied from the files as they "
        "are now."
    )
    details = "\n\n".join(
        f"- {problem.message}" for problem in sorted(problems, key=lambda p: p.block)
    )
    return f"{header}\n\n{details}"


def whole_file_prompt(path: str, content: str, instruction: str) -> str:
    """Ask for the complete new text of one file, for when its blocks keep failing."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    body = content if content.endswith("\n") or not content else content + "\n"
    return (
        f"Your edit blocks for {path} could not be applied. Instead, reply with the "
        f"complete new content of {path} in a single fenced code block and nothing else: "
        "every line, including the ones that do not change.\n\n"
        f"Change to make: {instruction}\n\n"
        f"Current content of {path}:\n{fence}\n{body}{fence}\n"
    )


SYSTEM_RULES = """\
To change an existing file, reply with SEARCH/REPLACE blocks. Each block is:
the file's path alone on a line, then a fenced block with
<<<<<<< SEARCH, the exact existing lines to replace, =======, the new lines,
and >>>>>>> REPLACE.

Rules:
- SEARCH must copy the file's current lines exactly, indentation and comments
  included, and must match only one place: add unchanged lines around the
  change until it does. Keep blocks short: the changed lines plus a little context.
- Use several blocks for several changes; they apply in order.
- To delete lines, leave REPLACE empty. To move code, use one block to delete
  it and one to insert it.
- To create a new file, use its new path and an empty SEARCH section, with the
  whole content in REPLACE.
- Use the paths exactly as you were given them.

Example (changes one line of src/app.py):

src/app.py
```python
<<<<<<< SEARCH
def greet(name):
    return "Hello " + name
=======
def greet(name):
    return f"Hello, {name}!"
>>>>>>> REPLACE
```
"""
