"""The terminal client: `samokoder edit|generate|implement|undo|redo|history|usage`.

Each command starts `samokoder serve` as a child process and speaks LSP to it
over its stdio, exactly as an editor does: one protocol for every client.
"""
