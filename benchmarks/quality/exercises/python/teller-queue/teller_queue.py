def waits(customers, tellers):
    pass


def average_wait(customers, tellers):
    pass
