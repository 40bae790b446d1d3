import heapq


def waits(customers, tellers):
    if tellers < 1:
        raise ValueError("at least one teller")
    free_at = [0] * tellers
    order = sorted(range(len(customers)), key=lambda i: (customers[i][0], i))
    result = [0] * len(customers)
    for i in order:
        arrival, service = customers[i]
        start = max(arrival, heapq.heappop(free_at))
        result[i] = start - arrival
        heapq.heappush(free_at, start + service)
    return result


def average_wait(customers, tellers):
    found = waits(customers, tellers)
    return sum(found) / len(found) if found else 0.0
