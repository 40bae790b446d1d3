"""The built wheel installs like a tool and serves: what `uv tool install` / `pipx` give users.

Builds the wheel (`uv build --wheel`), checks what it holds, installs it into a
fresh `uv venv` and speaks LSP to `<venv>/bin/samokoder serve`. It needs the
package registries for hatchling and the dependencies, unless uv's cache has
them (it tries offline first, so a warm cache makes it a matter of seconds):
marked `registry` so it can be deselected where there is neither.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from samokoder.client.jsonrpc import JsonRpcConnection

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.registry,
    pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv on PATH"),
    pytest.mark.timeout(300),
]

ROOT = Path(__file__).resolve().parents[2]
UV_SECONDS = 240


def uv(*args: str, cwd: Path) -> None:
    """`uv ARGS --offline` (uv's cache), and only if that cannot do it, with the registries."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for extra in (["--offline"], []):
        result = subprocess.run(
            ["uv", *args, *extra],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=UV_SECONDS,
            check=False,
        )
        if result.returncode == 0:
            return
    pytest.fail(f"uv {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def source_files() -> set[str]:
    package = ROOT / "samokoder"
    return {
        p.relative_to(ROOT).as_posix()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".typed")
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    uv("build", "--wheel", "--out-dir", str(out), str(ROOT), cwd=out)
    (built,) = out.glob("samokoder-*.whl")
    return built


def test_wheel_holds_the_package_and_nothing_else(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = {n for n in names if n.split("/")[0].endswith(".dist-info")}
    package = set(names) - dist_info
    assert {n.split("/")[0] for n in package} == {"samokoder"}  # no tests, editors, docs
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert package == source_files()
    entry_points = next(n for n in dist_info if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "samokoder = samokoder.cli:main" in text


def test_installed_command_serves(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    uv("venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    uv("pip", "install", "--quiet", "--python", str(python), str(wheel), cwd=tmp_path)
    command = venv / "bin" / "samokoder"
    assert command.exists()
    where = subprocess.run(
        [str(python), "-c", "import samokoder; print(samokoder.__file__)"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(venv)  # the installed copy, not the checkout
    answer, code = asyncio.run(initialize(command, tmp_path))
    assert answer["serverInfo"]["name"] == "samokoder"
    assert "samokoder.undo" in answer["capabilities"]["executeCommandProvider"]["commands"]
    assert code == 0


async def initialize(command: Path, root: Path) -> tuple[dict[str, object], int | None]:
    """initialize, initialized, shutdown, exit: the installed server's whole life."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "XDG_CACHE_HOME": str(root)}
    process = await asyncio.create_subprocess_exec(
        str(command),
        "serve",
        cwd=root,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    connection = JsonRpcConnection(process.stdout, process.stdin)
    connection.start()
    try:
        params = {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}}
        answer = await asyncio.wait_for(connection.request("initialize", params), 60)
        await connection.notify("initialized", {})
        await asyncio.wait_for(connection.request("shutdown"), 30)
        await connection.notify("exit")
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await connection.close()
    stderr = (await process.stderr.read()).decode() if process.stderr else ""
    assert "Traceback" not in stderr, stderr
    assert isinstance(answer, dict), json.dumps(answer)
    return answer, code
