class Inventory:
    def add(self, name, quantity):
        pass

    def remove(self, name, quantity):
        pass

    def count(self, name):
        pass

    def items(self):
        pass
