"""Client capabilities, resolved once at `initialize` into one frozen object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lsprotocol import types


@dataclass(frozen=True)
class ClientFeatures:
    review: bool = False  # experimental.samokoderReview: shows proposals as diffs
    ask: bool = False  # experimental.samokoderAsk: answers samokoder/ask
    apply_edit: bool = False
    document_changes: bool = False
    resource_operations: frozenset[str] = frozenset()
    change_annotations: bool = False
    work_done_progress: bool = False
    message_request: bool = False
    show_document: bool = False
    code_action_literals: bool = False

    @classmethod
    def resolve(cls, caps: types.ClientCapabilities) -> ClientFeatures:
        experimental: Any = caps.experimental if isinstance(caps.experimental, dict) else {}
        ws = caps.workspace
        edit = ws.workspace_edit if ws else None
        window = caps.window
        text = caps.text_document
        code_action = text.code_action if text else None
        return cls(
            review=experimental.get("samokoderReview") is True,
            ask=experimental.get("samokoderAsk") is True,
            apply_edit=bool(ws and ws.apply_edit),
            document_changes=bool(edit and edit.document_changes),
            resource_operations=frozenset(
                str(op.value) if hasattr(op, "value") else str(op)
                for op in ((edit.resource_operations or []) if edit else [])
            ),
            change_annotations=bool(edit and edit.change_annotation_support is not None),
            work_done_progress=bool(window and window.work_done_progress),
            message_request=bool(window and window.show_message),
            show_document=bool(window and window.show_document),
            code_action_literals=bool(
                code_action and code_action.code_action_literal_support is not None
            ),
        )
