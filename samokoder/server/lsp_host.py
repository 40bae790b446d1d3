"""The agents' `Host`, spoken in LSP: progress, questions, proposals, edits."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from lsprotocol import types

from samokoder.agents.host import FileEdit, OpenDocument, ProposalNotice
from samokoder.errors import SamokoderError
from samokoder.server.connection import LspConnection
from samokoder.workspace import textedits

log = logging.getLogger(__name__)

EDIT_TIMEOUT = 30.0
CONFIRM_TIMEOUT = 600.0
ASK_TIMEOUT = 600.0
ANNOTATION_ID = "samokoder"
APPLY_SETTLE_SECONDS = 2.0  # time given the editor's didChange to follow its applyEdit answer


class LspHost:
    """One per server connection; runs share it.

    Takes the server as an `LspConnection` (a leaf), not `SamokoderServer`: `app`
    creates the host, so the host must not import `app`."""

    def __init__(self, server: LspConnection) -> None:
        self.server = server

    def open_document(self, uri: str) -> OpenDocument | None:
        docs = self.server.workspace.text_documents
        doc = docs.get(uri)
        if doc is None:
            return None
        return OpenDocument(uri, doc.source, doc.version or 0)

    # -- progress -------------------------------------------------------------------

    async def run_started(self, run_id: str, title: str) -> str | None:
        if not self.server.features.work_done_progress:
            return None
        token = str(uuid.uuid4())
        progress = self.server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(token), 10)
        except Exception as exc:  # a client that refuses progress still gets the run
            log.warning("progress token refused by the client: %s", exc)
            return None
        self.server.token_runs[token] = run_id  # for the client's cancel
        progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True))
        return token

    def progress(self, token: str | None, message: str, percentage: int | None = None) -> None:
        if token is not None:
            self.server.work_done_progress.report(
                token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    async def run_finished(self, payload: dict[str, Any], token: str | None) -> None:
        if token is not None:
            self.server.token_runs.pop(token, None)
            self.server.work_done_progress.end(
                token, types.WorkDoneProgressEnd(message=payload.get("summary"))
            )
        self.server.protocol.notify("samokoder/runFinished", payload)

    # -- questions and proposals ----------------------------------------------------

    async def ask(self, question: str, choices: list[str], free_text: bool) -> str | None:
        features = self.server.features
        if features.ask:
            params = {"question": question, "choices": choices, "freeText": free_text}
            try:
                reply = await asyncio.wait_for(
                    self.server.protocol.send_request_async("samokoder/ask", params), ASK_TIMEOUT
                )
            except TimeoutError:
                return None
            answer = _field(reply, "answer")
            return answer if isinstance(answer, str) else None
        if choices and features.message_request:
            params_msg = types.ShowMessageRequestParams(
                type=types.MessageType.Info,
                message=question,
                actions=[types.MessageActionItem(title=c) for c in choices],
            )
            try:
                item = await asyncio.wait_for(
                    self.server.window_show_message_request_async(params_msg), ASK_TIMEOUT
                )
            except TimeoutError:
                return None
            return item.title if item is not None else None
        return None

    async def propose(self, notice: ProposalNotice) -> None:
        self.server.protocol.notify(
            "samokoder/proposal",
            {
                "proposalId": notice.proposal_id,
                "runId": notice.run_id,
                "title": notice.title,
                "files": notice.files,
            },
        )

    # -- edits ----------------------------------------------------------------------

    async def apply_edit(self, label: str, edits: list[FileEdit], needs_confirmation: bool) -> bool:
        features = self.server.features
        if not features.apply_edit:
            raise SamokoderError(
                "This editor does not apply workspace edits (it does not announce "
                "workspace.applyEdit), so the change cannot reach its open buffers: close the "
                "files it changes, or set the `review` setting to `proposal` with a client "
                "that shows proposals (the terminal client does)."
            )
        annotate = needs_confirmation and features.change_annotations
        edit = build_workspace_edit(
            edits, label, annotate, features.document_changes, features.resource_operations
        )
        params = types.ApplyWorkspaceEditParams(edit=edit, label=label)
        timeout = CONFIRM_TIMEOUT if needs_confirmation else EDIT_TIMEOUT
        try:
            result = await asyncio.wait_for(self.server.workspace_apply_edit_async(params), timeout)
        except TimeoutError:
            self.log(f"The editor did not answer the edit '{label}' in {timeout:.0f} s", error=True)
            return False
        if not result.applied:
            reason = result.failure_reason or "no reason given"
            self.log(f"The editor refused the edit '{label}': {reason}", error=True)
            return False
        unchanged = await self._unchanged_documents(edits)
        if unchanged:
            # No didChange followed the answer in time. That is no proof the edit was
            # skipped: eglot sends changes only when Emacs is idle, never while it waits
            # for the answer to the command (undo, redo) that sent this edit. The editor
            # said applied: true, so the step counts as applied.
            self.log(
                f"The editor reported '{label}' applied; its change to "
                + ", ".join(unchanged)
                + " has not arrived yet"
            )
        return True

    async def _unchanged_documents(self, edits: list[FileEdit]) -> list[str]:
        """Open documents whose version did not move on after an applied edit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + APPLY_SETTLE_SECONDS
        waiting = [e for e in edits if e.kind == "modify" and e.version is not None]
        while True:
            pending = []
            for e in waiting:
                doc = self.open_document(e.uri)
                if doc is not None and e.version is not None and doc.version <= e.version:
                    pending.append(e.uri)
            if not pending or loop.time() >= deadline:
                return pending
            await asyncio.sleep(0.02)

    async def show_document(self, uri: str) -> bool:
        if not self.server.features.show_document:
            return False
        params = types.ShowDocumentParams(uri=uri, take_focus=True)
        try:
            result = await asyncio.wait_for(
                self.server.window_show_document_async(params), EDIT_TIMEOUT
            )
        except Exception as exc:  # a client that fails to show it still gets runFinished.text
            log.warning("window/showDocument failed: %s", exc)
            return False
        return bool(getattr(result, "success", False))

    def log(self, message: str, *, error: bool = False) -> None:
        kind = types.MessageType.Error if error else types.MessageType.Log
        self.server.window_log_message(types.LogMessageParams(kind, message))


