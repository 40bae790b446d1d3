"""A tiny greeter."""
