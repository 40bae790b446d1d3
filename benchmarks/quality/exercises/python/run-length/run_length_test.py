import pytest
from run_length import compress, expand


def test_compress():
    assert compress("aaabccdddd") == "a3bc2d4"


def test_no_runs():
    assert compress("abc") == "abc"
    assert expand("abc") == "abc"


def test_empty():
    assert compress("") == ""
    assert expand("") == ""


def test_long_run():
    assert compress("x" * 12) == "x12"
    assert expand("x12y") == "x" * 12 + "y"


def test_spaces_kept():
    assert compress("  a") == " 2a"


def test_round_trip():
    text = "wwwwaaadexxxxxxywww  zz"
    assert expand(compress(text)) == text


def test_bad_packed():
    with pytest.raises(ValueError):
        expand("3a")
    with pytest.raises(ValueError):
        expand("a0")
