"""Git I/O for checkpoints: a scrubbed git runner and the in-process object store.

Checkpoint commits are built without an index: blobs, trees and commits are
written straight into the loose object store (zlib, like git itself), and git
processes are only spawned to read trees not already at hand (`cat-file --batch`),
to move refs and, in repo mode, to keep the user's index in step. That keeps a
step's cost proportional to the files it touches; any index-based approach
rewrites an index the size of the whole tree (~130 ms at 50,000 files).

GitPython is not used for running git: its `Git.execute` always starts from a
copy of `os.environ`, which would hand the user's provider API keys to git. The
object formats themselves (ids, trees, commits, trailers) are in `git_objects`.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from samokoder.errors import SamokoderError
from samokoder.secrets import scrubbed_env
from samokoder.workspace.git_objects import (
    ID_BYTES,
    IDENTITY_EMAIL,
    IDENTITY_NAME,
    TREE_MODE,
    GitObject,
    TreeEntry,
    object_sha,
    parent_dirs,
    parse_batch,
    parse_tree,
    serialize_tree,
)

_PASSTHROUGH_ENV = ("PATH", "HOME", "LANG", "SYSTEMROOT")  # SYSTEMROOT: git on Windows
_GIT_OPTIONS = (
    "-c",
    "core.hooksPath=/dev/null",  # no user hooks, not even reference-transaction
    "-c",
    "commit.gpgsign=false",
)


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a git subprocess gets: what git needs, never credentials."""
    env = {name: os.environ[name] for name in _PASSTHROUGH_ENV if name in os.environ}
    env.update(
        GIT_AUTHOR_NAME=IDENTITY_NAME,
        GIT_AUTHOR_EMAIL=IDENTITY_EMAIL,
        GIT_COMMITTER_NAME=IDENTITY_NAME,
        GIT_COMMITTER_EMAIL=IDENTITY_EMAIL,
        GIT_TERMINAL_PROMPT="0",
    )
    env.update(extra or {})
    return scrubbed_env(env)


