import pytest
from inventory import Inventory


def test_empty():
    inv = Inventory()
    assert inv.count("pen") == 0
    assert inv.items() == []


def test_add_and_count():
    inv = Inventory()
    inv.add("pen", 3)
    inv.add("pen", 2)
    assert inv.count("pen") == 5


def test_items_sorted():
    inv = Inventory()
    inv.add("pen", 1)
    inv.add("ink", 4)
    assert inv.items() == [("ink", 4), ("pen", 1)]


def test_remove_to_zero_drops_item():
    inv = Inventory()
    inv.add("pen", 2)
    inv.remove("pen", 2)
    assert inv.items() == []
    assert inv.count("pen") == 0


def test_remove_too_many_changes_nothing():
    inv = Inventory()
    inv.add("pen", 2)
    with pytest.raises(ValueError):
        inv.remove("pen", 3)
    assert inv.count("pen") == 2


def test_bad_quantities():
    inv = Inventory()
    with pytest.raises(ValueError):
        inv.add("pen", 0)
    with pytest.raises(ValueError):
        inv.add("pen", -1)
    with pytest.raises(ValueError):
        inv.remove("pen", 0)
