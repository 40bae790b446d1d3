"""The argument of each `workspace/executeCommand` command, as a typed model.

camelCase on the wire, like the settings. Each field's check raises the
`InvalidArgumentError` the user has always read (pydantic passes exceptions that
are not `ValueError` through untouched), so a wrong argument names the field and
what it must be, never pydantic's own wording. Fields are checked in the order
they are declared; the first problem is the one reported.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel

from samokoder.agents.code_tasks import DiagnosticNote
from samokoder.errors import InvalidArgumentError
from samokoder.workspace.textedits import Position as TextPosition
from samokoder.workspace.textedits import offset_at

Position = tuple[int, int]
Range = tuple[Position, Position]

MAX_DIAGNOSTICS = 50
SEVERITIES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
MAX_DESCRIPTION = 20_000


class CommandArgs(BaseModel):
    """Every field has a default and is checked even when left out (`validate_default`),
    so "missing" gets the same message as "wrong"."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        frozen=True,
        extra="ignore",
        validate_default=True,
        arbitrary_types_allowed=True,
    )


# -- the checks, one message each ---------------------------------------------------


def require_str(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{name!r} is required and must be a non-empty string")
    return value


def optional_str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name!r} must be a string")
    return value if value.strip() else None


def bounded_int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidArgumentError(f"{name!r} must be an integer from {lo} to {hi}")
    return value


