def top_words(text, k):
    pass
