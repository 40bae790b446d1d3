"""`samokoder serve --tcp`: loopback only, one authenticated session at a time.

pygls' own TCP server ends the process when any connection closes, so a local
process sending a wrong token could stop the editor's server. Here each
connection gets a fresh server object; a connection that fails the token check
is closed and the listener keeps waiting for the real client.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from pygls.io_ import run_async

from samokoder.server.framing import ResyncingStreamReader

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


async def serve_tcp(port: int, token: str, on_ready: Callable[[], None] | None = None) -> None:
    from samokoder.server import build_server

    busy = asyncio.Lock()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if busy.locked():
            log.warning("refused a second connection: one session at a time")
            writer.close()
            return
        async with busy:
            server = build_server(token=token)
            stop = threading.Event()
            server._stop_event = stop
            server.protocol.set_writer(writer)
            try:
                await run_async(
                    stop_event=stop,
                    reader=ResyncingStreamReader(reader),
                    protocol=server.protocol,
                    logger=log,
                    error_handler=server.report_server_error,
                )
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                await server.close_session()
                writer.close()

    listener = await asyncio.start_server(on_connection, HOST, port)
    if on_ready is not None:
        on_ready()
    async with listener:
        await listener.serve_forever()
