"""Checks on model edits before they become proposals, over outputs real models send."""

from __future__ import annotations

import pytest

from samokoder.agents.reply_checks import (
    check_content,
    check_reply,
    feedback,
    gave_up,
    placeholder_comment,
)
from samokoder.agents.selection_reply import extract_block

PY = (
    "import os\n\n\n"
    "def greet(name):\n"
    "    if not name:\n"
    "        raise ValueError('name')\n"
    "    return 'hi ' + name\n\n\n"
    "def shout(name):\n"
    "    return greet(name).upper()\n\n\n"
    "print(greet('x'))\n"
)
JS = (
    "import { api } from './api.js';\n\n"
    "export function load(id) {\n"
    "  const url = `/items/${id}`;\n"
    "  const res = api.get(url);\n"
    "  return res.json();\n"
    "}\n\n"
    "export function save(item) {\n"
    "  return api.post('/items', item);\n"
    "}\n"
)
HTML = "<html>\n<body>\n  <h1>Title</h1>\n  <p>Intro</p>\n  <ul><li>a</li></ul>\n</body>\n</html>\n"
SR_BLOCK = (
    "<<<<<<< SEARCH\n    return 'hi ' + name\n"
    "=======\n    return 'hello ' + name\n>>>>>>> REPLACE\n"
)


def kinds(new: str, original: str | None) -> list[str]:
    return [p.kind for p in check_content(new, original)]


@pytest.mark.parametrize(
    "line",
    [
        "# ... rest of the code unchanged ...",
        "    # ...",
        "// existing code here",
        "  // ... existing code ...",
        "/* ... */",
        "// …",
        "<!-- rest of the page unchanged -->",
        "# Rest of the implementation remains the same",
        "# other methods unchanged",
        "# (unchanged)",
        "-- rest of the query unchanged",
        "# code omitted for brevity",
        "// previous implementation",
        "# [rest of the class]",
        "# Everything else stays the same",
        "    # ... other routes ...",
    ],
)
def test_placeholder_comments_are_recognised(line: str) -> None:
    assert placeholder_comment(line)


@pytest.mark.parametrize(
    "line",
    [
        "# compute the total",
        "# Other helpers",
        "# keep the existing behaviour for empty names",
        "# unchanged behaviour for empty names",
        "# TODO: more later",
        "#!/usr/bin/env python",
        "# -*- coding: utf-8 -*-",
        "x = 1  # ...",
        "print('...')",
        "---",
        "# retry the request...",
        "# see the rest api docs",
        "    ...",  # Ellipsis is code (stubs, protocols)
    ],
)
def test_real_comments_and_code_are_not_placeholders(line: str) -> None:
    assert not placeholder_comment(line)


@pytest.mark.parametrize(
    ("new", "original"),
    [
        # the whole-file reply keeps the head and waves at the rest
        ("import os\n\n# ... rest of the code unchanged ...\n", PY),
        # a function body replaced by a promise of it
        (PY.replace("    if not name:\n        raise ValueError('name')\n", "    # ...\n"), PY),
        (
            PY.replace(
                "def shout(name):\n    return greet(name).upper()\n",
                "# other functions unchanged\n",
            ),
            PY,
        ),
        (
            JS.replace(
                "  const url = `/items/${id}`;\n  const res = api.get(url);\n",
                "  // ... existing code ...\n",
            ),
            JS,
        ),
        (JS.replace("export function save(item) {\n", "// existing code here\n{\n"), JS),
        (HTML.replace("  <p>Intro</p>\n  <ul><li>a</li></ul>\n", "  <!-- ... -->\n"), HTML),
    ],
)
def test_placeholders_standing_for_code_are_refused(new: str, original: str) -> None:
    [problem] = check_content(new, original)
    assert problem.kind == "placeholder"
    assert problem.line > 0 and "placeholder" in problem.reason


@pytest.mark.parametrize(
    ("new", "original"),
    [
        # a real short comment beside a real change
        (
            PY.replace(
                "    return 'hi ' + name\n", "    # greet politely\n    return 'hello ' + name\n"
            ),
            PY,
        ),
        # the original already had the comment
        (PY + "# ...\n", PY + "# ...\n"),
        (("# ...\n" + PY).replace("'hi '", "'hello '"), "# ...\n" + PY),
        # a comment added where no code went away
        (PY.replace("\n\nprint(", "\n\n# rest of the code\nprint("), PY),
        # a new file has no original to lose code from
        ("def todo():\n    # ... existing code here\n    pass\n", None),
    ],
)
def test_comments_that_replace_no_code_pass(new: str, original: str | None) -> None:
    assert kinds(new, original) == []


@pytest.mark.parametrize(
    "new",
    [
        SR_BLOCK,
        PY.replace("    return 'hi ' + name\n", SR_BLOCK),
        PY.replace("    return 'hi ' + name\n", SR_BLOCK.lower()),
        "<<<<<<<< SEARCH:\nx = 1\n========\nx = 2\n",  # tolerated lengths, no REPLACE line
        "x = 1\n>>>>>>> REPLACE\n",
        "def f():\n    return 1\n=======\ndef f():\n    return 2\n",  # a lone divider
        "<<<<<<< HEAD\nx = 1\n=======\nx = 2\n>>>>>>> feature\n",  # a merge conflict
    ],
)
def test_leftover_markers_are_refused(new: str) -> None:
    found = check_content(new, PY)
    assert [p.kind for p in found] == ["markers"]
    assert "leftover edit marker" in found[0].reason


