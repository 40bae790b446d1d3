"""The WorkspaceEdit the server sends for a set of file edits."""

from __future__ import annotations

import pytest
from lsprotocol import types

from samokoder.agents.host import FileEdit
from samokoder.errors import SamokoderError
from samokoder.server.lsp_host import build_workspace_edit

MODIFY = FileEdit("file:///w/a.py", "modify", "a = 1\nb = 2\n", "a = 1\nb = 3\n", 7)
CREATE = FileEdit("file:///w/new.py", "create", "", "x = 1\n", None)
DELETE = FileEdit("file:///w/old.py", "delete", "gone\n", "", None)


def test_versioned_document_edits_with_resource_operations() -> None:
    edit = build_workspace_edit([MODIFY, CREATE, DELETE], "label", False, True)
    ops = list(edit.document_changes or [])
    assert isinstance(ops[0], types.TextDocumentEdit)
    assert ops[0].text_document.version == 7
    [change] = ops[0].edits
    assert change.range == types.Range(types.Position(1, 4), types.Position(1, 5))
    assert change.new_text == "3"
    assert isinstance(ops[1], types.CreateFile)
    assert ops[1].options is not None and ops[1].options.ignore_if_exists
    assert isinstance(ops[2], types.TextDocumentEdit) and ops[2].text_document.version is None
    assert isinstance(ops[3], types.DeleteFile)
    assert edit.change_annotations is None


def test_annotated_edits_need_confirmation() -> None:
    edit = build_workspace_edit([MODIFY, CREATE], "Edit a.py", True, True)
    assert edit.change_annotations is not None
    [(annotation_id, annotation)] = edit.change_annotations.items()
    assert annotation.needs_confirmation and annotation.label == "Edit a.py"
    ops = list(edit.document_changes or [])
    assert all(
        isinstance(e, types.AnnotatedTextEdit) and e.annotation_id == annotation_id
        for op in ops
        if isinstance(op, types.TextDocumentEdit)
        for e in op.edits
    )
    assert ops[1].annotation_id == annotation_id  # the CreateFile too: Neovim 0.12 checks


def test_plain_changes_for_clients_without_document_changes() -> None:
    edit = build_workspace_edit([MODIFY], "label", False, False)
    assert edit.document_changes is None
    assert list((edit.changes or {}).keys()) == [MODIFY.uri]
    with pytest.raises(SamokoderError, match="cannot create or delete"):
        build_workspace_edit([MODIFY, CREATE], "label", False, False)


def test_files_a_client_cannot_create_or_delete_are_refused_by_name() -> None:
    can_create = frozenset({"create"})
    build_workspace_edit([MODIFY, CREATE], "label", False, True, can_create)  # fits
    with pytest.raises(SamokoderError, match=r"cannot delete files .* `review` setting"):
        build_workspace_edit([MODIFY, CREATE, DELETE], "label", False, True, can_create)
    with pytest.raises(SamokoderError, match="cannot create or delete files"):
        build_workspace_edit([CREATE, DELETE], "label", False, True, frozenset())
