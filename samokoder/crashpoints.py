"""Named crash points for the reliability suite; inert unless a test arms one.

`tests/reliability` proves that a step survives the server dying at any moment:
it starts `samokoder serve` (or a worker) with `SAMOKODER_TEST_CRASH=<point>` in
the process environment, and `reached(point)` then kills the process with SIGKILL,
as the OOM killer or a power cut would. The variable is read once, from the
environment of the process at import; nothing in the protocol, the settings or a
workspace can set it, and when it is unset `reached` is a single comparison.

Spec: `<point>` or `<kind>:<point>` (only during a step of that kind: apply, undo,
redo), optionally `#<n>` to crash the n-th time the point is passed (default 1).

Why named calls in production code, and not a hook the tests install: the crash must
land between two particular writes (the blobs stored but no commit yet; the commit
object written but the branch not moved; the branch moved but no store row), and only
the writer knows where one write ends and the next begins. A hook on something generic
(`os.replace`, the git process, an SQLite statement) would tie the tests to how each
write happens to be done, and could not tell the points apart. And the process that
dies is a real `samokoder serve` or worker started by the test, which a test cannot
monkeypatch; arming through the environment is the one way in. So the calls stay, all
seven listed in `POINTS` (in `agents/steps.py`, `step_record.py`, `disk_writes.py` and
`workspace/checkpoints.py`), and disarmed they cost next to nothing: `reached` is one
falsy test (about 30 ns) and `step_kind` a shared no-op context (about 150 ns).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from contextvars import ContextVar

ENV_VAR = "SAMOKODER_TEST_CRASH"

POINTS = (
    "step_planned",  # the write-ahead record is stored; no file changed yet
    "mid_disk_writes",  # the first closed file is written, the others not yet
    "after_apply_before_commit",  # every file changed; no checkpoint commit yet
    "after_blob_writes",  # the step's blobs are stored; no tree or commit yet
    "before_ref_update",  # the commit object exists; the branch does not point at it
    "after_ref_update",  # the branch moved; the store has no step row yet
    "after_step_row",  # the step is recorded; the proposal and run not yet updated
)
"""Where a step can be cut, in the order a step passes them."""

_SPEC = os.environ.get(ENV_VAR, "").strip()
_lock = threading.Lock()
_passes = 0


def _parse(spec: str) -> tuple[str, int]:
    name, _, count = spec.partition("#")
    return name.strip(), int(count) if count.strip().isdigit() else 1


_TARGET, _NTH = _parse(_SPEC) if _SPEC else ("", 0)
_kind: ContextVar[str] = ContextVar("samokoder_step_kind", default="apply")


def armed() -> str:
    """The armed spec ("" in production)."""
    return _SPEC


def step_kind(kind: str) -> contextlib.AbstractContextManager[None]:
    """Name the kind of step under way (copied into `asyncio.to_thread` workers)."""
    return _naming(kind) if _TARGET else _DISARMED  # disarmed: nothing reads the kind


_DISARMED = contextlib.nullcontext()


@contextlib.contextmanager
def _naming(kind: str) -> Iterator[None]:
    token = _kind.set(kind)
    try:
        yield
    finally:
        _kind.reset(token)


def reached(point: str) -> None:
    """Die here, without any clean-up, if the test armed this point."""
    global _passes
    if not _TARGET or _TARGET not in (point, f"{_kind.get()}:{point}"):
        return
    with _lock:
        _passes += 1
        if _passes < _NTH:
            return
    kill = getattr(signal, "SIGKILL", None)
    if kill is None:  # Windows: no SIGKILL; _exit skips clean-up just the same
        os._exit(137)
    os.kill(os.getpid(), kill)
