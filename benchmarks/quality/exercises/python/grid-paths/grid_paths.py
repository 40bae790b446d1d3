def count_paths(grid):
    pass
