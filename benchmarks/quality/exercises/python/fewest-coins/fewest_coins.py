def make_change(coins, amount):
    pass
