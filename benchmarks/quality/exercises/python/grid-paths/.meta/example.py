def count_paths(grid):
    if not grid or not grid[0]:
        return 0
    width = len(grid[0])
    ways = [0] * width
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell == "#":
                ways[c] = 0
            elif r == 0 and c == 0:
                ways[c] = 1
            elif c > 0:
                ways[c] += ways[c - 1]
    return ways[-1]
