"""The circuit breaker: closed, open after N failures, one half-open probe, then a verdict."""

from __future__ import annotations

import threading

import pytest

from samokoder.llm.breaker import BreakerRegistry

KEY = "openai/fake-model"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breakers(clock: Clock) -> BreakerRegistry:
    return BreakerRegistry(threshold=3, cooldown=30.0, clock=clock)


def fail(breakers: BreakerRegistry, times: int) -> None:
    for _ in range(times):
        assert breakers.acquire(KEY)
        breakers.failure(KEY, "HTTP 500")


def test_closed_until_threshold_consecutive_failures(breakers: BreakerRegistry) -> None:
    fail(breakers, 2)
    assert breakers.view(KEY).state == "closed"
    assert breakers.acquire(KEY)
    breakers.failure(KEY, "HTTP 500")

    view = breakers.view(KEY)
    assert view.state == "open"
    assert view.failures == 3
    assert view.retry_in == pytest.approx(30.0)
    assert view.last_error == "HTTP 500"
    assert not breakers.acquire(KEY)


def test_a_success_resets_the_count(breakers: BreakerRegistry) -> None:
    fail(breakers, 2)
    assert breakers.acquire(KEY)
    breakers.success(KEY)
    fail(breakers, 2)
    assert breakers.view(KEY).state == "closed"
    assert breakers.view(KEY).failures == 2


def test_half_open_lets_exactly_one_probe_through(breakers: BreakerRegistry, clock: Clock) -> None:
    fail(breakers, 3)
    clock.now += 29.9
    assert not breakers.acquire(KEY)
    clock.now += 0.2

    assert breakers.view(KEY).state == "half_open"
    assert breakers.acquire(KEY) == "probe"
    assert not breakers.acquire(KEY)  # everyone else keeps going to the fallback
    assert breakers.view(KEY).state == "half_open"


def test_successful_probe_closes(breakers: BreakerRegistry, clock: Clock) -> None:
    fail(breakers, 3)
    clock.now += 31
    assert breakers.acquire(KEY)
    breakers.success(KEY)

    assert breakers.view(KEY).state == "closed"
    assert breakers.view(KEY).failures == 0
    assert breakers.acquire(KEY) and breakers.acquire(KEY)


def test_failed_probe_opens_for_a_fresh_cooldown(breakers: BreakerRegistry, clock: Clock) -> None:
    fail(breakers, 3)
    clock.now += 31
    assert breakers.acquire(KEY)
    breakers.failure(KEY, "timeout")

    view = breakers.view(KEY)
    assert view.state == "open"
    assert view.retry_in == pytest.approx(30.0)
    assert not breakers.acquire(KEY)
    clock.now += 30.5
    assert breakers.acquire(KEY)


def test_released_probe_lets_the_next_caller_probe(breakers: BreakerRegistry, clock: Clock) -> None:
    fail(breakers, 3)
    clock.now += 31
    assert breakers.acquire(KEY)
    breakers.release(KEY)  # e.g. the probe was cancelled: no verdict

    assert breakers.acquire(KEY)


def test_models_and_endpoints_have_separate_circuits(breakers: BreakerRegistry) -> None:
    fail(breakers, 3)
    other = BreakerRegistry.key(KEY, "http://127.0.0.1:9/v1/")
    assert other == BreakerRegistry.key(KEY, "http://127.0.0.1:9/v1")
    assert other != KEY
    hidden = BreakerRegistry.key(KEY, "https://user:sk-secret-99@proxy.example/v1?key=sk-x")
    assert hidden == f"{KEY} @ https://proxy.example/v1"
    assert breakers.acquire(other)
    assert breakers.acquire("anthropic/claude-sonnet-4-5")


def test_threads_never_get_two_probes(breakers: BreakerRegistry, clock: Clock) -> None:
    fail(breakers, 3)
    clock.now += 31
    granted: list[str | None] = []
    barrier = threading.Barrier(8)

    def contend() -> None:
        barrier.wait()
        granted.append(breakers.acquire(KEY))

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert granted.count("probe") == 1
    assert granted.count(None) == 7


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold"):
        BreakerRegistry(threshold=0)
