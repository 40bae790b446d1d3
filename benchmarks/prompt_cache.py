"""Prompt-cache share and billed cost of whole runs, today's prompt layout vs this tree's.

Run: uv run python benchmarks/prompt_cache.py [--baseline TREE]

A generate run (an app of 50 files in 5 tasks) and an implement run (two tasks on a
50-file project) go through a real ``samokoder serve`` with review off, to the fake
provider on 127.0.0.1 answering as a scripted team. From the request bodies the fake
provider recorded, each request's cached part is the longest prefix it shares,
byte for byte, with an earlier request of the same run, counted when it is at least
1,024 tokens long and rounded down to 128 tokens as OpenAI bills it. Tokens are
4 characters each. Cost: litellm's price table for ``gpt-4.1-mini`` (cached input at
a quarter of the input price). Also printed: the cost the new run would have if every
one of its prompt tokens were cached, the most any prompt layout can save.

TREE is a checkout with the old layout (default: ``git worktree add`` of commit
BASELINE in a temporary folder, removed afterwards); the same script measures both, each in a
process that imports that tree's server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch: the bundled table
TREE = Path(os.environ.get("PROMPT_CACHE_TREE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(TREE))

HERE = Path(__file__).resolve().parents[1]
MODEL = "gpt-4.1-mini"
MIN_PREFIX = 1024
STEP = 128
CHARS_PER_TOKEN = 4
FILES = 50
TASKS = 5
LIMIT = 300.0
BASELINE = "10577a0"  # the last commit with the old layout: roles' own text first


def module(i: int) -> str:
    """A plausible module of about 40 lines; its first line is what the edits replace."""
    body = "".join(
        f"\n\ndef helper_{i}_{j}(items: list[int], scale: int = {j + 1}) -> list[int]:\n"
        f'    """Scale the items of batch {j} for module {i}."""\n'
        f"    result = [item * scale + {i} for item in items if item % {j + 2}]\n"
        f"    return sorted(result)[: {10 + j}]\n"
        for j in range(6)
    )
    return f'"""Module {i}: data helpers of the inventory service."""\n\nimport math{body}'


def paths() -> list[str]:
    return [f"inventory/part_{i:02d}.py" for i in range(FILES)]


def _role(messages: list[dict[str, Any]]) -> str:
    systems = " ".join(str(m["content"]) for m in messages if m.get("role") == "system")
    found = re.findall(r"You are the ([a-z ]+?)\.", systems)
    return found[-1] if found else "?"


def team(tasks: list[dict[str, Any]]) -> Any:
    from tests.fakes.fake_provider import Reply

    def reply(value: dict[str, Any]) -> Reply:
        return Reply(text=json.dumps(value))

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        role = _role(messages)
        text = str(next(m["content"] for m in messages if m["role"] == "user"))
        if role == "spec writer":
            features = [f"feature {i}: manage inventory records of kind {i}" for i in range(12)]
            return reply({"summary": "An inventory service.", "features": features})
        if role in ("architect", "architect and tech lead"):
            files = [
                {
                    "path": p,
                    "purpose": f"helpers for part {i} of the inventory: batching, "
                    f"scaling and sorting of the records of kind {i}, used by the service layer",
                }
                for i, p in enumerate(paths())
            ]
            architecture = {
                "stack": "Python 3.11 standard library",
                "files": files,
                "run_command": "python -m inventory",
                "test_command": "python -m pytest",
            }
            if role == "architect":
                return reply(architecture)
            return reply({"architecture": architecture, "tasks": tasks})
        if role == "tech lead":
            return reply({"tasks": tasks})
        if role == "developer":
            task = next(t for t in tasks if f"Task: {t['title']}" in text)
            return reply({"files": task["steps"], "commands": []})
        if role == "code writer":
            found = re.search(r"^File: (\S+)", text, re.M)
            assert found is not None, text
            i = paths().index(found.group(1))
            if "Current content of" in text:
                first = module(i).splitlines()[0]
                return Reply(
                    text=f"{found.group(1)}\n```python\n<<<<<<< SEARCH\n{first}\n=======\n"
                    f'{first[:-3]} Tidied."""\n>>>>>>> REPLACE\n```'
                )
            return Reply(text=f"```python\n{module(i)}```")
        if role == "reviewer":
            return reply({"approved": True})
        if role == "technical writer":
            return Reply(text="```markdown\n# Inventory\n\nRun `python -m inventory`.\n```")
        raise AssertionError(f"unexpected role {role!r}")

    return respond


