"""A real VS Code (code-server, pinned) with the extension built from this checkout.

Installed by `.ci/install-code-server.sh`; absent (or without Debian's chromium), every
test here is skipped with the command that installs it. One code-server and one page
per module: starting VS Code costs ~25 s, so the tests of a module share it and run in
order, each leaving the workspace as it found it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import API_KEY, MODEL, git
from tests.fakes.fake_provider import FakeProvider
from tests.vscode_real.vscode import CodeServer, Workbench, browser, missing

EXTENSION = Path(__file__).resolve().parents[2] / "editors/vscode"
APP = "import os\n\n\ndef greet(name):\n    return 'hi ' + name\n\n\nprint(greet('x'))\n"


@dataclass
class Session:
    code: CodeServer
    wb: Workbench
    provider: FakeProvider
    folder: Path

    def app_text(self) -> str:
        return (self.folder / "app.py").read_text()


@pytest.fixture(scope="session")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension packaged from this checkout, as a user installs it."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("vsix") / "samokoder.vsix"
    if not (EXTENSION / "node_modules/.bin/vsce").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True)
    subprocess.run(["npm", "run", "build"], cwd=EXTENSION, check=True, capture_output=True)
    subprocess.run(
        [
            "node_modules/.bin/vsce", "package", "--no-dependencies",
            "--allow-missing-repository", "--out", str(out),
        ],
        cwd=EXTENSION, check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def session(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("vscode")
    folder = root / "project"
    folder.mkdir()
    (folder / "app.py").write_text(APP)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "initial")
    (root / "home").mkdir()
    provider = FakeProvider().start()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    env.update(
        HOME=str(root / "home"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_CONFIG_HOME=str(root / "config"),
        SAMOKODER_MODEL=MODEL,
        SAMOKODER_API_BASE=provider.base_url,
        OPENAI_API_KEY=API_KEY,
    )
    settings = {
        # the server from this checkout's venv (the one running these tests)
        "samokoder.server.command": str(Path(sys.executable).parent / "samokoder"),
        "samokoder.server.args": ["serve"],
        "samokoder.cache": False,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.welcomePage.walkthroughs.openOnInstall": False,
        "extensions.ignoreRecommendations": True,
        "git.enabled": False,
        "telemetry.telemetryLevel": "off",
        "security.workspace.trust.enabled": False,
        "chat.commandCenter.enabled": False,
        "update.mode": "none",
    }
    code = CodeServer(root, folder, env, settings)
    # screenshots of what the user saw; SAMOKODER_VSCODE_SHOTS keeps them past the run
    shots = Path(os.environ.get("SAMOKODER_VSCODE_SHOTS") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    code.install_extension(vsix)
    code.start()
    try:
        with browser() as chromium:
            page = chromium.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(code.url)
            wb = Workbench(page, shots)
            page.locator(".monaco-workbench").wait_for(state="visible", timeout=60_000)
            wb.wait_server_running()
            print(f"\nVS Code ready in {time.monotonic() - started:.1f} s; screenshots: {shots}")
            yield Session(code, wb, provider, folder)
    finally:
        code.stop()
        provider.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """On a failure, a screenshot of what the user would have seen (path in the report)."""
    report = yield
    if call.when == "call" and getattr(report, "failed", False):
        session = getattr(item, "funcargs", {}).get("session")
        if isinstance(session, Session):
            try:
                shot = session.wb.screenshot(f"FAILED-{item.name}")
                report.sections.append(("screenshot", str(shot)))
            except Exception as exc:  # the page may be gone
                report.sections.append(("screenshot", f"none: {exc}"))
    return report
