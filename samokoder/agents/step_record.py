"""A step's durable record: the write-ahead draft stored before any file changes, then
one checkpoint commit and one store row, which replaces the draft.

`steps` drives a step through these; `recovery` finishes a step a killed server left
between them. Blocking: callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace

from samokoder import crashpoints
from samokoder.agents.disk_writes import read_disk
from samokoder.agents.step_types import PlannedFile, StepFolder, StepSpec
from samokoder.errors import SamokoderError
from samokoder.store.rows import StepFileRow, StepRow
from samokoder.workspace.git_objects import blob_sha

log = logging.getLogger(__name__)


def plan_step(folder: StepFolder, files: list[PlannedFile], spec: StepSpec) -> StepRow:
    """Store the files' blobs and the step's write-ahead record; the draft row back."""
    repo = folder.checkpoints
    rows = tuple(
        StepFileRow(
            path=f.rel,
            before_blob=None if f.before is None else repo.write_blob(f.before.encode("utf-8")),
            after_blob=None if f.after is None else repo.write_blob(f.after.encode("utf-8")),
        )
        for f in files
    )
    draft = StepRow(
        step_id=uuid.uuid4().hex[:12],
        run_id=spec.run_id,
        kind=spec.kind,
        target_step_id=spec.target,
        agent=spec.agent,
        summary=spec.summary,
        commit_sha=None,
        model=spec.model,
        tokens=spec.tokens,
        created_at=time.time(),
        files=rows,
    )
    folder.store.plan_step(draft, spec.mark)
    return draft


def step_changes(files: list[PlannedFile]) -> dict[str, bytes | None]:
    """What the step's commit holds: each file's new bytes (None: deleted)."""
    return {f.rel: None if f.after is None else f.after.encode("utf-8") for f in files}


def commit_and_record(
    folder: StepFolder, draft: StepRow, changes: Mapping[str, bytes | None], *, once: bool = False
) -> StepRow:
    """One checkpoint commit for the step, then its store row (which also removes its
    write-ahead record). `once`: see `CheckpointRepo.commit_step`."""
    commit = folder.checkpoints.commit_step(
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
    folder.store.add_step(step)
    crashpoints.reached("after_step_row")
    return step


def forget_if_untouched(folder: StepFolder, draft: StepRow, files: list[PlannedFile]) -> None:
    """After a failed apply: drop the write-ahead record unless a file on disk holds what
    the step writes (a write not rolled back); then the next open settles the step."""
    on_disk = {f.rel for f in files if f.version is None}

    def holds_after(f: StepFileRow) -> bool:
        try:
            return content_sha(folder, read_disk(folder, f.path)) == f.after_blob
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
        folder.store.drop_pending_step(draft.step_id)


def content_sha(folder: StepFolder, text: str | None) -> str | None:
    """The blob id `text` would have in the checkpoint repository (sha1 or sha256)."""
    if text is None:
        return None
    return blob_sha(text.encode("utf-8"), folder.checkpoints.object_format)
