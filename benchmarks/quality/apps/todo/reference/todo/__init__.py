"""A to-do list kept in a SQLite file."""
