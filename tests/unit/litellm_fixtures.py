"""Fixtures for tests that call litellm for real (against the fake provider): import them
into a test module to make them autouse there."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from samokoder.llm.runtime import close_async_clients, load_litellm


@pytest.fixture(scope="module", autouse=True)
def _litellm_loaded() -> None:
    """Import litellm once for the module (seconds), not inside the first test."""
    load_litellm()


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    """litellm pools connections per event loop; close them before each test's loop ends."""
    yield
    await close_async_clients()
