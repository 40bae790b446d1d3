import pytest
from teller_queue import average_wait, waits


def test_no_wait():
    assert waits([(0, 5), (10, 5)], 1) == [0, 0]


def test_one_teller_queue():
    assert waits([(0, 5), (1, 3), (2, 1)], 1) == [0, 4, 6]


def test_two_tellers():
    assert waits([(0, 5), (0, 5), (0, 5)], 2) == [0, 0, 5]


def test_unsorted_input_keeps_order():
    assert waits([(2, 1), (0, 5), (1, 3)], 1) == [6, 0, 4]


def test_arrival_when_free():
    assert waits([(0, 3), (3, 1)], 1) == [0, 0]


def test_average():
    assert average_wait([(0, 5), (1, 3), (2, 1)], 1) == pytest.approx(10 / 3)
    assert average_wait([], 3) == 0.0


def test_bad_tellers():
    with pytest.raises(ValueError):
        waits([(0, 1)], 0)
