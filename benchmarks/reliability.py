"""Reliability figures: break things on purpose, count what was lost.

Run: uv run python benchmarks/reliability.py [--kills 50] [--fuzz 400] [--runs 20]

1. Crash safety: a worker applying, undoing and redoing steps through the production
   code is killed with SIGKILL at every named crash point (apply and undo) and at
   `--kills` random moments; after each kill the folder is opened again (recovery) and
   checked: half-written or temporary files, `git fsck`, store vs checkpoint branch,
   changes without a step, steps the worker saw complete, undo/redo afterwards.
2. Protocol fuzzing: `--fuzz` Hypothesis bursts of generated LSP requests and
   notifications against one live server: crashes, hangs (no answer in 20 s), requests
   answered more than once, internal errors.
3. Concurrent edits: typing under pending proposals and during runs, a git checkout
   under a waiting proposal, queued runs, accept racing cancel/accept/reject.
4. Load: `--runs` editSelection runs queued at once on one folder against a provider
   with 200 ms latency; codeAction latency meanwhile, and server RSS before and after.

Prints figures; asserts nothing (the tests in tests/reliability/ do).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._lsp_client import percentile
from samokoder.crashpoints import POINTS
from tests.e2e.harness import git, start_editor, stop_editor
from tests.fakes.fake_provider import FakeProvider
from tests.reliability.concurrent_cases import Cases
from tests.reliability.crash_scenario import Kill, check, make_workspace, run_worker
from tests.reliability.load import run_load


def crash_safety(tmp: Path, kills: int) -> dict[str, Any]:
    rng = random.Random(7)
    plan = []
    for mode, random_kills in (("shadow", kills), ("repo", kills // 2)):
        plan += [Kill(crash=f"{kind}:{p}", mode=mode) for kind in ("apply", "undo") for p in POINTS]
        plan += [
            Kill(delay=rng.uniform(0.05, 0.5), early=i % 5 == 4, mode=mode)
            for i in range(random_kills)
        ]
    totals: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    started = time.perf_counter()
    root = tmp / "crash-0" / "project"
    for n, kill in enumerate(plan):
        if kill.crash or n % 5 == 0:
            root = tmp / f"crash-{n}" / "project"
            make_workspace(root, kill.mode)
        status = run_worker(root, n, kill)
        verdict = asyncio.run(check(root, kill.mode))
        totals["killed"] += status == -signal.SIGKILL
        totals["files corrupted"] += verdict.files_corrupted
        totals["steps lost"] += verdict.steps_lost
        totals["undo/redo failing after restart"] += bool(verdict.undo_error)
        totals["fsck errors"] += bool(verdict.fsck_errors)
        totals["store/branch disagreements"] += bool(verdict.chain_mismatch)
        outcomes.update(verdict.recovered)
        problems += [f"{kill}: {p}" for p in verdict.problems()]
        totals["steps journaled"] += len((root.parent / "journal.txt").read_text().splitlines())
    return {
        "runs": len(plan),
        "totals": totals,
        "outcomes": outcomes,
        "problems": problems,
        "seconds": time.perf_counter() - started,
    }


def fuzzing(tmp: Path, examples: int) -> dict[str, Any]:
    from hypothesis import HealthCheck, given, settings

    from tests.reliability.lsp_strategies import EMOJI_LINE, Workspace, messages
    from tests.reliability.wire import WireClient

    root = tmp / "fuzz" / "project"
    (root / "src").mkdir(parents=True)
    (root / "app.py").write_text("import os\n" + EMOJI_LINE + "print(greeting)\n")
    (root / "src" / "util.py").write_text("def f():\n    return 1\n")
    (root / ".env").write_text("SECRET=1\n")
    ws = Workspace(root, ("app.py", "src/util.py", ".env"))
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    with FakeProvider() as provider:
        client = WireClient.spawn(provider, tmp / "fuzz")
        client.initialize(root, options={"cache": False})
        client.open(root, "app.py")

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(burst=messages(ws))
        def burst(burst: list[tuple[str, str, Any]]) -> None:
            futures = []
            for kind, method, params in burst:
                if kind == "notify":
                    client.notify(method, params)
                    counts["notifications"] += 1
                else:
                    futures.append(client.start_request(method, params)[1])
            for future in futures:
                counts["requests"] += 1
                try:
                    response = future.result(20)
                except TimeoutError:
                    counts["hangs"] += 1
                    continue
                except Exception:
                    counts["crashes"] += 1
                    continue
                if response.get("error", {}).get("code") == -32603:
                    counts["internal errors"] += 1

        try:
            burst()
        finally:
            counts["crashes"] += not client.alive()
            counts["answered twice"] = sum(1 for n in client.answers.values() if n > 1)
            client.close()
    return {"counts": counts, "seconds": time.perf_counter() - started}


async def concurrent_edits(tmp: Path) -> dict[str, Any]:
    root = tmp / "concurrent" / "project"
    root.mkdir(parents=True)
    (root / "README.md").write_text("concurrent edits\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    with FakeProvider() as provider:
        ed = await start_editor(
            root, provider, tmp / "concurrent", "vscode", options={"cache": False}
        )
        try:
            results = [await case() for case in Cases(ed).all()]
        finally:
            await stop_editor(ed)
    return {"results": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="random kills (default 50)")
    parser.add_argument("--fuzz", type=int, default=400, help="fuzz bursts (default 400)")
    parser.add_argument("--runs", type=int, default=20, help="queued runs (default 20)")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # recovery reports each settled step as a warning
    version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"Samokoder reliability figures ({time.strftime('%Y-%m-%d')}, {version})\n")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)

        crash = crash_safety(tmp, args.kills)
        t = crash["totals"]
        print(f"1. crash safety ({crash['seconds']:.0f} s)")
        print(
            f"   runs killed with SIGKILL:        {t['killed']} of {crash['runs']}"
            f" ({4 * len(POINTS)} at named crash points, {args.kills + args.kills // 2} at"
            " random moments; shadow and repo checkpoints)"
        )
        print(f"   steps completed before the kills: {t['steps journaled']}")
        print(f"   files corrupted:                  {t['files corrupted']}")
        print(f"   steps lost:                       {t['steps lost']}")
        print(f"   undo/redo failing after restart:  {t['undo/redo failing after restart']}")
        print(f"   git fsck errors:                  {t['fsck errors']}")
        print(f"   store/branch disagreements:       {t['store/branch disagreements']}")
        settled = ", ".join(f"{k} {v}" for k, v in sorted(crash["outcomes"].items()))
        print(f"   interrupted steps settled on restart: {settled or 'none'}")
        for problem in crash["problems"][:10]:
            print(f"   PROBLEM {problem}")

        fuzz = fuzzing(tmp, args.fuzz)
        c = fuzz["counts"]
        print(f"\n2. protocol fuzzing ({fuzz['seconds']:.0f} s)")
        print(f"   fuzzed requests:  {c['requests']} (+ {c['notifications']} notifications)")
        print(f"   crashes:          {c['crashes']}")
        print(f"   hangs (>20 s):    {c['hangs']}")
        print(f"   answered twice:   {c['answered twice']}")
        print(f"   internal errors:  {c['internal errors']}")

        conc = asyncio.run(concurrent_edits(tmp))
        results = conc["results"]
        print("\n3. concurrent edits")
        print(f"   cases:                {len(results)}")
        typed = sum(r.keystrokes for r in results)
        print(f"   keystrokes typed (and writes by other programs): {typed}")
        print(f"   keystrokes lost:      {sum(r.keystrokes_lost for r in results)}")
        print(f"   outcomes misreported: {sum(len(r.mismatches) for r in results)}")
        for r in results:
            print(f"     {r.name:<50} {', '.join(r.outcomes) or '-'}")

        with FakeProvider() as provider:
            load = run_load(provider, tmp, runs=args.runs)
        ms = load.code_action_ms
        print(f"\n4. load: {args.runs} editSelection runs queued at once, provider latency 200 ms")
        print(
            f"   runs: {dict(load.statuses)} in {load.seconds:.1f} s; steps recorded {load.steps}"
        )
        print(
            f"   codeAction meanwhile: n={len(ms)} p50 {percentile(ms, 50):.1f} ms,"
            f" p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms; unanswered {load.unanswered}"
        )
        print(
            f"   server RSS: {load.rss_before_kib / 1024:.0f} MiB before,"
            f" {load.rss_after_kib / 1024:.0f} MiB after"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