def steps(files: list[str], action: str) -> list[dict[str, str]]:
    """A task's file steps, as the tech lead (today) or the developer (before) gives them."""
    return [
        {
            "path": p,
            "action": action,
            "instructions": f"Write {p} with the helpers the design lists for it; keep "
            "each helper pure and document it in one line.",
        }
        for p in files
    ]


def generate_tasks() -> list[dict[str, Any]]:
    per = FILES // TASKS
    return [
        {
            "title": f"Part group {n}",
            "description": f"Write parts {n * per} to {n * per + per - 1}.",
            "acceptance_criteria": ["the helpers import"],
            "files": paths()[n * per : n * per + per],
            "steps": steps(paths()[n * per : n * per + per], "create"),
        }
        for n in range(TASKS)
    ]


def implement_tasks() -> list[dict[str, Any]]:
    return [
        {
            "title": f"Tidy group {n}",
            "description": "Say in each docstring that it is tidied.",
            "acceptance_criteria": ["docstrings say tidied"],
            "files": paths()[n * 3 : n * 3 + 3],
            "steps": steps(paths()[n * 3 : n * 3 + 3], "modify"),
        }
        for n in range(2)
    ]


def prompt_text(body: dict[str, Any]) -> str:
    """The request as the provider tokenizes it, in order: each message's role and content."""
    return "".join(f"<{m['role']}>{m['content']}" for m in body["messages"])


def shared_chars(a: str, b: str) -> int:
    """How many leading characters two prompts have in common."""
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    return min(len(a), len(b)) if n is None else n


