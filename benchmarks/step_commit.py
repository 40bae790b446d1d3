"""How long a checkpoint step takes in a small and a large workspace, vs `git add -A`.

Run: uv run python benchmarks/step_commit.py

Builds a 100-file and a 50,000-file workspace (small text files in nested folders,
each a user Git repository with everything committed), then times
`CheckpointRepo.commit_step` with 5 changed files (median of 15 steps after 2
warm-ups) in "shadow" and "repo" mode, and `git add -A && git commit` on the large
tree after changing 5 files (median of 5, warm), all interleaved.
Goals: large/small <= 1.5x, speed-up vs `git add -A` >= 20x.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.workspace import git_plumbing
from samokoder.workspace.checkpoints import CheckpointMode, CheckpointRepo

SMALL, LARGE = 100, 50_000
CHANGED = 5
WARMUP, STEPS = 2, 15  # `git add -A` runs every 3rd round: 1 warm-up + 5 timed
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def rel_path(i: int, files: int) -> str:
    """Folders of 20 files, 25 folders per package; at least 5 packages so that in both
    workspaces the 5 files of a step sit in 5 different packages (equal tree work)."""
    packages = max(CHANGED, files // 500)
    per_package = files // packages
    package, rest = divmod(i, per_package)
    return f"pkg{package:03d}/mod{rest // 20:02d}/file_{i:05d}.py"


def build_workspace(root: Path, files: int) -> None:
    root.mkdir()
    for i in range(files):
        path = root / rel_path(i, files)
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
        rel = rel_path(k * (files // CHANGED) + round_no * 7 % (files // CHANGED), files)
        data = f"# changed in round {round_no}\nVALUE = {round_no}\n".encode()
        (root / rel).write_bytes(data)
        changes[rel] = data
    return changes


def one_step(repo: CheckpointRepo, changes: dict[str, bytes], step_id: str) -> float:
    start = time.perf_counter()
    repo.commit_step(
        changes,
        agent="code_monkey",
        summary=f"bench step {step_id}",
        run_id="bench",
        step_id=step_id,
        model="none",
        tokens=0,
    )
    return (time.perf_counter() - start) * 1000


def add_all(root: Path, files: int, round_no: int) -> float:
    change_files(root, files, round_no)
    start = time.perf_counter()
    subprocess.run(
        "git add -A && git commit -q -m x", shell=True, cwd=root, env=GIT_ENV, check=True
    )
    return (time.perf_counter() - start) * 1000


def run_interleaved(small: Path, large: Path, mode: CheckpointMode) -> dict[str, list[float]]:
    """Alternate small step, large step (and, in shadow mode, `git add -A` on the large
    tree every third round), so that load from anything else on the machine hits all alike.
    Files change on disk outside the timed region, as the server writes them first."""
    repos = {"small": CheckpointRepo.open(small, mode), "large": CheckpointRepo.open(large, mode)}
    sizes = {"small": (small, SMALL), "large": (large, LARGE)}
    times: dict[str, list[float]] = {"small": [], "large": [], "add_all": []}
    offset = 1000 if mode == "repo" else 0
    for i in range(WARMUP + STEPS):
        for name, repo in repos.items():
            root, files = sizes[name]
            ms = one_step(repo, change_files(root, files, offset + i), f"{mode}-{i}")
            if i >= WARMUP:
                times[name].append(ms)
        if mode == "shadow" and i % 3 == 0:
            times["add_all"].append(add_all(large, LARGE, 9000 + i))
    times["add_all"] = times["add_all"][1:]  # the first one is the warm-up
    return times


def count_git_processes(root: Path, files: int, mode: CheckpointMode) -> tuple[int, int]:
    """git processes for the first step of a fresh instance, then for its next step."""
    repo = CheckpointRepo.open(root, mode)
    calls = 0
    real_run = git_plumbing.GitRunner.run

    def counting(self: git_plumbing.GitRunner, *args: str, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real_run(self, *args, **kwargs)  # type: ignore[arg-type]

    counts = []
    git_plumbing.GitRunner.run = counting  # type: ignore[assignment,method-assign]
    try:
        for i in range(2):
            calls = 0
            one_step(repo, change_files(root, files, 5000 + i), f"count-{mode}-{i}")
            counts.append(calls)
    finally:
        git_plumbing.GitRunner.run = real_run  # type: ignore[method-assign]
    return counts[0], counts[1]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="samokoder-bench-") as tmp:
        small, large = Path(tmp, "small"), Path(tmp, "large")
        started = time.perf_counter()
        build_workspace(small, SMALL)
        build_workspace(large, LARGE)
        os.sync()  # let the build's writeback finish so it does not slow the timed steps
        print(f"built workspaces in {time.perf_counter() - started:.1f} s")
        shadow = run_interleaved(small, large, "shadow")
        repo = run_interleaved(small, large, "repo")
        processes = {mode: count_git_processes(large, LARGE, mode) for mode in ("shadow", "repo")}

    med = {f"{mode} {name}": statistics.median(values)
           for mode, runs in (("shadow", shadow), ("repo", repo))
           for name, values in runs.items() if values}  # fmt: skip
    add_ms = med["shadow add_all"]
    print()
    print(f"{'commit_step, 5 changed files (median ms)':<42}{'shadow':>9}{'repo':>9}")
    for label, size in (("100 files", "small"), ("50,000 files", "large")):
        row = f"  ms per step, {label}"
        print(f"{row:<42}{med[f'shadow {size}']:>9.1f}{med[f'repo {size}']:>9.1f}")
    ratios = [med[f"{m} large"] / med[f"{m} small"] for m in ("shadow", "repo")]
    print(f"{'  ratio 50k / 100 (goal <= 1.5x)':<42}{ratios[0]:>8.2f}x{ratios[1]:>8.2f}x")
    counts = [f"{first}/{then}" for first, then in processes.values()]
    print(f"{'  git processes, first step/next steps':<42}{counts[0]:>9}{counts[1]:>9}")
    print(f"{'git add -A && git commit, 50k files, ms':<42}{add_ms:>9.1f}")
    speedups = [add_ms / med[f"{m} large"] for m in ("shadow", "repo")]
    print(f"{'speed-up vs git add -A (goal >= 20x)':<42}{speedups[0]:>8.1f}x{speedups[1]:>8.1f}x")


if __name__ == "__main__":
    main()
