"""A real model (SmolLM2-135M) behind llama.cpp's real OpenAI-compatible server.

Installed by `.ci/install-llama-server.sh` into a venv of its own; absent, every test
here is skipped with the command that installs it. One server for the session (it
takes seconds to load the model); the tests use it one after the other, through a
relay that notes how each reply ended.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.real_model.relay import Relay

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
INSTALL = ".ci/install-llama-server.sh"
READY_TIMEOUT = 90.0  # seconds; the model loads in ~3 s here when the machine is idle


def real_dir() -> Path:
    base = os.environ.get("SAMOKODER_REAL_DIR") or str(Path.home() / ".cache/samokoder-real")
    return Path(base) / "llama"


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (`http://127.0.0.1:P/v1`) of a running llama.cpp server with the model."""
    folder = real_dir()
    python, model = folder / "venv/bin/python", folder / MODEL_FILE
    for path, what in ((python, "llama-cpp-python"), (model, "the SmolLM2 model")):
        if not path.exists():
            pytest.skip(f"{what} is not installed ({path} missing); install it with: {INSTALL}")
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    started = time.monotonic()
    process, port = _start(python, model, log_path)
    try:
        ready = time.monotonic() - started
        _warm_up(port)
        print(
            f"\nllama.cpp server ready in {ready:.1f} s, warmed up in "
            f"{time.monotonic() - started - ready:.1f} s (port {port})"
        )
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        _stop(process)


def _start(python: Path, model: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start the server on a free port and wait until it answers; a port taken between
    choosing and binding it (the server then exits) is retried with another."""
    for attempt in range(3):
        port = _free_port()
        command = [
            str(python), "-m", "llama_cpp.server", "--model", str(model),
            "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "4096", "--n_threads", "1", "--interrupt_requests", "False",
        ]  # fmt: skip
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            if _wait_ready(process, port):
                return process, port
        except BaseException:
            _stop(process)
            raise
        if attempt == 2 or process.poll() is None:
            _stop(process)
            tail = log_path.read_text(errors="replace")[-2000:]
            pytest.fail(f"llama.cpp server did not start (exit {process.returncode}):\n{tail}")
    raise AssertionError("unreachable")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def outside(workspace: Path) -> Path:
    """A sibling of the workspace holding the user's other work."""
    sibling = workspace.parent / "sibling"
    (sibling / "src").mkdir(parents=True)
    (sibling / "src/app.py").write_text("print('not part of the workspace')\n")
    (sibling / "notes.md").write_text("# keep me\n")
    return sibling


@pytest.fixture(scope="session")
def relay(llama_server: str) -> Iterator[Relay]:
    port = int(llama_server.rsplit(":", 1)[1].split("/", 1)[0])
    relay = Relay(port)
    try:
        yield relay
    finally:
        relay.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _warm_up(port: int) -> None:
    """One token, so the first test does not pay for paging the model in."""
    body = {"model": MODEL_ALIAS, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=READY_TIMEOUT) as answer:
        answer.read()


def _wait_ready(process: subprocess.Popen[bytes], port: int) -> bool:
    """True once /v1/models lists the model; False if the server exited or timed out."""
    deadline = time.monotonic() + READY_TIMEOUT
    url = f"http://127.0.0.1:{port}/v1/models"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200 and MODEL_ALIAS in answer.read().decode():
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False
