"""Our exceptions become JSON-RPC errors with messages a person can act on.

Every request gets exactly one response; unexpected exceptions are logged with
their traceback and answered with a short message, never a crash.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from pygls.exceptions import JsonRpcException

from samokoder.errors import CheckpointConflictError, SamokoderError, StaleProposalError

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def to_rpc_error(exc: SamokoderError) -> JsonRpcException:
    data: dict[str, Any] = {"kind": type(exc).__name__}
    if isinstance(exc, CheckpointConflictError | StaleProposalError):
        data["files"] = exc.files
    return JsonRpcException(message=exc.message, code=exc.code, data=data)


def rpc_errors(handler: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Map SamokoderError (and anything unexpected) to a JSON-RPC error."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await handler(*args, **kwargs)
        except JsonRpcException:
            raise
        except SamokoderError as exc:
            raise to_rpc_error(exc) from None
        except Exception as exc:
            log.exception("%s failed", getattr(handler, "__name__", "handler"))
            raise JsonRpcException(
                message=f"Internal error in Samokoder ({type(exc).__name__}); see the server log.",
                code=-32603,
            ) from None

    return wrapper
