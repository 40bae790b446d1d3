"""A real VS Code (code-server) driven through Debian's Chromium with Playwright.

What the user sees is what the tests look at: toasts, their buttons, palette rows
picked by label, editor tabs, the status bar. Monaco renders spaces as U+00A0,
so text read from the page is normalised before it is compared.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

VERSION = "4.99.3"
INSTALL = ".ci/install-code-server.sh"
T = TypeVar("T")


def real_dir() -> Path:
    base = os.environ.get("SAMOKODER_REAL_DIR") or str(Path.home() / ".cache/samokoder-real")
    return Path(base) / "code-server"


def entry_js() -> Path:
    return real_dir() / "node_modules/code-server/out/node/entry.js"


def missing() -> str | None:
    """Why the real VS Code cannot run here, with the command that fixes it; None if it can."""
    if not (real_dir() / f".installed-{VERSION}").exists() or not entry_js().exists():
        return f"code-server {VERSION} is not installed under {real_dir()}; run {INSTALL}"
    if shutil.which("chromium") is None:
        return f"Debian's chromium is not installed; run {INSTALL} (apt-get install chromium)"
    if shutil.which("node") is None:
        return "node is not on PATH (code-server runs on node 20)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain(text: str) -> str:
    """Page text as a person reads it: Monaco's non-breaking spaces are spaces."""
    return text.replace("\u00a0", " ")


