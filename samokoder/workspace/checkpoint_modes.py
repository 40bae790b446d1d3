"""The two checkpoint modes: where the commits live and which ref a step moves.

"shadow" keeps them in `.samokoder/checkpoints.git` (branch `checkpoints`, work tree:
the folder) and never touches the user's repository; "repo" commits on the user's
current branch and keeps their index in step. `CheckpointRepo` does the rest the
same way for both.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar, Literal

from samokoder.errors import SamokoderError
from samokoder.workspace.checkpoint_rules import STATE_DIR
from samokoder.workspace.git_objects import TreeEntry, parent_dirs
from samokoder.workspace.git_plumbing import (
    GitRunner,
    LooseObjectStore,
    ParentTrees,
    TreeCache,
    changed_files,
    index_entries,
    read_dirs,
)

log = logging.getLogger(__name__)

CheckpointMode = Literal["shadow", "repo"]
SHADOW_BRANCH = "refs/heads/checkpoints"
_LOG_SCAN_LIMIT = 1000


class ShadowMode:
    """Commits in `.samokoder/checkpoints.git` (made on first use); the user's repository
    is never touched."""

    name: ClassVar[CheckpointMode] = "shadow"
    prefix = ""
    """The folder's path inside the repository: the folder is the work tree."""

    def __init__(self, root: Path) -> None:
        git_dir = root / STATE_DIR / "checkpoints.git"
        if not (git_dir / "HEAD").is_file():
            GitRunner(root).run(
                "init", "-q", "--bare", "--template=", "--object-format=sha1",
                "--initial-branch=checkpoints", str(git_dir),
            )  # fmt: skip
        self.root = root
        self.git = GitRunner(root, _repo_env(git_dir, root))
        self.objects = LooseObjectStore(git_dir / "objects")

    def tip_ref(self) -> str:
        """The ref whose history holds the checkpoints."""
        return SHADOW_BRANCH

    def branch_ref(self) -> str:
        """The ref a new step moves."""
        return SHADOW_BRANCH

    def log_scan(self, limit: int) -> int:
        """How many commits to read to find `limit` checkpoints: all of them are."""
        return limit

    def after_commit(self, parent: ParentTrees, entries: dict[str, TreeEntry | None]) -> None:
        """Nothing: no index shares this branch."""

    def sync_index(self, trees: TreeCache, commit: str) -> None:
        """Nothing: no index shares this branch."""


class RepoMode:
    """Commits on the user's current branch; their staged changes stay theirs."""

    name: ClassVar[CheckpointMode] = "repo"

    def __init__(self, root: Path) -> None:
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
        self.root = root
        self.git = GitRunner(Path(top), _repo_env(Path(git_dir), Path(top)))
        self.objects = LooseObjectStore(Path(root, objects).resolve(), object_format)
        self.prefix = prefix

    def tip_ref(self) -> str:
        return "HEAD"

    def branch_ref(self) -> str:
        found = self.git.run("symbolic-ref", "-q", "HEAD", check=False)
        if found.returncode != 0:
            raise SamokoderError(
                f'HEAD is detached in {self.root}, so checkpoints: "repo" has no branch to commit'
                ' on; check out a branch or use checkpoints: "shadow".'
            )
        return found.stdout.decode("utf-8", "surrogateescape").strip()

    def log_scan(self, limit: int) -> int:
        """The user's own commits are in between: look through the last 1000."""
        return _LOG_SCAN_LIMIT

    def sync_index(self, trees: TreeCache, commit: str) -> None:
        """Finish what a step interrupted after its ref update left undone, moving the
        index entries of `commit`'s files that still match its parent to `commit`."""
        paths = changed_files(self.git, [commit])[commit]
        dirs = sorted({d for p in paths for d in parent_dirs(p)} | {""})
        found = read_dirs(self.git, trees, f"{commit}^", dirs)
        parent = ParentTrees(*found) if found[0] else ParentTrees(None, {d: {} for d in dirs})
        after = ParentTrees(*read_dirs(self.git, trees, commit, dirs))
        entries = {p: after.dirs[p.rpartition("/")[0]].get(p.rpartition("/")[2]) for p in paths}
        self.after_commit(parent, entries)

    def after_commit(self, parent: ParentTrees, entries: dict[str, TreeEntry | None]) -> None:
        """Move unstaged index entries to the new commit so `git status` shows no revert."""
        staged = index_entries(self.git, list(entries))
        if staged is None:
            log.warning("could not read the index of %s; left it as it was", self.root)
            return
        zero = self.objects.null_sha
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
            done = self.git.run("update-index", "-z", "--index-info", stdin=request, check=False)
            if done.returncode != 0:
                log.warning("index of %s not updated: %s", self.root, done.stderr.decode().strip())


def _repo_env(git_dir: Path, work_tree: Path) -> dict[str, str]:
    return {
        "GIT_DIR": str(git_dir),
        "GIT_WORK_TREE": str(work_tree),
        "GIT_LITERAL_PATHSPECS": "1",
    }
