"""Checks on a model's edit before it becomes a proposal (DESIGN §6).

Real models send back edits that would damage a file if applied as they are:
SEARCH/REPLACE markers left in the content, a code block that was never closed,
comments that stand for code they did not repeat ("# ... rest unchanged ..."), an
empty reply that would empty a file or delete a selection, NUL bytes. Each is
found here with a reason that goes back to the model as feedback and, when the
attempts run out, into the run's message. Pure functions, no I/O.

Every check compares with the original text, so a file that already held a
``=======`` heading or a ``# ...`` comment may keep it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from samokoder.agents.selection_reply import CodeReply
from samokoder.errors import SamokoderError

ProblemKind = Literal["markers", "unclosed_fence", "placeholder", "empty", "binary"]

_HEAD = re.compile(r"^[ \t]*(?:<{3,}[ \t]*SEARCH\b|<{5,9}[ \t]*ORIGINAL\b|<{7}(?:[ \t]|$))", re.I)
_TAIL = re.compile(r"^[ \t]*(?:>{3,}[ \t]*(?:REPLACE|UPDATED)\b|>{7}(?:[ \t]|$))", re.I)
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_FENCE_LINE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})")
_COMMENT = re.compile(r"^[ \t]*(?:#+|//+|/\*+|<!--|--|;+|%+|\{-)[ \t]*(?P<body>.*?)$")
_COMMENT_END = re.compile(r"(?:\*+/|-->|-\})[ \t]*$")
_ELLIPSIS = re.compile(r"\.\.\.|…")
_HINT_WORDS = re.compile(
    r"\b(?:rest|remaining|remainder|existing|unchanged|same|previous|other|others|omitted|"
    r"original|as[ -]is|code|etc|keep|similar|implementation)\b",
    re.I,
)
_WHAT = (
    r"(?:code|file|class|module|functions?|methods?|implementation|logic|imports?|"
    r"contents?|lines|body|fields|routes|tests|helpers|handlers|cases|definitions|"
    r"components?|styles?|html|markup|script|page|template)"
)
_STAYS = (
    r"(?:(?:is|are) )?(?:unchanged|the same|as (?:before|is)|omitted|not shown|"
    r"(?:remains?|stays?|goes|go)(?: the same| unchanged| as (?:before|is)| here)?|here)"
    r"(?: for brevity)?"
)
_PHRASES = [
    rf"(?:the )?(?:rest|remainder)(?: of (?:the |this )?\w+(?: \w+)?)?(?: {_STAYS})?",
    rf"(?:your |the )?(?:existing|previous|original|remaining|unchanged|old) "
    rf"(?:\w+ ){{0,2}}?{_WHAT}(?: {_STAYS})?",
    rf"(?:the )?(?:other|same) (?:\w+ ){{0,2}}?{_WHAT} {_STAYS}",
    rf"{_WHAT} {_STAYS}",
    r"(?:everything|all) else(?: (?:is|stays|remains))?(?: unchanged| the same| as before)?",
    r"unchanged|same as (?:before|above)|no changes?(?: (?:below|above|here))?",
    r"(?:omitted|truncated|shortened)(?: for brevity)?|for brevity",
    r"keep (?:the )?(?:rest|existing(?: \w+)?)(?: unchanged| as is)?",
    r"(?:and )?so on|etc",
]
_PLACEHOLDER = re.compile(r"^(?:" + "|".join(_PHRASES) + r")$", re.I)
_TRIM = " \t.…:;,-()[]{}*_`'\"!"
_SHOWN = 60  # characters of a line quoted in a reason
_EXACT_DIFF = 2_000  # lines; a longer changed region is diffed with difflib's autojunk


@dataclass(frozen=True)
class ReplyProblem:
    """Why an edit cannot be used; ``reason`` reads after "the reply ..." / "it ..."."""

    kind: ProblemKind
    reason: str
    line: int = 0  # 1-based line of the new text it is about; 0: the whole reply


class UnusableReplyError(SamokoderError):
    """The model's replies for a file kept failing these checks; nothing was kept."""


