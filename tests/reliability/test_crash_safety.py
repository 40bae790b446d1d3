"""A worker applying, undoing and redoing steps is killed with SIGKILL at every named crash
point and at random moments; the folder, once opened again, must be whole.

"Whole": no temporary or half-written file; `git fsck` clean; the store's steps are
exactly the checkpoint branch's commits; every file holds what the last recorded step
left (no change without a step, no step without its change); nothing the worker saw
complete is missing; undo and redo work. Both checkpoint modes: the shadow repository,
and "repo" (the user's branch, whose index must agree too). Set
SAMOKODER_RELIABILITY_KILLS for more random kills (default 50; half as many in repo mode).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from pathlib import Path

import pytest

from samokoder.crashpoints import POINTS
from tests.reliability.crash_scenario import Kill, check, make_workspace, run_worker

RANDOM_KILLS = int(os.environ.get("SAMOKODER_RELIABILITY_KILLS", "50"))
KILLS_PER_FOLDER = 5

# What opening the folder again does with the step cut at each point.
EXPECTED = {
    "step_planned": ["not_applied"],
    "mid_disk_writes": ["completed"],
    "after_apply_before_commit": ["completed"],
    "after_blob_writes": ["completed"],
    "before_ref_update": ["completed"],
    "after_ref_update": ["recorded"],
    "after_step_row": [],
}


def test_every_point_has_an_expectation() -> None:
    assert list(EXPECTED) == list(POINTS)


@pytest.mark.parametrize("mode", ["shadow", "repo"])
@pytest.mark.parametrize("kind", ["apply", "undo"])
@pytest.mark.parametrize("point", POINTS)
async def test_killed_at_a_crash_point(tmp_path: Path, point: str, kind: str, mode: str) -> None:
    root = tmp_path / "project"
    make_workspace(root, mode)
    seed = POINTS.index(point) + (100 if kind == "undo" else 0)
    spec = point if kind == "apply" else f"{kind}:{point}"
    status = await asyncio.to_thread(run_worker, root, seed, Kill(crash=spec, mode=mode))
    assert status == -signal.SIGKILL, (tmp_path / "worker.log").read_text()
    verdict = await check(root, mode)
    assert verdict.problems() == []
    assert verdict.recovered == EXPECTED[point]
    assert verdict.interrupted_runs == [f"r-worker-{seed}"]


@pytest.mark.parametrize(("mode", "kills"), [("shadow", RANDOM_KILLS), ("repo", RANDOM_KILLS // 2)])
async def test_killed_at_random_moments(tmp_path: Path, mode: str, kills: int) -> None:
    rng = random.Random(int(os.environ.get("SAMOKODER_RELIABILITY_SEED", "7")))
    outcomes: Counter[str] = Counter()
    root = tmp_path / "0" / "project"
    for kill_no in range(kills):
        if kill_no % KILLS_PER_FOLDER == 0:
            root = tmp_path / str(kill_no) / "project"
            make_workspace(root, mode)
        early = kill_no % KILLS_PER_FOLDER == KILLS_PER_FOLDER - 1  # maybe while recovering
        kill = Kill(delay=rng.uniform(0.05, 0.5), early=early, mode=mode)
        await asyncio.to_thread(run_worker, root, kill_no, kill)
        verdict = await check(root, mode)
        assert verdict.problems() == [], (kill_no, kill)
        outcomes.update(verdict.recovered)
    # The kills did land mid-step, not only between steps.
    assert sum(outcomes.values()) > 0, outcomes
