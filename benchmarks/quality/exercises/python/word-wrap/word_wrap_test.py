import pytest
from word_wrap import wrap


def test_empty():
    assert wrap("", 5) == []
    assert wrap("   ", 5) == []


def test_fits():
    assert wrap("a b c", 10) == ["a b c"]


def test_greedy():
    assert wrap("the quick brown fox jumps", 10) == ["the quick", "brown fox", "jumps"]


def test_whitespace_collapsed():
    assert wrap("a\n\n b\tc", 3) == ["a b", "c"]


def test_long_word_cut():
    assert wrap("abcdefgh ij", 3) == ["abc", "def", "gh", "ij"]


def test_exact_width():
    assert wrap("abc def", 3) == ["abc", "def"]


def test_bad_width():
    with pytest.raises(ValueError):
        wrap("a", 0)
