"""A JSON summary of an access log."""
