"""Commands as argv lists: a developer's command line is split, never given to a shell.

Without a shell, pipes, redirections, `&&`, `$VAR`, `$(...)`, globs and `~` would
not do what the command's author meant, and they are how injected text turns one
command into two. So a command line is accepted only when it is a plain argv:
words, quoted or not. Shell syntax outside quotes (and expansions inside double
quotes) is refused with a message naming what was found.
"""

from __future__ import annotations

import shlex

from samokoder.errors import InvalidArgumentError

MAX_COMMAND_CHARS = 4_000
MAX_ARGS = 200

_OPERATORS = {
    "|": "a pipe (|)",
    "&": "a background or && operator (&)",
    ";": "a command separator (;)",
    "<": "a redirection (<)",
    ">": "a redirection (>)",
    "(": "a subshell (parentheses)",
    ")": "a subshell (parentheses)",
    "`": "command substitution (`...`)",
    "*": "a glob (*)",
    "?": "a glob (?)",
}


class CommandRefusedError(InvalidArgumentError):
    """A command line that is not a plain argv, or that Samokoder will not run as given."""


def parse_command(text: str) -> list[str]:
    """The argv of a plain command line; raises CommandRefusedError naming the problem."""
    if not isinstance(text, str) or not text.strip():
        raise CommandRefusedError("the command is empty")
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandRefusedError(f"the command is over {MAX_COMMAND_CHARS} characters")
    if "\x00" in text:
        raise CommandRefusedError("the command contains a NUL byte")
    if "\n" in text or "\r" in text:
        raise CommandRefusedError("the command spans several lines (one command at a time)")
    problem = shell_syntax(text)
    if problem is not None:
        raise CommandRefusedError(
            f"`{text}` uses shell syntax ({problem}); commands run without a shell, as a "
            "plain program and arguments"
        )
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise CommandRefusedError(f"`{text}` cannot be split into arguments: {exc}") from None
    if not argv:
        raise CommandRefusedError("the command is empty")
    if len(argv) > MAX_ARGS:
        raise CommandRefusedError(f"the command has over {MAX_ARGS} arguments")
    head = argv[0]
    if "=" in head and not head.startswith(("/", ".")):
        raise CommandRefusedError(
            f"`{text}` starts with a variable assignment ({head}), which needs a shell"
        )
    return argv


def shell_syntax(text: str) -> str | None:
    """What shell syntax `text` uses outside quotes (or expands inside double quotes)."""
    quote: str | None = None
    escaped = False
    at_word_start = True
    for index, char in enumerate(text):
        if escaped:
            escaped = False
            at_word_start = False
            continue
        if quote == "'":
            if char == "'":
                quote = None
            continue
        if char == "\\":
            escaped = True
            continue
        if char == "$":
            return "a variable or command substitution ($)"
        if char == "`":
            return _OPERATORS["`"]
        if quote == '"':
            if char == '"':
                quote = None
            continue
        if char in "'\"":
            quote = char
            at_word_start = False
            continue
        if char in _OPERATORS:
            return _OPERATORS[char]
        if char == "~" and at_word_start:
            return "a home folder shortcut (~)"
        if char == "#" and at_word_start and index > 0:
            return "a comment (#)"
        at_word_start = char in " \t"
    return None


def display(argv: list[str] | tuple[str, ...]) -> str:
    """An argv as one line a person can read (and a shell would split back the same)."""
    return shlex.join(argv)
