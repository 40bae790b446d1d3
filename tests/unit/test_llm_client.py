# ruff: noqa: F811  (pytest fixtures imported from tests.fakes are used as parameters)
"""stream_chat against the real fake provider, through litellm for real, over 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from samokoder.errors import LLMError, NoModelConfiguredError
from samokoder.llm.client import ModelCall, stream_chat
from tests.fakes.fake_provider import FakeProvider, Reply, fake_provider  # noqa: F401
from tests.unit.litellm_fixtures import _close_clients, _litellm_loaded  # noqa: F401

KEY = "sk-test-123456789"
MESSAGES = [
    {"role": "system", "content": "You write code."},
    {"role": "user", "content": "Say hello."},
]


def call_for(fake: FakeProvider, **overrides: object) -> ModelCall:
    settings: dict[str, object] = {
        "model": "openai/fake-model",
        "api_base": fake.base_url,
        "api_key": KEY,
        "timeout": 10.0,
    }
    settings.update(overrides)
    return ModelCall(**settings)  # type: ignore[arg-type]


async def test_streamed_text_is_reassembled_and_deltas_arrive_in_order(
    fake_provider: FakeProvider,
) -> None:
    text = "def hello():\n    return 'hello, world'\n"
    fake_provider.script(Reply(text=text, chunks=5, prompt_tokens=11, completion_tokens=7))
    deltas: list[str] = []

    result = await stream_chat(call_for(fake_provider), MESSAGES, on_delta=deltas.append)

    assert result.text == text
    assert "".join(deltas) == text
    assert deltas == Reply(text=text, chunks=5).pieces()
    assert (result.prompt_tokens, result.completion_tokens) == (11, 7)
    assert result.model == "openai/fake-model"
    assert result.cost_usd == 0.0  # no price for an unknown model, and no exception
    assert result.latency_ms > 0


async def test_request_streams_with_usage_timeout_and_no_sdk_retries(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="ok"))

    await stream_chat(call_for(fake_provider, timeout=7.5, temperature=0.3), MESSAGES)

    [request] = fake_provider.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"] == MESSAGES
    assert request.body["temperature"] == 0.3
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["authorization"] == f"Bearer {KEY}"
    assert float(headers["x-stainless-read-timeout"]) == 7.5
    assert headers["x-stainless-retry-count"] == "0"


async def test_usage_is_estimated_when_the_provider_sends_none(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="a reply of a few words", send_usage=False))

    result = await stream_chat(call_for(fake_provider), MESSAGES)

    assert result.text == "a reply of a few words"
    assert result.prompt_tokens > 0
    assert result.completion_tokens > 0


async def test_cost_comes_from_litellm_prices_for_a_known_model(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="ok", prompt_tokens=1000, completion_tokens=1000))

    result = await stream_chat(call_for(fake_provider, model="openai/gpt-4o-mini"), MESSAGES)

    assert result.cost_usd > 0


async def test_rejected_key_is_not_retryable_and_never_shown(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(fault="http_401"))

    with pytest.raises(LLMError) as caught:
        await stream_chat(call_for(fake_provider), MESSAGES)

    error = caught.value
    assert error.retryable is False
    assert KEY not in str(error)
    assert "401" in error.message
    assert "OPENAI_API_KEY" in error.message
    assert fake_provider.base_url in error.message
    assert len(fake_provider.requests) == 1  # no silent SDK retries


@pytest.mark.parametrize("fault", ["http_500", "http_429"])
async def test_server_errors_and_rate_limits_are_retryable(
    fake_provider: FakeProvider, fault: str
) -> None:
    fake_provider.script(Reply(fault=fault, retry_after=3))  # type: ignore[arg-type]

    with pytest.raises(LLMError) as caught:
        await stream_chat(call_for(fake_provider), MESSAGES)

    assert caught.value.retryable is True
    assert len(fake_provider.requests) == 1
    if fault == "http_429":
        assert "429" in caught.value.message
        assert "wait 3 s" in caught.value.message


async def test_unknown_model_is_not_retryable(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(fault="http_404"))

    with pytest.raises(LLMError) as caught:
        await stream_chat(call_for(fake_provider), MESSAGES)

    assert caught.value.retryable is False
    assert "not found" in caught.value.message


async def test_cut_stream_is_a_retryable_error_not_a_short_answer(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="x" * 80, chunks=8, fault="cut_stream"))
    deltas: list[str] = []

    with pytest.raises(LLMError) as caught:
        await stream_chat(call_for(fake_provider), MESSAGES, on_delta=deltas.append)

    assert caught.value.retryable is True
    assert "broke off" in caught.value.message
    assert "".join(deltas) != "x" * 80


async def test_malformed_stream_is_a_retryable_error(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(text="never seen", fault="bad_json"))

    with pytest.raises(LLMError) as caught:
        await stream_chat(call_for(fake_provider), MESSAGES)

    assert caught.value.retryable is True


async def test_hanging_provider_ends_in_a_timeout_error(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(fault="hang"))

    with pytest.raises(LLMError) as caught:
        # The outer bound only keeps a broken timeout from hanging the suite.
        await asyncio.wait_for(stream_chat(call_for(fake_provider, timeout=1), MESSAGES), 20)

    assert caught.value.retryable is True
    assert "timeout" in caught.value.message


async def test_cancelling_the_task_closes_the_http_stream(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(text="y" * 400, chunks=200, chunk_delay=0.05))
    first_delta = asyncio.Event()
    task = asyncio.create_task(
        stream_chat(call_for(fake_provider), MESSAGES, on_delta=lambda _: first_delta.set())
    )
    await asyncio.wait_for(first_delta.wait(), 10)
    assert fake_provider.active_streams == 1

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    closed = await asyncio.to_thread(
        fake_provider.wait_until, lambda: fake_provider.active_streams == 0, 5
    )
    assert closed


async def test_cancelling_before_the_first_byte_closes_the_connection(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(fault="hang"))
    task = asyncio.create_task(stream_chat(call_for(fake_provider), MESSAGES))
    await asyncio.to_thread(fake_provider.wait_for_requests, 1)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    closed = await asyncio.to_thread(
        fake_provider.wait_until, lambda: fake_provider.open_connections == 0, 5
    )
    assert closed


async def test_an_exception_in_on_delta_propagates_and_closes_the_stream(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script(Reply(text="z" * 400, chunks=200, chunk_delay=0.05))

    def explode(_: str) -> None:
        raise ValueError("caller bug")

    with pytest.raises(ValueError, match="caller bug"):
        await stream_chat(call_for(fake_provider), MESSAGES, on_delta=explode)

    closed = await asyncio.to_thread(
        fake_provider.wait_until, lambda: fake_provider.active_streams == 0, 5
    )
    assert closed


async def test_unreachable_server_is_a_retryable_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    call = ModelCall(
        model="openai/fake-model", api_base=f"http://127.0.0.1:{port}/v1", api_key=KEY, timeout=5
    )

    with pytest.raises(LLMError) as caught:
        await stream_chat(call, MESSAGES)

    assert caught.value.retryable is True
    assert "Could not reach" in caught.value.message


async def test_model_without_provider_prefix_says_how_to_name_it() -> None:
    with pytest.raises(LLMError) as caught:
        await stream_chat(ModelCall(model="no-such-model-xyz", api_key=KEY), MESSAGES)

    assert caught.value.retryable is False
    assert "openai/<name>" in caught.value.message


@pytest.mark.parametrize("model", ["", "   "])
async def test_empty_model_is_rejected_before_any_call(model: str) -> None:
    with pytest.raises(NoModelConfiguredError, match="SAMOKODER_MODEL"):
        await stream_chat(ModelCall(model=model), MESSAGES)


# -- the fake itself, as other tests and benchmarks use it without litellm ----------------


def test_fake_answers_plain_requests_and_lists_models(fake_provider: FakeProvider) -> None:
    fake_provider.responder = lambda body: Reply(text=f"echo {body['messages'][-1]['content']}")
    request = urllib.request.Request(
        f"{fake_provider.base_url}/chat/completions",
        data=json.dumps({"model": "fake-model", "messages": MESSAGES}).encode(),
        headers={"Content-Type": "application/json"},
    )

    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.load(response)
    with urllib.request.urlopen(f"{fake_provider.base_url}/models", timeout=5) as response:
        models = json.load(response)

    assert answer["choices"][0]["message"]["content"] == "echo Say hello."
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"]["total_tokens"] > 0
    assert "fake-model" in [model["id"] for model in models["data"]]
    assert [r.path for r in fake_provider.wait_for_requests(2)] == [
        "/v1/chat/completions",
        "/v1/models",
    ]


def test_fake_runs_standalone_and_prints_its_base_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.fake_provider", "--port", "0", "--reply", "hi there"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        request = urllib.request.Request(
            f"{base_url}/chat/completions",
            data=json.dumps({"model": "m", "messages": MESSAGES}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.load(response)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    assert base_url.startswith("http://127.0.0.1:")
    assert answer["choices"][0]["message"]["content"] == "hi there"
    assert process.returncode == 0
