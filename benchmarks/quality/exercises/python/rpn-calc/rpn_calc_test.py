import pytest
from rpn_calc import evaluate


def test_number():
    assert evaluate("42") == 42


def test_arithmetic():
    assert evaluate("3 4 + 2 *") == 14
    assert evaluate("10 4 -") == 6


def test_negative_numbers():
    assert evaluate("-3 4 *") == -12


def test_division_toward_zero():
    assert evaluate("7 2 /") == 3
    assert evaluate("-7 3 /") == -2


def test_stack_words():
    assert evaluate("3 dup *") == 9
    assert evaluate("1 2 swap -") == 1
    assert evaluate("1 2 drop") == 1


def test_errors():
    for bad in ("", "1 +", "1 2", "1 2 pow", "drop"):
        with pytest.raises(ValueError):
            evaluate(bad)


def test_division_by_zero():
    with pytest.raises(ZeroDivisionError):
        evaluate("1 0 /")
