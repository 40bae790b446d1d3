"""The baseline for `initialize_latency.py`: a pygls 2 server with one trivial feature.

It pays what any pygls server pays (interpreter start, pygls, lsprotocol, asyncio)
and nothing else, so `samokoder serve` minus this is Samokoder's own start-up cost.

Run: python -m benchmarks.bare_pygls_server (stdio).
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare-pygls", "0.0.1")


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover:
    return types.Hover(contents="bare pygls")


if __name__ == "__main__":
    server.start_io()
