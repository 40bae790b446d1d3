"""A real LiteLLM proxy (1.110.2) in front of the fake provider.

Installed by `.ci/install-litellm-proxy.sh` into a venv of its own; absent, every test
here is skipped with the command that installs it. One proxy for the module (it takes
~20 s to start); each test scripts the fake through its own `Script`, so replies a test
left unused never reach the next one.

The proxy has no database, so only its master key is accepted (any other key gets 400
"No connected db"). Two model names route to the fake: `team-model`, priced so the
proxy reports a cost, and `limited-model`, the same with a per-key limit of one request
per window, so a second call within the window gets 429 with `retry-after`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fake_provider import FakeProvider, RecordedRequest, Reply

INSTALL = ".ci/install-litellm-proxy.sh"
READY_TIMEOUT = 120.0  # seconds; ~20 s here when the machine is idle
MASTER_KEY = "sk-master-real-proxy-5b1f0c2d9e"
UPSTREAM_KEY = "sk-upstream-fake-7a3e91c4"
MODEL = "team-model"
LIMITED_MODEL = "limited-model"
INPUT_COST = 2e-6  # USD per token, what the proxy charges for both model names
OUTPUT_COST = 1e-5
RATE_WINDOW = 4  # seconds: LITELLM_RATE_LIMIT_WINDOW_SIZE, also the retry-after it sends


def real_dir() -> Path:
    base = os.environ.get("SAMOKODER_REAL_DIR") or str(Path.home() / ".cache/samokoder-real")
    return Path(base) / "litellm-proxy"


class Script:
    """One test's replies, in order; "ok" once they run out. Notes when each request came."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: list[Reply] = []
        self.times: list[float] = []

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def __call__(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.times.append(time.monotonic())
            return self._replies.pop(0) if self._replies else Reply(text="ok")


@dataclass
class RealProxy:
    """The running proxy (``url`` without ``/v1``) and the fake behind it."""

    url: str
    fake: FakeProvider
    log_path: Path
    script: Script = field(default_factory=Script)
    _seen: int = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        """The chat requests the fake got during this test (from the proxy)."""
        return [r for r in self.fake.requests[self._seen :] if r.path.endswith("/completions")]

    def charge(self, prompt_tokens: int, completion_tokens: int) -> float:
        """What the proxy charges for a call with these token counts."""
        return prompt_tokens * INPUT_COST + completion_tokens * OUTPUT_COST

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def use_up_rate_limit(self, model: str, timeout: float = 30.0) -> None:
        """Blocking: one call with the master key that the proxy answers (waiting out a
        429), so the key's window for ``model`` starts now with no request left."""
        body = {"model": model, "messages": [{"role": "user", "content": "ping"}]}
        request = urllib.request.Request(
            f"{self.url}/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {MASTER_KEY}", "Content-Type": "application/json"},
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    answer.read()
                    return
            except urllib.error.HTTPError as exc:
                if exc.code != 429 or time.monotonic() > deadline:
                    raise
                time.sleep(float(exc.headers.get("retry-after") or 1))


@pytest.fixture(scope="module")
def proxy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealProxy]:
    litellm = real_dir() / "venv/bin/litellm"
    if not litellm.exists():
        pytest.skip(f"the LiteLLM proxy is not installed ({litellm} missing); run: {INSTALL}")
    folder = tmp_path_factory.mktemp("litellm-proxy")
    fake = FakeProvider().start()
    config = folder / "config.yaml"
    config.write_text(json.dumps(_config(fake.base_url), indent=2))  # JSON is YAML
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_MODE": "PRODUCTION",
        "LITELLM_RATE_LIMIT_WINDOW_SIZE": str(RATE_WINDOW),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    command = [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    log_path = folder / "proxy.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped with all it started
        )
    try:
        started = time.monotonic()
        _wait_ready(process, port, log_path)
        print(f"\nLiteLLM proxy ready in {time.monotonic() - started:.1f} s on port {port}")
        yield RealProxy(f"http://127.0.0.1:{port}", fake, log_path)
    finally:
        _stop(process)
        fake.stop()


@pytest.fixture
def proxy(proxy_server: RealProxy) -> RealProxy:
    """The module's proxy with a fresh script and request view for this test."""
    proxy_server.script = Script()
    proxy_server.fake.responder = proxy_server.script
    proxy_server._seen = len(proxy_server.fake.requests)
    return proxy_server


def _config(fake_base: str) -> dict[str, Any]:
    def deployment(name: str, **extra: Any) -> dict[str, Any]:
        params = {"model": "openai/fake-model", "api_base": fake_base, "api_key": UPSTREAM_KEY}
        return {
            "model_name": name,
            "litellm_params": params | extra,
            "model_info": {
                "input_cost_per_token": INPUT_COST,
                "output_cost_per_token": OUTPUT_COST,
            },
        }

    return {
        "model_list": [
            deployment(MODEL),
            # enforced without a database (a deployment's own `rpm` is not)
            deployment(LIMITED_MODEL, default_api_key_rpm_limit=1),
        ],
        "general_settings": {"master_key": MASTER_KEY},
        "litellm_settings": {"telemetry": False},
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    url = f"http://127.0.0.1:{port}/health/liveliness"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"LiteLLM proxy exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"LiteLLM proxy not ready after {READY_TIMEOUT:.0f} s; log: {log_path}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
