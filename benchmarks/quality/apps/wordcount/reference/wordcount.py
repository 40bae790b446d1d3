import re
from collections import Counter


def count_words(text):
    words = re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", text.lower())
    return dict(Counter(words))
