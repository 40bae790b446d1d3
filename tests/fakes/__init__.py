"""Test doubles: a real OpenAI-compatible HTTP server on 127.0.0.1 (see fake_provider)."""
