"""`initialize` latency of `samokoder serve` vs a bare pygls server. Goal: ratio <= 1.10x.

Run: uv run python benchmarks/initialize_latency.py

Each sample is the wall time from just before spawning the server process to
receiving its `initialize` response (the request is written right after the
spawn, as an editor does). Both servers run on this interpreter via
`python -m <module>` from the repository root, alternating A B A B, 2 warm-ups
each then 15 rounds each; the client is raw JSON-RPC (see `_lsp_client.py`).
Then one `-X importtime` run of each server shows what Samokoder imports before
answering `initialize` that the bare server does not, and checks that nothing
heavy (pydantic, Git, SQLite, litellm, the domain packages) is among it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._lsp_client import (
    REPO_ROOT,
    LspClient,
    initialize_params,
    neovim_capabilities,
    percentile,
    python_argv,
)

WARMUP, ROUNDS = 2, 15
GOAL = 1.10
BARE = ("bare pygls", ("-m", "benchmarks.bare_pygls_server"), "bare-pygls")
SAMOKODER = ("samokoder serve", ("-m", "samokoder.cli", "serve"), "samokoder")
# Not allowed before `initialize` is answered (DESIGN §2): top-level packages and our domain.
HEAVY_TOP_LEVEL = {"pydantic", "pydantic_core", "git", "sqlite3", "_sqlite3", "litellm", "httpx"}
HEAVY_TOP_LEVEL |= {"openai", "watchfiles", "platformdirs", "tiktoken", "aiohttp"}
HEAVY_PREFIXES = ("samokoder.agents", "samokoder.workspace", "samokoder.llm", "samokoder.store")
HEAVY_PREFIXES += ("samokoder.settings",)
TOP_IMPORTS = 12


@dataclass(frozen=True)
class Import:
    name: str
    self_us: int
    cumulative_us: int
    depth: int


async def time_initialize(
    argv: list[str], params: dict[str, object], server_name: str, stderr: Path
) -> float:
    """Milliseconds from spawn to the `initialize` response; the server is then shut down."""
    start = time.perf_counter()
    client = await LspClient.spawn(argv, env=dict(os.environ), cwd=REPO_ROOT, stderr_path=stderr)
    try:
        result = await client.request("initialize", params, seconds=60)
        elapsed = (time.perf_counter() - start) * 1000
        name = (result.get("serverInfo") or {}).get("name")
        if name != server_name:
            raise RuntimeError(f"expected server {server_name!r}, got {name!r}")
        await client.stop()
        return elapsed
    finally:
        await client.kill()


async def measure(tmp: Path) -> dict[str, list[float]]:
    params = initialize_params(tmp, neovim_capabilities(), {"model": "openai/fake-model"})
    samples: dict[str, list[float]] = {BARE[0]: [], SAMOKODER[0]: []}
    for round_no in range(WARMUP + ROUNDS):
        for label, args, server_name in (BARE, SAMOKODER):
            ms = await time_initialize(
                python_argv(*args), params, server_name, tmp / f"{server_name}.stderr"
            )
            if round_no >= WARMUP:
                samples[label].append(ms)
    return samples


async def import_trace(args: Iterable[str], tmp: Path, name: str) -> list[Import]:
    """Every import a server makes up to answering `initialize` (no `initialized` is sent)."""
    stderr = tmp / f"{name}.importtime"
    client = await LspClient.spawn(
        python_argv("-X", "importtime", *args),
        env=dict(os.environ),
        cwd=REPO_ROOT,
        stderr_path=stderr,
    )
    try:
        await client.request("initialize", initialize_params(tmp, neovim_capabilities(), {}), 60)
        await client.stop()
    finally:
        await client.kill()
    return parse_importtime(stderr.read_text(errors="replace"))


def parse_importtime(text: str) -> list[Import]:
    imports: list[Import] = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3:
            continue
        raw_name = fields[2].rstrip()
        name = raw_name.lstrip()
        depth = (len(raw_name) - len(name) - 1) // 2
        imports.append(Import(name, int(fields[0]), int(fields[1]), depth))
    return imports


def is_heavy(name: str) -> bool:
    return name.split(".")[0] in HEAVY_TOP_LEVEL or name.startswith(HEAVY_PREFIXES)


def print_latency(samples: dict[str, list[float]]) -> None:
    bare, ours = samples[BARE[0]], samples[SAMOKODER[0]]
    ratio = statistics.median(ours) / statistics.median(bare)
    verdict = "ok" if ratio <= GOAL else "ABOVE GOAL"
    print(f"\n{sys.executable} (Python {sys.version.split()[0]}), {ROUNDS} rounds each")
    print(f"{'initialize latency (ms)':<24}{'median':>9}{'p90':>9}{'min':>9}{'max':>9}")
    for label, values in ((BARE[0], bare), (SAMOKODER[0], ours)):
        print(
            f"{label:<24}{statistics.median(values):>9.1f}{percentile(values, 90):>9.1f}"
            f"{min(values):>9.1f}{max(values):>9.1f}"
        )
    print(f"{'ratio (median)':<24}{ratio:>8.2f}x   goal <= {GOAL:.2f}x: {verdict}")


def own_cumulative(imports: list[Import], extra: set[str]) -> dict[str, int]:
    """Per module, the self time (us) of its import subtree spent on modules in `extra`.

    -X importtime prints post-order (children, deeper, just before their parent),
    so a running total per depth rebuilds each subtree.
    """
    totals: dict[str, int] = {}
    pending: dict[int, int] = {}
    for imp in imports:
        subtree = (imp.self_us if imp.name in extra else 0) + pending.pop(imp.depth + 1, 0)
        pending[imp.depth] = pending.get(imp.depth, 0) + subtree
        totals[imp.name] = subtree
    return totals


def print_imports(bare: list[Import], ours: list[Import]) -> None:
    bare_names = {i.name for i in bare}
    extra = [i for i in ours if i.name not in bare_names]
    own = own_cumulative(ours, {i.name for i in extra})
    print(
        f"\nimports before `initialize` is answered (-X importtime, one run each): "
        f"bare pygls {len(bare)} modules ({sum(i.self_us for i in bare) / 1000:.1f} ms self), "
        f"samokoder {len(ours)} ({sum(i.self_us for i in ours) / 1000:.1f} ms self)"
    )
    print(
        f"only in samokoder: {len(extra)} modules, "
        f"{sum(i.self_us for i in extra) / 1000:.1f} ms self time in total"
    )
    print(f"{'  module (not imported by bare pygls)':<44}{'self ms':>9}{'own cum':>9}")
    for imp in sorted(extra, key=lambda i: own[i.name], reverse=True)[:TOP_IMPORTS]:
        print(f"  {imp.name:<42}{imp.self_us / 1000:>9.1f}{own[imp.name] / 1000:>9.1f}")
    print("  (own cum: self time of the module and of what it alone pulls in)")
    heavy = sorted({i.name for i in ours if is_heavy(i.name)})
    print(f"heavy modules on the startup path: {', '.join(heavy) if heavy else 'none'}")


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="samokoder-bench-init-") as tmp_name:
        tmp = Path(tmp_name)
        samples = await measure(tmp)
        print_latency(samples)
        bare = await import_trace(BARE[1], tmp, "bare")
        ours = await import_trace(SAMOKODER[1], tmp, "samokoder")
        print_imports(bare, ours)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
