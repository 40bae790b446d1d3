"""How long a checkpoint step takes in a small and a large workspace, vs `git add -A`.

Run: uv run python benchmarks/step_commit.py

Builds a 100-file and a 50,000-file workspace (small text files in nested folders,
each a user Git repository with everything committed), then times
`CheckpointRepo.commit_step` with 5 changed files (median of 15 steps after 2
warm-ups) in "shadow" and "repo" mode, and `git add -A && git commit` on the large
tree after changing 5 files (median of 5, warm). Goals: large/small ≤ 1.5×,
speed-up vs `git add -A` ≥ 20×.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.workspace import git_plumbing  # noqa: E402
from samokoder.workspace.checkpoints import CheckpointMode, CheckpointRepo  # noqa: E402

SMALL, LARGE = 100, 50_000
CHANGED = 5
WARMUP, STEPS, ADD_ALL_RUNS = 2, 15, 5
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def rel_path(i: int) -> str:
    return f"pkg{i // 2500:02d}/mod{(i // 100) % 25:02d}/file_{i:05d}.py"


def build_workspace(root: Path, files: int) -> None:
    root.mkdir()
    for i in range(files):
        path = root / rel_path(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# file {i}\nVALUE = {i}\n\ndef f():\n    return VALUE\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True)


def change_files(root: Path, files: int, round_no: int) -> dict[str, bytes]:
    """Rewrite 5 files spread over the tree, on disk, and return their new content."""
    changes = {}
    for k in range(CHANGED):
        rel = rel_path((round_no * 7919 + k * (files // CHANGED)) % files)
        data = f"# changed in round {round_no}\nVALUE = {round_no}\n".encode()
        (root / rel).write_bytes(data)
        changes[rel] = data
    return changes


def median_ms(run: Callable[[int], None], warmup: int, runs: int) -> float:
    for i in range(warmup):
        run(i)
    times = []
    for i in range(warmup, warmup + runs):
        start = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def time_steps(root: Path, files: int, mode: CheckpointMode) -> float:
    repo = CheckpointRepo.open(root, mode)
    pending: dict[int, dict[str, bytes]] = {}

    def one_step(i: int) -> None:
        repo.commit_step(
            pending.pop(i),
            agent="code_monkey",
            summary=f"bench step {i}",
            run_id="bench",
            step_id=f"{mode}-{i}",
            model="none",
            tokens=0,
        )

    # Files are changed on disk outside the timed region, as the server does before committing.
    for i in range(WARMUP + STEPS):
        pending[i] = change_files(root, files, i + (1000 if mode == "repo" else 0))
    return median_ms(one_step, WARMUP, STEPS)


def count_git_processes(root: Path, files: int, mode: CheckpointMode) -> int:
    repo = CheckpointRepo.open(root, mode)
    calls = 0
    real_run = git_plumbing.GitRunner.run

    def counting(self: git_plumbing.GitRunner, *args: str, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real_run(self, *args, **kwargs)  # type: ignore[arg-type]

    git_plumbing.GitRunner.run = counting  # type: ignore[assignment,method-assign]
    try:
        repo.commit_step(
            change_files(root, files, 5000),
            agent="a",
            summary="count",
            run_id="bench",
            step_id=f"count-{mode}",
            model="none",
            tokens=0,
        )
    finally:
        git_plumbing.GitRunner.run = real_run  # type: ignore[method-assign]
    return calls


def time_add_all(root: Path, files: int) -> float:
    """Median of `git add -A && git commit`, each after 5 untimed file changes; 1 warm-up."""
    times = []
    for i in range(1 + ADD_ALL_RUNS):
        change_files(root, files, 9000 + i)
        start = time.perf_counter()
        subprocess.run(
            "git add -A && git commit -q -m x", shell=True, cwd=root, env=GIT_ENV, check=True
        )
        if i:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="samokoder-bench-") as tmp:
        small, large = Path(tmp, "small"), Path(tmp, "large")
        started = time.perf_counter()
        build_workspace(small, SMALL)
        build_workspace(large, LARGE)
        print(f"built workspaces in {time.perf_counter() - started:.1f} s")

        results: dict[str, float] = {}
        for mode in ("shadow", "repo"):
            results[f"{mode} small"] = time_steps(small, SMALL, mode)
            results[f"{mode} large"] = time_steps(large, LARGE, mode)
        processes = {mode: count_git_processes(large, LARGE, mode) for mode in ("shadow", "repo")}
        add_all = time_add_all(large, LARGE)

    shadow_ratio = results["shadow large"] / results["shadow small"]
    repo_ratio = results["repo large"] / results["repo small"]
    print()
    print(f"{'commit_step, 5 changed files':<40}{'shadow':>10}{'repo':>10}")
    print(
        f"{'  ms per step, 100 files':<40}{results['shadow small']:>10.1f}{results['repo small']:>10.1f}"
    )
    print(
        f"{'  ms per step, 50,000 files':<40}{results['shadow large']:>10.1f}{results['repo large']:>10.1f}"
    )
    print(f"{'  ratio 50k / 100 (goal <= 1.5x)':<40}{shadow_ratio:>9.2f}x{repo_ratio:>9.2f}x")
    print(f"{'  git processes per step':<40}{processes['shadow']:>10}{processes['repo']:>10}")
    print(f"{'git add -A && git commit, 50k files, ms':<40}{add_all:>10.1f}")
    print(
        f"{'speed-up vs git add -A (goal >= 20x)':<40}"
        f"{add_all / results['shadow large']:>9.1f}x{add_all / results['repo large']:>9.1f}x"
    )


if __name__ == "__main__":
    main()
