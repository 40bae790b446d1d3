def monthly_balances(lines, opening):
    pass
