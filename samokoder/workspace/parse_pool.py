"""Reading and parsing the files a scan must look at, in worker processes when they are many.

A first scan of a large tree spends most of its time in tree-sitter parses and the
walks of their trees, which hold the GIL: threads would not help, processes do.
Past `POOL_MIN_FILES` the files go to worker processes (``python -I -c``, never a
``fork`` of the server, which has threads, nor ``multiprocessing``, which would
run the host's main script again), every worker taking every n-th batch. They
read the files with the same rules as a serial scan (`symbols.analyze_file`: no
symlink followed, size limit, binary and non-UTF-8 files told apart) and send
back only the facts, never contents. The calling thread indexes what came back
while the workers parse the rest. Any failure of a worker (no processes allowed,
one killed) falls back to reading the remaining files in the calling thread.
Scans also run with the cyclic garbage collector paused (`collector_paused`).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import subprocess
import sys
from collections.abc import Generator, Iterator, Sequence
from typing import Any, TextIO

from samokoder.secrets import scrubbed_env
from samokoder.workspace import symbols

logger = logging.getLogger(__name__)

POOL_MIN_FILES = 4000
"""Fewer files are read in the calling thread: starting workers costs ~0.2 s."""
BATCH_FILES = 256
FREEZE_AFTER = 100_000
WORKERS: int | None = None
"""Worker processes for a large read; None: as many as the CPUs this process may use."""

Stamp = tuple[int, int]
Facts = symbols.FileFacts | None
"""What was found in a file; None when it could not be read (not remembered)."""

_analyze = symbols.analyze_file.__wrapped__  # callers keep what was read; no second cache
_analyze_unstamped = symbols.analyze_unstamped
# gc off in a worker: nothing it keeps lives long, so collections would only cost time.
_WORKER = (
    "import gc, sys; gc.disable(); sys.path[:0] = sys.argv[1:]; from {0} import serve; serve()"
)
_WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT")  # no keys (DESIGN §7)


def analyze(
    root: str, items: Sequence[tuple[str, Stamp | None]], limit: int
) -> Iterator[tuple[str, Stamp | None, Facts]]:
    """``(rel, stamp, facts)`` for each of ``items``, in their order.

    An item without a stamp (a first scan does not stat what it lists) gets the
    stamp of what was read; it stays None when the file could not be read. With
    one CPU, or fewer than `POOL_MIN_FILES` items, everything is read in the
    calling thread.
    """
    workers = WORKERS or usable_cpus()
    done = 0
    if workers >= 2 and len(items) >= POOL_MIN_FILES and sys.executable:
        try:
            with contextlib.closing(_pooled(root, items, limit, workers)) as batches:
                for start, results in batches:
                    batch = items[start : start + BATCH_FILES]
                    for (rel, _), answer in zip(batch, results, strict=True):
                        yield rel, *_from_json(answer)
                        done += 1
        except (OSError, ValueError, TypeError) as exc:  # a bad or short answer: not OSError
            logger.warning("parse workers failed (%s); reading the rest here", exc)
    for rel, stamp in items[done:]:
        yield rel, *_stamped_facts(root, rel, stamp, limit)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic GC during a scan; what a large one made is frozen after.

    Indexing 100,000 files set off ~7 full passes over a growing heap (0.45 s of
    CPU; 0.4 s of a 2.6 s scan from the index file), for nothing: the index holds
    no reference cycles. Frozen (as after litellm's import, `llm.runtime`), it is
    not walked by later passes either, whichever thread runs them; reference
    counting still frees it. Below `FREEZE_AFTER` new objects, collection resumes.
    """
    if not gc.isenabled():  # already paused: whoever paused it resumes it
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] >= FREEZE_AFTER:  # objects made (and kept) since the pause
            gc.freeze()
        gc.enable()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _pooled(
    root: str, items: Sequence[tuple[str, Stamp | None]], limit: int, workers: int
) -> Generator[tuple[int, list[Any]], None, None]:
    """``(first item, results)`` per batch, in order; no worker is left when it is closed."""
    starts = range(0, len(items), BATCH_FILES)
    # -I: no PYTHON* variables, no user site; the parent's import path is passed instead.
    argv = [sys.executable, "-I", "-c", _WORKER.format(__name__), *sys.path]
    env = scrubbed_env({name: os.environ[name] for name in _WORKER_ENV if name in os.environ})
    procs: list[subprocess.Popen[str]] = []
    try:
        for _ in range(workers):
            procs.append(
                subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, encoding="utf-8"
                )
            )
        for n, proc in enumerate(procs):
            mine = [items[i : i + BATCH_FILES] for i in starts[n::workers]]
            assert proc.stdin is not None
            with proc.stdin:  # json.dumps, not json.dump: only the first is written in C
                proc.stdin.write(json.dumps([root, limit, mine]))
        for k, start in enumerate(starts):
            stdout = procs[k % workers].stdout
            assert stdout is not None
            line = stdout.readline()
            if not line:
                raise OSError("a parse worker stopped without answering")
            yield start, json.loads(line)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()  # done (it is exiting anyway) or stopped early: not wanted
            for pipe in (proc.stdin, proc.stdout):  # stdin is open if it was never written
                if pipe is not None:
                    with contextlib.suppress(OSError):  # a broken pipe: closed all the same
                        pipe.close()
            proc.wait()


def serve(stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """A worker: one JSON request on stdin, then a JSON line per batch on stdout, of
    ``[stamp, facts]`` per file."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    root, limit, batches = json.load(stdin)
    for batch in batches:
        stdout.write(
            json.dumps(
                [_stamped_facts(root, rel, stamp and tuple(stamp), limit) for rel, stamp in batch]
            )
        )
        stdout.write("\n")
        stdout.flush()


def _from_json(answer: list[Any]) -> tuple[Stamp | None, Facts]:
    """A worker's ``[stamp, facts]`` for one file, as `_stamped_facts` gave them."""
    stamp, facts = answer
    if facts is None:
        return stamp and (stamp[0], stamp[1]), None
    status, lines, language, names = facts  # one copy of each word, not one per file:
    language = language and sys.intern(language)
    found = symbols.FileFacts(sys.intern(status), lines, language, tuple(names))
    return (stamp[0], stamp[1]), found


def _stamped_facts(
    root: str, rel: str, stamp: Stamp | None, limit: int
) -> tuple[Stamp | None, Facts]:
    if stamp is not None:
        return stamp, _facts(root, rel, stamp, limit)
    try:
        return _analyze_unstamped(os.path.join(root, rel), rel, limit)
    except symbols.UnreadableFileError:
        return None, None


def _facts(root: str, rel: str, stamp: Stamp, limit: int) -> Facts:
    if stamp[1] > limit:  # known from the walk: not even opened
        return symbols.facts_of(rel, None)
    try:
        return _analyze(os.path.join(root, rel), rel, mtime_ns=stamp[0], size=stamp[1], limit=limit)
    except symbols.UnreadableFileError:
        return None
