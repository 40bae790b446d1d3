"""Confinement: every path the server touches is checked here first (DESIGN §3).

A path is accepted only when both its lexical form and its real location (after
following every symlink, even dangling ones) stay inside the workspace folder and
outside ``.git/`` and ``.samokoder/``. Refusals raise ``OutsideWorkspaceError``
naming the path and the rule, so a person can see why.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from samokoder.errors import InvalidArgumentError, OutsideWorkspaceError
from samokoder.workspace.git_plumbing import git_env

logger = logging.getLogger(__name__)

PROTECTED_DIRS = frozenset({".git", ".samokoder"})
"""Folder names whose contents are never read or written, at any depth."""

_SECRET_SUFFIXES = (".pem", ".key")
_GIT_TIMEOUT_S = 10.0
_GIT_CONFIG_ENV = ("XDG_CONFIG_HOME",)


def _is_within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


@dataclass(frozen=True)
class Workspace:
    """One workspace folder; ``root`` is absolute with symlinks resolved."""

    root: Path

    def __post_init__(self) -> None:
        # Resolving here keeps every comparison below free of symlink aliases of the root.
        object.__setattr__(self, "root", Path(os.path.realpath(os.path.abspath(self.root))))

    @classmethod
    def at(cls, root: str | Path) -> Workspace:
        """Workspace for an existing folder; anything else is a bad argument."""
        raw = os.fspath(root)
        if not raw or "\x00" in raw:
            raise InvalidArgumentError(f"workspace folder {raw!r} is not a valid path")
        if not os.path.isdir(raw):
            raise InvalidArgumentError(f"workspace folder {raw!r} is not an existing folder")
        return cls(Path(raw))

    def resolve(self, path: str | Path) -> Path:
        """Absolute path for ``path`` (relative to the root, or absolute), checked.

        The result is lexically normalized (``a/../b`` becomes ``b``; symlinks that
        stay inside are kept as written) and its real location is inside the root.
        """
        return self._check(path, allow_root=False)

    def relative(self, path: str | Path) -> str:
        """Checked workspace-relative POSIX path such as ``src/app.py``."""
        return self.resolve(path).relative_to(self.root).as_posix()

    def path_from_uri(self, uri: str) -> Path:
        """Checked path for a ``file://`` URI from the client."""
        parts = urlsplit(uri)
        if parts.scheme.lower() != "file":
            raise OutsideWorkspaceError(uri, "not a file URI (only file:// URIs are accepted)")
        if parts.netloc not in ("", "localhost"):
            raise OutsideWorkspaceError(
                uri, f"not a file URI on this machine (host {parts.netloc!r})"
            )
        if parts.query or parts.fragment:
            raise OutsideWorkspaceError(uri, "a file URI must not carry a query or fragment")
        decoded = unquote(parts.path, errors="strict")
        if not decoded.startswith("/"):
            raise OutsideWorkspaceError(uri, "a file URI must hold an absolute path")
        try:
            return self.resolve(decoded)
        except OutsideWorkspaceError as exc:
            raise OutsideWorkspaceError(uri, exc.rule) from None

    def uri_for(self, rel: str) -> str:
        """``file://`` URI of a workspace-relative path (checked first)."""
        return self.resolve(rel).as_uri()

    def is_secret(self, rel: str, ignore: IgnoreMatcher | None = None) -> bool:
        """Whether a file must not reach the LLM or be written without the user's consent.

        Secret-looking names (``.env*``, ``*.pem``, ``*.key``, SSH keys ``id_*``) and,
        when ``ignore`` is given, anything git ignores.
        """
        name = PurePosixPath(rel).name
        if is_secret_name(name):
            return True
        return ignore is not None and ignore.is_ignored(rel)

    def check_cwd(self, path: str | Path) -> Path:
        """Checked working directory for a command: the root itself or a folder inside."""
        resolved = self._check(path, allow_root=True)
        if not resolved.is_dir():
            raise InvalidArgumentError(
                f"working directory {os.fspath(path)!r} is not an existing folder in the workspace"
            )
        return resolved

    def _check(self, path: str | Path, *, allow_root: bool) -> Path:
        raw = os.fspath(path)
        if not raw:
            raise OutsideWorkspaceError(raw, "the path is empty")
        if "\x00" in raw:
            raise OutsideWorkspaceError(raw, "contains a NUL byte")
        candidate = Path(os.path.normpath(os.path.join(self.root, raw)))
        if not _is_within(candidate, self.root):
            # An absolute path may name the root through a symlinked alias; accept it
            # only by its real location.
            real_candidate = Path(os.path.realpath(candidate))
            if not (os.path.isabs(raw) and _is_within(real_candidate, self.root)):
                raise OutsideWorkspaceError(
                    raw, f"it leads outside the workspace folder {self.root}"
                )
            candidate = real_candidate
        self._check_components(raw, candidate.relative_to(self.root).parts, via_symlink=False)

        real = Path(os.path.realpath(candidate))
        if not _is_within(real, self.root):
            raise OutsideWorkspaceError(
                raw, f"a symlink in it leads outside the workspace folder {self.root}"
            )
        self._check_components(raw, real.relative_to(self.root).parts, via_symlink=True)
        if real == self.root and not allow_root:
            raise OutsideWorkspaceError(raw, "is the workspace folder itself, not a file in it")
        _check_file_type(raw, candidate)
        return candidate

    @staticmethod
    def _check_components(raw: str, parts: tuple[str, ...], *, via_symlink: bool) -> None:
        for part in parts:
            if part in PROTECTED_DIRS:
                how = " (through a symlink)" if via_symlink else ""
                raise OutsideWorkspaceError(raw, f"paths inside {part}/ are never touched{how}")


