import pytest
from base_convert import from_base, to_base


def test_binary():
    assert to_base(10, 2) == "1010"
    assert from_base("1010", 2) == 10


def test_hex_lower_case():
    assert to_base(255, 16) == "ff"
    assert from_base("FF", 16) == 255


def test_base_36():
    assert to_base(35, 36) == "z"
    assert from_base("10", 36) == 36


def test_zero_and_negative():
    assert to_base(0, 7) == "0"
    assert to_base(-8, 8) == "-10"
    assert from_base("-10", 8) == -8


def test_round_trip():
    for n in (1, 99, 12345, 2**40):
        assert from_base(to_base(n, 13), 13) == n


def test_bad_base():
    with pytest.raises(ValueError):
        to_base(5, 1)
    with pytest.raises(ValueError):
        from_base("1", 37)


def test_bad_digit():
    with pytest.raises(ValueError):
        from_base("12", 2)
    with pytest.raises(ValueError):
        from_base("", 10)
