def parse(text):
    pass


def format_duration(seconds):
    pass
