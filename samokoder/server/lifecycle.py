"""initialize / initialized / configuration / shutdown.

`initialize` only records what the client said: everything heavy happens after
it is answered, in `initialized`, in the background.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from samokoder.server import logs
from samokoder.server.app import SamokoderServer
from samokoder.server.capabilities import ClientFeatures

log = logging.getLogger(__name__)

CONFIG_SECTION = "samokoder"


def register(server: SamokoderServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: SamokoderServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        ls.init_options = dict(options) if isinstance(options, dict) else {}
        if ls.required_token is not None:
            given = ls.init_options.get("token")
            if not isinstance(given, str) or not hmac.compare_digest(given, ls.required_token):
                _close_soon(ls)
                raise JsonRpcException(
                    message="Wrong or missing token: pass the token printed by "
                    "`samokoder serve --tcp` as initializationOptions.token.",
                    code=-32600,
                )
        ls.features = ClientFeatures.resolve(params.capabilities)

    @server.feature(types.INITIALIZED)
    def initialized(ls: SamokoderServer, params: types.InitializedParams) -> None:
        if ls.log_handler is None:
            ls.log_handler = logs.attach(ls)
        # litellm first: it is what the first command waits for longest (seconds);
        # the domain import (a fraction of a second) shares the interpreter with it.
        from samokoder.llm.runtime import start_prewarm

        start_prewarm()
        ls.spawn(_warm_up(ls), "warm-up")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: SamokoderServer, params: types.DidChangeConfigurationParams
    ) -> None:
        pushed = params.settings
        if isinstance(pushed, dict) and isinstance(pushed.get(CONFIG_SECTION), dict):
            ls.client_settings = dict(pushed[CONFIG_SECTION])
            ls.spawn(_apply_settings(ls), "settings")
        else:
            ls.spawn(_pull_configuration(ls), "configuration")

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: SamokoderServer, params: Any) -> None:
        await ls.close_session()


def _close_soon(ls: SamokoderServer) -> None:
    """End a connection that failed authentication, after the error reply is sent."""

    def close() -> None:
        writer = getattr(ls.protocol, "writer", None)
        closer = getattr(writer, "close", None)
        if closer is not None:
            result = closer()
            if asyncio.iscoroutine(result):
                ls.spawn(result, "close connection")
        if ls._stop_event is not None:
            ls._stop_event.set()

    asyncio.get_running_loop().call_later(0.2, close)


async def _warm_up(ls: SamokoderServer) -> None:
    await ls.services()
    await _pull_configuration(ls)


async def _apply_settings(ls: SamokoderServer) -> None:
    await ls.services()
    ls.refresh_settings()


async def _pull_configuration(ls: SamokoderServer) -> None:
    caps = ls.client_capabilities.workspace
    if caps is not None and caps.configuration:
        params = types.ConfigurationParams(items=[types.ConfigurationItem(section=CONFIG_SECTION)])
        try:
            result = await asyncio.wait_for(ls.workspace_configuration_async(params), 10)
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
            result = []
        if result and isinstance(result[0], dict):
            ls.client_settings = dict(result[0])
    await _apply_settings(ls)
