"""The crash hook kills only when armed through the process environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from samokoder import crashpoints

PROBE = (
    "from samokoder import crashpoints\n"
    "with crashpoints.step_kind('undo'):\n"
    "    crashpoints.reached('after_ref_update')\n"
    "crashpoints.reached('after_ref_update')\n"
    "crashpoints.reached('after_ref_update')\n"
    "print('alive')\n"
)


def probe(spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != crashpoints.ENV_VAR}
    if spec is not None:
        env[crashpoints.ENV_VAR] = spec
    return subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=False
    )


def test_inert_unless_armed() -> None:
    assert crashpoints.armed() == ""  # the test suite never arms itself
    crashpoints.reached("step_planned")  # returns
    assert probe(None).stdout == "alive\n"
    assert probe("no_such_point").stdout == "alive\n"


def test_armed_point_kills_with_sigkill() -> None:
    assert probe("after_ref_update").returncode == -signal.SIGKILL


def test_kind_and_count_select_the_pass() -> None:
    assert probe("undo:after_ref_update").returncode == -signal.SIGKILL
    assert probe("redo:after_ref_update").stdout == "alive\n"
    assert probe("apply:after_ref_update#2").returncode == -signal.SIGKILL
    assert probe("apply:after_ref_update#3").stdout == "alive\n"
