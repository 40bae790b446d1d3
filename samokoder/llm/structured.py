"""Structured replies: ask for JSON matching a pydantic model, read it back forgivingly.

Four ways to ask (the ``structuredOutput`` setting, per model): ``json_schema`` (the
schema in ``response_format``; where litellm says the model supports it, the default),
``grammar`` (JSON mode with the schema beside it, ``{"type": "json_object", "schema":
...}``, which llama.cpp's servers compile into a grammar the sampler must follow: even
a tiny local model then sends JSON of the right shape; chosen only when set),
``json_object`` (JSON mode, schema in the prompt: what llama.cpp, Ollama and most
self-hosted servers take) and ``prompt`` (schema in the prompt only). A server that
answers that a mode is unsupported moves the request to the next one at once
(``json_schema`` and ``grammar`` to ``json_object``, that to ``prompt``). Either
way the reply is read tolerantly (a fenced block, prose before or after the object) and
validated with pydantic; a failure becomes a message the model can act on. No I/O here.
"""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any, Final, Literal, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from samokoder.errors import LLMError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_ERROR_LIMIT: Final = 1500


Mode = Literal["json_schema", "grammar", "json_object", "prompt"]
MODES: Final[tuple[Mode, ...]] = get_args(Mode)
_NEXT: Final[dict[Mode, Mode]] = {
    "json_schema": "json_object",  # not grammar: only llama.cpp takes it, chosen when set
    "grammar": "json_object",
    "json_object": "prompt",
}


def choose_mode(litellm: ModuleType, model: str, configured: str) -> Mode:
    """The configured mode, or for ``auto`` the best one litellm knows the model takes."""
    for mode in MODES:
        if configured == mode:
            return mode
    return "json_schema" if supports_schema(litellm, model) else "prompt"


def next_mode(mode: Mode) -> Mode | None:
    """The mode to try when the server says ``mode`` is unsupported (None: none left)."""
    return _NEXT.get(mode)


def request_parts(mode: Mode, schema: type[BaseModel]) -> tuple[dict[str, Any] | None, bool]:
    """``response_format`` to send and whether the schema goes in the prompt."""
    if mode == "json_schema":
        return response_format(schema), False
    if mode == "grammar":
        return {"type": "json_object", "schema": schema_of(schema)}, True
    if mode == "json_object":
        return {"type": "json_object"}, True
    return None, True


class SchemaMismatchError(LLMError):
    """No reply of a model matched the schema within the attempts: the run ends."""


class StructuredReplyError(ValueError):
    """A reply that is not valid JSON for the schema; the message is meant for the model."""


def supports_schema(litellm: ModuleType, model: str) -> bool:
    """Whether litellm says the model takes a JSON schema in ``response_format``."""
    try:
        return bool(litellm.supports_response_schema(model=model))
    except Exception:
        return False


def schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


def response_format(schema: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI-style ``response_format`` litellm translates for each provider."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)[:64] or "reply"
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema_of(schema), "strict": False},
    }


def schema_instruction(schema: type[BaseModel], *, in_prompt: bool) -> str:
    """The system message that asks for the JSON (with the schema when not sent otherwise)."""
    base = (
        f"Reply with one JSON object that is a valid {schema.__name__}: no prose, no "
        "comments, nothing after the object."
    )
    if not in_prompt:
        return base
    text = json.dumps(schema_of(schema), indent=None, separators=(",", ":"))
    return f"{base} Its JSON schema:\n{text}"


def with_instruction(
    messages: list[dict[str, str]], schema: type[BaseModel], *, in_prompt: bool
) -> list[dict[str, str]]:
    """The conversation with the JSON instruction appended to (or as) the system message."""
    instruction = schema_instruction(schema, in_prompt=in_prompt)
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0])
        first["content"] = f"{first.get('content', '')}\n\n{instruction}".strip()
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def extract_json(text: str) -> str:
    """The JSON text in a reply: a fenced block, or the outermost object or array.

    Leading prose ("Here is the plan:") and trailing remarks are dropped.
    """
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        candidate = _balanced(stripped, 0)
        if candidate is not None:
            return candidate
    for match in _FENCE.finditer(text):
        language, body = match.group(1).lower(), match.group(2).strip()
        if language in ("", "json", "jsonc", "json5") and body[:1] in ("{", "["):
            return body
    for index, char in enumerate(text):
        if char in "{[":
            candidate = _balanced(text, index)
            if candidate is not None:
                return candidate
    return stripped


def parse_reply(text: str, schema: type[T]) -> T:
    """The reply validated as ``schema``; raises StructuredReplyError saying what is wrong."""
    payload = extract_json(text)
    if not payload:
        raise StructuredReplyError("the reply was empty; expected one JSON object")
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise StructuredReplyError(
            f"the reply is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise StructuredReplyError(_short(_describe(exc))) from None


def feedback(error: StructuredReplyError, schema: type[BaseModel]) -> str:
    """The message sent back to the model after an invalid reply."""
    return (
        f"Your reply could not be used: {error}. Reply again with only one JSON object "
        f"that is a valid {schema.__name__}."
    )


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "(the object)"
        problems.append(f"{where}: {err['msg']}")
    return f"{len(problems)} validation error(s): " + "; ".join(problems)


def _short(text: str) -> str:
    return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 1] + "…"


def _balanced(text: str, start: int) -> str | None:
    """The bracketed value starting at ``start`` (strings and escapes respected), or None."""
    opener = text[start]
    closer = "}" if opener == "{" else "]"
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return text[start : index + 1] if char == closer else None
    return None
