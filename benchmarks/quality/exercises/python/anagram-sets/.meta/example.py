def anagram_sets(words):
    groups = {}
    seen = set()
    for word in words:
        low = word.lower()
        if low in seen:
            continue
        seen.add(low)
        groups.setdefault("".join(sorted(low)), []).append(word)
    return [group for group in groups.values() if len(group) > 1]
