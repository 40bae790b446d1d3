def anagram_sets(words):
    pass
