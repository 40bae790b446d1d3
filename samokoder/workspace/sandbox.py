"""An optional bubblewrap sandbox around a command (setting `sandbox: true`).

What it does: the whole filesystem is read-only except the workspace folder
(its `.git/` stays read-only and `.samokoder/` is an empty read-only folder)
and a private, empty `/tmp` (gone when the command ends); `/run` (the Docker
socket, D-Bus, ...) is an empty folder; the usual credential stores in the home
folder (`~/.ssh`, `~/.aws`, `~/.docker`, `~/.netrc`, ...) are hidden; the
command gets its own PID, IPC, UTS and (unless `sandboxNetwork` is on) network
namespace, so it sees none of your processes, cannot reach the network or local
servers, and every process it started dies with it.

What it does not stop: reading any other file your user can read; writing,
deleting or corrupting files inside the workspace (checkpoints do not cover what
a command writes); using all CPU, memory or disk (no cgroup limits); network
access when `sandboxNetwork` is on; kernel exploits. It is a fence for mistakes
and casual mischief, not a container for hostile code.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from samokoder.secrets import scrubbed_env

HIDDEN_IN_HOME = (
    ".ssh",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".config/gh",
    ".config/hub",
    ".docker",
    ".kube",
    ".gnupg",
    ".password-store",
    ".local/share/keyrings",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".cache/samokoder",
)
PRIVATE_TMP = "/tmp"  # noqa: S108 - inside the sandbox it is a fresh tmpfs of its own
SANDBOX_ENV = {
    "TMPDIR": PRIVATE_TMP,
    "XDG_CACHE_HOME": f"{PRIVATE_TMP}/.cache",
    "npm_config_cache": f"{PRIVATE_TMP}/.npm",
}
_PROBE_TIMEOUT = 10.0


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def sandbox_problem() -> str | None:
    """Why the sandbox cannot be used here (None: it can). Blocking; cached."""
    bwrap = bwrap_path()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        probe = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            timeout=_PROBE_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
            env=scrubbed_env(os.environ),  # no keys for a child, even a probe
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap could not start: {exc}"
    if probe.returncode != 0:
        reason = probe.stderr.decode(errors="replace").strip() or f"exit code {probe.returncode}"
        return f"bwrap does not work here ({reason})"
    return None


def sandbox_argv(
    argv: list[str], root: Path, cwd: Path, *, network: bool, home: str | None = None
) -> list[str]:
    """`argv` wrapped in bwrap with the rules in this module's docstring."""
    bwrap = bwrap_path() or "bwrap"
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-all"]
    if network:
        args.append("--share-net")
    args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", PRIVATE_TMP]
    if os.path.isdir("/run"):
        args += ["--tmpfs", "/run"]
        if network:
            resolv = os.path.realpath("/etc/resolv.conf")
            if resolv.startswith("/run/") and os.path.isfile(resolv):
                args += ["--ro-bind", resolv, resolv]
    docker = "/var/run/docker.sock"
    if os.path.realpath("/var/run") != "/run" and os.path.exists(docker):
        args += ["--ro-bind", "/dev/null", docker]
    home_dir = home if home is not None else os.path.expanduser("~")
    for name in HIDDEN_IN_HOME:
        path = os.path.join(home_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            args += ["--tmpfs", path]
        elif os.path.isfile(path) and not os.path.islink(path):
            args += ["--ro-bind", "/dev/null", path]
    workspace = str(root)
    args += ["--bind", workspace, workspace]
    git_dir = root / ".git"
    if git_dir.is_dir():
        args += ["--ro-bind", str(git_dir), str(git_dir)]
    state_dir = root / ".samokoder"
    if state_dir.is_dir():
        args += ["--tmpfs", str(state_dir), "--remount-ro", str(state_dir)]
    args += ["--chdir", str(cwd), "--", *argv]
    return args
