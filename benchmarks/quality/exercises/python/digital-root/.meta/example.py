def _rounds(n):
    if n < 0:
        raise ValueError("n must not be negative")
    count = 0
    while n >= 10:
        n = sum(int(d) for d in str(n))
        count += 1
    return n, count


def digital_root(n):
    return _rounds(n)[0]


def persistence(n):
    return _rounds(n)[1]
