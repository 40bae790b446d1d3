"""The checkpoint repository's rules for the folder: `.samokoder/` kept out of the
user's `git status`, and the paths a step may hold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from samokoder.errors import InvalidArgumentError
from samokoder.workspace.git_objects import parent_dirs

STATE_DIR = ".samokoder"


def ensure_state_dir(root: Path) -> None:
    """`.samokoder/` hides itself from `git status`: a `*` .gitignore plus info/exclude."""
    state = root / STATE_DIR
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    user_git = root / ".git"
    if not user_git.is_dir():
        return
    exclude = user_git / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    text = exclude.read_text(encoding="utf-8", errors="replace") if exclude.exists() else ""
    if f"{STATE_DIR}/" in (line.strip() for line in text.splitlines()):
        return
    separator = "" if not text or text.endswith("\n") else "\n"
    with exclude.open("a", encoding="utf-8") as handle:
        handle.write(f"{separator}{STATE_DIR}/\n")


def check_step_paths(changes: Mapping[str, bytes | None]) -> None:
    for path in changes:
        parts = path.split("/")
        bad = (
            not path
            or any(ch in path for ch in "\0\n\r")
            or any(part in ("", ".", "..") for part in parts)
            or any(part.lower() == ".git" for part in parts)
            or parts[0] == STATE_DIR
        )
        if bad:
            raise InvalidArgumentError(
                f"refused path {path!r}: checkpoint paths are relative POSIX paths inside the"
                " workspace, outside .git/ and .samokoder/"
            )
    files = {p for p, data in changes.items() if data is not None}
    for path in files:
        clash = next((d for d in parent_dirs(path) if d in files), None)
        if clash is not None:
            raise InvalidArgumentError(f"step writes both {clash!r} and {path!r} inside it")
