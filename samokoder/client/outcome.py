"""The one JSON object `--json` prints for every outcome, so scripts never parse prose.

Always: `command`, `status`, `exitCode`. A run adds its `runFinished` fields
(`runId`, `summary`, `steps`, `usage`, `error?`, `text?`); a query adds its
answer's fields (`steps`, `commands`, `total`, …); a refusal adds `error` and,
when the server sent it, `errorCode` (the JSON-RPC code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENVELOPE = ("command", "status", "exitCode")


def outcome_json(command: str | None, code: int, body: Mapping[str, Any]) -> dict[str, Any]:
    status = body.get("status")
    result: dict[str, Any] = {
        "command": command,
        "status": status if isinstance(status, str) else ("succeeded" if code == 0 else "error"),
        "exitCode": int(code),
    }
    result.update((k, v) for k, v in body.items() if k not in ENVELOPE)
    return result


def succeeded(answer: Any) -> dict[str, Any]:
    """A query's answer; a non-object answer is kept under `result`."""
    if isinstance(answer, Mapping):
        return {"status": "succeeded", **answer}
    return {"status": "succeeded", "result": answer}


def refused(message: str, code: int | None = None) -> dict[str, Any]:
    """The server refused the request, or it never reached one."""
    body: dict[str, Any] = {"status": "error", "error": message}
    if code is not None:
        body["errorCode"] = code
    return body


def bad_usage(message: str) -> dict[str, Any]:
    return {"status": "usage", "error": message}
