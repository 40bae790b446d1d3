from interval_merge import free_slots, merge


def test_empty():
    assert merge([]) == []


def test_disjoint_sorted():
    assert merge([(5, 6), (1, 2)]) == [(1, 2), (5, 6)]


def test_overlap_and_touch():
    assert merge([(1, 3), (2, 5), (5, 7), (9, 10)]) == [(1, 7), (9, 10)]


def test_contained():
    assert merge([(1, 10), (2, 3)]) == [(1, 10)]


def test_input_not_changed():
    data = [(3, 4), (1, 2)]
    merge(data)
    assert data == [(3, 4), (1, 2)]


def test_free_slots():
    busy = [(9, 10), (12, 13), (9, 11)]
    assert free_slots(busy, 8, 17) == [(8, 9), (11, 12), (13, 17)]


def test_free_slots_busy_past_the_day():
    assert free_slots([(7, 9), (16, 20)], 8, 17) == [(9, 16)]


def test_no_free_time():
    assert free_slots([(0, 24)], 8, 17) == []