class GitRunner:
    """Runs git in one directory with one fixed, scrubbed environment."""

    def __init__(self, cwd: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = git_env(extra_env)

    def run(
        self, *args: str, stdin: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            done = subprocess.run(
                ["git", *_GIT_OPTIONS, *args],
                cwd=self.cwd,
                env=self.env,
                input=stdin,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError as exc:
            raise SamokoderError(
                "git was not found on PATH; install Git to use Samokoder checkpoints."
            ) from exc
        if check and done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise SamokoderError(f"git {args[0]} failed in {self.cwd}: {message}")
        return done

    def text(self, *args: str) -> str:
        return self.run(*args).stdout.decode("utf-8", "surrogateescape").strip()


def cat_file_batch(git: GitRunner, names: Sequence[str]) -> list[GitObject | None]:
    """Resolve and read many objects in one process; None where a name is missing."""
    if not names:
        return []
    request = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
    return parse_batch(git.run("cat-file", "--batch", stdin=request).stdout, len(names))


class LooseObjectStore:
    """Writes and reads loose objects of one repository in-process."""

    def __init__(self, objects_dir: Path, object_format: str = "sha1") -> None:
        if object_format not in ID_BYTES:
            raise SamokoderError(f"unsupported Git object format {object_format!r}")
        self.objects_dir = objects_dir
        self.object_format = object_format
        self._serial = itertools.count()

    @property
    def null_sha(self) -> str:
        """The all-zero id: "this ref must not exist yet" for `update-ref`."""
        return "0" * 2 * ID_BYTES[self.object_format]

    def hash(self, kind: str, body: bytes) -> str:
        return object_sha(kind, body, self.object_format)

    def _path(self, sha: str) -> str:
        return os.path.join(self.objects_dir, sha[:2], sha[2:])

    def write(self, kind: str, body: bytes) -> str:
        """Store an object (no-op if already loose); the rename makes it appear whole."""
        sha = self.hash(kind, body)
        path = self._path(sha)
        if os.path.exists(path):
            return sha
        compressor = zlib.compressobj(1)  # git's default core.looseCompression
        data = compressor.compress(b"%s %d\0" % (kind.encode("ascii"), len(body)))
        data += compressor.compress(body) + compressor.flush()
        # git's own temp-file prefix: `git prune` cleans up any left by a crash
        name = f"tmp_obj_{os.getpid()}_{threading.get_ident()}_{next(self._serial)}"
        tmp = os.path.join(os.path.dirname(path), name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(tmp, flags, 0o444)
        except FileNotFoundError:  # first object in this fan-out directory
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(tmp, flags, 0o444)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if not (isinstance(exc, OSError) and os.path.exists(path)):
                raise  # (an OSError once another writer stored the same object is fine)
        return sha

    def read_loose(self, sha: str) -> GitObject | None:
        """The object if it is stored loose; packed objects need git (None here)."""
        try:
            with open(self._path(sha), "rb") as handle:
                raw = zlib.decompress(handle.read())
        except (FileNotFoundError, NotADirectoryError, zlib.error):
            return None  # not loose (or damaged): let git look in the packs
        header, _, body = raw.partition(b"\0")
        kind = header.split(b" ", 1)[0].decode("ascii")
        return GitObject(sha, kind, body)


class TreeCache:
    """Parsed trees by id (trees never change), filled from loose objects or by callers.

    Lets a step skip `cat-file` when the trees along its paths were seen or written
    before; entries handed out are shared and must not be mutated.
    """

    def __init__(self, store: LooseObjectStore, capacity: int = 4096) -> None:
        self._store = store
        self._capacity = capacity
        self._trees: OrderedDict[str, dict[str, TreeEntry]] = OrderedDict()

    def put(self, sha: str, entries: dict[str, TreeEntry]) -> None:
        self._trees[sha] = entries
        self._trees.move_to_end(sha)
        if len(self._trees) > self._capacity:
            self._trees.popitem(last=False)

    def get(self, sha: str) -> dict[str, TreeEntry] | None:
        """The tree's entries, or None if it is neither cached nor a loose object."""
        entries = self._trees.get(sha)
        if entries is not None:
            self._trees.move_to_end(sha)
            return entries
        found = self._store.read_loose(sha)
        if found is None or found.kind != "tree":
            return None
        return self.parse(sha, found.body)

    def parse(self, sha: str, body: bytes) -> dict[str, TreeEntry]:
        """Parse a raw tree read elsewhere and remember it."""
        entries = parse_tree(body, self._store.object_format)
        self.put(sha, entries)
        return entries


@dataclass(frozen=True)
class ParentTrees:
    """A step's parent commit (None on an empty branch) and its directories along the
    step's paths (empty where absent); shared with the tree cache, so never mutated."""

    commit: str | None
    dirs: Mapping[str, Mapping[str, TreeEntry]]


class RevisionMoved(Exception):
    """A ref moved between two reads of one `cat-file` batch; read again."""


def read_dirs(
    git: GitRunner, trees: TreeCache, rev: str, dirs: Sequence[str]
) -> tuple[str | None, dict[str, Mapping[str, TreeEntry]]]:
    """The commit `rev` names and the entries of `dirs` ("" first) in its tree, in one
    process; (None, all empty) if `rev` does not exist yet (a branch with no commits)."""
    found = cat_file_batch(git, [rev, f"{rev}^{{tree}}", *(f"{rev}:{d}" for d in dirs if d)])
    commit, root = found[0], found[1]
    if commit is None:
        return None, {d: {} for d in dirs}
    if root is None or not commit.body.startswith(b"tree " + root.sha.encode()):
        raise RevisionMoved(rev)
    loaded: dict[str, Mapping[str, TreeEntry]] = {}
    for d, obj in zip(dirs, found[1:], strict=True):
        loaded[d] = {} if obj is None or obj.kind != "tree" else trees.parse(obj.sha, obj.body)
    return commit.sha, loaded


def cached_dirs(
    trees: TreeCache, root: str, dirs: Sequence[str]
) -> dict[str, Mapping[str, TreeEntry]] | None:
    """Like `read_dirs` from a known root tree without git; None if a tree is only in a pack."""
    loaded: dict[str, Mapping[str, TreeEntry]] = {}
    for d in dirs:
        head, _, name = d.rpartition("/")
        entry = loaded[head].get(name) if d else TreeEntry(TREE_MODE, root)
        tree = trees.get(entry.sha) if entry is not None and entry.is_tree else {}
        if tree is None:
            return None
        loaded[d] = tree
    return loaded


def rewrite_trees(
    store: LooseObjectStore,
    before: Mapping[str, Mapping[str, TreeEntry]],
    entries: Mapping[str, TreeEntry | None],
) -> str:
    """Apply path changes to the directories along them, writing new trees bottom-up.

    `before` holds the entries of every directory holding a changed path ("" is the
    root; empty where the directory does not exist). Returns the new root tree.
    """
    dirs = {d: dict(items) for d, items in before.items()}
    files = {p for p, e in entries.items() if e is not None}
    for path, entry in sorted(entries.items(), key=lambda item: item[1] is not None):
        head, _, name = path.rpartition("/")
        if entry is None:
            dirs[head].pop(name, None)
        else:
            dirs[head][name] = entry
    for d in sorted(dirs, key=lambda d: d.count("/"), reverse=True):
        if not d or d in files or any(a in files for a in parent_dirs(d)):
            continue  # the root is written last; a directory replaced by a file is dropped
        if dirs[d] == before[d]:
            continue
        head, _, name = d.rpartition("/")
        if dirs[d]:
            dirs[head][name] = TreeEntry(TREE_MODE, store.write("tree", serialize_tree(dirs[d])))
        else:
            dirs[head].pop(name, None)  # git keeps no empty directories
    return store.write("tree", serialize_tree(dirs[""]))


def changed_files(git: GitRunner, commits: Sequence[str]) -> dict[str, list[str]]:
    """The paths each (non-merge) commit changed against its parent, in one process."""
    files: dict[str, list[str]] = {sha: [] for sha in commits}
    if not commits:
        return files
    out = git.run(
        "-c", "log.showRoot=true", "log", "--no-show-signature", "--no-walk=unsorted",
        "-z", "--name-only", "--no-renames", "--format=%x01%H", *commits,
    ).stdout  # fmt: skip
    current: list[str] = []
    for token in out.split(b"\0"):
        if token.startswith(b"\x01"):
            current = files[token[1:].decode()]
        elif token:
            current.append(token.lstrip(b"\n").decode("utf-8", "surrogateescape"))
    return files


def index_entries(
    git: GitRunner, paths: Sequence[str]
) -> dict[str, list[tuple[str, str, str]]] | None:
    """(mode, sha, stage) of each path in the index git uses; None if it cannot be read."""
    listed = git.run("ls-files", "-s", "-z", "--", *paths, check=False)
    if listed.returncode != 0:
        return None
    entries: dict[str, list[tuple[str, str, str]]] = {}
    for record in listed.stdout.split(b"\0"):
        if record:
            info, _, path = record.decode("utf-8", "surrogateescape").partition("\t")
            mode, sha, stage = info.split(" ")
            entries.setdefault(path, []).append((mode, sha, stage))
    return entries
