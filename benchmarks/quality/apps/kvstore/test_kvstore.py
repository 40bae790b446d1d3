import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(tmp_path, *extra):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kvstore", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stderr.close()


def call(base, method, path, body=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(base + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, response.headers, (json.loads(text) if text else None)
    except urllib.error.HTTPError as err:
        text = err.read()
        return err.code, err.headers, (json.loads(text) if text else None)


@pytest.fixture
def server(tmp_path):
    proc, base = start(tmp_path)
    yield base
    stop(proc)


def test_health(server):
    status, headers, body = call(server, "GET", "/health")
    assert (status, body) == (200, {"status": "ok"})
    assert headers["Content-Type"].startswith("application/json")


def test_put_get_replace(server):
    assert call(server, "PUT", "/keys/a", {"x": [1, 2]})[::2] == (
        201,
        {"key": "a", "created": True},
    )
    assert call(server, "GET", "/keys/a")[::2] == (200, {"key": "a", "value": {"x": [1, 2]}})
    assert call(server, "PUT", "/keys/a", 5)[::2] == (200, {"key": "a", "created": False})
    assert call(server, "GET", "/keys/a")[2]["value"] == 5


def test_delete(server):
    call(server, "PUT", "/keys/gone", True)
    status, _, body = call(server, "DELETE", "/keys/gone")
    assert status == 204 and body is None
    assert call(server, "GET", "/keys/gone")[0] == 404
    assert call(server, "DELETE", "/keys/gone")[0] == 404


def test_list_and_prefix(server):
    for key in ("b.two", "a.one", "b.one"):
        call(server, "PUT", f"/keys/{key}", 1)
    assert call(server, "GET", "/keys")[2] == {"keys": ["a.one", "b.one", "b.two"]}
    assert call(server, "GET", "/keys?prefix=b.")[2] == {"keys": ["b.one", "b.two"]}


def test_errors(server):
    status, _, body = call(server, "PUT", "/keys/x", raw=b"{not json")
    assert status == 400 and "error" in body
    assert call(server, "PUT", "/keys/bad%20key", 1)[0] == 400
    assert call(server, "GET", "/nowhere")[0] == 404
    assert call(server, "POST", "/keys/x", 1)[0] == 405


def test_data_file_survives_restart(tmp_path):
    data = tmp_path / "store.json"
    proc, base = start(tmp_path, "--data", str(data))
    try:
        call(base, "PUT", "/keys/kept", {"n": 1})
    finally:
        stop(proc)
    assert json.loads(data.read_text()) == {"kept": {"n": 1}}
    proc, base = start(tmp_path, "--data", str(data))
    try:
        assert call(base, "GET", "/keys/kept")[2] == {"key": "kept", "value": {"n": 1}}
    finally:
        stop(proc)