@pytest.mark.parametrize(
    ("new", "original"),
    [
        ("Title\n=======\n\nSome text.\n", None),  # an RST/Markdown heading in a new file
        ("=====\nTitle\n=====\n\ntext\n", None),  # RST overline and underline
        # a docstring with an RST heading the original had
        (
            'def f():\n    """Usage\n=======\n\n    f()\n    """\n    return 2\n',
            'def f():\n    """Usage\n=======\n\n    f()\n    """\n    return 1\n',
        ),
        ("x = '<<<<<<< SEARCH'\n", None),  # inside a string, not at a line start
    ],
)
def test_headings_and_markers_the_original_had_pass(new: str, original: str | None) -> None:
    assert kinds(new, original) == []


def test_a_divider_kept_from_the_original_passes_beside_a_new_one_that_is_not() -> None:
    original = "a = 1\n=======\n"
    assert kinds(original.replace("1", "2"), original) == []
    assert kinds(original + "    b = 2\n=======\n", original) == ["markers"]


@pytest.mark.parametrize(
    ("new", "original", "expected"),
    [
        ("x = 1\n```python\ny = 2\n", None, ["unclosed_fence"]),
        ("# Title\n\n```bash\nmake\n```\n", None, []),
        ("# Title\n\n```bash\nmake\n```\nmore\n", "# Title\n\n```bash\nmake\n```\n", []),
        ("```\nunclosed in the original too\n", "```\nunclosed\n", []),
    ],
)
def test_fences_must_be_closed(new: str, original: str | None, expected: list[str]) -> None:
    assert kinds(new, original) == expected


@pytest.mark.parametrize(
    ("new", "original", "expected"),
    [
        ("x = '\x00'\n", PY, ["binary"]),
        ("x = 1\n\x00\x00\x00", None, ["binary"]),
        ("ESC = '\x1b[0m'\n", None, ["binary"]),
        ("ESC = '\x1b[1m'\n", "ESC = '\x1b[0m'\n", []),  # the original had it
        ("\tindented\x0cpage\r\n", None, []),  # tab, form feed, CRLF are text
        ("ünïcödé = '→'\n", None, []),
    ],
)
def test_binary_content_is_refused(new: str, original: str | None, expected: list[str]) -> None:
    assert kinds(new, original) == expected


def test_nul_reason_names_the_line() -> None:
    [problem] = check_content("a\nb\x00\n", None)
    assert problem.line == 2 and "NUL" in problem.reason


@pytest.mark.parametrize(
    ("reply", "original", "expected"),
    [
        ("", PY, ["empty"]),  # an empty reply would empty the file
        ("\n  \n", PY, ["empty"]),
        ("Sure!\n```python\n\n```", PY, []),  # an empty fenced block says so on purpose
        ("", None, ["empty"]),  # an empty new file needs saying too
        ("```\n```", None, []),
        ("", "", []),  # nothing was there: nothing is lost
        ("```python\ndef greet(name):\n    return name\n", PY, ["unclosed_fence"]),
        ("```python\n", PY, ["unclosed_fence", "empty"]),
        ("```python\n" + PY + "```\n", PY, []),
    ],
)
def test_replies(reply: str, original: str | None, expected: list[str]) -> None:
    assert [p.kind for p in check_reply(extract_block(reply), original)] == expected


def test_selection_reply_compares_the_fitted_text_with_the_selection() -> None:
    selection = "    if not name:\n        raise ValueError('name')\n"
    reply = extract_block("```python\n# ... existing checks ...\n```")
    [problem] = check_reply(reply, selection, "    # ... existing checks ...\n")
    assert problem.kind == "placeholder"
    assert check_reply(extract_block(""), "\n\n", "") == []  # blank selection, empty reply


@pytest.mark.parametrize(
    ("reply", "code", "closed", "others"),
    [
        ("```python\nx = 1\n```\nand a test:\n```python\nassert x\n```\n", "x = 1\n", True, 1),
        (
            "```markdown\n# App\n\n```bash\nmake\n```\n\nDone.\n```",
            "# App\n\n```bash\nmake\n```\n\nDone.\n",
            True,
            0,
        ),
        ("Here:\n```python\nx = 1\n", "x = 1\n", False, 0),
        ("x = 1\n", "x = 1\n", True, 0),
    ],
)
def test_extract_block(reply: str, code: str, closed: bool, others: int) -> None:
    block = extract_block(reply)
    assert (block.code, block.closed, block.others) == (code, closed, others)


def test_feedback_and_final_error_name_the_file_and_reason() -> None:
    problems = check_reply(extract_block(""), PY)
    text = feedback("Your reply for app.py", problems, "Reply with the whole file.")
    assert text.startswith("Your reply for app.py was not used: it is empty")
    assert "empty fenced code block" in text and text.endswith("Reply with the whole file.")
    error = gave_up("app.py", 2, [*problems, *check_content("\x00", None)])
    assert "app.py" in error.message and "is empty" in error.message and "NUL" in error.message


def test_a_large_repetitive_file_is_diffed_only_where_it_changed() -> None:
    original = "    pass\n" * 5000 + "x = compute()\n"
    [problem] = check_content(original.replace("x = compute()", "# ..."), original)
    assert problem.kind == "placeholder" and problem.line == 5001
