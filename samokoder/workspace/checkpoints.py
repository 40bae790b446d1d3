"""Checkpoints (DESIGN §5): every applied step becomes one Git commit that can be undone.

"shadow" mode keeps the commits in `.samokoder/checkpoints.git` (branch `checkpoints`,
work tree: the workspace folder) and never touches the user's repository. "repo"
mode commits on the user's current branch, leaving their staged changes alone; what
differs between the two is in `checkpoint_modes`.

A commit's tree is the previous checkpoint tree plus the step's blobs; it is
built in-process from the trees along the step's paths (`git_plumbing` does the
I/O, `git_objects` the encoding), so a step costs the same in a 100-file and a
50,000-file workspace: one git process per step in shadow mode (two on an
instance's first step), four in repo mode. The ref update comes last, with a
compare-and-swap, so an interrupted step leaves no visible commit, and a concurrent
writer makes the step rebuild on the new tip.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from samokoder import crashpoints
from samokoder.errors import InvalidArgumentError, NotFoundError, SamokoderError
from samokoder.workspace.checkpoint_modes import CheckpointMode, RepoMode, ShadowMode
from samokoder.workspace.checkpoint_rules import check_step_paths, ensure_state_dir
from samokoder.workspace.git_objects import (
    FILE_MODES,
    GITLINK_MODE,
    TreeEntry,
    blob_sha,
    commit_message,
    commit_object,
    format_message,
    parent_dirs,
    split_trailers,
)
from samokoder.workspace.git_plumbing import (
    ParentTrees,
    RevisionMoved,
    TreeCache,
    cached_dirs,
    cat_file_batch,
    changed_files,
    read_dirs,
    rewrite_trees,
)

__all__ = [
    "MAX_BLOB_BYTES",
    "CheckpointMode",
    "CheckpointRepo",
    "CommitInfo",
    "StepCommit",
    "blob_sha",
]

log = logging.getLogger(__name__)

MAX_BLOB_BYTES = 5 * 1024 * 1024
"""Files larger than this are not stored in checkpoints (reported in `StepCommit.skipped`)."""
_CAS_ATTEMPTS = 3
_HEX = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")

_locks_guard = threading.Lock()
_locks: dict[Path, threading.RLock] = {}


def _lock_for(git_dir: Path) -> threading.RLock:
    """One lock per repository, shared by every instance opened on it in this process."""
    with _locks_guard:
        return _locks.setdefault(git_dir, threading.RLock())


@dataclass(frozen=True)
class StepCommit:
    sha: str
    skipped: list[str]
    """Paths over the size cap, not stored (their previous checkpoint entry is kept)."""


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    message: str
    """The message without its trailer paragraph: `<agent>: <summary>`."""
    trailers: dict[str, str]
    files: list[str]
    timestamp: float


class CheckpointRepo:
    """One checkpoint repository; every public method is serialised by a per-repo lock."""

    def __init__(self, root: Path, where: ShadowMode | RepoMode) -> None:
        self.root = root
        self._where = where
        self._git = where.git
        self._objects = where.objects
        self._prefix = where.prefix  # repo mode: the workspace folder's path in the repository
        self._lock = _lock_for(Path(self._git.env["GIT_DIR"]))
        self._trees = TreeCache(self._objects)
        self._tips: dict[str, tuple[str, str]] = {}
        """ref -> (commit, root tree) this instance last wrote: the likely parent of the next
        step. Trusted without asking git; the compare-and-swap ref update catches a stale one."""

    @property
    def mode(self) -> CheckpointMode:
        return self._where.name

    @property
    def git_dir(self) -> str:
        """The repository's git directory, as git children see it (GIT_DIR)."""
        return self._git.env["GIT_DIR"]

    @property
    def object_format(self) -> str:
        return self._objects.object_format

    @classmethod
    def open(cls, root: Path, mode: CheckpointMode = "shadow") -> CheckpointRepo:
        """Open the checkpoint repository of a workspace folder, creating it on first use."""
        root = root.resolve()
        if not root.is_dir():
            raise NotFoundError(f"workspace folder {root} does not exist")
        ensure_state_dir(root)
        if mode == "shadow":
            return cls(root, ShadowMode(root))
        if mode == "repo":
            return cls(root, RepoMode(root))
        raise InvalidArgumentError(f'checkpoints must be "shadow" or "repo", not {mode!r}')

    # -- objects -------------------------------------------------------------

    def write_blob(self, data: bytes) -> str:
        with self._lock:
            return self._objects.write("blob", data)

    def read_blob(self, sha: str) -> bytes:
        with self._lock:
            if not _HEX.match(sha):
                raise InvalidArgumentError(f"{sha!r} is not a Git object id")
            loose = self._objects.read_loose(sha)
            if loose is not None and loose.kind == "blob":
                return loose.body
            found = self._git.run("cat-file", "blob", sha, check=False)
            if found.returncode != 0:
                raise NotFoundError(f"blob {sha} is not in the checkpoint repository")
            return found.stdout

    def tree_blob(self, commit: str, path: str) -> str | None:
        if any(ch in commit + path for ch in "\0\n\r"):
            raise InvalidArgumentError(f"bad commit or path: {commit!r}, {path!r}")
        with self._lock:
            found = cat_file_batch(self._git, [f"{commit}:{self._prefix}{path}"])[0]
            return found.sha if found is not None and found.kind == "blob" else None

    # -- history -------------------------------------------------------------

    def head(self) -> str | None:
        """The checkpoint branch tip (shadow) or the user's HEAD commit (repo)."""
        with self._lock:
            found = self._git.run("rev-parse", "-q", "--verify", self._where.tip_ref(), check=False)
            return found.stdout.decode().strip() or None

    def log(self, limit: int = 50) -> list[CommitInfo]:
        """Checkpoint commits, newest first (repo mode: found among the last 1000 on HEAD)."""
        with self._lock:
            if limit <= 0 or self.head() is None:
                return []
            scan = self._where.log_scan(limit)
            out = self._git.run(
                "log", "--no-show-signature", "--first-parent", f"-n{scan}", "-z",
                "--format=%H%x00%ct%x00%B", self._where.tip_ref(),
            ).stdout.split(b"\0")  # fmt: skip
            found: list[tuple[str, float, str, dict[str, str]]] = []
            for i in range(0, len(out) - 2, 3):
                message, trailers = split_trailers(out[i + 2].decode("utf-8", "replace"))
                if "Samokoder-Step" in trailers:
                    found.append((out[i].decode(), float(out[i + 1]), message, trailers))
                    if len(found) == limit:
                        break
            files = changed_files(self._git, [sha for sha, *_ in found])
            return [
                CommitInfo(sha, msg, tr, self._relative(files[sha]), ts)
                for sha, ts, msg, tr in found
            ]

    def _relative(self, paths: list[str]) -> list[str]:
        cut = len(self._prefix)
        return [p[cut:] for p in paths if p.startswith(self._prefix)]

    # -- committing ----------------------------------------------------------

    def commit_step(
        self,
        changes: Mapping[str, bytes | None],
        *,
        agent: str,
        summary: str,
        run_id: str,
        step_id: str,
        model: str,
        tokens: int,
        once: bool = False,
    ) -> StepCommit:
        """Record one step: its tree is the previous tree plus `changes` (None deletes).

        `once`: if the branch tip already is this step's commit, return it instead of
        committing again (a step replayed after a crash, whose `update-ref` child may
        have outlived the dead server and moved the branch meanwhile).
        """
        check_step_paths(changes)
        with self._lock:
            skipped = sorted(
                p for p, data in changes.items() if data and len(data) > MAX_BLOB_BYTES
            )
            if skipped:
                log.warning("not stored in checkpoint (over 5 MB): %s", ", ".join(skipped))
            blobs: dict[str, str | None] = {
                self._prefix + path: None if data is None else self._objects.write("blob", data)
                for path, data in changes.items()
                if path not in skipped
            }
            crashpoints.reached("after_blob_writes")
            message = format_message(
                f"{agent}: {summary.strip() or 'step'}",
                {
                    "Samokoder-Run": run_id,
                    "Samokoder-Step": step_id,
                    "Samokoder-Model": model,
                    "Samokoder-Tokens": str(tokens),
                },
            )
            ref = self._where.branch_ref()
            reason = "the branch kept moving while the step was built"
            for attempt in range(1, _CAS_ATTEMPTS + 1):
                if once and (done := self._tip_of_step(ref, step_id)) is not None:
                    return StepCommit(done, skipped)
                try:
                    parent = self._load_parent(ref, list(blobs))
                except RevisionMoved:
                    continue
                entries = self._new_entries(parent, blobs)
                tree = rewrite_trees(self._objects, parent.dirs, entries)
                sha = self._objects.write("commit", commit_object(tree, parent.commit, message))
                crashpoints.reached("before_ref_update")
                moved = self._git.run(
                    "update-ref", "--create-reflog", "-m", f"samokoder: step {step_id}",
                    ref, sha, parent.commit or self._objects.null_sha, check=False,
                )  # fmt: skip
                if moved.returncode == 0:
                    self._tips[ref] = (sha, tree)
                    self._where.after_commit(parent, entries)
                    return StepCommit(sha, skipped)
                self._tips.pop(ref, None)
                reason = moved.stderr.decode("utf-8", "replace").strip()
                log.info("checkpoint ref moved (attempt %d): %s", attempt, reason)
            raise SamokoderError(f"could not record step {step_id} on {ref}: {reason}")

    def _tip_of_step(self, ref: str, step_id: str) -> str | None:
        """The tip commit of `ref` if its `Samokoder-Step` trailer is `step_id`."""
        found = cat_file_batch(self._git, [ref])[0]
        if found is None or found.kind != "commit":
            return None
        _text, trailers = split_trailers(commit_message(found.body))
        return found.sha if trailers.get("Samokoder-Step") == step_id else None

    def sync_index(self, commit: str) -> None:
        """Finish what a step interrupted after its ref update left undone (repo mode)."""
        with self._lock:
            self._where.sync_index(self._trees, commit)

    def _load_parent(self, ref: str, paths: list[str]) -> ParentTrees:
        """The parent commit and the directories along `paths`, read in-process when the
        branch tip is the one this instance wrote and its trees are loose or cached."""
        dirs = sorted({d for p in paths for d in parent_dirs(p)} | {""})  # parents first
        tip = self._tips.get(ref)
        loaded = None if tip is None else cached_dirs(self._trees, tip[1], dirs)
        if tip is not None and loaded is not None:
            return ParentTrees(tip[0], loaded)
        return ParentTrees(*read_dirs(self._git, self._trees, tip[0] if tip else ref, dirs))

    def _new_entries(
        self, parent: ParentTrees, blobs: dict[str, str | None]
    ) -> dict[str, TreeEntry | None]:
        entries: dict[str, TreeEntry | None] = {}
        for path, sha in blobs.items():
            head, _, name = path.rpartition("/")
            submodule = next(
                (p for p in (path, *parent_dirs(path)) if _is_gitlink(parent, p)), None
            )
            if submodule is not None:
                raise InvalidArgumentError(f"refused path {path!r}: submodule {submodule!r}")
            old = parent.dirs[head].get(name)
            if sha is None:
                entries[path] = None
            elif old is not None and old.mode in FILE_MODES:
                entries[path] = TreeEntry(old.mode, sha)
            else:
                entries[path] = TreeEntry(self._new_file_mode(path), sha)
        return entries

    def _new_file_mode(self, repo_path: str) -> str:
        try:
            st = os.stat(self._git.cwd / repo_path)
        except OSError:
            return "100644"
        return "100755" if st.st_mode & stat.S_IXUSR else "100644"


def _is_gitlink(parent: ParentTrees, path: str) -> bool:
    head, _, name = path.rpartition("/")
    entry = parent.dirs.get(head, {}).get(name) if path else None
    return entry is not None and entry.mode == GITLINK_MODE
