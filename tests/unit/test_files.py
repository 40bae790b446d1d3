"""File I/O helpers: atomic writes that never leave half a file or a temp file behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from samokoder.errors import InvalidArgumentError
from samokoder.workspace.files import atomic_write, decode_text, delete_file, read_bytes


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_creates_file_and_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "new.py"
    atomic_write(target, b"print(1)\n")
    assert target.read_bytes() == b"print(1)\n"
    assert mode_of(target) == 0o644
    assert os.listdir(target.parent) == ["new.py"]


def test_atomic_write_keeps_existing_mode(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    atomic_write(script, b"#!/bin/sh\necho hi\n")
    assert script.read_bytes() == b"#!/bin/sh\necho hi\n"
    assert mode_of(script) == 0o755
    private = tmp_path / "private.txt"
    private.write_text("x")
    private.chmod(0o600)
    atomic_write(private, b"y")
    assert mode_of(private) == 0o600


def test_atomic_write_through_symlink_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    atomic_write(link, b"new")
    assert link.is_symlink()
    assert (tmp_path / "real.txt").read_text() == "new"


def test_atomic_write_failure_leaves_original_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "app.py"
    target.write_text("original\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write(target, b"new content\n")
    assert target.read_text() == "original\n"
    assert os.listdir(tmp_path) == ["app.py"]


def test_atomic_write_failure_while_writing_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "app.py"
    target.write_text("original\n")

    def broken_fsync(fd: int) -> None:
        raise OSError("no space left")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="no space left"):
        atomic_write(target, b"x" * 10_000)
    assert target.read_text() == "original\n"
    assert os.listdir(tmp_path) == ["app.py"]


def test_atomic_write_onto_a_folder_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "keep.txt").write_text("k")
    with pytest.raises(OSError):
        atomic_write(tmp_path / "dir", b"x")
    assert sorted(os.listdir(tmp_path)) == ["dir"]
    assert (tmp_path / "dir" / "keep.txt").read_text() == "k"


def test_read_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    assert read_bytes(path) is None
    path.write_bytes(b"abc")
    assert read_bytes(path) == b"abc"
    assert read_bytes(path, limit=3) == b"abc"
    with pytest.raises(InvalidArgumentError, match="limit"):
        read_bytes(path, limit=2)


def test_read_bytes_refuses_folders_and_fifos_without_blocking(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="folder"):
        read_bytes(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgumentError, match="not a regular file"):
        read_bytes(fifo)


def test_decode_text() -> None:
    assert decode_text("héllo 😀\r\n".encode()) == "héllo 😀\r\n"
    assert decode_text(b"\xef\xbb\xbfbom") == "\ufeffbom"  # BOM kept, so writing back is exact
    with pytest.raises(InvalidArgumentError, match="not UTF-8"):
        decode_text(b"caf\xe9", path="menu.txt")
    with pytest.raises(InvalidArgumentError, match="binary"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(InvalidArgumentError, match=r"'logo\.png'"):
        decode_text(b"\x00", path="logo.png")


def test_delete_file_removes_empty_parents_up_to_stop(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    deep = root / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (root / "a" / "sibling.txt").write_text("s")
    (deep / "f.py").write_text("x")
    delete_file(deep / "f.py", stop_at=root)
    assert not (root / "a" / "b").exists()
    assert (root / "a" / "sibling.txt").exists()
    delete_file(root / "a" / "sibling.txt", stop_at=root)
    assert not (root / "a").exists()
    assert root.is_dir()  # the stop folder itself stays


def test_delete_file_missing_is_fine_and_stop_outside_is_respected(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    delete_file(tmp_path / "empty" / "gone.py", stop_at=tmp_path / "elsewhere")
    assert (tmp_path / "empty").is_dir()  # not under stop_at: left alone
    delete_file(tmp_path / "empty" / "gone.py", stop_at=tmp_path)
    assert not (tmp_path / "empty").exists()


def test_delete_file_through_symlink_removes_link_only(tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_text("t")
    (tmp_path / "link.txt").symlink_to("target.txt")
    delete_file(tmp_path / "link.txt", stop_at=tmp_path)
    assert not (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "target.txt").read_text() == "t"
