class Inventory:
    def __init__(self):
        self._stock = {}

    @staticmethod
    def _check(quantity):
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise ValueError("quantity must be a positive integer")

    def add(self, name, quantity):
        self._check(quantity)
        self._stock[name] = self._stock.get(name, 0) + quantity

    def remove(self, name, quantity):
        self._check(quantity)
        have = self._stock.get(name, 0)
        if quantity > have:
            raise ValueError(f"only {have} of {name} in stock")
        if have == quantity:
            del self._stock[name]
        else:
            self._stock[name] = have - quantity

    def count(self, name):
        return self._stock.get(name, 0)

    def items(self):
        return sorted(self._stock.items())
