"""`serve --tcp`: loopback, token required, a bad client cannot end the server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO

TOKEN = "tcp-token-for-tests-123456"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def receive(stream: BinaryIO) -> dict[str, Any] | None:
    """The next response, skipping server requests/notifications; None on EOF."""
    while True:
        length = 0
        while True:
            line = stream.readline()
            if not line:
                return None
            if line == b"\r\n":
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(stream.read(length))
        if "id" in message and "method" not in message:
            return message


def initialize(
    sock: socket.socket, stream: BinaryIO, root: Path, token: str | None
) -> dict[str, Any] | None:
    options = {} if token is None else {"token": token}
    send(
        sock,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": options,
            },
        },
    )
    return receive(stream)


def test_tcp_requires_token(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, SAMOKODER_TOKEN=TOKEN, HOME=str(tmp_path))
    with subprocess.Popen(
        [sys.executable, "-m", "samokoder.cli", "serve", "--tcp", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline().decode()
            assert f"127.0.0.1:{port}" in banner
            for wrong in (None, "wrong-token"):
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=20) as sock,
                    sock.makefile("rb") as stream,
                ):
                    reply = initialize(sock, stream, tmp_path, wrong)
                    assert reply is not None and "error" in reply
                    assert "token" in reply["error"]["message"]
                    assert receive(stream) is None  # the connection was ended
            assert proc.poll() is None  # and the server still listens
            with (
                socket.create_connection(("127.0.0.1", port), timeout=20) as sock,
                sock.makefile("rb") as stream,
            ):
                reply = initialize(sock, stream, tmp_path, TOKEN)
                assert reply is not None and "result" in reply
                assert reply["result"]["serverInfo"]["name"] == "samokoder"
                send(sock, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
                assert receive(stream) == {"jsonrpc": "2.0", "id": 2, "result": None}
        finally:
            proc.kill()