def check_reply(
    reply: CodeReply, original: str | None, new: str | None = None
) -> list[ReplyProblem]:
    """Problems of a whole-file or selection reply: `new` (default: the reply's code)
    replaces `original` (None: a new file). An empty result passes only when the
    reply is an empty fenced block on purpose."""
    problems: list[ReplyProblem] = []
    if reply.fenced and not reply.closed:
        problems.append(
            ReplyProblem(
                "unclosed_fence",
                "has a code block that is never closed, so it may be cut short",
            )
        )
    text = reply.code if new is None else new
    if not text.strip() and (original is None or original.strip()):
        if not reply.explicit_empty:
            what = "the new file" if original is None else "the existing code"
            problems.append(ReplyProblem("empty", f"is empty, which would leave {what} empty"))
        return problems
    return problems + check_content(text, original)


def check_content(new: str, original: str | None) -> list[ReplyProblem]:
    """Problems of `new` as the content that replaces `original` (None: nothing before)."""
    before = original or ""
    found = [*_markers(new, before), *_fences(new, before), *_binary(new, before)]
    if original is not None:
        found += _placeholders(new, original)
    return found


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _quote(line: str) -> str:
    text = line.strip()
    return f"`{text if len(text) <= _SHOWN else text[: _SHOWN - 1] + '…'}`"


def _markers(new: str, before: str) -> list[ReplyProblem]:
    lines, old = _lines(new), _lines(before)
    extra: list[int] = []
    for pattern in (_HEAD, _TAIL):
        hits = [i for i, line in enumerate(lines) if pattern.match(line)]
        if len(hits) > sum(1 for line in old if pattern.match(line)):
            extra += hits
    dividers = [i for i, line in enumerate(lines) if _DIVIDER.match(line)]
    if len(dividers) > sum(1 for line in old if _DIVIDER.match(line)):
        # Without SEARCH/REPLACE markers a divider may be a heading rule (RST, Markdown).
        extra += [i for i in dividers if extra or not _heading_rule(lines, i)]
    if not extra:
        return []
    first = min(extra)
    return [
        ReplyProblem(
            "markers",
            f"contains a leftover edit marker {_quote(lines[first])} (line {first + 1})",
            first + 1,
        )
    ]


def _heading_rule(lines: list[str], index: int) -> bool:
    """An unindented title line right above (underline) or below (overline) the rule."""
    width = len(lines[index].strip())

    def title(i: int) -> bool:
        if not 0 <= i < len(lines):
            return False
        line = lines[i].rstrip()
        return bool(line) and not line[0].isspace() and len(line) <= width

    under = title(index - 1) and not _DIVIDER.match(lines[index - 1])
    over = title(index + 1) and index + 2 < len(lines) and _DIVIDER.match(lines[index + 2])
    return under or bool(over)


def _fences(new: str, before: str) -> list[ReplyProblem]:
    lines = _lines(new)
    hits = [i for i, line in enumerate(lines) if _FENCE_LINE.match(line)]
    old = sum(1 for line in _lines(before) if _FENCE_LINE.match(line))
    if len(hits) % 2 == 0 or len(hits) == old:
        return []
    last = hits[-1]
    return [
        ReplyProblem(
            "unclosed_fence",
            f"contains a code fence {_quote(lines[last])} that is never closed (line {last + 1})",
            last + 1,
        )
    ]


def _binary(new: str, before: str) -> list[ReplyProblem]:
    if "\x00" in new:
        line = new.count("\n", 0, new.index("\x00")) + 1
        return [ReplyProblem("binary", f"contains a NUL byte (line {line}): binary data", line)]
    counts = Counter(ch for ch in new if _control(ch))
    if not counts:
        return []
    old = Counter(ch for ch in before if _control(ch))
    added = [ch for ch in counts if counts[ch] > old[ch]]
    if not added:
        return []
    line = new.count("\n", 0, new.index(added[0])) + 1
    return [
        ReplyProblem(
            "binary",
            f"contains the control character U+{ord(added[0]):04X} (line {line}): binary data",
            line,
        )
    ]


def _control(ch: str) -> bool:
    return (ch < " " and ch not in "\t\n\r\f") or ch == "\x7f"


