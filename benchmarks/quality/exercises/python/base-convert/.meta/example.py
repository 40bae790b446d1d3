DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _check(base):
    if not 2 <= base <= 36:
        raise ValueError("base must be between 2 and 36")


def to_base(n, base):
    _check(base)
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    out = []
    while n:
        n, digit = divmod(n, base)
        out.append(DIGITS[digit])
    return sign + "".join(reversed(out))


def from_base(text, base):
    _check(base)
    body = text.lower()
    sign = 1
    if body.startswith("-"):
        sign, body = -1, body[1:]
    if not body:
        raise ValueError("no digits")
    value = 0
    for char in body:
        digit = DIGITS.find(char)
        if digit < 0 or digit >= base:
            raise ValueError(f"{char!r} is not a digit in base {base}")
        value = value * base + digit
    return sign * value
