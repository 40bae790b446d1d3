"""Exit codes scripts can rely on, and how server answers map onto them."""

from __future__ import annotations

from enum import IntEnum

from samokoder.client.jsonrpc import RpcError

NO_MODEL_CODE = -32004
NO_MODEL_PREFIX = "No model configured"


class ExitCode(IntEnum):
    OK = 0  # success; the proposal was accepted (all files or the chosen ones)
    FAILED = 1  # the run failed or the server answered with an error
    USAGE = 2  # bad usage, or the command is not available in this server version
    REJECTED = 3  # the user (or a missing terminal) rejected the proposal
    CANCELLED = 4  # Ctrl-C: the run was cancelled
    NO_MODEL = 5  # no model configured


RUN_STATUS_CODES = {
    "succeeded": ExitCode.OK,
    "failed": ExitCode.FAILED,
    "rejected": ExitCode.REJECTED,
    "cancelled": ExitCode.CANCELLED,
}


def is_unknown_command(error: RpcError) -> bool:
    """pygls answers a command nobody registered with "Command name '…' is not defined"."""
    return "is not defined" in error.message and error.code in (-32602, -32601)


def for_error(error: RpcError) -> ExitCode:
    if error.code == NO_MODEL_CODE or error.kind == "NoModelConfiguredError":
        return ExitCode.NO_MODEL
    if is_unknown_command(error):
        return ExitCode.USAGE
    return ExitCode.FAILED


def for_run(status: str, error: str | None) -> ExitCode:
    if status == "failed" and (error or "").startswith(NO_MODEL_PREFIX):
        return ExitCode.NO_MODEL
    return RUN_STATUS_CODES.get(status, ExitCode.FAILED)
