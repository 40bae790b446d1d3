"""Applying file changes as steps, and walking them back (DESIGN §3, §5).

A step first stores a write-ahead record (its files' blobs before and after),
then touches editor buffers through one versioned workspace edit, writes closed
files atomically, and finally records one checkpoint commit and one store row,
which replaces the write-ahead record. A server killed anywhere in between
leaves the record behind, and `agents/recovery.py` finishes or reports the step
when the folder is opened again. Undo and redo are steps too, refused without
touching anything when a file no longer holds the content the step left there.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from samokoder import crashpoints
from samokoder.agents.disk_writes import read_disk as _read_disk
from samokoder.agents.disk_writes import write_all
from samokoder.agents.host import FileEdit, Host
from samokoder.agents.project import Project
from samokoder.errors import (
    CheckpointConflictError,
    NotFoundError,
    SamokoderError,
    StaleProposalError,
)
from samokoder.store.db import undo_redo_targets
from samokoder.store.rows import StepFileRow, StepRow
from samokoder.workspace.checkpoints import blob_sha

log = logging.getLogger(__name__)
_finishing: set[asyncio.Task[StepRow]] = set()
"""Steps whose caller was cancelled mid-way, left to finish (held so they are not collected)."""


@dataclass(frozen=True)
class FileState:
    """A file as the user sees it now: the open buffer, else the disk."""

    rel: str
    uri: str
    text: str | None  # None: the file does not exist
    version: int | None  # set when the editor has it open


@dataclass(frozen=True)
class PlannedFile:
    """One file of a step: what it holds now and what it will hold."""

    rel: str
    uri: str
    before: str | None
    after: str | None
    version: int | None


async def current_state(project: Project, host: Host, rel: str) -> FileState:
    uri = project.workspace.uri_for(rel)
    doc = host.open_document(uri)
    if doc is not None:
        return FileState(rel, uri, doc.text, doc.version)
    text = await asyncio.to_thread(_read_disk, project, rel)
    return FileState(rel, uri, text, None)


async def apply_files(
    project: Project,
    host: Host,
    files: list[PlannedFile],
    *,
    label: str,
    all_through_editor: bool = False,
    needs_confirmation: bool = False,
) -> None:
    """Put `after` in place: open buffers via the editor, the rest on disk."""
    through_editor = [f for f in files if all_through_editor or f.version is not None]
    on_disk = [f for f in files if f not in through_editor]
    if through_editor:
        edits = [
            FileEdit(
                uri=f.uri,
                kind="create" if f.before is None else "delete" if f.after is None else "modify",
                old_text=f.before or "",
                new_text=f.after or "",
                version=f.version,
            )
            for f in through_editor
        ]
        applied = await host.apply_edit(label, edits, needs_confirmation)
        if not applied:
            names = [f.rel for f in through_editor]
            raise StaleProposalError(
                "The editor did not apply the edit to "
                + ", ".join(names)
                + " (the document changed meanwhile, or the edit was declined); nothing was"
                " changed on disk. Run the command again.",
                names,
            )
    if on_disk:
        await asyncio.to_thread(write_all, project, on_disk)


def _draft(
    project: Project,
    files: list[PlannedFile],
    *,
    kind: str,
    target: str | None,
    agent: str,
    summary: str,
    run_id: str | None,
    model: str,
    tokens: int,
) -> StepRow:
    """The step's row before its commit: the files' blobs are stored now."""
    repo = project.checkpoints
    rows = tuple(
        StepFileRow(
            path=f.rel,
            before_blob=None if f.before is None else repo.write_blob(f.before.encode("utf-8")),
            after_blob=None if f.after is None else repo.write_blob(f.after.encode("utf-8")),
        )
        for f in files
    )
    return StepRow(
        step_id=uuid.uuid4().hex[:12],
        run_id=run_id,
        kind=kind,
        target_step_id=target,
        agent=agent,
        summary=summary,
        commit_sha=None,
        model=model,
        tokens=tokens,
        created_at=time.time(),
        files=rows,
    )


def commit_and_record(
    project: Project, draft: StepRow, changes: Mapping[str, bytes | None], *, once: bool = False
) -> StepRow:
    """Blocking. One checkpoint commit for the step, then its store row (which also
    removes its write-ahead record). `once`: see `CheckpointRepo.commit_step`."""
    commit = project.checkpoints.commit_step(
        changes,
        agent=draft.agent,
        summary=draft.summary,
        run_id=draft.run_id or "-",
        step_id=draft.step_id,
        model=draft.model or "-",
        tokens=draft.tokens,
        once=once,
    )
    crashpoints.reached("after_ref_update")
    step = replace(draft, commit_sha=commit.sha)
    project.store.add_step(step)
    crashpoints.reached("after_step_row")
    return step


def _changes(files: list[PlannedFile]) -> dict[str, bytes | None]:
    return {f.rel: None if f.after is None else f.after.encode("utf-8") for f in files}


def _plan(
    project: Project, files: list[PlannedFile], mark: tuple[str, str] | None, **meta: Any
) -> StepRow:
    draft = _draft(project, files, **meta)
    project.store.plan_step(draft, mark)
    return draft


def _forget_if_untouched(project: Project, draft: StepRow, files: list[PlannedFile]) -> None:
    """After a failed apply: drop the write-ahead record unless a file on disk holds what
    the step writes (a write not rolled back); then the next open settles the step."""
    on_disk = {f.rel for f in files if f.version is None}

    def holds_after(f: StepFileRow) -> bool:
        try:
            return _content_sha(project, _read_disk(project, f.path)) == f.after_blob
        except (OSError, SamokoderError):
            return False

    written = [
        f.path
        for f in draft.files
        if f.path in on_disk and f.after_blob != f.before_blob and holds_after(f)
    ]
    if written:
        log.error("step %s failed after writing %s", draft.step_id, ", ".join(written))
    else:
        project.store.drop_pending_step(draft.step_id)


async def apply_step(
    project: Project,
    host: Host,
    files: list[PlannedFile],
    *,
    label: str,
    kind: str = "apply",
    target: str | None = None,
    agent: str,
    summary: str,
    run_id: str | None,
    model: str = "",
    tokens: int = 0,
    all_through_editor: bool = False,
    needs_confirmation: bool = False,
    on_recorded: Callable[[StepRow], None] | None = None,
    mark: tuple[str, str] | None = None,
) -> StepRow:
    """Apply `files` and record them as one step, surviving a crash at any point.

    A caller cancelled mid-way gets CancelledError only once the step is complete
    (or failed): half a step is worse than a late cancel. `on_recorded` hears of
    the step even then. `mark`: a run artifact stored with the step (`plan_step`).
    """
    meta: dict[str, Any] = {
        "kind": kind, "target": target, "agent": agent, "summary": summary,
        "run_id": run_id, "model": model, "tokens": tokens,
    }  # fmt: skip

    async def work() -> StepRow:
        with crashpoints.step_kind(kind):
            draft = await asyncio.to_thread(_plan, project, files, mark, **meta)
            crashpoints.reached("step_planned")
            try:
                await apply_files(
                    project,
                    host,
                    files,
                    label=label,
                    all_through_editor=all_through_editor,
                    needs_confirmation=needs_confirmation,
                )
            except BaseException:
                await asyncio.to_thread(_forget_if_untouched, project, draft, files)
                raise
            crashpoints.reached("after_apply_before_commit")
            step = await asyncio.to_thread(commit_and_record, project, draft, _changes(files))
            if on_recorded is not None:
                on_recorded(step)
            return step

    task = asyncio.ensure_future(work())
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            _finishing.add(task)
            task.add_done_callback(_finishing.discard)
            await asyncio.wait({task})
        raise


def _blob_text(project: Project, sha: str | None) -> str | None:
    return None if sha is None else project.checkpoints.read_blob(sha).decode("utf-8")


def _content_sha(project: Project, text: str | None) -> str | None:
    """The blob id `text` would have in the checkpoint repository (sha1 or sha256)."""
    if text is None:
        return None
    return blob_sha(text.encode("utf-8"), project.checkpoints.object_format)


async def _walk(project: Project, host: Host, direction: str) -> dict[str, Any]:
    async with project.step_lock:
        chain = await asyncio.to_thread(project.store.step_chain)
        undo_id, redo_id = undo_redo_targets(chain)
        target_id = undo_id if direction == "undo" else redo_id
        if target_id is None:
            raise NotFoundError(f"Nothing to {direction}: no step is left to {direction}.")
        target = await asyncio.to_thread(project.store.get_step, target_id)
        if target is None:
            raise NotFoundError(f"Step {target_id} is missing from the store.")
        planned: list[PlannedFile] = []
        differing: list[str] = []
        for row in target.files:
            expected, restore = (
                (row.after_blob, row.before_blob)
                if direction == "undo"
                else (row.before_blob, row.after_blob)
            )
            state = await current_state(project, host, row.path)
            if _content_sha(project, state.text) != expected:
                differing.append(row.path)
                continue
            planned.append(
                PlannedFile(
                    rel=row.path,
                    uri=state.uri,
                    before=state.text,
                    after=await asyncio.to_thread(_blob_text, project, restore),
                    version=state.version,
                )
            )
        if differing:
            raise CheckpointConflictError(
                f"Cannot {direction} step {target_id} ({target.summary}): "
                + ", ".join(differing)
                + " changed since. Nothing was changed; save or revert those edits first.",
                differing,
            )
        step = await apply_step(
            project,
            host,
            planned,
            label=f"Samokoder: {direction} {target.summary}",
            kind=direction,
            target=target_id,
            agent=direction,
            summary=f"{direction} {target.summary}",
            run_id=target.run_id,
            model=target.model,
        )
        return {"stepId": step.step_id, "target": target_id, "files": [f.rel for f in planned]}


async def undo(project: Project, host: Host) -> dict[str, Any]:
    return await _walk(project, host, "undo")


async def redo(project: Project, host: Host) -> dict[str, Any]:
    return await _walk(project, host, "redo")


def step_json(step: StepRow) -> dict[str, Any]:
    return {
        "stepId": step.step_id,
        "runId": step.run_id,
        "kind": step.kind,
        "target": step.target_step_id,
        "agent": step.agent,
        "summary": step.summary,
        "commit": step.commit_sha,
        "model": step.model,
        "tokens": step.tokens,
        "createdAt": step.created_at,
        "files": [
            {
                "path": f.path,
                "change": "create"
                if f.before_blob is None
                else "delete"
                if f.after_blob is None
                else "modify",
            }
            for f in step.files
        ],
    }


async def history(project: Project, limit: int) -> dict[str, Any]:
    steps = await asyncio.to_thread(project.store.list_steps, limit)
    return {"steps": [step_json(s) for s in steps]}
