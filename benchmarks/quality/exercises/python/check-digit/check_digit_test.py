import pytest
from check_digit import check_digit, is_valid


def test_check_digit():
    assert check_digit("400638133393") == 1
    assert check_digit("978030640615") == 7


def test_zero_check_digit():
    assert check_digit("000000000000") == 0


def test_valid():
    assert is_valid("4006381333931")
    assert is_valid("978-0-306-40615-7")
    assert is_valid("978 0306 40615 7")


def test_invalid():
    assert not is_valid("4006381333932")
    assert not is_valid("400638133393")
    assert not is_valid("40063813339X1")


def test_check_digit_refuses():
    with pytest.raises(ValueError):
        check_digit("12345")
    with pytest.raises(ValueError):
        check_digit("12345678901a")