def _field(reply: Any, name: str) -> Any:
    if isinstance(reply, dict):
        return reply.get(name)
    return getattr(reply, name, None)


def _lsp_range(r: textedits.Range) -> types.Range:
    return types.Range(
        start=types.Position(r.start.line, r.start.character),
        end=types.Position(r.end.line, r.end.character),
    )


def build_workspace_edit(
    edits: list[FileEdit],
    label: str,
    annotate: bool,
    document_changes: bool,
    resource_operations: frozenset[str] | None = None,
) -> types.WorkspaceEdit:
    """One WorkspaceEdit for all files; versioned TextDocumentEdits where the client can.

    ``resource_operations``: what the client announced it can do to files (create,
    delete); None when not known. A change it cannot carry out is refused here, clearly,
    rather than sent as a request the editor cannot answer.
    """
    annotation = ANNOTATION_ID if annotate else None
    wanted = {e.kind for e in edits if e.kind != "modify"}
    if resource_operations is not None and document_changes and wanted - resource_operations:
        raise SamokoderError(
            f"This editor cannot {' or '.join(sorted(wanted - resource_operations))} files "
            "through a workspace edit (it does not announce those resource operations); set "
            "the `review` setting to `proposal` or `off` for changes that add or remove files."
        )

    def text_edits(e: FileEdit) -> list[types.TextEdit | types.AnnotatedTextEdit]:
        out: list[types.TextEdit | types.AnnotatedTextEdit] = []
        for t in textedits.minimal_edits(e.old_text, e.new_text):
            if annotation:
                out.append(
                    types.AnnotatedTextEdit(
                        range=_lsp_range(t.range), new_text=t.new_text, annotation_id=annotation
                    )
                )
            else:
                out.append(types.TextEdit(_lsp_range(t.range), t.new_text))
        return out

    if not document_changes:
        if any(e.kind != "modify" for e in edits):
            raise SamokoderError(
                "This editor cannot create or delete files through a workspace edit; set the "
                "`review` setting to `proposal` or `off` for changes that add or remove files."
            )
        changes: dict[str, list[types.TextEdit]] = {}
        for e in edits:
            changes[e.uri] = [types.TextEdit(x.range, x.new_text) for x in text_edits(e)]
        return types.WorkspaceEdit(changes=changes)

    ops: list[Any] = []
    for e in edits:
        if e.kind == "create":
            ops.append(
                types.CreateFile(
                    uri=e.uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True),
                    annotation_id=annotation,
                )
            )
            ops.append(_doc_edit(e.uri, None, text_edits(e)))
        elif e.kind == "delete":
            ops.append(
                types.DeleteFile(
                    uri=e.uri,
                    options=types.DeleteFileOptions(ignore_if_not_exists=True),
                    annotation_id=annotation,
                )
            )
        else:
            ops.append(_doc_edit(e.uri, e.version, text_edits(e)))
    annotations = None
    if annotation:
        annotations = {
            annotation: types.ChangeAnnotation(
                label=label, needs_confirmation=True, description="Proposed by Samokoder"
            )
        }
    return types.WorkspaceEdit(document_changes=ops, change_annotations=annotations)


def _doc_edit(
    uri: str, version: int | None, edits: list[types.TextEdit | types.AnnotatedTextEdit]
) -> types.TextDocumentEdit:
    return types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=list(edits),
    )