def placeholder_comment(line: str) -> bool:
    """Whether a line is a comment that stands for code left out, e.g. `// ... existing code`."""
    match = _COMMENT.match(line)
    if not match:
        return False
    body = _COMMENT_END.sub("", match.group("body")).strip()
    if not body.strip(_TRIM):  # `# ...`, `// …`, `/* ... */`
        return bool(_ELLIPSIS.search(body))
    if _ELLIPSIS.search(body) and _HINT_WORDS.search(body):
        return True
    words = " ".join(body.strip(_TRIM).split())
    return bool(_PLACEHOLDER.match(words))


def _placeholders(new: str, original: str) -> list[ReplyProblem]:
    """Placeholder comments that take the place of code the original had there.

    Blank lines are left out of the comparison: they would anchor the diff and split
    "code removed" from "comment added" into separate hunks.
    """
    new_lines, old_lines = _lines(new), _lines(original)
    candidates = {i for i, line in enumerate(new_lines) if placeholder_comment(line)}
    if not candidates:
        return []
    old_kept = [i for i, line in enumerate(old_lines) if line.strip()]
    new_kept = [i for i, line in enumerate(new_lines) if line.strip()]
    a = [old_lines[i].strip() for i in old_kept]
    b = [new_lines[j].strip() for j in new_kept]
    # Diff only between the common head and tail: a repetitive file stays cheap.
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    middle = (a[head : len(a) - tail], b[head : len(b) - tail])
    matcher = difflib.SequenceMatcher(None, *middle, autojunk=len(middle[1]) > _EXACT_DIFF)
    opcodes = [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]

    def removes_code(k: int) -> bool:
        if not 0 <= k < len(opcodes) or opcodes[k][0] not in ("replace", "delete"):
            return False
        _tag, i1, i2, _j1, _j2 = opcodes[k]
        return any(_is_code(old_lines[old_kept[i]]) for i in range(i1, i2))

    for k, (tag, _i1, _i2, j1, j2) in enumerate(opcodes):
        beside = tag == "insert" and (removes_code(k - 1) or removes_code(k + 1))
        if beside or (tag == "replace" and removes_code(k)):
            hits = sorted(candidates & {new_kept[j] for j in range(j1, j2)})
            if hits:
                line = hits[0]
                return [
                    ReplyProblem(
                        "placeholder",
                        f"replaces code with the placeholder {_quote(new_lines[line])} "
                        f"(line {line + 1})",
                        line + 1,
                    )
                ]
    return []


def _is_code(line: str) -> bool:
    return bool(line.strip()) and not _COMMENT.match(line)


_HINTS: dict[ProblemKind, str] = {
    "markers": "SEARCH/REPLACE markers never belong in a file's content.",
    "unclosed_fence": "Close every code block with its closing fence.",
    "placeholder": (
        "Write out every line of the code; never stand in for code with a comment such as "
        "`# ... rest of the code unchanged ...`."
    ),
    "empty": (
        "If the code should really be deleted, reply with an empty fenced code block; "
        "otherwise reply with the complete code."
    ),
    "binary": "Reply with plain text only.",
}


def reasons(problems: Sequence[ReplyProblem]) -> str:
    """The reasons joined for a sentence: "contains ...; is empty ..."."""
    return "; ".join(dict.fromkeys(p.reason for p in problems))


def feedback(subject: str, problems: Sequence[ReplyProblem], ask: str) -> str:
    """The message that sends a refused reply back: what was wrong, then what to send."""
    hints = " ".join(dict.fromkeys(_HINTS[p.kind] for p in problems))
    return f"{subject} was not used: it {reasons(problems)}. {hints} {ask}"


def gave_up(
    path: str, attempts: int, seen: Sequence[ReplyProblem], context: str = ""
) -> UnusableReplyError:
    """The error that ends a run whose replies for `path` never passed the checks;
    `context` says what was tried before ("its edit blocks failed 3 times; ")."""
    return UnusableReplyError(
        f"Gave up on {path}: {context}the model's reply {reasons(seen)} "
        f"({attempts} attempt(s)). Nothing from these replies was used."
    )
