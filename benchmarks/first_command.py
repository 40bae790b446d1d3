"""The first command after start vs a warm one, and `initialize` vs bare pygls, in one run.

Goal: an editSelection sent 5 s after the server process was spawned reaches the
provider at most 150 ms later than one sent to a warm server, while `initialize`
stays <= 1.10x a bare pygls server.

Run: uv run python benchmarks/first_command.py [--rounds N] [--first-at SECONDS] [--busy N]

--busy N keeps N processes spinning on the CPU for the whole run, as other work
on a shared machine does (litellm's import is CPU-bound, so its time follows load).

Each round: `initialize` of the bare pygls server and of `samokoder serve`,
alternating, INIT_PAIRS times each, timed as in `initialize_latency.py`; then one
full session: spawn `samokoder serve` (the fake provider runs in-process),
initialize, initialized, didOpen, as Neovim would; codeAction requests every 50 ms
until 5 s after the spawn (the event loop must stay responsive while litellm
loads in the background); then
`samokoder.editSelection`, timed from sending it to the provider receiving the chat
request; the run's proposal is rejected, and WARM more editSelection commands are
timed the same way. The session's server runs at --log-level INFO: the timestamp
of its "litellm ready" line, against the clock at the spawn, says when litellm was
loaded and warm. Round 0 (not counted) warms the disk cache. Exit status 1 when
a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._lsp_client import (
    LspClient,
    initialize_params,
    neovim_capabilities,
    percentile,
    python_argv,
)
from benchmarks.code_action_latency import (
    MODEL,
    finish_run,
    make_workspace,
    selection,
    server_env,
    source_text,
    start_edit,
)
from benchmarks.initialize_latency import BARE, SAMOKODER, time_initialize
from tests.fakes.fake_provider import FakeProvider, Reply

FIRST_AT = 5.0  # seconds after the spawn
WARM = 3
INIT_PAIRS = 3  # `initialize` samples per server and round (15 each in 5 rounds)
PROBE_EVERY = 0.05
GOAL_EXTRA_MS = 150.0
GOAL_INIT_RATIO = 1.10
# The server's stderr line (at --log-level INFO) that says litellm is loaded and warm.
READY = re.compile(r"^(\S+ \S+) INFO samokoder\.llm\.runtime: litellm ready", re.MULTILINE)
REPLY = Reply(text="```python\ndef item_5(price, qty):\n    return 0\n```\n")


@dataclass
class Session:
    initialize_ms: float = 0.0
    first_ms: float = 0.0
    warm_ms: list[float] = field(default_factory=list)
    probes_ms: list[float] = field(default_factory=list)
    litellm_ready_s: float | None = None


async def to_provider(
    client: LspClient, provider: FakeProvider, uri: str, rng: dict[str, Any], n: int
) -> float:
    """Milliseconds from sending editSelection to the provider receiving its chat request.

    Each instruction differs (`n`), so the LLM cache never answers in the provider's place.
    """
    seen = len(provider.requests)

    def arrival() -> float:
        provider.wait_for_requests(seen + 1, 120)
        return time.perf_counter()

    provider.script(REPLY)
    sent = time.perf_counter()
    waiter = asyncio.ensure_future(asyncio.to_thread(arrival))
    run_id = await start_edit(client, uri, rng, f"simplify, take {n}")
    arrived = await waiter
    await finish_run(client, run_id)
    return (arrived - sent) * 1000


async def probe_until(
    client: LspClient, uri: str, rng: dict[str, Any], until: float
) -> list[float]:
    """codeAction round trips (ms), one every PROBE_EVERY s until `until`."""
    params = {"textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": []}}
    samples: list[float] = []
    while time.perf_counter() + PROBE_EVERY < until:
        start = time.perf_counter()
        await client.request("textDocument/codeAction", params, 30)
        samples.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(PROBE_EVERY)
    await asyncio.sleep(max(0.0, until - time.perf_counter()))
    return samples


async def session(tmp: Path, root: Path, provider: FakeProvider, first_at: float) -> Session:
    result = Session()
    stderr = tmp / "server.stderr"
    caps = neovim_capabilities()
    caps["experimental"] = {"samokoderReview": True, "samokoderAsk": True}
    caps.setdefault("window", {})["workDoneProgress"] = True
    params = initialize_params(root, caps, {"model": MODEL, "apiBase": provider.base_url})
    spawned, spawned_wall = time.perf_counter(), time.time()
    client = await LspClient.spawn(
        python_argv("-m", "samokoder.cli", "serve", "--log-level", "INFO"),
        env=server_env(provider, tmp),
        cwd=root,
        stderr_path=stderr,
    )
    try:
        await client.request("initialize", params, 60)
        result.initialize_ms = (time.perf_counter() - spawned) * 1000
        client.notify("initialized", {})
        uri = (root / "inventory.py").as_uri()
        doc = {"uri": uri, "languageId": "python", "version": 1, "text": source_text()}
        client.notify("textDocument/didOpen", {"textDocument": doc})
        rng = selection(source_text())
        result.probes_ms = await probe_until(client, uri, rng, spawned + first_at)
        result.first_ms = await to_provider(client, provider, uri, rng, 0)
        for n in range(1, WARM + 1):
            result.warm_ms.append(await to_provider(client, provider, uri, rng, n))
    except BaseException:
        print(client.stderr_tail(40), file=sys.stderr)
        raise
    finally:
        code = await client.stop()
        if code not in (0, None):
            print(f"server exited with {code}{client.stderr_tail()}", file=sys.stderr)
    found = READY.findall(stderr.read_text(errors="replace"))
    if found:
        stamp = datetime.strptime(found[-1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        result.litellm_ready_s = stamp - spawned_wall
    return result


def spin(count: int) -> list[subprocess.Popen[bytes]]:
    """Processes that keep a CPU busy each until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


