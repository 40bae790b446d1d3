from spiral_read import spiral


def test_empty():
    assert spiral([]) == []
    assert spiral([[]]) == []


def test_single():
    assert spiral([[4]]) == [4]


def test_square():
    assert spiral([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [1, 2, 3, 6, 9, 8, 7, 4, 5]


def test_wide():
    assert spiral([[1, 2, 3, 4], [5, 6, 7, 8]]) == [1, 2, 3, 4, 8, 7, 6, 5]


def test_tall():
    assert spiral([[1], [2], [3]]) == [1, 2, 3]


def test_four_by_three():
    m = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    assert spiral(m) == [1, 2, 3, 6, 9, 12, 11, 10, 7, 4, 5, 8]
