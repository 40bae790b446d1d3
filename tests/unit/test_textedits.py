"""Pure edit computation: minimal edits, positions in UTF-16, diffs, rebase."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samokoder.workspace.textedits import (
    Position,
    Range,
    TextEdit,
    apply_edits,
    count_changes,
    minimal_edits,
    offset_at,
    position_at,
    rebase,
    split_lines,
    unified_diff,
)

texts = st.lists(
    st.sampled_from(["a", "b", "word ", "\n", "\r\n", "\r", "é", "😀", "\t", "x\n", "y\r\n"]),
    max_size=25,
).map("".join)


def edit(sl: int, sc: int, el: int, ec: int, new_text: str) -> TextEdit:
    return TextEdit(Range(Position(sl, sc), Position(el, ec)), new_text)


# --- positions ----------------------------------------------------------------------------


def test_positions_count_utf16_units() -> None:
    text = "a😀b\nñé\r\nz"
    assert offset_at(text, Position(0, 0)) == 0
    assert offset_at(text, Position(0, 1)) == 1
    assert offset_at(text, Position(0, 3)) == 2  # past the emoji (two UTF-16 units)
    assert offset_at(text, Position(0, 4)) == 3
    assert offset_at(text, Position(1, 2)) == 6
    assert offset_at(text, Position(2, 0)) == 8
    assert offset_at(text, Position(2, 1)) == 9
    assert position_at(text, 3) == Position(0, 4)
    assert position_at(text, 8) == Position(2, 0)
    assert position_at(text, len(text)) == Position(2, 1)


def test_position_inside_surrogate_pair_refused() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        offset_at("a😀b", Position(0, 2))


@pytest.mark.parametrize(
    ("text", "pos"),
    [
        ("abc", Position(0, 4)),
        ("abc\n", Position(0, 4)),  # the newline is not a character of the line
        ("abc\r\nd", Position(0, 4)),
        ("abc\n", Position(2, 0)),
        ("", Position(1, 0)),
        ("abc", Position(-1, 0)),
    ],
)
def test_positions_past_the_end_refused(text: str, pos: Position) -> None:
    with pytest.raises(ValueError):
        offset_at(text, pos)


def test_empty_text_and_trailing_newline_positions() -> None:
    assert offset_at("", Position(0, 0)) == 0
    assert offset_at("abc\n", Position(1, 0)) == 4
    assert position_at("abc\n", 4) == Position(1, 0)


def test_offset_inside_crlf_refused() -> None:
    with pytest.raises(ValueError, match="terminator"):
        position_at("a\r\nb", 2)
    with pytest.raises(ValueError):
        position_at("abc", 4)


def test_lone_cr_is_a_line_end() -> None:
    assert split_lines("a\rb\r\nc\n") == ["a\r", "b\r\n", "c\n"]
    assert position_at("a\rb", 2) == Position(1, 0)


@settings(max_examples=500, deadline=None)
@given(text=texts, data=st.data())
def test_offset_position_round_trip(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(min_value=0, max_value=len(text)))
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        with pytest.raises(ValueError):
            position_at(text, offset)
        return
    assert offset_at(text, position_at(text, offset)) == offset


# --- minimal edits ---------------------------------------------------------------------------


def test_one_word_change_is_a_small_edit() -> None:
    old = "def f():\n    return load(x)\n\nprint(f())\n"
    new = "def f():\n    return parse(x)\n\nprint(f())\n"
    edits = minimal_edits(old, new)
    assert len(edits) == 1
    assert edits[0].range == Range(Position(1, 11), Position(1, 15))
    assert edits[0].new_text == "parse"
    assert apply_edits(old, edits) == new


def test_no_change_gives_no_edits() -> None:
    assert minimal_edits("same\r\n", "same\r\n") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", "hello\n"),
        ("hello\n", ""),
        ("a\r\nb\r\n", "a\r\nc\r\n"),
        ("a\r\nb", "a\nb"),
        ("a\nb", "a\r\nb"),
        ("no newline", "no newline\n"),
        ("line\n", "line"),
        ("x😀y\n", "x😀😀y\n"),
        ("😀\r\n😀", "😀\r\n😀\r\n"),
        ("a\r", "a\r\n"),
        ("a\r\n", "a\r"),
    ],
)
def test_minimal_edits_edge_cases(old: str, new: str) -> None:
    edits = minimal_edits(old, new)
    assert apply_edits(old, edits) == new


def test_crlf_is_never_split() -> None:
    old = "a\r\nb\r\n"
    new = "a\r\nX\nb\r\n"
    for e in minimal_edits(old, new):
        # Every boundary must be a position a client can place (not between \r and \n).
        for pos in (e.range.start, e.range.end):
            offset_at(old, pos)
    assert apply_edits(old, minimal_edits(old, new)) == new


@settings(max_examples=2000, deadline=None)
@given(old=texts, new=texts)
def test_property_minimal_edits_apply_to_new(old: str, new: str) -> None:
    edits = minimal_edits(old, new)
    assert apply_edits(old, edits) == new
    offsets = [(offset_at(old, e.range.start), offset_at(old, e.range.end)) for e in edits]
    for (s1, e1), (s2, _) in itertools.pairwise(offsets):
        assert s1 <= e1 < s2  # in document order, non-overlapping, not touching
    for e in edits:
        assert e.new_text or e.range.start != e.range.end  # no empty edits


# --- applying edits ------------------------------------------------------------------------


def test_apply_edits_uses_original_positions_in_any_order() -> None:
    text = "one two three"
    edits = [edit(0, 8, 0, 13, "3"), edit(0, 0, 0, 3, "1")]
    assert apply_edits(text, edits) == "1 two 3"


def test_apply_edits_same_position_inserts_keep_order() -> None:
    assert apply_edits("ab", [edit(0, 1, 0, 1, "X"), edit(0, 1, 0, 1, "Y")]) == "aXYb"


def test_apply_edits_rejects_overlap_and_bad_ranges() -> None:
    with pytest.raises(ValueError, match="overlap"):
        apply_edits("abcdef", [edit(0, 0, 0, 3, ""), edit(0, 2, 0, 4, "")])
    with pytest.raises(ValueError):
        apply_edits("abc", [edit(0, 0, 0, 9, "")])
    with pytest.raises(ValueError, match="before it starts"):
        apply_edits("abc", [edit(0, 2, 0, 1, "")])


# --- diffs -----------------------------------------------------------------------------------


def test_unified_diff_git_style() -> None:
    old = "".join(f"line {i}\n" for i in range(10))
    new = old.replace("line 5\n", "line five\n")
    diff = unified_diff("src/app.py", old, new)
    assert diff.splitlines()[:3] == ["--- a/src/app.py", "+++ b/src/app.py", "@@ -3,7 +3,7 @@"]
    assert "-line 5\n+line five\n" in diff
    assert " line 2\n" in diff
    assert " line 1\n" not in diff  # only 3 lines of context
    assert unified_diff("x", old, old) == ""


def test_unified_diff_marks_missing_final_newline() -> None:
    diff = unified_diff("f.txt", "a\nb", "a\nb\n")
    assert "-b\n\\ No newline at end of file\n+b\n" in diff
    assert diff.endswith("+b\n")


def test_count_changes() -> None:
    assert count_changes("a\nb\nc\n", "a\nB\nc\nd\n") == (2, 1)
    assert count_changes("", "x\ny\n") == (2, 0)
    assert count_changes("x\ny\n", "") == (0, 2)
    assert count_changes("same\n", "same\n") == (0, 0)


# --- rebase ----------------------------------------------------------------------------------

BASE = "".join(f"line {i}\n" for i in range(12))


def test_rebase_identities() -> None:
    proposed = BASE.replace("line 3\n", "line three\n")
    current = BASE.replace("line 9\n", "line nine\n")
    assert rebase(BASE, proposed, BASE) == proposed
    assert rebase(BASE, BASE, current) == current
    assert rebase(BASE, proposed, proposed) == proposed


def test_rebase_merges_separate_regions() -> None:
    proposed = BASE.replace("line 2\n", "line two\nextra\n")
    current = BASE.replace("line 9\n", "").replace("line 7\n", "line seven\n")
    merged = rebase(BASE, proposed, current)
    assert merged == BASE.replace("line 2\n", "line two\nextra\n").replace("line 9\n", "").replace(
        "line 7\n", "line seven\n"
    )


def test_rebase_user_typing_at_top_agent_appends() -> None:
    base = "import os\n\n\ndef main():\n    pass\n"
    current = "import os\nimport sys\n\n\ndef main():\n    pass\n"
    proposed = base + "\n\nif __name__ == '__main__':\n    main()\n"
    assert (
        rebase(base, proposed, current) == current + "\n\nif __name__ == '__main__':\n    main()\n"
    )


@pytest.mark.parametrize(
    ("proposed", "current"),
    [
        # same line changed on both sides
        (BASE.replace("line 4\n", "agent\n"), BASE.replace("line 4\n", "user\n")),
        # adjacent lines: too close to merge safely
        (BASE.replace("line 4\n", "agent\n"), BASE.replace("line 5\n", "user\n")),
        # both insert at the same place
        (BASE.replace("line 4\n", "line 4\nagent\n"), BASE.replace("line 4\n", "line 4\nuser\n")),
        # the user deleted a line the agent changed
        (BASE.replace("line 4\n", "agent\n"), BASE.replace("line 3\nline 4\n", "")),
    ],
)
def test_rebase_conflicts_give_none(proposed: str, current: str) -> None:
    assert rebase(BASE, proposed, current) is None


def test_rebase_keeps_crlf() -> None:
    base = "a\r\nb\r\nc\r\nd\r\ne\r\n"
    proposed = base.replace("b\r\n", "B\r\n")
    current = base.replace("e\r\n", "E\r\n")
    assert rebase(base, proposed, current) == "a\r\nB\r\nc\r\nd\r\nE\r\n"


@settings(max_examples=500, deadline=None)
@given(base=texts, proposed=texts)
def test_property_rebase_onto_unchanged_is_proposed(base: str, proposed: str) -> None:
    assert rebase(base, proposed, base) == proposed
    assert rebase(base, base, proposed) == proposed


def _distant_edits(lines: list[str], i: int, j: int) -> tuple[str, str, str, str]:
    base = "".join(lines)
    proposed = "".join([*lines[:i], "AGENT\n", *lines[i + 1 :]])
    current = "".join([*lines[:j], "USER\n", *lines[j + 1 :]])
    expected = "".join([*lines[:i], "AGENT\n", *lines[i + 1 : j], "USER\n", *lines[j + 1 :]])
    return base, proposed, current, expected


@settings(max_examples=300, deadline=None)
@given(n=st.integers(4, 30), data=st.data())
def test_property_rebase_of_distant_edits_has_both(n: int, data: st.DataObject) -> None:
    # Distinct lines: the agent changes line i, the user line j, at least one apart.
    lines = [f"line {k}\r\n" if k % 3 else f"line {k} 😀\n" for k in range(n)]
    i = data.draw(st.integers(0, n - 3))
    j = data.draw(st.integers(i + 2, n - 1))
    base, proposed, current, expected = _distant_edits(lines, i, j)
    assert rebase(base, proposed, current) == expected
    assert rebase(base, current, proposed) == expected


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "😀\n"]), min_size=4, max_size=20),
    data=st.data(),
)
def test_property_rebase_with_repeated_lines_is_right_or_refused(
    lines: list[str], data: st.DataObject
) -> None:
    # With repeated lines difflib may align ambiguously; a merge it does make must be right.
    n = len(lines)
    i = data.draw(st.integers(0, n - 3))
    j = data.draw(st.integers(i + 2, n - 1))
    base, proposed, current, expected = _distant_edits(lines, i, j)
    merged = rebase(base, proposed, current)
    assert merged in (expected, None)
