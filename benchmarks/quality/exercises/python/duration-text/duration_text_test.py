import pytest
from duration_text import format_duration, parse


def test_parse_simple():
    assert parse("45s") == 45
    assert parse("1h30m") == 5400


def test_parse_all_units():
    assert parse("1d2h3m4s") == 86400 + 7200 + 180 + 4


def test_parse_zero_value():
    assert parse("0m") == 0


def test_parse_refuses():
    for bad in ("", "5", "1x", "1m1h", "1h1h", "h", "1 h"):
        with pytest.raises(ValueError):
            parse(bad)


def test_format():
    assert format_duration(0) == "0s"
    assert format_duration(5400) == "1h30m"
    assert format_duration(90061) == "1d1h1m1s"


def test_round_trip():
    for n in (1, 59, 61, 3600, 86399, 200000):
        assert parse(format_duration(n)) == n
