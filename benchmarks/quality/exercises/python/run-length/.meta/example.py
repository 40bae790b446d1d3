import re
from itertools import groupby


def compress(text):
    out = []
    for char, run in groupby(text):
        size = len(list(run))
        out.append(char if size == 1 else f"{char}{size}")
    return "".join(out)


def expand(packed):
    if packed[:1].isdigit():
        raise ValueError("packed text starts with a count")
    out = []
    for char, count in re.findall(r"(\D)(\d*)", packed):
        size = int(count) if count else 1
        if size == 0:
            raise ValueError("a count of 0")
        out.append(char * size)
    return "".join(out)
