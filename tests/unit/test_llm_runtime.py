# ruff: noqa: F811  (pytest fixtures imported from tests.fakes are used as parameters)
"""litellm is imported lazily and tamed: no stdout, no .env, no network, nothing at startup.

The import checks run in a fresh interpreter (``sys.executable -c``) so that they see
a first import; with ``-c`` python-dotenv searches the working directory, which is
where a user's ``.env`` would be.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from samokoder.llm import runtime
from samokoder.llm.client import ModelCall, stream_chat
from tests.fakes.fake_provider import FakeProvider, Reply, fake_provider  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(
    code: str, cwd: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LITELLM_", "OPENAI_")) and name != "JSON_LOGS"
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_importing_the_llm_package_does_not_import_litellm(tmp_path: Path) -> None:
    code = (
        "import sys, samokoder.llm, samokoder.llm.client, samokoder.llm.runtime\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'openai')))\n"
    )
    result = run_python(code, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


LOAD_PROBE = r"""
import json, logging, os, socket, sys

calls = []
def refuse(kind):
    def blocked(*args, **kwargs):
        calls.append(kind)
        raise OSError("network blocked by the test")
    return blocked
socket.socket.connect = refuse("connect")
socket.create_connection = refuse("create_connection")
socket.getaddrinfo = refuse("getaddrinfo")

import asyncio
from samokoder.llm import runtime

async def load():
    runtime.start_prewarm()
    impatient = asyncio.create_task(runtime.get_litellm())
    await asyncio.sleep(0.05)
    impatient.cancel()  # a cancelled waiter must not cancel the import itself
    return await runtime.get_litellm()

litellm = asyncio.run(load())

# Paths that print when litellm is not tamed: an unknown provider and its debug logs.
try:
    litellm.completion(model="no-provider-model", messages=[{"role": "user", "content": "x"}])
except Exception:
    pass
from litellm._logging import verbose_logger
verbose_logger.debug("debug line")
verbose_logger.info("info line")
verbose_logger.warning("warning with key sk-abcdef1234567890")

loggers = [logging.getLogger(n) for n in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")]
sys.stderr.write("REPORT " + json.dumps({
    "calls": calls,
    "dotenv_key": os.environ.get("OPENAI_API_KEY"),
    "json_logs": os.environ.get("JSON_LOGS"),
    "mode": os.environ.get("LITELLM_MODE"),
    "excepthook_default": sys.excepthook is sys.__excepthook__,
    "root_handlers": len(logging.getLogger().handlers),
    "handlers": [[type(h).__name__, getattr(h, "stream", None) is sys.stderr, h.level]
                 for lg in loggers for h in lg.handlers],
    "suppress_debug_info": litellm.suppress_debug_info,
    "drop_params": litellm.drop_params,
    "callbacks": [len(litellm.callbacks), len(litellm.success_callback)],
    "loaded": runtime.is_loaded(),
}) + "\n")
"""


def test_load_is_silent_offline_and_ignores_dotenv(tmp_path: Path) -> None:
    parent = tmp_path / "project"
    cwd = parent / "sub"
    cwd.mkdir(parents=True)
    (parent / ".env").write_text("OPENAI_API_KEY=from-dotenv\n")
    (cwd / ".env").write_text("OPENAI_API_KEY=from-dotenv\nLITELLM_MODE=DEV\n")

    result = run_python(LOAD_PROBE, cwd, {"JSON_LOGS": "true"})

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    report = json.loads(result.stderr.split("REPORT ", 1)[1])
    assert report["calls"] == []
    assert report["dotenv_key"] is None
    assert report["mode"] == "PRODUCTION"
    assert report["json_logs"] == "true"  # hidden during the import only
    assert report["excepthook_default"] is True
    assert report["root_handlers"] == 0
    assert report["handlers"] == [["StreamHandler", True, 30]] * 3
    assert report["suppress_debug_info"] is True
    assert report["drop_params"] is True
    assert report["callbacks"] == [0, 0]
    assert report["loaded"] is True
    assert "warning with key" in result.stderr  # warnings reach stderr, redacted
    assert "sk-abcdef1234567890" not in result.stderr
    assert "info line" not in result.stderr


def test_tame_environment_keeps_values_the_user_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_MODE", "DEV")
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    monkeypatch.delenv("LITELLM_OFFLINE_MODE", raising=False)

    runtime.tame_environment()

    assert os.environ["LITELLM_MODE"] == "DEV"
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert os.environ["LITELLM_OFFLINE_MODE"] == "true"


async def test_prewarm_then_get_returns_the_one_loaded_module() -> None:
    runtime.start_prewarm()
    runtime.start_prewarm()  # idempotent

    module = await runtime.get_litellm()

    assert runtime.is_loaded()
    assert module is sys.modules["litellm"]
    assert await runtime.get_litellm() is module
    assert runtime.load_litellm() is module


async def test_close_async_clients_closes_pooled_connections(fake_provider: FakeProvider) -> None:
    fake_provider.script(Reply(text="ok"))
    call = ModelCall(
        model="openai/fake-model", api_base=fake_provider.base_url, api_key="sk-x-123456"
    )
    await stream_chat(call, [{"role": "user", "content": "hi"}])
    assert fake_provider.open_connections >= 1  # kept alive in litellm's pool

    await runtime.close_async_clients()

    closed = await asyncio.to_thread(
        fake_provider.wait_until, lambda: fake_provider.open_connections == 0, 5
    )
    assert closed


PREWARM_PROBE = r"""
import asyncio, gc, json, logging, sys, threading
from samokoder.llm import runtime

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
collections = []  # GC passes while litellm is being imported and warmed up
frozen_at_next_pass = []  # objects frozen when the first pass after the load starts

def count(phase, info):
    if phase == "start" and "litellm" in sys.modules and not runtime.is_loaded():
        collections.append(info["generation"])
    elif phase == "start" and runtime.is_loaded() and not frozen_at_next_pass:
        frozen_at_next_pass.append(gc.get_freeze_count())

gc.callbacks.append(count)
if sys.argv[1] == "off":
    gc.disable()

async def load():
    runtime.start_prewarm()
    return await runtime.get_litellm()

asyncio.run(load())
during = len(collections)
prewarm = [t for t in threading.enumerate() if t.name == "samokoder-litellm-prewarm"]
for thread in prewarm:
    thread.join(60)
garbage = [[] for _ in range(100_000)]  # the server allocates: passes follow
sys.stderr.write("REPORT " + json.dumps({
    "collections_during_load": during,
    "gc_enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "frozen_at_next_pass": frozen_at_next_pass,
    "call_path_loaded": [name in sys.modules for name in runtime._CALL_PATH_MODULES],
}) + "\n")
"""


@pytest.mark.parametrize("collector", ["on", "off"])
def test_load_pauses_the_collector_then_restores_it_and_freezes(
    tmp_path: Path, collector: str
) -> None:
    result = run_python(PREWARM_PROBE.replace("sys.argv[1]", repr(collector)), tmp_path)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stderr.split("REPORT ", 1)[1])
    assert report["collections_during_load"] == 0  # thousands of modules, no GC pass
    assert report["gc_enabled"] is (collector == "on")  # the user's choice is kept
    assert report["frozen"] > 100_000  # litellm's objects left out of later passes
    if collector == "on":  # ... from the very first one (else it walks them all, ~0.2 s)
        assert report["frozen_at_next_pass"][0] > 100_000
    assert report["call_path_loaded"] == [True, True, True]
    assert "samokoder.llm.runtime: litellm ready: import" in result.stderr
