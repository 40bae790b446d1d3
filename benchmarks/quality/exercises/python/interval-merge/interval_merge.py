def merge(intervals):
    pass


def free_slots(intervals, day_start, day_end):
    pass
