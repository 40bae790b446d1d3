"""Shared fixtures: the fake provider, throwaway Git workspaces, a live server."""

from __future__ import annotations

from tests.e2e.harness import editor, workspace  # noqa: F401
from tests.fakes.fake_provider import fake_provider  # noqa: F401
