import pytest
from bracket_depth import max_depth


def test_no_brackets():
    assert max_depth("x = 1") == 0


def test_flat():
    assert max_depth("f(a) + g(b)") == 1


def test_nested_kinds():
    assert max_depth("a[{(1)}]") == 3


def test_strings_ignored():
    assert max_depth('print("(((", x)') == 1


def test_closer_without_opener():
    with pytest.raises(ValueError):
        max_depth("a)")


def test_wrong_kind():
    with pytest.raises(ValueError):
        max_depth("(]")


def test_unclosed():
    with pytest.raises(ValueError):
        max_depth("((x)")
