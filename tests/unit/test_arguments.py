"""Command arguments: one object, and what counts as an empty one."""

from __future__ import annotations

from typing import Any

import pytest

from samokoder.agents.command_args import range_offsets
from samokoder.errors import InvalidArgumentError
from samokoder.server.arguments import one_object


@pytest.mark.parametrize("args", [(), ({},), ([],)])
def test_empty_forms_where_every_field_is_optional(args: tuple[Any, ...]) -> None:
    """`[]` is Neovim's encoding of an empty Lua table (`arguments = { {} }`)."""
    assert one_object(args, "samokoder.undo", "{stepId?}", all_optional=True) == {}


@pytest.mark.parametrize("args", [([],), ([1],), ({}, {}), ("x",)])
def test_refused_where_a_field_is_required(args: tuple[Any, ...]) -> None:
    with pytest.raises(InvalidArgumentError, match=r"samokoder.cancel takes one object"):
        one_object(args, "samokoder.cancel", "{runId}")


def test_a_non_empty_array_is_no_object_even_when_fields_are_optional() -> None:
    with pytest.raises(InvalidArgumentError, match="takes one object argument"):
        one_object(([{"limit": 1}],), "samokoder.history", "{limit?}", all_optional=True)


def test_a_character_past_the_line_end_is_the_line_end() -> None:
    """LSP: "defaults back to the line length"; Neovim sends (6, 1) for an empty line 6."""
    text = "a\r\n\U0001f600b\n\n"
    assert range_offsets(text, "f.py", (0, 0), (0, 9)) == (0, 1)
    assert range_offsets(text, "f.py", (1, 3), (2, 1)) == (5, 6)
    with pytest.raises(InvalidArgumentError, match="range is not inside f.py"):
        range_offsets(text, "f.py", (0, 0), (9, 0))  # no such line
    with pytest.raises(InvalidArgumentError, match="surrogate pair"):
        range_offsets(text, "f.py", (1, 1), (1, 2))  # the middle of the emoji
