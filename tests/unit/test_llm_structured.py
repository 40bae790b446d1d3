"""Reading structured replies: fences, prose around the object, validation messages."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from samokoder.llm.structured import (
    StructuredReplyError,
    extract_json,
    feedback,
    next_mode,
    parse_reply,
    request_parts,
    response_format,
    schema_instruction,
    with_instruction,
)


class Item(BaseModel):
    name: str
    count: int


class Order(BaseModel):
    items: list[Item]
    note: str = ""


GOOD = '{"items": [{"name": "pen", "count": 2}], "note": "a {brace} in a string"}'


@pytest.mark.parametrize(
    "reply",
    [
        GOOD,
        f"  {GOOD}  ",
        f"```json\n{GOOD}\n```",
        f"```\n{GOOD}\n```",
        f"Sure! Here is the order:\n\n```json\n{GOOD}\n```\n\nLet me know.",
        f"Here is the order: {GOOD} -- that's all.",
        f"```python\nprint('not this')\n```\nThe JSON:\n```json\n{GOOD}\n```",
    ],
    ids=["bare", "padded", "json fence", "plain fence", "prose and fence", "inline", "two fences"],
)
def test_json_is_found_in_common_reply_shapes(reply: str) -> None:
    order = parse_reply(reply, Order)
    assert order.items == [Item(name="pen", count=2)]
    assert order.note == "a {brace} in a string"


def test_escaped_quotes_do_not_confuse_the_bracket_matcher() -> None:
    text = 'Result: {"name": "a \\"quoted\\" } brace", "count": 1} trailing'
    assert parse_reply(text, Item).name == 'a "quoted" } brace'


def test_extract_json_returns_the_text_when_there_is_no_object() -> None:
    assert extract_json("no json here") == "no json here"


def test_invalid_json_says_where() -> None:
    with pytest.raises(StructuredReplyError, match=r"not valid JSON .* line 1"):
        parse_reply('{"name": "pen", "count": }', Item)


def test_validation_errors_name_the_fields() -> None:
    with pytest.raises(StructuredReplyError) as caught:
        parse_reply('{"items": [{"name": "pen", "count": "many"}]}', Order)

    assert "items.0.count" in str(caught.value)
    assert "integer" in str(caught.value)


def test_empty_reply_is_an_error() -> None:
    with pytest.raises(StructuredReplyError, match="empty"):
        parse_reply("   ", Item)


def test_feedback_asks_for_the_schema_again() -> None:
    message = feedback(StructuredReplyError("1 validation error(s): count: missing"), Item)
    assert "count: missing" in message
    assert "valid Item" in message


def test_response_format_carries_the_pydantic_schema() -> None:
    fmt = response_format(Order)
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Order"
    assert fmt["json_schema"]["schema"] == Order.model_json_schema()


def test_instruction_joins_an_existing_system_message() -> None:
    messages = [
        {"role": "system", "content": "You are the reviewer."},
        {"role": "user", "content": "x"},
    ]
    joined = with_instruction(messages, Item, in_prompt=True)

    assert len(joined) == 2
    assert joined[0]["content"].startswith("You are the reviewer.")
    assert '"count"' in joined[0]["content"]
    assert messages[0]["content"] == "You are the reviewer."  # not mutated


def test_instruction_becomes_the_system_message_when_there_is_none() -> None:
    joined = with_instruction([{"role": "user", "content": "x"}], Item, in_prompt=False)
    assert joined[0]["role"] == "system"
    assert joined[0]["content"] == schema_instruction(Item, in_prompt=False)
    assert '"count"' not in joined[0]["content"]


def test_grammar_mode_sends_the_schema_in_json_mode_and_in_the_prompt() -> None:
    """llama.cpp builds a grammar from ``schema``; the prompt carries it for the model too."""
    sent, in_prompt = request_parts("grammar", Order)
    assert sent == {"type": "json_object", "schema": Order.model_json_schema()}
    assert in_prompt
    assert request_parts("json_object", Order) == ({"type": "json_object"}, True)


def test_a_refused_mode_falls_back_without_trying_grammar_unasked() -> None:
    assert next_mode("json_schema") == "json_object"  # grammar is taken only when set
    assert next_mode("grammar") == "json_object"
    assert next_mode("json_object") == "prompt"
    assert next_mode("prompt") is None
