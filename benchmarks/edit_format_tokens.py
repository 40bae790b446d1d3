"""Output tokens for a one-line change in a 500-line file: search/replace block vs whole file.

Run: uv run python benchmarks/edit_format_tokens.py

Builds a 500-line Python module (classes with methods and docstrings), changes one
line in the middle, and counts with litellm.token_counter (model "gpt-4o-mini") the
reply a model would write in each format: one SEARCH/REPLACE block (the changed line
with one line of context either side, and with two) vs the whole file in a fence.
Both replies are checked to produce the same file. Goal: ratio <= 0.15.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samokoder.agents.edit_blocks import apply_blocks, parse_blocks
from samokoder.llm.runtime import load_litellm

PATH = "inventory/service.py"
MODEL = "gpt-4o-mini"
LINES = 500
GOAL = 0.15


def build_module() -> list[str]:
    lines = ['"""Inventory service: stock levels per warehouse."""', "", "import logging", ""]
    number = 0
    while len(lines) < LINES:
        lines += [
            "",
            f"class Warehouse{number}:",
            f'    """Stock kept in warehouse {number}."""',
            "",
            "    def __init__(self, capacity: int) -> None:",
            "        self.capacity = capacity",
            "        self.items: dict[str, int] = {}",
            "",
            "    def add(self, sku: str, count: int) -> None:",
            f"        if sum(self.items.values()) + count > self.capacity * {number + 1}:",
            '            raise ValueError(f"warehouse full: {sku}")',
            "        self.items[sku] = self.items.get(sku, 0) + count",
            f'        logging.getLogger(__name__).debug("added %s to {number}", sku)',
            "",
            "    def remove(self, sku: str, count: int) -> int:",
            "        taken = min(self.items.get(sku, 0), count)",
            "        self.items[sku] = self.items.get(sku, 0) - taken",
            "        return taken",
        ]
        number += 1
    return lines[:LINES]


def search_replace_reply(lines: list[str], changed: int, new_line: str, context: int) -> str:
    before = lines[changed - context : changed + context + 1]
    after = [
        *lines[changed - context : changed],
        new_line,
        *lines[changed + 1 : changed + context + 1],
    ]
    search, replace = "\n".join(before), "\n".join(after)
    return (
        f"{PATH}\n```python\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n"
    )


def whole_file_reply(lines: list[str]) -> str:
    body = "\n".join(lines)
    return f"{PATH}\n```python\n{body}\n```\n"


def main() -> None:
    litellm = load_litellm()
    lines = build_module()
    original = "\n".join(lines) + "\n"
    changed = next(i for i in range(LINES // 2, LINES) if "raise ValueError" in lines[i])
    new_line = lines[changed].replace("warehouse full", "no room left")
    expected = "\n".join([*lines[:changed], new_line, *lines[changed + 1 :]]) + "\n"

    def tokens(reply: str) -> int:
        return int(litellm.token_counter(model=MODEL, text=reply))

    whole = tokens(whole_file_reply(lines))
    print(f"file: {LINES} lines, {len(original)} chars; changed line {changed + 1}")
    print(f"whole file:             {whole:6d} tokens")
    for context in (1, 2):
        reply = search_replace_reply(lines, changed, new_line, context)
        blocks, problems = parse_blocks(reply, [PATH])
        result = apply_blocks(blocks, {PATH: original})
        assert not problems and not result.problems and result.files[PATH] == expected
        count = tokens(reply)
        print(
            f"search/replace, {2 * context + 1} lines: {count:6d} tokens  "
            f"ratio {count / whole:.3f} (goal <= {GOAL})"
        )


if __name__ == "__main__":
    main()