def position(value: Any, what: str) -> Position:
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{what} must be an object {{line, character}}")
    line, char = value.get("line"), value.get("character")
    for name, v in (("line", line), ("character", char)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > 2**31 - 1:
            raise InvalidArgumentError(f"{what}.{name} must be a non-negative integer")
    return line, char  # type: ignore[return-value]


def lsp_range(value: Any) -> Range:
    if not isinstance(value, dict):
        raise InvalidArgumentError("'range' is required: {start: {line, character}, end: {...}}")
    start = position(value.get("start"), "range.start")
    end = position(value.get("end"), "range.end")
    if end < start:
        raise InvalidArgumentError("range.end comes before range.start")
    return start, end


def range_offsets(text: str, rel: str, start: Position, end: Position) -> tuple[int, int]:
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
    try:
        return offset_at(text, TextPosition(line, character))
    except ValueError:
        line_start = offset_at(text, TextPosition(line, 0))  # raises for a missing line
        breaks = [i for i in (text.find("\n", line_start), text.find("\r", line_start)) if i >= 0]
        line_end = min(breaks, default=len(text))
        if character > len(text[line_start:line_end].encode("utf-16-le")) // 2:
            return line_end
        raise


def file_uri(value: Any) -> str:
    """The part of the URI check that needs no editor; the rest is the session's."""
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError("uri must be a non-empty string (a file:// URI)")
    return value


def diagnostics(value: Any) -> tuple[DiagnosticNote, ...]:
    """LSP Diagnostic objects as the code action passed them."""
    if value is None or value == ():  # left out (JSON never gives a tuple)
        return ()
    if not isinstance(value, list) or len(value) > MAX_DIAGNOSTICS:
        raise InvalidArgumentError(
            f"'diagnostics' must be a list of at most {MAX_DIAGNOSTICS} LSP Diagnostic objects"
        )
    notes = []
    for index, item in enumerate(value):
        what = f"diagnostics[{index}]"
        if not isinstance(item, dict):
            raise InvalidArgumentError(f"{what} must be an object {{range, message, ...}}")
        message = item.get("message")
        if not isinstance(message, str) or not message.strip():
            raise InvalidArgumentError(f"{what}.message must be a non-empty string")
        rng = item.get("range")
        line, character = position(
            rng.get("start") if isinstance(rng, dict) else None, f"{what}.range.start"
        )
        severity, source, code = item.get("severity"), item.get("source"), item.get("code")
        notes.append(
            DiagnosticNote(
                line=line,
                character=character,
                message=message.strip()[:2_000],
                severity=SEVERITIES.get(severity, "") if isinstance(severity, int) else "",
                source=source[:100] if isinstance(source, str) else "",
                code=str(code)[:100] if isinstance(code, str | int) else "",
            )
        )
    return tuple(notes)


# -- the models ----------------------------------------------------------------------


class EditSelectionArgs(CommandArgs):
    shape: ClassVar[str] = "{uri, range, instruction?}"
    uri: str = ""
    range: Range | None = None
    instruction: str | None = None
    from_comment: bool = False

    check_uri = field_validator("uri", mode="before")(lambda v: file_uri(v))
    check_range = field_validator("range", mode="before")(lambda v: lsp_range(v))
    check_instruction = field_validator("instruction", mode="before")(
        lambda v: optional_str(v, "instruction")
    )

    @field_validator("from_comment", mode="before")
    @classmethod
    def check_from_comment(cls, value: Any, info: Any) -> bool:
        if not isinstance(value, bool):
            raise InvalidArgumentError("'fromComment' must be true or false")
        if value and info.data.get("instruction") is not None:
            raise InvalidArgumentError("give 'instruction' or 'fromComment', not both")
        return value


class FileArgs(CommandArgs):
    """writeTests: a file and, optionally, a range in it (none or empty: the whole file)."""

    shape: ClassVar[str] = "{uri, range?}"
    uri: str = ""
    range: Range | None = None

    check_uri = field_validator("uri", mode="before")(lambda v: file_uri(v))
    check_range = field_validator("range", mode="before")(
        lambda v: None if v is None else lsp_range(v)
    )


class ExplainArgs(FileArgs):
    shape: ClassVar[str] = "{uri, range}"

    check_range = field_validator("range", mode="before")(lambda v: lsp_range(v))


class FixDiagnosticsArgs(CommandArgs):
    """The diagnostics are checked first, then the file and range as for writeTests."""

    shape: ClassVar[str] = "{uri, range?, diagnostics?}"
    diagnostics: tuple[DiagnosticNote, ...] = ()
    uri: str = ""
    range: Range | None = None

    check_diagnostics = field_validator("diagnostics", mode="before")(lambda v: diagnostics(v))
    check_uri = field_validator("uri", mode="before")(lambda v: file_uri(v))
    check_range = field_validator("range", mode="before")(
        lambda v: None if v is None else lsp_range(v)
    )


def description_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(
            "'description' is required: say what to build, in a sentence or more"
        )
    if len(value) > MAX_DESCRIPTION:
        raise InvalidArgumentError("'description' is too long (over 20,000 characters)")
    return value.strip()


def file_list(value: Any) -> tuple[str, ...]:
    if value is None or value == ():  # left out (JSON never gives a tuple)
        return ()
    if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
        raise InvalidArgumentError("'files' must be a list of file URIs or workspace paths")
    return tuple(value)


class GenerateArgs(CommandArgs):
    shape: ClassVar[str] = "{description, folder?}"
    description: str = ""
    folder: str | None = None

    check_description = field_validator("description", mode="before")(lambda v: description_text(v))
    check_folder = field_validator("folder", mode="before")(lambda v: optional_str(v, "folder"))


class ImplementArgs(CommandArgs):
    shape: ClassVar[str] = "{description, files?}"
    description: str = ""
    files: tuple[str, ...] = ()

    check_description = field_validator("description", mode="before")(lambda v: description_text(v))
    check_files = field_validator("files", mode="before")(lambda v: file_list(v))


class RunIdArgs(CommandArgs):
    """resume and cancel."""

    shape: ClassVar[str] = "{runId}"
    run_id: str = ""

    check_run_id = field_validator("run_id", mode="before")(lambda v: require_str(v, "runId"))


class StepArgs(CommandArgs):
    """undo and redo: the step to undo or redo, the latest when left out."""

    shape: ClassVar[str] = "{stepId?}"
    step_id: str | None = None

    check_step_id = field_validator("step_id", mode="before")(lambda v: optional_str(v, "stepId"))


class HistoryArgs(CommandArgs):
    shape: ClassVar[str] = "{limit?}"
    limit: int = 50

    check_limit = field_validator("limit", mode="before")(
        lambda v: bounded_int(v, "limit", 1, 1000)
    )


class UsageArgs(CommandArgs):
    shape: ClassVar[str] = "{runId?}"
    run_id: str | None = None

    check_run_id = field_validator("run_id", mode="before")(lambda v: optional_str(v, "runId"))
