"""The terminal client: `samokoder edit|generate|implement|explain|write-tests|undo|…`.

Each command starts `samokoder serve` as a child process and speaks LSP to it
over its stdio, exactly as an editor does: one protocol for every client.
"""
