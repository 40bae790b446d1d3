import pytest
from digital_root import digital_root, persistence


def test_single_digit_is_its_own_root():
    assert digital_root(7) == 7
    assert persistence(7) == 0


def test_zero():
    assert digital_root(0) == 0


def test_several_rounds():
    assert digital_root(9875) == 2
    assert persistence(9875) == 3


def test_one_round():
    assert digital_root(38) == 2
    assert persistence(38) == 2


def test_large_number():
    assert digital_root(999999999999) == 9


def test_negative_is_refused():
    with pytest.raises(ValueError):
        digital_root(-5)
    with pytest.raises(ValueError):
        persistence(-1)
