"""Applying file changes as steps, and walking them back (DESIGN §3, §5).

A step first stores a write-ahead record (its files' blobs before and after),
then touches editor buffers through one versioned workspace edit, writes closed
files atomically, and finally records one checkpoint commit and one store row,
which replaces the write-ahead record. A server killed anywhere in between
leaves the record behind (`step_record.py` keeps it), and `recovery.py` finishes
or reports the step when the folder is opened again. Undo and redo are steps too, refused without
touching anything when a file no longer holds the content the step left there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from samokoder import crashpoints
from samokoder.agents.disk_writes import read_disk as _read_disk
from samokoder.agents.disk_writes import write_all
from samokoder.agents.host import FileEdit, Host
from samokoder.agents.project import Project
from samokoder.agents.step_record import (
    commit_and_record,
    content_sha,
    forget_if_untouched,
    plan_step,
    step_changes,
)
from samokoder.agents.step_types import FileState, PlannedFile, StepSpec
from samokoder.errors import (
    CheckpointConflictError,
    NotFoundError,
    StaleProposalError,
)
from samokoder.store.db import undo_redo_targets
from samokoder.store.rows import StepRow

__all__ = [
    "FileState",
    "PlannedFile",
    "StepSpec",
    "apply_files",
    "apply_step",
    "commit_and_record",
    "current_state",
    "history",
    "redo",
    "step_json",
    "undo",
]

log = logging.getLogger(__name__)
_finishing: set[asyncio.Task[StepRow]] = set()
"""Steps whose caller was cancelled mid-way, left to finish (held so they are not collected)."""


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


async def apply_step(
    project: Project,
    host: Host,
    files: list[PlannedFile],
    spec: StepSpec,
    *,
    label: str,
    all_through_editor: bool = False,
    needs_confirmation: bool = False,
    on_recorded: Callable[[StepRow], None] | None = None,
) -> StepRow:
    """Apply `files` and record them as one step, surviving a crash at any point.

    A caller cancelled mid-way gets CancelledError only once the step is complete
    (or failed): half a step is worse than a late cancel. `on_recorded` hears of
    the step even then.
    """

    async def work() -> StepRow:
        with crashpoints.step_kind(spec.kind):
            draft = await asyncio.to_thread(plan_step, project, files, spec)
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
                await asyncio.to_thread(forget_if_untouched, project, draft, files)
                raise
            finally:
                project.files_changed(f.rel for f in files)
            crashpoints.reached("after_apply_before_commit")
            step = await asyncio.to_thread(commit_and_record, project, draft, step_changes(files))
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


def _refuse_other_step(
    chain: list[tuple[str, str, str | None]], direction: str, wanted: str, target_id: str | None
) -> NotFoundError:
    """An Undo offered for one step must undo that step or nothing; say why it cannot."""
    known = any(step_id == wanted for step_id, _, _ in chain)
    if not known:
        return NotFoundError(f"No step {wanted!r} in this workspace: nothing was changed.")
    last_acts = [kind for _, kind, target in chain if target == wanted]
    why = (
        f"it was {direction}ne already"
        if last_acts and last_acts[-1] == direction
        else f"it is not the last step to {direction} (that is {target_id})"
        if target_id is not None
        else f"there is nothing to {direction}"
    )
    return NotFoundError(f"Cannot {direction} step {wanted}: {why}. Nothing was changed.")


async def _walk(
    project: Project, host: Host, direction: str, step_id: str | None = None
) -> dict[str, Any]:
    async with project.step_lock:
        chain = await asyncio.to_thread(project.store.step_chain)
        undo_id, redo_id = undo_redo_targets(chain)
        target_id = undo_id if direction == "undo" else redo_id
        if step_id is not None and step_id != target_id:
            raise _refuse_other_step(chain, direction, step_id, target_id)
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
            if content_sha(project, state.text) != expected:
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
        spec = StepSpec(
            agent=direction,
            summary=f"{direction} {target.summary}",
            run_id=target.run_id,
            kind=direction,
            target=target_id,
            model=target.model,
        )
        step = await apply_step(
            project, host, planned, spec, label=f"Samokoder: {direction} {target.summary}"
        )
        return {"stepId": step.step_id, "target": target_id, "files": [f.rel for f in planned]}


async def undo(project: Project, host: Host, step_id: str | None = None) -> dict[str, Any]:
    """Undo the last step; with ``step_id``, only if that is the last step."""
    return await _walk(project, host, "undo", step_id)


async def redo(project: Project, host: Host, step_id: str | None = None) -> dict[str, Any]:
    """Redo the last undone step; with ``step_id``, only if that is the one."""
    return await _walk(project, host, "redo", step_id)


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