def _check_file_type(raw: str, candidate: Path) -> None:
    try:
        mode = os.stat(candidate).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # does not exist yet: nothing more to check
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutsideWorkspaceError(raw, "a symlink in it loops back on itself") from None
        raise OutsideWorkspaceError(raw, f"it cannot be inspected ({exc.strerror})") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise OutsideWorkspaceError(raw, "is a device file or other special file")


def is_secret_name(name: str) -> bool:
    """Whether a file name looks like it holds credentials."""
    if name.startswith(".env"):
        return True
    if name.endswith(_SECRET_SUFFIXES):
        return True
    # SSH private keys: id_rsa, id_ed25519, id_ecdsa_sk ... (no extension, unlike id_utils.py)
    return name.startswith("id_") and "." not in name


class IgnoreMatcher:
    """Answers "does git ignore this path?" for one workspace, batched and cached.

    Uses ``git check-ignore --stdin -z`` only when the root is inside a git work
    tree; without git or a repository nothing is ignored. Thread-safe.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._cache: dict[str, bool] = {}
        self._enabled: bool | None = None

    def is_ignored(self, rel: str) -> bool:
        return rel in self.ignored(rel_paths=(rel,))

    def ignored(self, rel_paths: Iterable[str]) -> set[str]:
        """The subset of ``rel_paths`` that git ignores, asking git once for all unknown ones."""
        wanted = list(dict.fromkeys(rel_paths))
        with self._lock:
            missing = [p for p in wanted if p not in self._cache]
            if missing:
                found = self._ask_git(missing)
                for p in missing:
                    self._cache[p] = p in found
            return {p for p in wanted if self._cache[p]}

    def clear(self) -> None:
        """Forget cached answers (after a .gitignore changed)."""
        with self._lock:
            self._cache.clear()
            self._enabled = None

    def _ask_git(self, rel_paths: list[str]) -> set[str]:
        usable = [p for p in rel_paths if p and "\x00" not in p]
        if not usable or not self._repo_present():
            return set()
        payload = "".join(p + "\x00" for p in usable).encode("utf-8", "surrogateescape")
        result = self._run_git(["check-ignore", "--stdin", "-z"], payload)
        # Exit 0: some ignored, 1: none ignored, anything else: git failed.
        if result is None or result.returncode not in (0, 1):
            if result is not None:
                stderr = result.stderr.decode(errors="replace")
                logger.warning("git check-ignore failed: %s", stderr)
            return set()
        out = result.stdout.decode("utf-8", "surrogateescape")
        return {p for p in out.split("\x00") if p}

    def _repo_present(self) -> bool:
        if self._enabled is None:
            result = self._run_git(["rev-parse", "--is-inside-work-tree"], b"")
            self._enabled = (
                result is not None and result.returncode == 0 and result.stdout.strip() == b"true"
            )
        return self._enabled

    def _run_git(self, args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes] | None:
        # git's scrubbed environment (never the user's API keys), plus where a global
        # gitignore may live
        env = git_env({k: os.environ[k] for k in _GIT_CONFIG_ENV if k in os.environ})
        try:
            return subprocess.run(
                ["git", "-C", str(self._root), *args],
                input=stdin,
                capture_output=True,
                env=env,
                timeout=_GIT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            logger.info("git unavailable for ignore checks in %s: %s", self._root, exc)
            return None
