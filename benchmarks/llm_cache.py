"""The LLM layer's figures: cache savings, per-call overhead, fault tolerance.

Run: uv run python benchmarks/llm_cache.py

Everything goes through litellm for real, to the fake provider on 127.0.0.1, with the
same wiring as ``agents.llm_gateway.chat`` (model chain, response cache in a temporary
cache directory, budget, breaker, a ledger row per attempt in a real store).

- Cache: the same request twice; the second must make 0 provider calls.
- Overhead: server-side time per call excluding the provider call itself (stream_chat),
  median of 200 calls with the cache on (misses) and a budget set. Goal <= 5 % of a 1 s call.
- Fault tolerance: 50 requests while 30 % of provider requests fail (500, 429 with
  Retry-After, a stream cut mid-way, malformed stream), main model plus one fallback.
  Goal: 100 % answered.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.llm.breaker import BreakerRegistry
from samokoder.llm.budget import RunBudget
from samokoder.llm.cache import ResponseCache
from samokoder.llm.client import Completion, ModelCall, stream_chat
from samokoder.llm.resilience import AttemptRecord, ChatOptions, resilient_chat
from samokoder.llm.runtime import close_async_clients, load_litellm
from samokoder.store.db import Store
from samokoder.store.rows import LLMRequestRow, RunRow
from tests.fakes.fake_provider import FakeProvider, Reply

MESSAGES = [
    {"role": "system", "content": "You are the code writer."},
    {"role": "user", "content": "Rewrite greet() with an f-string."},
]
FAULTS: list[Reply] = [
    Reply(fault="http_500"),
    Reply(fault="http_429", retry_after=0.05),
    Reply(text="x" * 200, chunks=10, fault="cut_stream"),
    Reply(text="never", fault="bad_json"),
]


class Timed:
    """stream_chat, timing each provider call so the rest is the layer's overhead."""

    def __init__(self) -> None:
        self.seconds = 0.0

    async def __call__(self, *args: Any, **kwargs: Any) -> Completion:
        started = time.perf_counter()
        try:
            return await stream_chat(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def options(store: Store, run_id: str, cache: ResponseCache | None, **extra: Any) -> ChatOptions:
    async def record(attempt: AttemptRecord) -> None:
        done = attempt.completion
        row = LLMRequestRow(
            run_id,
            "code_monkey",
            attempt.model,
            done.prompt_tokens if done else 0,
            done.completion_tokens if done else 0,
            done.cost_usd if done else 0.0,
            attempt.latency_ms,
            attempt.cache_hit,
            attempt.retries,
            attempt.error_kind,
            time.time(),
        )
        await asyncio.to_thread(store.add_llm_request, row)

    return ChatOptions(cache=cache, record=record, **extra)


async def cache_figures(fake: FakeProvider, store: Store, cache: ResponseCache) -> None:
    call = ModelCall(model="openai/gpt-4o-mini", api_base=fake.base_url, api_key="sk-bench-0000")
    fake.script(Reply(text="def greet(name):\n    return f'hi {name}'\n", prompt_tokens=900))
    for label in ("first run", "second run"):
        before = len(fake.requests)
        done = await resilient_chat([call], MESSAGES, options=options(store, "r-cache", cache))
        print(
            f"cache, {label}: {len(fake.requests) - before} provider call(s), "
            f"{done.prompt_tokens} + {done.completion_tokens} tokens, ${done.cost_usd:.6f}, "
            f"cache hit: {done.cache_hit}"
        )


async def overhead_figures(fake: FakeProvider, store: Store, cache: ResponseCache) -> None:
    fake.responder = lambda body: Reply(text="ok " * 20)
    timed = Timed()
    overheads = []
    for i in range(220):
        call = ModelCall(
            model="openai/gpt-4o-mini", api_base=fake.base_url, api_key="sk-bench-0000"
        )
        messages = [*MESSAGES, {"role": "user", "content": f"variant {i}"}]  # cache misses
        opts = options(store, "r-overhead", cache, budget=RunBudget(100.0), send=timed)
        timed.seconds = 0.0
        started = time.perf_counter()
        await resilient_chat([call], messages, options=opts)
        if i >= 20:  # warm-up
            overheads.append((time.perf_counter() - started - timed.seconds) * 1000)
    median = statistics.median(overheads)
    p95 = statistics.quantiles(overheads, n=20)[-1]
    print(
        f"overhead per call (cache miss + put, budget, ledger row): median {median:.1f} ms, "
        f"p95 {p95:.1f} ms = {median / 10:.2f} % of a 1 s call (goal <= 5 %)"
    )


async def fault_figures(fake: FakeProvider, store: Store) -> None:
    rng = random.Random(7)
    failed = 0

    def responder(body: dict[str, Any]) -> Reply:
        nonlocal failed
        if rng.random() < 0.3:
            failed += 1
            return rng.choice(FAULTS)
        return Reply(text="fixed")

    fake.responder = responder
    calls = [
        ModelCall(model=f"openai/{name}", api_base=fake.base_url, api_key="sk-bench-0000")
        for name in ("fake-model", "fake-coder")
    ]
    breakers = BreakerRegistry()
    answered = retries = by_fallback = 0
    started = time.perf_counter()
    before = len(fake.requests)
    for _ in range(50):
        opts = options(store, "r-faults", None, breakers=breakers)
        try:
            done = await resilient_chat(calls, MESSAGES, options=opts)
        except Exception as exc:
            print("  not answered:", str(exc)[:200])
            continue
        answered += 1
        retries += done.retries
        by_fallback += done.model == "openai/fake-coder"
    provider_requests = len(fake.requests) - before
    print(
        f"fault tolerance: {answered}/50 answered ({answered * 2} %), {provider_requests} "
        f"provider requests of which {failed} failed ({failed * 100 // provider_requests} %), "
        f"{retries} failed attempts absorbed, {by_fallback} answered by the fallback model, "
        f"{time.perf_counter() - started:.1f} s"
    )


async def main() -> None:
    load_litellm()
    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake:
        root = Path(tmp) / "ws"
        root.mkdir()
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        cache = ResponseCache(Path(tmp) / "cache" / "responses.db")
        with Store.open(root) as store:
            for run_id in ("r-cache", "r-overhead", "r-faults"):
                store.create_run(
                    RunRow(run_id, "bench", "", "running", "", None, time.time(), None)
                )
            await cache_figures(fake, store, cache)
            await overhead_figures(fake, store, cache)
            await fault_figures(fake, store)
        cache.close()
        await close_async_clients()


if __name__ == "__main__":
    asyncio.run(main())
