import functools
import re

VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.]+))?")


def _key(text):
    match = VERSION.fullmatch(text)
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    numbers = tuple(int(g) for g in match.groups()[:3])
    label = match.group(4)
    if label is None:
        return numbers, None
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in label.split("."))
    return numbers, parts


def compare(a, b):
    (na, la), (nb, lb) = _key(a), _key(b)
    if na != nb:
        return -1 if na < nb else 1
    if la == lb:
        return 0
    if la is None:
        return 1
    if lb is None:
        return -1
    return -1 if la < lb else 1


def latest(versions):
    return max(versions, key=functools.cmp_to_key(compare))
