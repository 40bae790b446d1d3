from top_words import top_words


def test_simple():
    assert top_words("a b a", 1) == [("a", 2)]


def test_case_insensitive_and_punctuation():
    assert top_words("Go, go! GO? stop.", 2) == [("go", 3), ("stop", 1)]


def test_ties_alphabetical():
    assert top_words("pear apple fig apple fig pear", 3) == [
        ("apple", 2),
        ("fig", 2),
        ("pear", 2),
    ]


def test_apostrophes():
    assert top_words("don't 'quote' don't", 2) == [("don't", 2), ("quote", 1)]


def test_fewer_words_than_k():
    assert top_words("one", 5) == [("one", 1)]


def test_empty():
    assert top_words("  ...  ", 3) == []
