"""Shared fixtures: the fake provider, throwaway Git workspaces, a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import editor, workspace  # noqa: F401
from tests.fakes.fake_provider import fake_provider  # noqa: F401


@pytest.fixture(autouse=True)
def private_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Keep the response cache (user cache directory) out of the real home in every test."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    yield cache
