import pytest
from text_table import render


def test_example():
    table = render(["name", "qty"], [["pen", 3], ["paper", 12]])
    assert table == "name  | qty\n------+----\npen   |   3\npaper |  12"


def test_no_rows():
    assert render(["a", "bb"], []) == "a | bb\n--+---"


def test_none_and_floats():
    table = render(["x", "price"], [["a", 1.5], [None, 10.25]])
    assert table.splitlines() == ["x | price", "--+------", "a |   1.5", "  | 10.25"]


def test_no_trailing_spaces():
    table = render(["long header", "b"], [["x", "y"]])
    assert all(line == line.rstrip() for line in table.splitlines())


def test_bool_is_text():
    table = render(["flag"], [[True]])
    assert table.splitlines()[2] == "True"


def test_bad_row():
    with pytest.raises(ValueError):
        render(["a", "b"], [[1]])
