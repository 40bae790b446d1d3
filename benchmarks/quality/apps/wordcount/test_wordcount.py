from wordcount import count_words


def test_counts_case_insensitively():
    assert count_words("The cat; the DOG.") == {"the": 2, "cat": 1, "dog": 1}


def test_apostrophes():
    assert count_words("don't stop, don't!") == {"don't": 2, "stop": 1}
