"""A key-value store over HTTP, standard library only."""
