"""Model replies for a selection edit: code extraction and fitting to the selection."""

from __future__ import annotations

import pytest

from samokoder.agents.selection_reply import extract_code, fit_replacement


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("```python\nx = 1\n```", "x = 1\n"),
        ("Here you go:\n```py\nx = 1\ny = 2\n```\nThis sets x.", "x = 1\ny = 2\n"),
        ("~~~\nx = 1\n~~~", "x = 1\n"),
        ("````md\n```inner```\n````", "```inner```\n"),
        ("x = 1\n", "x = 1\n"),
        ("x = 1", "x = 1"),
        ("```python\nx = 1\n", "x = 1\n"),  # unterminated fence: the model stopped early
        ("```a\nfirst\n```\n```b\nsecond\n```", "first\n"),
        ("```python\r\nx = 1\r\n```\r\n", "x = 1\n"),
        ("", ""),
    ],
)
def test_extract_code(reply: str, code: str) -> None:
    assert extract_code(reply) == code


def test_whole_lines_keep_indentation_of_selection() -> None:
    selection = "    x = 1\n    y = 2\n"
    assert fit_replacement("", selection, "x = 10\ny = 20\n") == "    x = 10\n    y = 20\n"


def test_nested_indentation_is_preserved_relative() -> None:
    selection = "    if a:\n        b()\n"
    code = "if a:\n    c()\nelse:\n    d()\n"
    expected = "    if a:\n        c()\n    else:\n        d()\n"
    assert fit_replacement("", selection, code) == expected


def test_model_that_kept_indentation_is_not_double_indented() -> None:
    selection = "    x = 1\n"
    assert fit_replacement("", selection, "    x = 2\n") == "    x = 2\n"


def test_selection_starting_after_indentation() -> None:
    # selection starts at the first non-blank character of an indented line
    assert fit_replacement("    ", "x = 1\n    y = 2\n", "x = 3\ny = 4") == "x = 3\n    y = 4\n"


def test_inline_selection_has_no_trailing_newline() -> None:
    assert fit_replacement("total = ", "a + b", "sum([a, b])\n") == "sum([a, b])"


def test_crlf_selection_keeps_crlf() -> None:
    assert fit_replacement("", "  a\r\n  b\r\n", "c\nd\n") == "  c\r\n  d\r\n"


def test_document_line_ending_used_for_single_line_selection() -> None:
    assert fit_replacement("", "a\r\n", "b\nc\n", eol="\r\n") == "b\r\nc\r\n"


def test_missing_final_newline_added_for_whole_line_selection() -> None:
    assert fit_replacement("", "a = 1\n", "a = 2") == "a = 2\n"


def test_blank_lines_stay_blank() -> None:
    assert fit_replacement("", "  a\n\n  b\n", "a\n\nb\n") == "  a\n\n  b\n"


def test_empty_reply_deletes_selection() -> None:
    assert fit_replacement("", "  a\n", "") == ""
