import re
from collections import Counter


def top_words(text, k):
    words = (w.strip("'") for w in re.findall(r"[a-z0-9']+", text.lower()))
    counts = Counter(w for w in words if w)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]
