def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def render(headers, rows):
    for row in rows:
        if len(row) != len(headers):
            raise ValueError("row length differs from the headers")
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    right = [bool(rows) and _is_number(rows[0][i]) for i in range(len(headers))]

    def line(values, numbers):
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numbers, strict=True)
        ]
        return " | ".join(parts).rstrip()

    out = [line([str(h) for h in headers], right), "-+-".join("-" * w for w in widths)]
    for row, texts in zip(rows, cells, strict=True):
        out.append(line(texts, [_is_number(v) for v in row]))
    return "\n".join(out)
