"""Statistics of one numeric column of a CSV file."""
