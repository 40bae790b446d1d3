def make_change(coins, amount):
    if amount < 0:
        raise ValueError("negative amount")
    best = [[]] + [None] * amount
    for value in range(1, amount + 1):
        for coin in coins:
            if coin <= value and best[value - coin] is not None:
                option = best[value - coin] + [coin]
                if best[value] is None or len(option) < len(best[value]):
                    best[value] = option
    if best[amount] is None:
        raise ValueError(f"{amount} cannot be made from {coins}")
    return sorted(best[amount])
