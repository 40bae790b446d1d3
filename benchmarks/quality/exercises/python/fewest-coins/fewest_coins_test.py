import pytest
from fewest_coins import make_change


def test_zero():
    assert make_change([1, 5], 0) == []


def test_single_coin():
    assert make_change([1, 5, 10], 10) == [10]


def test_greedy_is_wrong_here():
    assert make_change([1, 3, 4], 6) == [3, 3]


def test_mixed():
    assert make_change([1, 5, 10, 25], 63) == [1, 1, 1, 10, 25, 25]


def test_larger_amount():
    assert len(make_change([1, 7, 10], 140)) == 14


def test_impossible():
    with pytest.raises(ValueError):
        make_change([5, 10], 3)


def test_negative():
    with pytest.raises(ValueError):
        make_change([1], -1)


def test_sum_is_amount():
    coins = make_change([2, 5, 9], 31)
    assert sum(coins) == 31
    assert coins == sorted(coins)
