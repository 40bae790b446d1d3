import pytest
from units import convert, kinds


def test_length():
    assert convert(1, "km", "m") == pytest.approx(1000)
    assert convert(1, "ft", "in") == pytest.approx(12)
    assert convert(1, "mi", "km") == pytest.approx(1.609344)


def test_mass():
    assert convert(1, "lb", "oz") == pytest.approx(16)
    assert convert(2, "kg", "lb") == pytest.approx(4.40924524)


def test_temperature():
    assert convert(100, "C", "F") == pytest.approx(212)
    assert convert(32, "F", "C") == pytest.approx(0)
    assert convert(0, "K", "C") == pytest.approx(-273.15)


def test_returns_float():
    assert isinstance(convert(1, "m", "m"), float)


def test_incompatible_kinds():
    with pytest.raises(ValueError, match="kg"):
        convert(1, "kg", "m")


def test_unknown_unit():
    with pytest.raises(ValueError, match="parsec"):
        convert(1, "parsec", "m")


def test_kinds():
    table = kinds()
    assert table["temperature"] == ["C", "F", "K"]
    assert table["mass"] == ["g", "kg", "lb", "oz"]
    assert "mi" in table["length"]
