"""Search/replace edit blocks: tricky replies, what gets applied and what goes back."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from samokoder.agents.edit_blocks import (
    SYSTEM_RULES,
    BlockProblem,
    EditBlock,
    apply_blocks,
    feedback_for,
    parse_blocks,
    whole_file_prompt,
)

APP = """\
import os


def greet(name):
    return "Hello " + name


def main():
    print(greet("world"))
"""
GREETED = APP.replace('"Hello " + name', 'f"Hello, {name}!"')
CLASS = """\
class Greeter:
    def greet(self, name):
        return "Hello " + name

    def bye(self):
        return "Bye"
"""
UTIL = "def helper():\n    return 1\n"


def block(search: str, replace: str, name: str | None = "app.py", size: int = 7) -> str:
    """A fenced block with markers of `size` characters."""
    head = f"{name}\n" if name is not None else ""
    return (
        f"{head}```python\n{'<' * size} SEARCH\n{search}{'=' * size}\n{replace}"
        f"{'>' * size} REPLACE\n```\n"
    )


GREET_SEARCH = 'def greet(name):\n    return "Hello " + name\n'
GREET_REPLACE = 'def greet(name):\n    return f"Hello, {name}!"\n'
GREET = block(GREET_SEARCH, GREET_REPLACE)


@dataclass(frozen=True)
class Case:
    reply: str
    files: dict[str, str]
    expected: dict[str, str] = field(default_factory=dict)  # only the files changed
    problems: tuple[str, ...] = ()  # problem kinds, in block order


def run(reply: str, files: dict[str, str]) -> tuple[dict[str, str], list[BlockProblem]]:
    blocks, parse_problems = parse_blocks(reply, list(files))
    result = apply_blocks(blocks, files)
    return result.files, sorted(parse_problems + result.problems, key=lambda p: p.block)


CASES: dict[str, Case] = {
    "plain fenced block": Case(GREET, {"app.py": APP}, {"app.py": GREETED}),
    "no fence": Case(
        GREET.replace("```python\n", "").replace("```\n", ""), {"app.py": APP}, {"app.py": GREETED}
    ),
    "markers of 5": Case(
        block(GREET_SEARCH, GREET_REPLACE, size=5), {"app.py": APP}, {"app.py": GREETED}
    ),
    "markers of 9": Case(
        block(GREET_SEARCH, GREET_REPLACE, size=9), {"app.py": APP}, {"app.py": GREETED}
    ),
    "markers of 10 are reported": Case(
        block(GREET_SEARCH, GREET_REPLACE, size=10), {"app.py": APP}, problems=("malformed",)
    ),
    "short SEARCH marker, good REPLACE marker": Case(
        GREET.replace("<<<<<<< SEARCH", "<<< SEARCH") + block("import os\n", "import sys\n"),
        {"app.py": APP},
        {"app.py": APP.replace("import os", "import sys")},
        ("malformed",),
    ),
    "lower case and spaces after markers": Case(
        GREET.replace("<<<<<<< SEARCH", "<<<<<<<search  ")
        .replace(">>>>>>> REPLACE", ">>>>>>>  Replace \t")
        .replace("=======", "=======   "),
        {"app.py": APP},
        {"app.py": GREETED},
    ),
    "CRLF reply, LF file": Case(GREET.replace("\n", "\r\n"), {"app.py": APP}, {"app.py": GREETED}),
    "CRLF file keeps CRLF": Case(
        GREET, {"app.py": APP.replace("\n", "\r\n")}, {"app.py": GREETED.replace("\n", "\r\n")}
    ),
    "trailing whitespace in SEARCH": Case(
        block('def greet(name):   \n    return "Hello " + name\t\n', GREET_REPLACE),
        {"app.py": APP},
        {"app.py": GREETED},
    ),
    "trailing whitespace in file": Case(
        GREET,
        {"app.py": APP.replace("(name):", "(name):  ")},
        {"app.py": GREETED},
    ),
    "block dedented relative to file": Case(
        block(
            'def greet(self, name):\n    return "Hello " + name\n',
            'def greet(self, name):\n    if not name:\n        return "Hi"\n'
            '    return "Hello " + name\n',
            name="greeter.py",
        ),
        {"greeter.py": CLASS},
        {
            "greeter.py": CLASS.replace(
                '        return "Hello "',
                '        if not name:\n            return "Hi"\n        return "Hello "',
            )
        },
    ),
    "block indented relative to file": Case(
        block(
            '    def greet(name):\n        return "Hello " + name\n',
            '    def greet(name):\n        return f"Hello, {name}!"\n',
        ),
        {"app.py": APP},
        {"app.py": GREETED},
    ),
    "tabs for spaces is not a shift": Case(
        block('def greet(name):\n\treturn "Hello " + name\n', GREET_REPLACE),
        {"app.py": APP},
        problems=("no_match",),
    ),
    "no name, one known file": Case(
        block(GREET_SEARCH, GREET_REPLACE, name=None), {"app.py": APP}, {"app.py": GREETED}
    ),
    "no name, previous block named the file": Case(
        block("import os\n", "import os\nimport sys\n")
        + "\nAnd then:\n\n"
        + block(GREET_SEARCH, GREET_REPLACE, name=None),
        {"app.py": APP, "util.py": UTIL},
        {"app.py": GREETED.replace("import os\n", "import os\nimport sys\n")},
    ),
    "no name, two files, nothing before": Case(
        block(GREET_SEARCH, GREET_REPLACE, name=None),
        {"app.py": APP, "util.py": UTIL},
        problems=("no_file_name",),
    ),
    "a/ prefix": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="a/app.py"), {"app.py": APP}, {"app.py": GREETED}
    ),
    "./ prefix": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="./app.py"), {"app.py": APP}, {"app.py": GREETED}
    ),
    "name in backticks": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="`app.py`"),
        {"app.py": APP, "util.py": UTIL},
        {"app.py": GREETED},
    ),
    "bold name with colon": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="**app.py**:"),
        {"app.py": APP, "util.py": UTIL},
        {"app.py": GREETED},
    ),
    "heading with name and colon": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="### `app.py`:"),
        {"app.py": APP, "util.py": UTIL},
        {"app.py": GREETED},
    ),
    "one known path in prose": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="Change `app.py` like this:"),
        {"app.py": APP, "util.py": UTIL},
        {"app.py": GREETED},
    ),
    "name in the fence info": Case(
        GREET.replace("app.py\n```python", "```python app.py"),
        {"app.py": APP, "util.py": UTIL},
        {"app.py": GREETED},
    ),
    "unique suffix of a known path": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="app.py"),
        {"src/pkg/app.py": APP, "util.py": UTIL},
        {"src/pkg/app.py": GREETED},
    ),
    "absolute path ending in a known path": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="/home/me/proj/src/app.py"),
        {"src/app.py": APP, "util.py": UTIL},
        {"src/app.py": GREETED},
    ),
    "suffix matching two known paths is not guessed": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="app.py"),
        {"src/app.py": APP, "tests/app.py": APP},
        problems=("unknown_file",),
    ),
    "later block matches text of an earlier one": Case(
        GREET + block('    return f"Hello, {name}!"\n', '    return f"Hello, {name}!!"\n'),
        {"app.py": APP},
        {"app.py": APP.replace('"Hello " + name', 'f"Hello, {name}!!"')},
    ),
    "two files": Case(
        GREET + block("    return 1\n", "    return 2\n", name="util.py"),
        {"app.py": APP, "util.py": UTIL},
        {"app.py": GREETED, "util.py": UTIL.replace("1", "2")},
    ),
    "no match": Case(
        block('def greet(person):\n    return "Hi " + person\n', GREET_REPLACE),
        {"app.py": APP},
        problems=("no_match",),
    ),
    "ambiguous": Case(
        block("    return x\n", "    return y\n", name="m.py"),
        {"m.py": "def a():\n    return x\n\n\ndef b():\n    return x\n"},
        problems=("ambiguous",),
    ),
    "ambiguous after whitespace pass is not guessed": Case(
        block("x = 1\n", "x = 2\n", name="m.py"),
        {"m.py": "x = 1 \ny = 0\nx = 1  \n"},
        problems=("ambiguous",),
    ),
    "exact match wins over a looser one": Case(
        block("x = 1\n", "x = 2\n", name="m.py"),
        {"m.py": "x = 1\nif y:\n    x = 1\n"},
        {"m.py": "x = 2\nif y:\n    x = 1\n"},
    ),
    "unknown file": Case(
        block(GREET_SEARCH, GREET_REPLACE, name="other.py"),
        {"app.py": APP, "util.py": UTIL},
        problems=("unknown_file",),
    ),
    "create a new file": Case(
        block("", "print('hi')\n", name="src/new.py"),
        {"app.py": APP},
        {"src/new.py": "print('hi')\n"},
    ),
    "a/ kept on a new path": Case(
        block("", "x\n", name="a/new.py"), {"app.py": APP}, {"a/new.py": "x\n"}
    ),
    "empty SEARCH on an empty file": Case(
        block("", "x = 1\n", name="empty.py"),
        {"empty.py": "", "app.py": APP},
        {"empty.py": "x = 1\n"},
    ),
    "empty SEARCH on a non-empty file": Case(
        block("", "x = 1\n"), {"app.py": APP}, problems=("ambiguous",)
    ),
    "unterminated block": Case(
        GREET.replace(">>>>>>> REPLACE\n", ""), {"app.py": APP}, problems=("malformed",)
    ),
    "missing divider": Case(
        GREET.replace("=======\n", ""), {"app.py": APP}, problems=("malformed",)
    ),
    "REPLACE without SEARCH marker": Case(
        GREET.replace("<<<<<<< SEARCH\n", "SEARCH\n"), {"app.py": APP}, problems=("malformed",)
    ),
    "a second SEARCH inside a block": Case(
        "app.py\n<<<<<<< SEARCH\nimport os\n" + GREET.removeprefix("app.py\n```python\n"),
        {"app.py": APP},
        {"app.py": GREETED},
        ("malformed",),
    ),
    "later block applies after a failed one": Case(
        block("def nope():\n", "def yes():\n") + block("import os\n", "import sys\n"),
        {"app.py": APP},
        {"app.py": APP.replace("import os", "import sys")},
        ("no_match",),
    ),
    "blank lines at the ends of SEARCH": Case(
        block("\n\nimport os\n\n\n\n\n", "\n\nimport sys\n\n\n\n\n"),
        {"app.py": APP},
        {"app.py": APP.replace("import os", "import sys")},
    ),
    "empty REPLACE deletes": Case(
        block('def main():\n    print(greet("world"))\n', ""),
        {"app.py": APP},
        {"app.py": APP.removesuffix('def main():\n    print(greet("world"))\n')},
    ),
    "file without final newline keeps it": Case(
        block("b = 2\n", "b = 3\n", name="m.py"), {"m.py": "a = 1\nb = 2"}, {"m.py": "a = 1\nb = 3"}
    ),
    "fences inside the block are content": Case(
        block("```sh\nmake\n```\n", "```sh\nmake test\n```\n", name="README.md"),
        {"README.md": "# Demo\n\n```sh\nmake\n```\n"},
        {"README.md": "# Demo\n\n```sh\nmake test\n```\n"},
    ),
    "RST underline inside SEARCH": Case(
        block("Title\n========\n", "New title\n=========\n", name="doc.rst"),
        {"doc.rst": "Title\n========\n\nText\n"},
        {"doc.rst": "New title\n=========\n\nText\n"},
    ),
    "edit already made": Case(
        block('    return "Hi"\n', '    return f"Hello, {name}!"\n'),
        {"app.py": GREETED},
        problems=("no_match",),
    ),
    "no blocks at all": Case("Sure, I'd be happy to help!", {"app.py": APP}),
    "same text back changes nothing": Case(block("import os\n", "import os\n"), {"app.py": APP}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_tricky_reply(case: Case) -> None:
    files, problems = run(case.reply, case.files)
    assert tuple(p.kind for p in problems) == case.problems, [p.message for p in problems]
    assert files == case.expected


def test_no_match_shows_nearest_lines_with_numbers() -> None:
    _, problems = run(CASES["no match"].reply, {"app.py": APP})
    message = problems[0].message
    assert problems[0].path == "app.py" and problems[0].block == 1
    assert '4 | def greet(name):\n5 |     return "Hello " + name' in message
    shown = [line for line in message.splitlines() if " | " in line]
    assert 3 <= len(shown) <= 5


def test_no_match_in_long_file_centres_on_the_difference() -> None:
    text = "".join(f"line_{n} = {n}\n" for n in range(1, 101))
    search = "".join(f"line_{n} = {n}\n" for n in range(40, 60)).replace("= 55", "= 555")
    _, problems = run(block(search, "", name="big.py"), {"big.py": text})
    shown = [line for line in problems[0].message.splitlines() if " | " in line]
    assert len(shown) <= 12
    assert any(line.startswith("55 | line_55 = 55") for line in shown)


def test_edit_already_made_is_pointed_out() -> None:
    _, problems = run(CASES["edit already made"].reply, {"app.py": GREETED})
    assert "already in the file" in problems[0].message


def test_unknown_file_names_the_known_ones() -> None:
    _, problems = run(CASES["unknown file"].reply, {"app.py": APP, "util.py": UTIL})
    assert problems[0].path == "other.py" and "(app.py, util.py)" in problems[0].message


def test_ambiguous_lists_the_places() -> None:
    files = {"m.py": "a = 1\nb = 2\na = 1\nb = 2\nc = 3\n"}
    _, problems = run(block("a = 1\nb = 2\n", "a = 0\n", name="m.py"), files)
    assert "lines 1-2, lines 3-4" in problems[0].message


def test_problem_numbers_count_broken_blocks() -> None:
    reply = block("nothing\n", "x\n").replace("=======\n", "") + GREET + block("absent\n", "y\n")
    files, problems = run(reply, {"app.py": APP})
    assert files == {"app.py": GREETED}
    assert [(p.block, p.kind) for p in problems] == [(1, "malformed"), (3, "no_match")]
    assert "Block 3 (SEARCH starting `absent`)" in problems[1].message


def test_blocks_built_by_hand_are_numbered_by_position() -> None:
    blocks = [EditBlock("app.py", "import os\n", "import sys\n", 1), EditBlock(None, "x\n", "", 9)]
    result = apply_blocks(blocks, {"app.py": APP})
    assert result.files == {"app.py": APP.replace("import os", "import sys")}
    assert [(p.block, p.kind) for p in result.problems] == [(2, "no_file_name")]


def test_block_line_is_where_search_starts() -> None:
    blocks, _ = parse_blocks("Intro\n\n" + GREET, ["app.py"])
    assert blocks[0].line == 5 and blocks[0].number == 1


def test_feedback_asks_for_failed_blocks_only() -> None:
    _, problems = run(CASES["later block applies after a failed one"].reply, {"app.py": APP})
    feedback = feedback_for(problems)
    assert feedback.startswith("1 of your edit blocks could not be applied")
    assert "do not send those again" in feedback and problems[0].message in feedback
    assert feedback_for([]) == ""


def test_system_rules_example_applies() -> None:
    example = SYSTEM_RULES[SYSTEM_RULES.index("src/app.py\n") :]
    old = 'def greet(name):\n    return "Hello " + name\n'
    files, problems = run(example, {"src/app.py": old, "src/other.py": ""})
    assert problems == []
    assert files == {"src/app.py": 'def greet(name):\n    return f"Hello, {name}!"\n'}


def test_whole_file_prompt_fences_content_safely() -> None:
    prompt = whole_file_prompt("README.md", "# A\n```sh\nmake\n```", "add a section")
    assert "add a section" in prompt
    assert "````\n# A\n```sh\nmake\n```\n````\n" in prompt


INDENTS = ("", "    ", "        ")
WORDS = st.sampled_from([f"v{k} = {k}" for k in range(12)] + ["pass", "if a:", "return b", ""])
LINE = st.builds(
    lambda indent, word: indent + word if word else "", st.sampled_from(INDENTS), WORDS
)


def _shape(lines: list[str]) -> str:
    return textwrap.dedent("\n".join(line.rstrip() for line in lines))


@given(
    lines=st.lists(LINE, min_size=2, max_size=30),
    data=st.data(),
    replacement=st.lists(LINE, max_size=5),
    shift=st.sampled_from(["none", "indent", "dedent"]),
    trailing=st.sampled_from(["", " ", "\t "]),
)
def test_block_from_unique_span_applies(
    lines: list[str], data: st.DataObject, replacement: list[str], shift: str, trailing: str
) -> None:
    """A block quoting a span unique up to indentation replaces exactly that span."""
    start = data.draw(st.integers(0, len(lines) - 2))
    end = data.draw(st.integers(start + 2, min(len(lines), start + 6)))
    span = lines[start:end]
    assume(any(line.strip() for line in span))
    shape = _shape(span)
    windows = range(len(lines) - len(span) + 1)
    assume(sum(_shape(lines[i : i + len(span)]) == shape for i in windows) == 1)
    if shift == "dedent":
        prefix = _common_indent(span)
        assume(prefix)
        search = [line[len(prefix) :] for line in span]
        model_replace, expected_replace = (
            replacement,
            [prefix + line if line else "" for line in replacement],
        )
    elif shift == "indent":
        search = ["  " + line if line else "" for line in span]
        model_replace = ["  " + line if line else "" for line in replacement]
        expected_replace = replacement
    else:
        search, model_replace, expected_replace = span, replacement, replacement
    search = [line + trailing if line else line for line in search]
    reply = block(
        "".join(f"{line}\n" for line in search),
        "".join(f"{line}\n" for line in model_replace),
        name="m.py",
    )
    text = "".join(f"{line}\n" for line in lines)
    files, problems = run(reply, {"m.py": text})
    expected = "".join(f"{line}\n" for line in lines[:start] + expected_replace + lines[end:])
    assert problems == []
    assert files.get("m.py", text) == expected


def _common_indent(lines: list[str]) -> str:
    indents = [line[: len(line) - len(line.lstrip())] for line in lines if line.strip()]
    return min(indents, key=len) if indents else ""
