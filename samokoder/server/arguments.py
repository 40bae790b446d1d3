"""A command's raw arguments: exactly one JSON object, well-formed Unicode.

What the object must hold is its model's business (`agents/command_args.py`).
"""

from __future__ import annotations

from typing import Any

from samokoder.errors import InvalidArgumentError


def one_object(
    args: tuple[Any, ...], command: str, shape: str, *, all_optional: bool = False
) -> dict[str, Any]:
    """The command's one object argument; no argument at all is an empty object.

    With `all_optional` (every field may be left out) an empty array counts as `{}`
    too: Neovim encodes an empty Lua table as `[]`, so a user's own
    `arguments = { {} }` arrives as `[[]]`.
    """
    if len(args) == 0:
        return {}
    if all_optional and len(args) == 1 and args[0] == []:
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise InvalidArgumentError(f"{command} takes one object argument: {shape}")
    if not _encodable(args[0]):
        raise InvalidArgumentError(
            f"{command}: the argument holds text that is not valid Unicode (a lone UTF-16"
            " surrogate); send well-formed strings"
        )
    return args[0]


def _encodable(value: Any, depth: int = 0) -> bool:
    """No lone surrogates anywhere (JSON allows them; UTF-8, SQLite and files do not)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if depth > 64:
        return True  # deeper than any argument we read
    if isinstance(value, dict):
        return all(_encodable(k, depth + 1) and _encodable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_encodable(v, depth + 1) for v in value)
    return True


def as_plain(value: Any) -> Any:
    """Custom-method params arrive as namedtuple-like objects; turn them into dicts."""
    if hasattr(value, "_asdict"):
        return {k: as_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    return value
