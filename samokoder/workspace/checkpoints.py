"""Checkpoints (DESIGN §5): every applied step becomes one Git commit that can be undone.

"shadow" mode keeps the commits in `.samokoder/checkpoints.git` (branch `checkpoints`,
work tree: the workspace folder) and never touches the user's repository. "repo"
mode commits on the user's current branch, leaving their staged changes alone.

A commit's tree is the previous checkpoint tree plus the step's blobs; it is
built in-process from the trees along the step's paths (see `git_plumbing`), so
a step costs the same in a 100-file and a 50,000-file workspace: one git
process per step in shadow mode (two on an instance's first step), four in repo
mode. The ref update comes last, with a compare-and-swap, so an interrupted step
leaves no visible commit, and a concurrent writer makes the step rebuild on the new tip.
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
from typing import Literal

from samokoder import crashpoints
from samokoder.errors import InvalidArgumentError, NotFoundError, SamokoderError
from samokoder.workspace.checkpoint_rules import STATE_DIR, check_step_paths, ensure_state_dir
from samokoder.workspace.git_plumbing import (
    FILE_MODES,
    GITLINK_MODE,
    GitRunner,
    LooseObjectStore,
    RevisionMoved,
    TreeCache,
    TreeEntry,
    blob_sha,
    cached_dirs,
    cat_file_batch,
    changed_files,
    commit_object,
    format_message,
    index_entries,
    parent_dirs,
    read_dirs,
    rewrite_trees,
    split_trailers,
)

__all__ = ["MAX_BLOB_BYTES", "CheckpointRepo", "CommitInfo", "StepCommit", "blob_sha"]

log = logging.getLogger(__name__)

CheckpointMode = Literal["shadow", "repo"]
MAX_BLOB_BYTES = 5 * 1024 * 1024
"""Files larger than this are not stored in checkpoints (reported in `StepCommit.skipped`)."""
SHADOW_BRANCH = "refs/heads/checkpoints"
_LOG_SCAN_LIMIT = 1000
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


@dataclass(frozen=True)
class _Parent:
    commit: str | None
    dirs: Mapping[str, Mapping[str, TreeEntry]]
    """Entries of every directory along the step's paths (empty where absent); shared with
    the tree cache, so never mutated."""


class CheckpointRepo:
    """One checkpoint repository; every public method is serialised by a per-repo lock."""

    def __init__(
        self,
        root: Path,
        mode: CheckpointMode,
        git: GitRunner,
        objects: LooseObjectStore,
        prefix: str,
    ) -> None:
        self.root = root
        self.mode = mode
        self._git = git
        self._objects = objects
        self._prefix = prefix  # repo mode: the workspace folder's path inside the repository
        self._lock = _lock_for(Path(git.env["GIT_DIR"]))
        self._trees = TreeCache(objects)
        self._tips: dict[str, tuple[str, str]] = {}
        """ref -> (commit, root tree) this instance last wrote: the likely parent of the next
        step. Trusted without asking git; the compare-and-swap ref update catches a stale one."""

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
            return cls._open_shadow(root)
        if mode == "repo":
            return cls._open_user_repo(root)
        raise InvalidArgumentError(f'checkpoints must be "shadow" or "repo", not {mode!r}')

    @classmethod
    def _open_shadow(cls, root: Path) -> CheckpointRepo:
        git_dir = root / STATE_DIR / "checkpoints.git"
        if not (git_dir / "HEAD").is_file():
            GitRunner(root).run(
                "init", "-q", "--bare", "--template=", "--object-format=sha1",
                "--initial-branch=checkpoints", str(git_dir),
            )  # fmt: skip
        git = GitRunner(root, _repo_env(git_dir, root))
        return cls(root, "shadow", git, LooseObjectStore(git_dir / "objects"), "")

    @classmethod
    def _open_user_repo(cls, root: Path) -> CheckpointRepo:
        probe = GitRunner(root).run(
            "rev-parse", "--is-inside-work-tree", "--show-toplevel", "--absolute-git-dir",
            "--git-path", "objects", "--show-object-format", "--show-prefix", check=False,
        )  # fmt: skip
        lines = probe.stdout.decode("utf-8", "surrogateescape").split("\n")
        if probe.returncode != 0 or len(lines) < 6 or lines[0] != "true":
            raise SamokoderError(
                f'{root} is not inside a Git work tree, so checkpoints: "repo" cannot commit'
                ' there; run `git init` first or use checkpoints: "shadow".'
            )
        top, git_dir, objects, object_format, prefix = lines[1:6]
        git = GitRunner(Path(top), _repo_env(Path(git_dir), Path(top)))
        store = LooseObjectStore(Path(root, objects).resolve(), object_format)
        return cls(root, "repo", git, store, prefix)

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
            found = self._git.run("rev-parse", "-q", "--verify", self._tip_ref(), check=False)
            return found.stdout.decode().strip() or None

    def log(self, limit: int = 50) -> list[CommitInfo]:
        """Checkpoint commits, newest first (repo mode: found among the last 1000 on HEAD)."""
        with self._lock:
            if limit <= 0 or self.head() is None:
                return []
            scan = limit if self.mode == "shadow" else _LOG_SCAN_LIMIT
            out = self._git.run(
                "log", "--no-show-signature", "--first-parent", f"-n{scan}", "-z",
                "--format=%H%x00%ct%x00%B", self._tip_ref(),
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
            ref = self._branch_ref()
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
                    if self.mode == "repo":
                        self._sync_user_index(parent, entries)
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
        _headers, _, message = found.body.decode("utf-8", "replace").partition("\n\n")
        _text, trailers = split_trailers(message)
        return found.sha if trailers.get("Samokoder-Step") == step_id else None

    def _tip_ref(self) -> str:
        return SHADOW_BRANCH if self.mode == "shadow" else "HEAD"

    def _branch_ref(self) -> str:
        if self.mode == "shadow":
            return SHADOW_BRANCH
        found = self._git.run("symbolic-ref", "-q", "HEAD", check=False)
        if found.returncode != 0:
            raise SamokoderError(
                f'HEAD is detached in {self.root}, so checkpoints: "repo" has no branch to commit'
                ' on; check out a branch or use checkpoints: "shadow".'
            )
        return found.stdout.decode("utf-8", "surrogateescape").strip()

    def _load_parent(self, ref: str, paths: list[str]) -> _Parent:
        """The parent commit and the directories along `paths`, read in-process when the
        branch tip is the one this instance wrote and its trees are loose or cached."""
        dirs = sorted({d for p in paths for d in parent_dirs(p)} | {""})  # parents first
        tip = self._tips.get(ref)
        loaded = None if tip is None else cached_dirs(self._trees, tip[1], dirs)
        if tip is not None and loaded is not None:
            return _Parent(tip[0], loaded)
        return _Parent(*read_dirs(self._git, self._trees, tip[0] if tip else ref, dirs))

    def _new_entries(
        self, parent: _Parent, blobs: dict[str, str | None]
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

    def sync_index(self, commit: str) -> None:
        """Repo mode: finish what a step interrupted after its ref update left undone, moving
        the index entries of `commit`'s files that still match its parent to `commit`."""
        if self.mode != "repo":
            return
        with self._lock:
            paths = changed_files(self._git, [commit])[commit]
            dirs = sorted({d for p in paths for d in parent_dirs(p)} | {""})
            found = read_dirs(self._git, self._trees, f"{commit}^", dirs)
            parent = _Parent(*found) if found[0] else _Parent(None, {d: {} for d in dirs})
            after = _Parent(*read_dirs(self._git, self._trees, commit, dirs))
            entries = {p: after.dirs[p.rpartition("/")[0]].get(p.rpartition("/")[2]) for p in paths}
            self._sync_user_index(parent, entries)

    def _sync_user_index(self, parent: _Parent, entries: dict[str, TreeEntry | None]) -> None:
        """Move unstaged index entries to the new commit so `git status` shows no revert."""
        staged = index_entries(self._git, list(entries))
        if staged is None:
            log.warning("could not read the index of %s; left it as it was", self.root)
            return
        zero = self._objects.null_sha
        lines = []
        for path, new in sorted(entries.items(), key=lambda item: item[1] is not None):
            head, _, name = path.rpartition("/")
            old = parent.dirs[head].get(name)
            base = [] if old is None or old.is_tree else [(old.mode, old.sha, "0")]
            if staged.get(path, []) != base:
                continue  # the user staged something here: theirs stays
            lines.append(f"0 {zero}\t{path}" if new is None else f"{new.mode} {new.sha}\t{path}")
        if lines:
            request = "".join(f"{line}\0" for line in lines).encode("utf-8", "surrogateescape")
            done = self._git.run("update-index", "-z", "--index-info", stdin=request, check=False)
            if done.returncode != 0:
                log.warning("index of %s not updated: %s", self.root, done.stderr.decode().strip())


def _is_gitlink(parent: _Parent, path: str) -> bool:
    head, _, name = path.rpartition("/")
    entry = parent.dirs.get(head, {}).get(name) if path else None
    return entry is not None and entry.mode == GITLINK_MODE


def _repo_env(git_dir: Path, work_tree: Path) -> dict[str, str]:
    return {
        "GIT_DIR": str(git_dir),
        "GIT_WORK_TREE": str(work_tree),
        "GIT_LITERAL_PATHSPECS": "1",
    }