async def measure(
    rounds: int, first_at: float, busy: int = 0
) -> tuple[dict[str, list[float]], list[Session]]:
    inits: dict[str, list[float]] = {BARE[0]: [], SAMOKODER[0]: []}
    sessions: list[Session] = []
    provider = FakeProvider().start()
    burners = spin(busy)
    try:
        for round_no in range(rounds + 1):  # round 0 warms the disk cache, not counted
            with tempfile.TemporaryDirectory(prefix="samokoder-bench-first-") as name:
                tmp = Path(name)
                for sub in ("home", "cache"):
                    (tmp / sub).mkdir()
                params = initialize_params(tmp, neovim_capabilities(), {"model": MODEL})
                for _ in range(INIT_PAIRS):
                    for label, args, server_name in (BARE, SAMOKODER):
                        ms = await time_initialize(
                            python_argv(*args), params, server_name, tmp / f"{server_name}.err"
                        )
                        if round_no:
                            inits[label].append(ms)
                one = await session(tmp, make_workspace(tmp), provider, first_at)
                if round_no:
                    sessions.append(one)
                    print(
                        f"round {round_no}: first {one.first_ms:.0f} ms, warm "
                        f"{statistics.median(one.warm_ms):.0f} ms, litellm ready at "
                        f"{fmt_s(one.litellm_ready_s)}",
                        flush=True,
                    )
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
        provider.stop()
    return inits, sessions


def fmt_s(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f} s"


def report(inits: dict[str, list[float]], sessions: list[Session], first_at: float) -> bool:
    bare, ours = statistics.median(inits[BARE[0]]), statistics.median(inits[SAMOKODER[0]])
    ratio = ours / bare
    first = [s.first_ms for s in sessions]
    warm = [w for s in sessions for w in s.warm_ms]
    probes = [p for s in sessions for p in s.probes_ms]
    ready = [s.litellm_ready_s for s in sessions if s.litellm_ready_s is not None]
    extra = statistics.median(first) - statistics.median(warm)
    print(f"\n{sys.executable} (Python {sys.version.split()[0]}), {len(sessions)} rounds")
    print(f"{'':<44}{'median':>9}{'max':>9}")
    rows = [
        ("initialize, bare pygls (ms)", inits[BARE[0]]),
        ("initialize, samokoder serve (ms)", inits[SAMOKODER[0]]),
        (f"first editSelection at {first_at:g} s -> provider (ms)", first),
        ("warm editSelection -> provider (ms)", warm),
        (f"codeAction before {first_at:g} s, {len(probes)} (ms)", probes),
        ("litellm ready after spawn (s)", ready),
    ]
    for label, values in rows:
        if values:
            print(f"{label:<44}{statistics.median(values):>9.1f}{max(values):>9.1f}")
    if probes:
        print(f"{'codeAction p99 before first command (ms)':<44}{percentile(probes, 99):>9.1f}")
    init_ok = ratio <= GOAL_INIT_RATIO
    first_ok = extra <= GOAL_EXTRA_MS
    print(
        f"initialize ratio (median) {ratio:.2f}x, goal <= {GOAL_INIT_RATIO:.2f}x: "
        f"{'ok' if init_ok else 'ABOVE GOAL'}"
    )
    print(
        f"first command minus warm (median) {extra:.0f} ms, goal <= {GOAL_EXTRA_MS:.0f} ms: "
        f"{'ok' if first_ok else 'ABOVE GOAL'}"
    )
    return init_ok and first_ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--first-at", type=float, default=FIRST_AT, help="seconds after spawn")
    parser.add_argument(
        "--busy", type=int, default=0, help="processes spinning on the CPU meanwhile (load)"
    )
    args = parser.parse_args()
    if args.busy:
        print(f"{args.busy} busy processes on {os.cpu_count()} CPUs during the whole run")
    inits, sessions = await measure(args.rounds, args.first_at, args.busy)
    return 0 if report(inits, sessions, args.first_at) else 1


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
