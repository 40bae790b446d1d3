def compress(text):
    pass


def expand(packed):
    pass
