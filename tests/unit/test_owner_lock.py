"""The folder's owner lock: a live server keeps it; a dead one's orphan child is waited for."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from samokoder.agents.project import _claim


def hold(path: Path, pid: int) -> int:
    """Take the lock as another process would (a second open file description)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(pid).encode(), 0)
    return fd


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_owner_keeps_the_folder(tmp_path: Path) -> None:
    lock = tmp_path / "owner.lock"
    held = hold(lock, os.getpid())
    try:
        started = time.monotonic()
        assert _claim(lock) is None
        assert time.monotonic() - started < 1.0  # no waiting on a live server
    finally:
        os.close(held)


def test_a_dead_owners_lock_held_by_a_straggler_is_waited_for(tmp_path: Path) -> None:
    lock = tmp_path / "owner.lock"
    held = hold(lock, dead_pid())  # what a child forked just before the server died holds
    threading.Timer(0.3, os.close, [held]).start()  # the child execs: the lock is let go
    fd = _claim(lock)
    try:
        assert fd is not None and fd >= 0
        assert lock.read_text() == str(os.getpid())  # the new owner says who it is
    finally:
        if fd is not None:
            os.close(fd)
