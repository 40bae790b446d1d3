"""The real small model's server fixture, shared with tests/real_model (skips when absent)."""

from __future__ import annotations

import pytest

try:
    from tests.real_model.conftest import llama_server
except ImportError:  # that suite moved or is gone: the real-model test here skips

    @pytest.fixture(scope="session")
    def llama_server() -> str:
        pytest.skip("tests/real_model/conftest.py (the llama.cpp server fixture) is missing")
