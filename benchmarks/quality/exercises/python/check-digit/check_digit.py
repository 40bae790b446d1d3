def check_digit(first12):
    pass


def is_valid(code):
    pass