def cached_tokens(prompts: list[str]) -> list[int]:
    """Per request, the tokens of its longest prefix sent before, if the provider caches it."""
    cached = []
    for n, text in enumerate(prompts):
        longest = max((shared_chars(text, p) for p in prompts[:n]), default=0)
        tokens = longest // CHARS_PER_TOKEN
        cached.append(tokens // STEP * STEP if tokens >= MIN_PREFIX else 0)
    return cached


def by_role(bodies: list[dict[str, Any]], cached: list[int]) -> dict[str, list[int]]:
    """Per role: [requests, prompt tokens, cached tokens]."""
    roles: dict[str, list[int]] = {}
    for body, hit in zip(bodies, cached, strict=True):
        row = roles.setdefault(_role(body["messages"]), [0, 0, 0])
        row[0] += 1
        row[1] += len(prompt_text(body)) // CHARS_PER_TOKEN
        row[2] += hit
    return roles


def cost(total: int, cached: int, completion: int) -> tuple[float, float]:
    """(billed with caching, of which the prompt) at litellm's prices for MODEL."""
    import litellm

    price = litellm.model_cost[MODEL]
    prompt = (total - cached) * price["input_cost_per_token"]
    prompt += cached * price["cache_read_input_token_cost"]
    return prompt + completion * price["output_cost_per_token"], prompt


async def one_run(
    command: str, argument: dict[str, Any], tasks: list[dict[str, Any]], folder: Path
) -> dict[str, Any]:
    from benchmarks.quality.session import run_once
    from tests.fakes.fake_provider import FakeProvider

    with FakeProvider() as fake:
        fake.responder = team(tasks)
        env = {
            **os.environ,
            "PYTHONPATH": str(TREE),
            "SAMOKODER_MODEL": "openai/fake-model",
            "SAMOKODER_API_BASE": fake.base_url,
            "OPENAI_API_KEY": "sk-bench-0123456789",
        }
        settings = {"review": "off", "commands": "never", "cache": False}
        result = await run_once(
            folder, settings, env, folder.parent / f"{command}.log", command, argument, LIMIT
        )
        assert result.status == "succeeded", result
        bodies = [r.body for r in fake.requests if "messages" in r.body]
    prompts = [prompt_text(b) for b in bodies]
    hits = cached_tokens(prompts)
    total, cached = sum(len(t) // CHARS_PER_TOKEN for t in prompts), sum(hits)
    completion = result.completion_tokens
    billed, prompt_billed = cost(total, cached, completion)
    return {
        "requests": len(prompts),
        "prompt": total,
        "cached": cached,
        "billed": billed,
        "prompt_billed": prompt_billed,
        "all_cached": cost(total, total, completion)[0],
        "roles": by_role(bodies, hits),
    }


async def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "gen" / "app"
        app.mkdir(parents=True)
        generate = await one_run(
            "samokoder.generate",
            {"description": "An inventory service of 50 helper modules."},
            generate_tasks(),
            app,
        )
        project = Path(tmp) / "impl" / "project"
        for i, p in enumerate(paths()):
            (project / p).parent.mkdir(parents=True, exist_ok=True)
            (project / p).write_text(module(i))
        implement = await one_run(
            "samokoder.implement",
            {"description": "Say in the docstrings of parts 0-5 that they are tidied."},
            implement_tasks(),
            project,
        )
    return {"generate": generate, "implement": implement}


def run_tree(tree: Path) -> dict[str, Any]:
    from benchmarks._baseline import measure_in  # the parent only: a baseline tree lacks it

    env = {**os.environ, "PROMPT_CACHE_TREE": str(tree), "PYTHONPATH": str(tree)}
    return measure_in(__file__, env, tree)


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(asyncio.run(measure())))
        return
    given = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
    from benchmarks._baseline import checkout

    with checkout(HERE, BASELINE, given) as old_tree:
        old = run_tree(old_tree)
    new = run_tree(HERE)
    print(
        f"Prompt-cache share and cost at {MODEL} prices ({CHARS_PER_TOKEN} chars a token; "
        f"cached = prefix >= {MIN_PREFIX} tokens sent before in the same run)"
    )
    print(
        f"{'run':10} {'layout':7} {'requests':>8} {'prompt tok':>10} {'cached':>8} "
        f"{'share':>6} {'prompt $':>9} {'billed $':>9}"
    )
    for kind in ("generate", "implement"):
        for label, f in (("today", old[kind]), ("new", new[kind])):
            print(
                f"{kind:10} {label:7} {f['requests']:8d} {f['prompt']:10d} {f['cached']:8d} "
                f"{f['cached'] / f['prompt']:6.0%} {f['prompt_billed']:9.4f} {f['billed']:9.4f}"
            )
        share = new[kind]["cached"] / new[kind]["prompt"]
        billed = 1 - new[kind]["billed"] / old[kind]["billed"]
        prompt = 1 - new[kind]["prompt_billed"] / old[kind]["prompt_billed"]
        print(
            f"{kind:10} share {share:.0%} (goal >= 60 %: {'ok' if share >= 0.6 else 'MISSED'}); "
            f"billed {billed:.0%} below today, its prompt part {prompt:.0%} "
            f"(goal >= 40 %: {'ok' if billed >= 0.4 else 'MISSED'})"
        )
        ceiling = 1 - new[kind]["all_cached"] / old[kind]["billed"]
        completions = 1 - old[kind]["prompt_billed"] / old[kind]["billed"]
        print(
            f"{'':10} with every prompt token of the new run cached it would be {ceiling:.0%} "
            f"below today: completions are {completions:.0%} of today's cost and no prompt "
            "layout makes them cheaper"
        )
        roles = ", ".join(
            f"{role} {n}x {cached * 100 // max(total, 1)}%"
            for role, (n, total, cached) in new[kind]["roles"].items()
        )
        print(f"{'':10} new, cached by role: {roles}")


if __name__ == "__main__":
    main()
