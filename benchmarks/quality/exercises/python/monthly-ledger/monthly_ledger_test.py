from decimal import Decimal

import pytest
from monthly_ledger import monthly_balances


def test_one_month():
    lines = ["2024-01-02,deposit,100.50", "2024-01-09,withdrawal,20.25"]
    assert monthly_balances(lines, 0) == [("2024-01", Decimal("80.25"))]


def test_months_in_order_with_running_balance():
    lines = [
        "2024-03-01,deposit,10",
        "",
        "2024-01-15,deposit,5.10",
        "2024-03-20,withdrawal,2.20",
    ]
    assert monthly_balances(lines, Decimal("1.00")) == [
        ("2024-01", Decimal("6.10")),
        ("2024-03", Decimal("13.90")),
    ]


def test_cents_exact():
    lines = ["2023-12-01,deposit,0.10"] * 3
    assert monthly_balances(lines, 0) == [("2023-12", Decimal("0.30"))]


def test_year_boundary():
    lines = ["2024-01-01,deposit,1", "2023-12-31,deposit,1"]
    assert [m for m, _ in monthly_balances(lines, 0)] == ["2023-12", "2024-01"]


def test_bad_line_names_its_number():
    lines = ["2024-01-02,deposit,1", "2024-01-03,gift,5"]
    with pytest.raises(ValueError, match="2"):
        monthly_balances(lines, 0)


def test_bad_values():
    for bad in (
        "2024-13-01,deposit,1",
        "2024-01-01,deposit,-1",
        "2024-01-01,deposit,1.234",
        "2024-01-01,deposit",
        "2024-01-01,deposit,abc",
    ):
        with pytest.raises(ValueError):
            monthly_balances([bad], 0)
