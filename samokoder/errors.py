"""One exception hierarchy for the whole package; the server maps it to JSON-RPC errors.

Every message is meant for a person: it names the thing that is wrong and, where it
helps, what to do about it.
"""

from __future__ import annotations


class SamokoderError(Exception):
    """Base of every error the server reports to a client as a JSON-RPC error."""

    code: int = -32603  # JSON-RPC internal error unless a subclass says otherwise

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(SamokoderError):
    """A command argument is missing, mistyped or out of range."""

    code = -32602


class NotFoundError(SamokoderError):
    """An id (run, proposal, step) or a file that the request names does not exist."""

    code = -32602


class OutsideWorkspaceError(SamokoderError):
    """A path breaks a confinement rule (DESIGN §3); the message names the path and the rule."""

    code = -32602

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"refused path {path!r}: {rule}")
        self.path = path
        self.rule = rule


class CheckpointConflictError(SamokoderError):
    """Undo/redo refused because files changed since the step; nothing was touched."""

    code = -32001

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


class StaleProposalError(SamokoderError):
    """A file under a proposal changed since it was computed and could not be rebased."""

    code = -32002

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


class LLMError(SamokoderError):
    """A provider call failed; ``retryable`` says whether trying again may help."""

    code = -32003

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class NoModelConfiguredError(SamokoderError):
    """No model is set anywhere; the message says how to set one."""

    code = -32004


class BudgetExhaustedError(SamokoderError):
    """The run's cost budget would be exceeded by the next call."""

    code = -32005
