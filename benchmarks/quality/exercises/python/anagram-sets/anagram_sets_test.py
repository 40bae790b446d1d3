from anagram_sets import anagram_sets


def test_none():
    assert anagram_sets(["a", "b"]) == []


def test_one_group():
    assert anagram_sets(["Listen", "pen", "Silent", "enlist"]) == [["Listen", "Silent", "enlist"]]


def test_group_order():
    words = ["god", "act", "dog", "cat", "tac"]
    assert anagram_sets(words) == [["god", "dog"], ["act", "cat", "tac"]]


def test_duplicates_count_once():
    assert anagram_sets(["stop", "STOP", "pots"]) == [["stop", "pots"]]
    assert anagram_sets(["a", "A"]) == []


def test_empty():
    assert anagram_sets([]) == []
