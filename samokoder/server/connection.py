"""The connection state the agents' host reads: a leaf under `app` and `lsp_host`.

`LspHost` (loaded with the domain) speaks to the editor through the server, and the
server creates it; typing the host against this base class instead of
`SamokoderServer` keeps `app` -> `lsp_host` one-way (no import cycle). Imports only
pygls, lsprotocol and `capabilities`: it is on the startup path.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from samokoder.server.capabilities import ClientFeatures


class LspConnection(LanguageServer):
    """A pygls server with what the client announced and which run each progress token is."""

    def __init__(
        self,
        name: str,
        version: str,
        *,
        protocol_cls: type[LanguageServerProtocol],
        text_document_sync_kind: types.TextDocumentSyncKind,
    ) -> None:
        super().__init__(
            name,
            version,
            protocol_cls=protocol_cls,
            text_document_sync_kind=text_document_sync_kind,
        )
        self.features = ClientFeatures()
        self.token_runs: dict[str, str] = {}  # progress token -> run id (the run has its token)
