"""Running the hidden tests against what is in a folder, in a copy the server never sees.

The tests are never put in the workspace the server works in: the folder's files
are copied into a fresh judge folder beside the tests, and the language's test
command runs there with no provider keys in its environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.quality.layout import LANGUAGES

OUTPUT_CHARS = 4_000  # test output kept (the tail): the report and the second attempt
SKIP = {".git", ".samokoder", "__pycache__", ".pytest_cache"}


@dataclass(frozen=True)
class Verdict:
    passed: bool
    output: str  # tail of the test command's output
    seconds: float


def copy_tree(src: Path, dst: Path) -> None:
    """`src`'s files into `dst`, leaving out version control, state and caches."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if SKIP.intersection(rel.parts) or not path.is_file() or path.is_symlink():
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dst / rel)


def judge_env(folder: Path, language: str = "python") -> dict[str, str]:
    """A small environment: no API keys reach code a model wrote."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(folder), PYTHONPATH=str(folder), PYTHONDONTWRITEBYTECODE="1")
    env.update(LANGUAGES[language].env)
    return env


def run_tests(
    folder: Path, tests_from: Path, tests: tuple[str, ...], language: str, timeout: float
) -> Verdict:
    """Copy `folder` and the `tests` (relative to `tests_from`) into a judge folder; run them."""
    lang = LANGUAGES[language]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="samokoder-judge-") as tmp:
        judge = Path(tmp)
        copy_tree(folder, judge)
        for name in tests:
            (judge / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tests_from / name, judge / name)
        argv: list[str] = []
        for part in lang.test_command:
            argv.extend(tests if part == "{tests}" else [part])
        proc = subprocess.Popen(
            argv,
            cwd=judge,
            env=judge_env(judge, language),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group: nothing it starts outlives it
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            out = ""
            with contextlib.suppress(subprocess.TimeoutExpired):
                out, _ = proc.communicate(timeout=10)
            text = f"{out}\nthe tests did not finish in {timeout:g} s"
            return Verdict(False, text[-OUTPUT_CHARS:], time.perf_counter() - started)
        finally:
            _kill_group(proc.pid)
        output = out.strip()
        return Verdict(proc.returncode == 0, output[-OUTPUT_CHARS:], time.perf_counter() - started)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def run_tests_async(
    folder: Path, tests_from: Path, tests: tuple[str, ...], language: str, limit: float
) -> Verdict:
    return await asyncio.to_thread(run_tests, folder, tests_from, tests, language, limit)
