"""Settling what a dead server left half-done, as the step after opening its folder.

`Project.open` only opens (store, checkpoints, the owner lock); the server then runs
`recover(project)` before the folder serves anything, and reports what it settled.
Kept out of `open` so opening stays cheap and side-effect free for every other caller
(tests, benchmarks, a second server), and the one caller that settles says so.

Each step stores a write-ahead record before it changes a file (see `step_record.py`).
A record still present at open time is settled by what the disk and the
checkpoint branch show, so the step ends up either fully there or fully absent:

- its commit is on the branch: only the store row was missing; it is added.
- every file holds the step's content or its content before, and at least one the
  step's: the step is completed (the rest written, committed, recorded).
- every file holds its content before: nothing reached the disk; the record is
  dropped (an editor may still show the change, unsaved: its own undo reverts it).
- a file holds something else (the user or another program changed it since):
  nothing is touched; the record is kept, marked abandoned, and reported.

Temporary files of an interrupted atomic write are removed in every case.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from samokoder.agents.disk_writes import put_file
from samokoder.agents.project import Project
from samokoder.agents.step_record import commit_and_record
from samokoder.agents.step_types import StepFolder
from samokoder.errors import SamokoderError
from samokoder.store.rows import StepFileRow, StepRow
from samokoder.workspace.files import read_bytes
from samokoder.workspace.git_objects import blob_sha

log = logging.getLogger(__name__)

Outcome = Literal["recorded", "completed", "not_applied", "abandoned"]
_BRANCH_SCAN = 50
_MAX_FILE = 64 * 1024 * 1024


@dataclass(frozen=True)
class RecoveredStep:
    """What happened to one interrupted step; `message` is meant for the user."""

    step_id: str
    outcome: Outcome
    files: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Recovery:
    """What `recover` settled when a folder was opened."""

    interrupted_runs: list[str]
    """Runs an earlier server left going, now marked interrupted."""
    steps: list[RecoveredStep]
    """Steps an earlier server left half-done, now settled; each `message` is for the user."""


def recover(project: Project) -> Recovery:
    """Blocking: run it once, right after `Project.open`, before the folder serves anything.

    Only the owner of the folder's state settles: another live server holding the lock
    may have runs alive and steps under way, so its work is left alone.
    """
    if project.owner_lock is None:
        log.info("another Samokoder server has %s open; not recovering", project.root)
        return Recovery([], [])
    runs = project.store.mark_interrupted()
    if runs:
        log.info("runs interrupted by an earlier server: %s", ", ".join(runs))
    return Recovery(runs, recover_steps(project))


def recover_steps(project: StepFolder) -> list[RecoveredStep]:
    """Blocking. Settle every step left pending in the store, oldest first."""
    settled = []
    drafts = project.store.pending_steps()
    if drafts:
        _wait_for_stray_git(project)
    for draft in drafts:
        try:
            result = _settle(project, draft)
        except (OSError, SamokoderError) as exc:
            log.exception("could not settle interrupted step %s", draft.step_id)
            note = f"recovery failed: {exc}"
            project.store.abandon_pending_step(draft.step_id, note)
            result = _report(draft, "abandoned", f"could not be settled ({exc}); nothing changed.")
        log.warning("%s", result.message)
        settled.append(result)
    return settled


def _wait_for_stray_git(project: StepFolder, seconds: float = 5.0) -> None:
    """Let git children of the dead server finish before looking at the branch.

    A killed server's `git update-ref` can outlive it and move the branch a moment
    later; settling before it ends would miss that commit. Linux only (/proc).
    """
    git_dir = project.checkpoints.git_dir
    marker = f"GIT_DIR={git_dir}".encode()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(marker in environ for environ in _process_environs()):
            return
        time.sleep(0.02)
    log.warning("git processes on %s still running after %.0f s; settling anyway", git_dir, seconds)


def _process_environs() -> list[bytes]:
    environs = []
    me = os.getpid()
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environs.append(handle.read())
        except OSError:
            continue
    return environs


def _settle(project: StepFolder, draft: StepRow) -> RecoveredStep:
    for f in draft.files:
        _remove_temp_files(project.workspace.resolve(f.path))
    commit = _commit_on_branch(project, draft.step_id)
    if commit is not None:
        project.checkpoints.sync_index(commit)  # repo mode: the index may lag behind
        project.store.add_step(replace(draft, commit_sha=commit))
        return _report(draft, "recorded", "was committed before the server stopped; recorded it.")
    states = {f.path: _state(project, f) for f in draft.files}
    other = sorted(path for path, state in states.items() if state == "other")
    if other:
        note = ", ".join(other) + " changed since the step was interrupted"
        project.store.abandon_pending_step(draft.step_id, note)
        return _report(
            draft,
            "abandoned",
            f"was interrupted, and {', '.join(other)} changed since; nothing was changed. "
            "Check those files.",
        )
    if all(state == "before" for state in states.values()):
        project.store.drop_pending_step(draft.step_id)
        return _report(
            draft,
            "not_applied",
            "was interrupted before any file on disk changed; it was not applied. If your "
            "editor shows the change unsaved, its undo takes it back.",
        )
    changes: dict[str, bytes | None] = {}
    for f in draft.files:
        data = None if f.after_blob is None else project.checkpoints.read_blob(f.after_blob)
        changes[f.path] = data
        if states[f.path] == "before":
            put_file(project, f.path, data)
    step = commit_and_record(project, draft, changes, once=True)
    if step.commit_sha:
        project.checkpoints.sync_index(step.commit_sha)
    return _report(
        draft, "completed", "was interrupted half-way; it was completed and can be undone."
    )


def _report(draft: StepRow, outcome: Outcome, what: str) -> RecoveredStep:
    files = tuple(f.path for f in draft.files)
    message = f"Samokoder: the step '{draft.summary}' ({', '.join(files)}) {what}"
    return RecoveredStep(draft.step_id, outcome, files, message)


def _state(project: StepFolder, f: StepFileRow) -> Literal["before", "after", "other"]:
    try:
        data = read_bytes(project.workspace.resolve(f.path), _MAX_FILE)
    except (OSError, SamokoderError):
        return "other"
    sha = None if data is None else blob_sha(data, project.checkpoints.object_format)
    if sha == f.after_blob:
        return "after"
    return "before" if sha == f.before_blob else "other"


def _commit_on_branch(project: StepFolder, step_id: str) -> str | None:
    for info in project.checkpoints.log(_BRANCH_SCAN):
        if info.trailers.get("Samokoder-Step") == step_id:
            return info.sha
    return None


def _remove_temp_files(path: Path) -> None:
    """Leftovers of `atomic_write` (`.<name>.<8 random characters>.tmp`) beside `path`."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if pattern.fullmatch(name):
            leftover = path.parent / name
            if leftover.is_file() and not leftover.is_symlink():
                log.info("removing %s, left by an interrupted write", leftover)
                leftover.unlink(missing_ok=True)
