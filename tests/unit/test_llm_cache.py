"""The response cache: what its key covers, LRU eviction under a size cap, failures as misses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from samokoder.llm.cache import (
    CACHE_FILE,
    CachedReply,
    ResponseCache,
    cache_dir,
    request_key,
    should_cache,
)
from samokoder.llm.client import ModelCall

MESSAGES = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
BASE = ModelCall(model="openai/fake-model", api_base="http://127.0.0.1:1/v1", api_key="sk-one-1234")


def reply(text: str) -> CachedReply:
    return CachedReply("openai/fake-model", text, 10, 5)


@pytest.fixture
def cache(tmp_path: Path) -> ResponseCache:
    return ResponseCache(tmp_path / "cache" / CACHE_FILE, max_bytes=10_000)


def test_key_ignores_the_api_key_and_timeout() -> None:
    same = ModelCall(
        model=BASE.model, api_base=BASE.api_base + "/", api_key="sk-two-5678", timeout=5
    )
    assert request_key(same, MESSAGES) == request_key(BASE, MESSAGES)


@pytest.mark.parametrize(
    "changed",
    [
        ModelCall(model="openai/other", api_base=BASE.api_base),
        ModelCall(model=BASE.model, api_base="http://127.0.0.1:2/v1"),
        ModelCall(model=BASE.model, api_base=None),
        ModelCall(model=BASE.model, api_base=BASE.api_base, temperature=0.5),
        ModelCall(model=BASE.model, api_base=BASE.api_base, max_tokens=100),
    ],
    ids=["model", "api base", "default endpoint", "temperature", "max tokens"],
)
def test_key_changes_with_anything_that_shapes_the_reply(changed: ModelCall) -> None:
    assert request_key(changed, MESSAGES) != request_key(BASE, MESSAGES)


def test_key_changes_with_messages_and_extra_parameters() -> None:
    key = request_key(BASE, MESSAGES)
    assert request_key(BASE, [*MESSAGES, {"role": "user", "content": "more"}]) != key
    assert request_key(BASE, [MESSAGES[0], {"role": "user", "content": "U"}]) != key
    assert request_key(BASE, MESSAGES, {"response_format": {"type": "json_object"}}) != key
    assert request_key(BASE, MESSAGES, {}) == key


def test_key_never_contains_the_api_key() -> None:
    assert "sk-one-1234" not in request_key(BASE, MESSAGES)


@pytest.mark.parametrize(
    ("temperature", "enabled", "any_temperature", "expected"),
    [
        (0.0, True, False, True),
        (0.7, True, False, False),
        (0.7, True, True, True),
        (0.0, False, True, False),
    ],
)
def test_sampled_replies_bypass_the_cache_unless_asked(
    temperature: float, enabled: bool, any_temperature: bool, expected: bool
) -> None:
    assert should_cache(temperature, enabled=enabled, any_temperature=any_temperature) is expected


def test_put_then_get_round_trips(cache: ResponseCache) -> None:
    assert cache.get("k") is None
    cache.put("k", reply("hello"))
    assert cache.get("k") == reply("hello")
    assert cache.path.is_file()


def test_a_second_instance_sees_the_same_file(cache: ResponseCache) -> None:
    cache.put("k", reply("shared"))
    other = ResponseCache(cache.path)
    assert other.get("k") == reply("shared")
    other.close()


def test_least_recently_used_entries_are_evicted_over_the_cap(cache: ResponseCache) -> None:
    # each entry counts its text plus ~200 bytes; the cap is 10,000
    for name in ("a", "b", "c", "d"):
        cache.put(name, reply(name * 2000))
        time.sleep(0.002)  # distinct last_used stamps
    assert cache.get("a") is not None  # "a" is now the most recently used
    time.sleep(0.002)
    cache.put("e", reply("e" * 2000))  # over the cap: the oldest go first

    entries, size = cache.stats()
    assert size <= 10_000
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("e") is not None
    assert entries == 4  # e, a, d, c: the newest that fit 90 % of the cap


def test_an_entry_larger_than_the_cap_is_not_stored(cache: ResponseCache) -> None:
    cache.put("huge", reply("x" * 20_000))
    assert cache.get("huge") is None
    assert cache.stats() == (0, 0)


def test_a_call_can_lower_the_cap(cache: ResponseCache) -> None:
    cache.put("a", reply("a" * 2000))
    cache.put("b", reply("b" * 2000), max_bytes=3000)
    assert cache.get("a") is None
    assert cache.get("b") is not None


def test_discard_forgets_one_entry(cache: ResponseCache) -> None:
    cache.put("a", reply("a"))
    cache.put("b", reply("b"))
    cache.discard("a")
    assert cache.get("a") is None
    assert cache.get("b") is not None


def test_an_unusable_location_is_a_miss_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    broken = ResponseCache(blocker / "sub" / CACHE_FILE)

    broken.put("k", reply("x"))
    assert broken.get("k") is None
    assert broken.stats() == (0, 0)


def test_a_corrupt_file_is_a_miss_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    path.write_bytes(b"this is not a database" * 100)
    broken = ResponseCache(path)

    broken.put("k", reply("x"))
    assert broken.get("k") is None


def test_cache_dir_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "samokoder"
