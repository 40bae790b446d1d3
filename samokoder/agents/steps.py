"""Applying file changes as steps, and walking them back (DESIGN §3, §5).

A step touches editor buffers through one versioned workspace edit, writes
closed files atomically, then records one checkpoint commit and one store row.
Undo and redo are steps too, refused without touching anything when a file no
longer holds the content the step left there.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from samokoder.agents.host import FileEdit, Host
from samokoder.agents.project import Project
from samokoder.errors import CheckpointConflictError, NotFoundError, StaleProposalError
from samokoder.store.db import undo_redo_targets
from samokoder.store.rows import StepFileRow, StepRow
from samokoder.workspace.checkpoints import blob_sha
from samokoder.workspace.files import atomic_write, decode_text, delete_file, read_bytes


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


def _read_disk(project: Project, rel: str) -> str | None:
    data = read_bytes(project.workspace.resolve(rel))
    return None if data is None else decode_text(data)


async def current_state(project: Project, host: Host, rel: str) -> FileState:
    uri = project.workspace.uri_for(rel)
    doc = host.open_document(uri)
    if doc is not None:
        return FileState(rel, uri, doc.text, doc.version)
    text = await asyncio.to_thread(_read_disk, project, rel)
    return FileState(rel, uri, text, None)


def _write_closed(project: Project, files: list[PlannedFile]) -> None:
    for planned in files:
        path = project.workspace.resolve(planned.rel)
        if planned.after is None:
            delete_file(path, project.root)
        else:
            atomic_write(path, planned.after.encode("utf-8"))


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
        await asyncio.to_thread(_write_closed, project, on_disk)


def _commit(
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
    step_id = uuid.uuid4().hex[:12]
    repo = project.checkpoints
    rows = []
    changes: dict[str, bytes | None] = {}
    for f in files:
        before = None if f.before is None else repo.write_blob(f.before.encode("utf-8"))
        after_bytes = None if f.after is None else f.after.encode("utf-8")
        after = None if after_bytes is None else repo.write_blob(after_bytes)
        rows.append(StepFileRow(path=f.rel, before_blob=before, after_blob=after))
        changes[f.rel] = after_bytes
    commit = repo.commit_step(
        changes,
        agent=agent,
        summary=summary,
        run_id=run_id or "-",
        step_id=step_id,
        model=model or "-",
        tokens=tokens,
    )
    step = StepRow(
        step_id=step_id,
        run_id=run_id,
        kind=kind,
        target_step_id=target,
        agent=agent,
        summary=summary,
        commit_sha=commit.sha,
        model=model,
        tokens=tokens,
        created_at=time.time(),
        files=tuple(rows),
    )
    project.store.add_step(step)
    return step


async def record_step(
    project: Project,
    files: list[PlannedFile],
    *,
    kind: str = "apply",
    target: str | None = None,
    agent: str,
    summary: str,
    run_id: str | None,
    model: str = "",
    tokens: int = 0,
) -> StepRow:
    return await asyncio.to_thread(
        _commit,
        project,
        files,
        kind=kind,
        target=target,
        agent=agent,
        summary=summary,
        run_id=run_id,
        model=model,
        tokens=tokens,
    )


def _blob_text(project: Project, sha: str | None) -> str | None:
    return None if sha is None else project.checkpoints.read_blob(sha).decode("utf-8")


def _content_sha(text: str | None) -> str | None:
    return None if text is None else blob_sha(text.encode("utf-8"))


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
            if _content_sha(state.text) != expected:
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
        await apply_files(project, host, planned, label=f"Samokoder: {direction} {target.summary}")
        step = await record_step(
            project,
            planned,
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
