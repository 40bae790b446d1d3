import datetime
from decimal import Decimal, InvalidOperation


def monthly_balances(lines, opening):
    changes = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split(",")
        try:
            if len(parts) != 3 or parts[1] not in ("deposit", "withdrawal"):
                raise ValueError
            day = datetime.date.fromisoformat(parts[0])
            amount = Decimal(parts[2])
            if amount < 0 or amount != amount.quantize(Decimal("0.01")):
                raise ValueError
        except (ValueError, InvalidOperation):
            raise ValueError(f"line {number}: not a transaction: {line!r}") from None
        month = f"{day.year:04d}-{day.month:02d}"
        sign = 1 if parts[1] == "deposit" else -1
        changes[month] = changes.get(month, Decimal(0)) + sign * amount
    balance = Decimal(str(opening))
    out = []
    for month in sorted(changes):
        balance += changes[month]
        out.append((month, balance))
    return out