def wait_for(
    what: str, probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.2
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class CodeServer:
    """One code-server process with the extension installed, serving one folder."""

    def __init__(self, root: Path, folder: Path, env: dict[str, str], settings: dict[str, Any]):
        self.root = root
        self.folder = folder
        self.user_data = root / "user-data"
        self.extensions = root / "extensions"
        self.env = env
        self.settings = settings
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "code-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.folder}"

    def _base(self) -> list[str]:
        return [
            "node",
            str(entry_js()),
            "--user-data-dir",
            str(self.user_data),
            "--extensions-dir",
            str(self.extensions),
        ]

    def install_extension(self, vsix: Path) -> None:
        out = subprocess.run(
            [*self._base(), "--install-extension", str(vsix)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode != 0 or "successfully installed" not in out.stdout:
            raise RuntimeError(f"installing {vsix} failed:\n{out.stdout}\n{out.stderr}")

    def start(self) -> None:
        settings_file = self.user_data / "User/settings.json"
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(json.dumps(self.settings, indent=2))
        config = self.root / "config.yaml"
        config.write_text("")
        command = [
            *self._base(),
            "--auth",
            "none",
            "--bind-addr",
            f"127.0.0.1:{self.port}",
            "--config",
            str(config),
            "--disable-workspace-trust",
            "--disable-telemetry",
            "--disable-update-check",
            str(self.folder),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for("code-server to listen", self._answers, timeout=60)

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"code-server exited:\n{self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, 15)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(10)

    def exthost_log(self) -> str:
        """The extension host's log (`logs/<stamp>/exthost1/remoteexthost.log`)."""
        logs = sorted(self.user_data.glob("logs/*/exthost1/remoteexthost.log"))
        return logs[-1].read_text(errors="replace") if logs else ""

    def output_log(self) -> str:
        """The Samokoder output channel as VS Code wrote it to disk."""
        found = sorted(self.user_data.glob("logs/*/exthost1/output_logging_*/*Samokoder*.log"))
        return "\n".join(p.read_text(errors="replace") for p in found)


class Workbench:
    """The page: what a user clicks and reads."""

    def __init__(self, page: Any, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self._shot = 0

    def screenshot(self, name: str) -> Path:
        self._shot += 1
        safe = re.sub(r"[^\w-]+", "_", name)
        path = self.shots / f"{self._shot:02d}-{safe}.png"
        self.page.screenshot(path=str(path))
        return path

    # -- the command palette --------------------------------------------------------

    def palette(self, label: str) -> None:
        """Run a command by its palette label (category included: 'Samokoder: Usage')."""
        if self.page.locator(".quick-input-widget .quick-input-box input").is_visible():
            self.page.keyboard.press("Escape")  # not in the editor: that drops its selection
        self.page.keyboard.press("F1")
        box = self.page.locator(".quick-input-widget .quick-input-box input")
        box.wait_for(state="visible", timeout=10_000)
        box.fill(f">{label}")
        row = self.page.locator(
            ".quick-input-list .monaco-list-row", has_text=re.compile(f"^{re.escape(label)}")
        )
        row.first.wait_for(state="visible", timeout=10_000)
        row.first.click()

    def type_into_input(self, text: str) -> None:
        """Answer an input box (showInputBox) and press Enter."""
        box = self.page.locator(".quick-input-widget .quick-input-box input")
        box.wait_for(state="visible", timeout=10_000)
        box.fill(text)
        box.press("Enter")

    # -- notifications ----------------------------------------------------------------

    def toasts(self) -> Any:
        """Notifications on screen: toasts, or the rows of the open notification center."""
        return self.page.locator(".notification-list-item")

    def toast(self, text: str | re.Pattern[str], timeout: float = 30.0) -> Any:
        """The notification whose message matches; waits for it.

        VS Code shows at most three toasts and hides the oldest (and, after a while,
        any); a hidden one is still in the notification center, so it is looked for
        there before giving up.
        """
        found = self.toasts().filter(has_text=text).first
        try:
            found.wait_for(state="visible", timeout=min(timeout, 5.0) * 1000)
        except Exception:
            self.show_center()
            found.wait_for(state="visible", timeout=timeout * 1000)
        return found

    def messages(self) -> list[str]:
        return [
            plain(t)
            for t in self.toasts().locator(".notification-list-item-message").all_inner_texts()
        ]

    def click_button(self, text: str | re.Pattern[str], label: str) -> None:
        """Click `label` on the notification whose message matches `text`.

        Toasts hide themselves after a while (and a fourth pushes the oldest out); one
        that went away between finding and clicking is clicked in the center instead.
        """
        button = re.compile(f"^{re.escape(label)}$")
        item = self.toast(text)
        try:
            item.hover(timeout=5_000)  # a hovered toast does not hide itself
            item.locator(".monaco-button", has_text=button).click(timeout=5_000)
        except Exception:
            self.show_center()
            item = self.toasts().filter(has_text=text).first
            item.locator(".monaco-button", has_text=button).click()

    def show_center(self) -> None:
        if not self.page.locator(".notifications-center.visible").count():
            self.palette("Notifications: Show Notifications")

    def buttons(self, toast: Any) -> list[str]:
        return [b.strip() for b in toast.locator(".monaco-button").all_inner_texts()]

    def all_buttons(self) -> list[str]:
        """Labels of every notification's buttons, hidden and collapsed ones included."""
        self.show_center()
        return [
            plain(t).strip()
            for t in self.page.locator(
                ".notifications-center .notification-list-item-buttons-container .monaco-button"
            ).evaluate_all("buttons => buttons.map(b => b.textContent || '')")
        ]

    def editor_action(self, label: str) -> None:
        """Click an action in the active editor's title bar (by its tooltip)."""
        self.page.locator(
            ".editor-group-container.active .editor-actions .action-label",
        ).and_(self.page.get_by_label(re.compile(f"^{re.escape(label)}"))).first.click()

    def clear_toasts(self) -> None:
        self.palette("Notifications: Clear All Notifications")

    # -- editors --------------------------------------------------------------------------

    def tabs(self) -> list[str]:
        return [
            plain(t)
            for t in self.page.locator(".tabs-container .tab").evaluate_all(
                "tabs => tabs.map(t => t.getAttribute('aria-label') || t.textContent)"
            )
        ]

    def open_file(self, name: str) -> None:
        self.page.keyboard.press("Control+P")
        box = self.page.locator(".quick-input-widget .quick-input-box input")
        box.wait_for(state="visible", timeout=10_000)
        box.fill(name)
        row = self.page.locator(".quick-input-list .monaco-list-row", has_text=name)
        row.first.wait_for(state="visible", timeout=10_000)
        box.press("Enter")
        self.page.locator(".editor-instance .monaco-editor .view-lines").first.wait_for(
            state="visible", timeout=10_000
        )

    def select_lines(self, first: int, last: int) -> None:
        """Select whole lines `first`..`last` (1-based) of the active editor."""
        self.page.locator(".editor-instance .monaco-editor .view-lines").first.click()
        self.page.keyboard.press("Control+Home")
        for _ in range(first - 1):
            self.page.keyboard.press("ArrowDown")
        for _ in range(last - first + 1):
            self.page.keyboard.press("Shift+ArrowDown")

    def samokoder_item(self) -> Any:
        return self.page.locator(".statusbar-item", has_text="Samokoder").or_(
            self.page.locator(".statusbar-item:has(.codicon-hubot)")
        )

    def wait_server_running(self, timeout: float = 60.0) -> None:
        """The status bar shows the robot once the server answered `initialize`."""
        self.page.locator(".statusbar-item .codicon-hubot").first.wait_for(
            state="visible", timeout=timeout * 1000
        )

    def code_action(self, title: str) -> None:
        """Open the editor's code actions (Ctrl+.) and pick one by its title."""
        self.page.keyboard.press("Control+Period")
        row = self.page.locator(f'.action-widget .monaco-list-row[aria-label="{title}"]')
        row.wait_for(state="visible", timeout=15_000)
        # the widget's pointer guard swallows clicks at first: walk to the row by keyboard
        for _ in range(12):
            if "focused" in (row.get_attribute("class") or ""):
                break
            self.page.keyboard.press("ArrowDown")
        self.page.keyboard.press("Enter")

    def editor_text(self) -> str:
        """The active editor's visible lines, as text."""
        lines = self.page.locator(".editor-group-container.active .view-lines .view-line")
        lines.first.wait_for(state="visible", timeout=10_000)
        return "\n".join(plain(t) for t in lines.all_inner_texts())

    def status_text(self) -> str:
        return plain(" ".join(self.page.locator(".statusbar-item").all_inner_texts()))


@contextmanager
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
