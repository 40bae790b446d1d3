def render(headers, rows):
    pass
