from grid_paths import count_paths


def test_single_cell():
    assert count_paths(["."]) == 1


def test_two_by_two():
    assert count_paths(["..", ".."]) == 2


def test_blocked_middle():
    assert count_paths(["...", ".#.", "..."]) == 2


def test_blocked_start_or_goal():
    assert count_paths(["#.", ".."]) == 0
    assert count_paths(["..", ".#"]) == 0


def test_wall():
    assert count_paths(["..#", "##.", "..."]) == 0


def test_large_open_grid():
    assert count_paths(["." * 30] * 30) == 30067266499541040
