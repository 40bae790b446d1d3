"""File I/O at the edge: atomic writes, bounded reads, strict decoding.

Callers confine paths first (``confinement.Workspace``); these helpers only make
sure a write is all-or-nothing and a read never blocks or floods memory.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from samokoder.errors import InvalidArgumentError

NEW_FILE_MODE = 0o644
DEFAULT_READ_LIMIT = 2_000_000


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once, keeping its permission bits.

    Writes a temporary file in the same folder, fsyncs it and renames it over the
    target, so readers see the old or the new content, never half of it. A
    symlink is written through (the link stays a link). On any error the
    temporary file is removed and the original is left as it was.
    """
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every filesystem allows it, which is fine.
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def read_bytes(path: Path, limit: int = DEFAULT_READ_LIMIT) -> bytes | None:
    """The file's bytes, or None if it does not exist.

    Raises ``InvalidArgumentError`` for a file over ``limit`` bytes or anything
    that is not a regular file (opened non-blocking, so a FIFO cannot hang us).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InvalidArgumentError(f"{path} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InvalidArgumentError(f"{path} is not a regular file")
        if info.st_size > limit:
            raise InvalidArgumentError(
                f"{path} is {info.st_size} bytes, over the {limit}-byte limit"
            )
        chunks: list[bytes] = []
        remaining = limit + 1  # the file may have grown since fstat
        while remaining > 0:
            chunk = os.read(fd, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise InvalidArgumentError(f"{path} is over the {limit}-byte limit")
    return data


def decode_text(data: bytes, path: str | None = None) -> str:
    """Strict UTF-8 text; binary content (invalid UTF-8 or NUL bytes) is refused."""
    name = repr(path) if path is not None else "the file"
    if b"\x00" in data:
        raise InvalidArgumentError(f"{name} is binary (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{name} is binary or not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def delete_file(path: Path, stop_at: Path) -> None:
    """Remove a file (a missing one is fine), then its emptied parent folders.

    Folders are removed upwards while empty, stopping below ``stop_at`` (which
    is never removed). Parents outside ``stop_at`` are never touched.
    """
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    stop = Path(os.path.abspath(stop_at))
    folder = Path(os.path.abspath(path)).parent
    while folder != stop and folder.is_relative_to(stop):
        try:
            os.rmdir(folder)
        except OSError:
            break  # not empty, gone, or not ours to remove
        folder = folder.parent
