"""Load: many runs queued at once on one folder, a provider with latency, and an editor
asking for code actions all the while. Used by test_load.py and benchmarks/reliability.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.harness import git
from tests.fakes.fake_provider import FakeProvider, Reply
from tests.reliability.wire import WireClient

RANGE = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
BASE = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"
NEW = "def greet(name):\n    return f'hello {name}'\n"


@dataclass
class LoadReport:
    runs: int
    statuses: dict[str, int] = field(default_factory=dict)
    finished_twice: list[str] = field(default_factory=list)
    code_action_ms: list[float] = field(default_factory=list)
    unanswered: int = 0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    seconds: float = 0.0
    steps: int = 0


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (0 where there is no /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def make_folder(root: Path, files: int) -> None:
    root.mkdir(parents=True)
    for i in range(files):
        (root / f"mod{i}.py").write_text(BASE)
    git(root, "init", "-q", "-b", "main")


def warm_up(client: WireClient, root: Path, provider: FakeProvider) -> None:
    """One run first, so litellm and the folder are loaded before RSS is measured."""
    (root / "warm.py").write_text(BASE)
    provider.script(Reply(text=f"```python\n{NEW}```"))
    answer = client.command(
        "samokoder.editSelection",
        {"uri": (root / "warm.py").as_uri(), "range": RANGE, "instruction": "x"},
        timeout=60,
    )
    client.finished(answer["result"]["runId"], timeout=60)


def run_load(
    provider: FakeProvider, tmp: Path, *, runs: int = 20, latency: float = 0.2
) -> LoadReport:
    root = tmp / "load"
    make_folder(root, runs)
    report = LoadReport(runs)
    client = WireClient.spawn(provider, tmp, log_name="load-server.log")
    try:
        client.initialize(root, options={"review": "off", "cache": False})
        warm_up(client, root, provider)
        client.open(root, "warm.py")  # where the editor asks for code actions
        report.rss_before_kib = rss_kib(client.proc.pid)
        provider.responder = lambda body: Reply(
            text=f"```python\n{NEW}```", first_token_delay=latency, chunks=8, chunk_delay=0.01
        )
        started = time.perf_counter()
        ids = []
        for i in range(runs):  # all queued at once
            answer = client.command(
                "samokoder.editSelection",
                {"uri": (root / f"mod{i}.py").as_uri(), "range": RANGE, "instruction": "x"},
            )
            ids.append(answer["result"]["runId"])
        action = {
            "textDocument": {"uri": (root / "warm.py").as_uri()},
            "range": RANGE,
            "context": {"diagnostics": []},
        }

        def done() -> bool:
            finished = {p["runId"] for p in client.of_method("samokoder/runFinished")}
            return all(run_id in finished for run_id in ids)

        while not done():
            sent = time.perf_counter()
            try:
                client.call("textDocument/codeAction", action, timeout=10)
            except TimeoutError:
                report.unanswered += 1
                continue
            report.code_action_ms.append((time.perf_counter() - sent) * 1000)
            time.sleep(0.005)
        report.seconds = time.perf_counter() - started
        finished = [p for p in client.of_method("samokoder/runFinished") if p["runId"] in set(ids)]
        for payload in finished:
            report.statuses[payload["status"]] = report.statuses.get(payload["status"], 0) + 1
        seen: set[str] = set()
        for payload in finished:
            if payload["runId"] in seen:
                report.finished_twice.append(payload["runId"])
            seen.add(payload["runId"])
        history = client.command("samokoder.history", {"limit": runs + 5})
        report.steps = len(history["result"]["steps"]) - 1  # less the warm-up step
        report.rss_after_kib = rss_kib(client.proc.pid)
    finally:
        client.close()
    return report
