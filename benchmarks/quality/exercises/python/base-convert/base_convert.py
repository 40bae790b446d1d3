def to_base(n, base):
    pass


def from_base(text, base):
    pass
