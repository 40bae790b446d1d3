"""Checking command arguments: one JSON object each, with clear messages."""

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


def require_str(arg: dict[str, Any], name: str) -> str:
    value = arg.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{name!r} is required and must be a non-empty string")
    return value


def optional_str(arg: dict[str, Any], name: str) -> str | None:
    value = arg.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name!r} must be a string")
    return value if value.strip() else None


def optional_int(arg: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    value = arg.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidArgumentError(f"{name!r} must be an integer from {lo} to {hi}")
    return value


def position(value: Any, what: str) -> tuple[int, int]:
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{what} must be an object {{line, character}}")
    line, char = value.get("line"), value.get("character")
    for name, v in (("line", line), ("character", char)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > 2**31 - 1:
            raise InvalidArgumentError(f"{what}.{name} must be a non-negative integer")
    return line, char  # type: ignore[return-value]


def lsp_range(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    if not isinstance(value, dict):
        raise InvalidArgumentError("'range' is required: {start: {line, character}, end: {...}}")
    start = position(value.get("start"), "range.start")
    end = position(value.get("end"), "range.end")
    if end < start:
        raise InvalidArgumentError("range.end comes before range.start")
    return start, end


def as_plain(value: Any) -> Any:
    """Custom-method params arrive as namedtuple-like objects; turn them into dicts."""
    if hasattr(value, "_asdict"):
        return {k: as_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    return value


def range_offsets(
    text: str, rel: str, start: tuple[int, int], end: tuple[int, int]
) -> tuple[int, int]:
    """Python string offsets of an LSP range in `text`.

    A character past the end of its line stands for the line's end, as LSP says
    ("defaults back to the line length"): Neovim sends one for a range that ends on
    an empty line. Anything else out of place is an error naming the file.
    """
    try:
        return _offset(text, *start), _offset(text, *end)
    except ValueError as exc:
        lines = text.count("\n") + 1
        raise InvalidArgumentError(f"range is not inside {rel} ({lines} lines): {exc}") from None


def _offset(text: str, line: int, character: int) -> int:
    from samokoder.workspace.textedits import Position, offset_at

    try:
        return offset_at(text, Position(line, character))
    except ValueError:
        line_start = offset_at(text, Position(line, 0))  # raises for a line that is not there
        breaks = [i for i in (text.find("\n", line_start), text.find("\r", line_start)) if i >= 0]
        line_end = min(breaks, default=len(text))
        if character > len(text[line_start:line_end].encode("utf-16-le")) // 2:
            return line_end
        raise
