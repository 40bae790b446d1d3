"""One benchmark script measuring this tree and a baseline checkout side by side.

The script runs itself with ``--measure`` in a child process that imports the tree
being measured, and prints one JSON object as its last line; the baseline is a
``git worktree`` of a commit in a temporary folder (or a checkout given by path),
removed afterwards.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def measure_in(script: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """What ``script --measure`` printed last, run with `env` from `cwd`."""
    out = subprocess.run(
        [sys.executable, script, "--measure"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"measuring in {cwd} failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def checkout(here: Path, commit: str, given: str | None = None) -> Iterator[Path]:
    """The baseline tree: `given`, else a temporary worktree of `commit`."""
    if given:
        yield Path(given)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        git = ["git", "-C", str(here), "worktree"]
        subprocess.run([*git, "add", "--detach", "-q", str(tree), commit], check=True)
        try:
            yield tree
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=False)
