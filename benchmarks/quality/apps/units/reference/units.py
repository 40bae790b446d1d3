"""Conversions between units of length, mass and temperature."""

LINEAR = {
    "length": {
        "mm": 0.001,
        "cm": 0.01,
        "m": 1.0,
        "km": 1000.0,
        "in": 0.0254,
        "ft": 0.3048,
        "mi": 1609.344,
    },
    "mass": {"g": 1.0, "kg": 1000.0, "lb": 453.59237, "oz": 453.59237 / 16},
}
TEMPERATURE = ("C", "F", "K")


def kinds():
    out = {kind: sorted(table) for kind, table in LINEAR.items()}
    out["temperature"] = sorted(TEMPERATURE)
    return out


def _kind(unit):
    for kind, table in LINEAR.items():
        if unit in table:
            return kind
    if unit in TEMPERATURE:
        return "temperature"
    raise ValueError(f"unknown unit {unit!r}")


def _to_kelvin(value, unit):
    if unit == "C":
        return value + 273.15
    if unit == "F":
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(value, unit):
    if unit == "C":
        return value - 273.15
    if unit == "F":
        return (value - 273.15) * 9 / 5 + 32
    return value


def convert(value, from_unit, to_unit):
    kind = _kind(from_unit)
    if _kind(to_unit) != kind:
        raise ValueError(f"cannot convert {from_unit} to {to_unit}")
    if kind == "temperature":
        return float(_from_kelvin(_to_kelvin(value, from_unit), to_unit))
    table = LINEAR[kind]
    return float(value * table[from_unit] / table[to_unit])
