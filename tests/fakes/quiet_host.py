"""A host with no editor attached: every file is closed, so the server writes them itself.

For in-process runs (benchmarks, crash scenarios) that need a `Host` and nothing of it.
"""

from __future__ import annotations

from typing import Any

from samokoder.agents.host import FileEdit, OpenDocument, ProposalNotice


class QuietHost:
    """No editor: every file is closed, so the server writes them itself."""

    def open_document(self, uri: str) -> OpenDocument | None:
        return None

    async def run_started(self, run_id: str, title: str) -> str | None: ...

    def progress(self, token: str | None, message: str, percentage: int | None = None) -> None: ...

    async def ask(self, question: str, choices: list[str], free_text: bool) -> str | None:
        return None

    async def propose(self, notice: ProposalNotice) -> None: ...

    async def apply_edit(self, label: str, edits: list[FileEdit], needs_confirmation: bool) -> bool:
        raise AssertionError("no document is open")

    async def run_finished(self, payload: dict[str, Any], token: str | None) -> None: ...

    def log(self, message: str, *, error: bool = False) -> None: ...

    async def show_document(self, uri: str) -> bool:
        return False
