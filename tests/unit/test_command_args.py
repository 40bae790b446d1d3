"""Command argument models: camelCase on the wire, the first problem named as always."""

from __future__ import annotations

from typing import Any

import pytest

from samokoder.agents.command_args import (
    EditSelectionArgs,
    FixDiagnosticsArgs,
    HistoryArgs,
    ImplementArgs,
    StepArgs,
)
from samokoder.errors import InvalidArgumentError

RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
URI = "file:///w/app.py"


def test_camel_case_fields_and_defaults() -> None:
    args = EditSelectionArgs.model_validate({"uri": URI, "range": RANGE, "fromComment": True})
    assert (args.uri, args.range, args.from_comment, args.instruction) == (
        URI,
        ((0, 0), (1, 0)),
        True,
        None,
    )
    assert StepArgs.model_validate({"stepId": "s-1"}).step_id == "s-1"
    assert HistoryArgs.model_validate({}).limit == 50
    assert ImplementArgs.model_validate({"description": " x "}).files == ()


@pytest.mark.parametrize(
    ("model", "raw", "message"),
    [
        (EditSelectionArgs, {}, "uri must be a non-empty string (a file:// URI)"),
        (
            EditSelectionArgs,
            {"uri": URI, "range": RANGE, "fromComment": "yes"},
            "'fromComment' must be true or false",
        ),
        (
            EditSelectionArgs,
            {"uri": URI, "range": RANGE, "instruction": "x", "fromComment": True},
            "give 'instruction' or 'fromComment', not both",
        ),
        (
            EditSelectionArgs,
            {
                "uri": URI,
                "range": {"start": {"line": 2, "character": 0}, "end": {"line": 1, "character": 0}},
            },
            "range.end comes before range.start",
        ),
        (
            FixDiagnosticsArgs,
            {"diagnostics": [{"message": "m"}]},
            "diagnostics[0].range.start must be an object {line, character}",
        ),
        (HistoryArgs, {"limit": True}, "'limit' must be an integer from 1 to 1000"),
        (
            ImplementArgs,
            {"description": "x", "files": "a.py"},
            "'files' must be a list of file URIs or workspace paths",
        ),
    ],
)
def test_each_check_keeps_its_message(model: Any, raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        model.model_validate(raw)
    assert str(info.value) == message
