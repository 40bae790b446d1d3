"""The extension in a real VS Code: what a user meets, click by click (issue 11)."""

from __future__ import annotations

import re
import time

import pytest

from tests.fakes.fake_provider import Reply
from tests.vscode_real.conftest import APP, Session
from tests.vscode_real.vscode import wait_for

F_STRING = "def greet(name):\n    return f'hello {name}'\n"
EDITED = APP.replace("return 'hi ' + name", "return f'hello {name}'")
HI = "def greet(name):\n    return f'hi {name}'\n"
EDITED_HI = APP.replace("return 'hi ' + name", "return f'hi {name}'")

pytestmark = pytest.mark.real_vscode


def test_activates_without_errors(session: Session) -> None:
    """Activated, the server started (the status bar's robot), and no error logged."""
    wb = session.wb
    wb.screenshot("activated")
    log = session.code.exthost_log()
    assert "_doActivateExtension samokoder.samokoder" in log
    errors = [line for line in log.splitlines() if "[error]" in line]
    assert errors == [], "\n".join(errors)
    output = session.code.output_log()
    assert "[Error" not in output, output


PROPOSES = "Samokoder proposes"
APPLIED = "Samokoder applied 1 file: app.py."
RUNNING = "Samokoder: Edit selection: app.py"


def propose_edit(session: Session, reply: str, instruction: str) -> None:
    """Select greet's body, run Edit selection…, wait for the proposal's toast."""
    wb = session.wb
    session.provider.script(Reply(text=f"```python\n{reply}```"))
    wb.open_file("app.py")
    wb.select_lines(4, 5)
    wb.palette("Samokoder: Edit selection…")
    wb.type_into_input(instruction)
    wb.toast(PROPOSES)


def test_edit_selection_review_accept_undo(session: Session) -> None:
    wb = session.wb
    propose_edit(session, F_STRING, "use an f-string")
    assert any("current ↔ Samokoder" in t for t in wb.tabs()), wb.tabs()
    wb.screenshot("proposal")
    assert session.app_text() == APP  # nothing before accept
    wb.click_button(PROPOSES, "Accept all")
    wait_for("app.py to change on disk", lambda: session.app_text() == EDITED)
    wb.toast(APPLIED)
    wb.toast("Samokoder: Applied the edit")
    wb.screenshot("accepted")
    # defect 1: one Undo for one accepted step, not one per message
    assert wb.all_buttons().count("Undo") == 1, wb.all_buttons()
    wb.click_button(APPLIED, "Undo")
    wait_for("app.py to be restored on disk", lambda: session.app_text() == APP)
    wb.toast("Samokoder: Undone step")
    wb.clear_toasts()


def test_stale_buttons_refuse_instead_of_acting(session: Session) -> None:
    """Defects 1 and 2: buttons that outlived their step or proposal do nothing wrong."""
    wb = session.wb
    propose_edit(session, F_STRING, "use an f-string")
    wb.click_button(PROPOSES, "Accept all")
    wait_for("the first step on disk", lambda: session.app_text() == EDITED)
    wb.clear_toasts()

    propose_edit(session, HI, "say hi")
    wb.editor_action("Accept all")  # decided in the diff's title bar, not in the toast
    wait_for("the second step on disk", lambda: session.app_text() == EDITED_HI)
    wb.toast(APPLIED)
    wb.click_button("Samokoder proposes Edit app.py: say hi", "Accept all")
    wb.toast("was already accepted; nothing more to do")
    wb.screenshot("stale proposal toast")

    wb.palette("Samokoder: Undo last step")  # undoes the second step
    wait_for("the second step undone", lambda: session.app_text() == EDITED)
    # The second step's own Undo, clicked late: it must not undo the first step instead.
    wb.click_button(APPLIED, "Undo")
    wb.toast(re.compile("Undo failed: Cannot undo step .*: it was undone already"))
    wb.screenshot("stale undo")
    assert session.app_text() == EDITED
    wb.clear_toasts()
    wb.palette("Samokoder: Undo last step")
    wait_for("the first step undone", lambda: session.app_text() == APP)
    wb.clear_toasts()


def test_progress_notification_cancels_the_run(session: Session) -> None:
    wb, provider = session.wb, session.provider
    provider.script(Reply(text=f"```python\n{F_STRING}```", first_token_delay=120))
    wb.open_file("app.py")
    wb.select_lines(4, 5)
    wb.palette("Samokoder: Edit selection…")
    wb.type_into_input("use an f-string")
    progress = wb.toast(RUNNING)
    wait_for("the model call to start", lambda: provider.active_streams > 0 or None)
    wb.screenshot("progress")
    assert "Cancel" in wb.buttons(progress)
    started = time.monotonic()
    wb.click_button(RUNNING, "Cancel")
    wb.toast("Samokoder: Cancelled; nothing half-applied was left behind.")
    wait_for("the model stream to be closed", lambda: provider.active_streams == 0)
    took = time.monotonic() - started
    wait_for(
        "the progress notification to close",
        lambda: wb.toasts().filter(has_text=RUNNING).count() == 0,
    )
    wb.screenshot("cancelled")
    assert took < 15, f"cancel took {took:.1f} s"
    assert session.app_text() == APP
    wb.clear_toasts()


def test_explain_shows_the_explanation(session: Session) -> None:
    """Item 7: the text of an Explain run is shown, once, in a document that needs no saving."""
    wb = session.wb
    session.provider.script(Reply(text="`greet` says hi to NAME-MARKER."))
    wb.open_file("app.py")
    wb.select_lines(4, 5)
    wb.code_action("Explain")
    wait_for(
        "the explanation's tab",
        lambda: any(t.endswith(".md") or ".md," in t for t in wb.tabs()),
        timeout=60,
    )
    wait_for("the explanation's text", lambda: "NAME-MARKER" in wb.editor_text())
    running = wb.toasts().filter(has_text="Samokoder: Explain: app.py")
    wait_for("the run to finish", lambda: running.count() == 0)
    time.sleep(0.5)  # anything the end of the run opens
    wb.screenshot("explain")
    shown = [t for t in wb.tabs() if ".md" in t]
    assert len(shown) == 1, wb.tabs()
    assert not any("Untitled" in t for t in wb.tabs()), wb.tabs()
    wb.page.keyboard.press("Control+KeyW")
    assert wb.page.locator(".monaco-dialog-box").count() == 0
    wb.clear_toasts()


def test_usage_is_a_read_only_report(session: Session) -> None:
    """Defect 4: no "Untitled" document that asks to be saved, and plurals right."""
    wb = session.wb
    wb.palette("Samokoder: Usage")
    wait_for("the usage report's tab", lambda: "Samokoder usage.md" in " ".join(wb.tabs()))
    wb.screenshot("usage")
    assert not any("Untitled" in t for t in wb.tabs()), wb.tabs()
    text = wb.editor_text()
    total = re.search(r"Total: .*, (\d+) (requests?)\.", text)
    assert total is not None, text
    assert total.group(2) == ("request" if total.group(1) == "1" else "requests")
    wb.page.keyboard.press("Control+KeyW")
    wait_for("the report to close", lambda: "Samokoder usage.md" not in " ".join(wb.tabs()))
    assert wb.page.locator(".monaco-dialog-box").count() == 0  # nothing asked to be saved
