def check_digit(first12):
    if len(first12) != 12 or not first12.isdigit() or not first12.isascii():
        raise ValueError("need exactly 12 digits")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid(code):
    digits = code.replace(" ", "").replace("-", "")
    if len(digits) != 13 or not digits.isdigit() or not digits.isascii():
        return False
    return check_digit(digits[:12]) == int(digits[12])
