import pytest
from version_order import compare, latest


def test_equal():
    assert compare("1.2.3", "1.2.3") == 0


def test_numbers_not_text():
    assert compare("1.10.0", "1.9.0") == 1
    assert compare("0.0.9", "0.0.10") == -1


def test_prerelease_older():
    assert compare("2.0.0-rc.1", "2.0.0") == -1
    assert compare("2.0.0", "2.0.0-rc.1") == 1


def test_labels():
    assert compare("1.0.0-alpha", "1.0.0-beta") == -1
    assert compare("1.0.0-beta.2", "1.0.0-beta.11") == -1
    assert compare("1.0.0-1", "1.0.0-alpha") == -1
    assert compare("1.0.0-alpha", "1.0.0-alpha.1") == -1


def test_latest():
    assert latest(["1.0.0", "1.0.10", "1.0.2", "1.0.10-rc.1"]) == "1.0.10"


def test_bad_version():
    with pytest.raises(ValueError):
        compare("1.2", "1.2.3")
    with pytest.raises(ValueError):
        compare("1.2.3", "v1.2.3")
