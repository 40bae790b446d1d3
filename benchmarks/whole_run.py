"""Whole generate/implement runs (issue 13 item 2): the baseline tree's pipeline vs this tree's.

Run: uv run python benchmarks/whole_run.py [--baseline TREE]

Each run is a real ``samokoder serve`` over stdio talking to the fake provider on
127.0.0.1, which answers every call as a scripted team after DELAY seconds. The team
answers by what a request asks for (the schema it names, else the role), never by
call order, so it serves a pipeline that merges or skips roles. Each command is sent
once its server has settled (no CPU for 0.5 s: domain loaded, litellm imported), as
in an editor open a while before the user asks. Measured:

1. generate, 3 tasks x 3 new independent files, review off, commands never, cache
   off: model calls and wall time at maxParallel 1 and 10 (from the command to
   ``runFinished``; the quickest of REPEATS runs, as other load only slows runs down).
2. review on, maxParallel 10: time from the command to the first proposal, and the
   sequential model calls before it: the longest chain of calls, each starting after
   the previous one ended (the fake provider's stamps), among those that ended before
   the proposal reached the client. For generate (as in 3) and implement (2 tasks
   changing 3 existing files each).
3. generate with a user who accepts each proposal REVIEW seconds after it appears:
   time from each accept to the next proposal.

TREE is the baseline checkout (default: ``git worktree add`` of commit BASELINE in a
temporary folder, removed afterwards). Each tree is measured in a process of its own
whose servers import that tree (PYTHONPATH); the client and the fake are this tree's.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))  # the client, session and fake provider are this tree's
TREE = Path(os.environ.get("WHOLE_RUN_TREE") or HERE)

from benchmarks._baseline import checkout, measure_in  # noqa: E402 (this tree's, after the path)

BASELINE = "03cafd3"  # before issue 13 item 2: six sequential calls to the first proposal
DELAY = 0.3
TASKS = 3
PER_TASK = 3
REVIEW = 10.0
REPEATS = 3
LIMIT = 300.0
SCHEMAS = ("Specification", "Architecture", "Plan", "Blueprint", "TaskSteps", "Review")
PATHS = [f"inventory/part_{i}.py" for i in range(TASKS * PER_TASK)]


def module(i: int) -> str:
    """A plausible module; its first line is what an edit replaces."""
    body = "".join(
        f"\n\ndef helper_{i}_{j}(items: list[int], scale: int = {j + 1}) -> list[int]:\n"
        f'    """Scale the items of batch {j} for module {i}."""\n'
        f"    return sorted(item * scale + {i} for item in items)[: {10 + j}]\n"
        for j in range(4)
    )
    return f'"""Module {i}: data helpers of the inventory service."""\n{body}'


def tasks(kind: str) -> list[dict[str, Any]]:
    """The plan: generate writes every part, implement tidies parts 0-5; steps included."""
    action, count = ("create", TASKS) if kind == "generate" else ("modify", 2)
    plan = []
    for n in range(count):
        files = PATHS[n * PER_TASK : (n + 1) * PER_TASK]
        steps = [
            {"path": p, "action": action, "instructions": f"{action} {p}", "depends_on": []}
            for p in files
        ]
        plan.append(
            {
                "title": f"{'Write' if action == 'create' else 'Tidy'} part group {n}",
                "description": f"{action.capitalize()} the helpers of parts {files}.",
                "acceptance_criteria": ["the helpers import"],
                "files": files,
                "steps": steps,
                "commands": [],
            }
        )
    return plan


ARCHITECTURE = {
    "stack": "Python 3.11 standard library",
    "files": [{"path": p, "purpose": f"helpers of part {i}"} for i, p in enumerate(PATHS)],
    "run_command": "python -m inventory",
    "test_command": "python -m pytest",
}


def _role(messages: list[dict[str, Any]]) -> str:
    systems = " ".join(str(m["content"]) for m in messages if m.get("role") == "system")
    found = re.findall(r"You are the ([a-z ]+?)\.", systems)
    return found[-1] if found else "?"


def _schema(body: dict[str, Any]) -> str | None:
    """The schema a request asks for: response_format's name, else the one the prompt names."""
    name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
    if name:
        return str(name)
    systems = " ".join(str(m["content"]) for m in body["messages"] if m.get("role") == "system")
    named = [n for n in re.findall(r"valid (\w+)", systems) if n in SCHEMAS]
    if named:
        return named[-1]
    titles = [t for t in re.findall(r'"title":\s*"(\w+)"', systems) if t in SCHEMAS]
    return titles[-1] if titles else None  # the top-level title comes after its $defs'


def team(plan: list[dict[str, Any]], problems: list[str]) -> Any:
    from tests.fakes.fake_provider import Reply

    def answer(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        schema, role = _schema(body), _role(messages)
        text = str(next(m["content"] for m in messages if m["role"] == "user"))
        value: dict[str, Any] | None = None
        if schema == "Specification":
            value = {"summary": "An inventory service.", "features": ["batch helpers"]}
        elif schema == "Architecture":
            value = ARCHITECTURE
        elif schema == "Plan":
            value = {"tasks": plan}
        elif schema == "Blueprint":
            value = {"architecture": ARCHITECTURE, "tasks": plan}
        elif schema == "TaskSteps":
            task = next((t for t in plan if f"Task: {t['title']}" in text), None)
            if task is None:
                raise ValueError("a developer request naming no task of the plan")
            value = {"files": task["steps"], "commands": task["commands"]}
        elif schema == "Review":
            value = {"approved": True}
        elif schema is None and role == "code writer":
            found = re.search(r"^File: (\S+)", text, re.M)
            if found is None or found.group(1) not in PATHS:
                raise ValueError("a code writer request without a known 'File: <path>' line")
            path = found.group(1)
            if "Current content of" in text:
                first = module(PATHS.index(path)).splitlines()[0]
                return Reply(
                    text=f"{path}\n```python\n<<<<<<< SEARCH\n{first}\n=======\n"
                    f'{first[:-3]} Tidied."""\n>>>>>>> REPLACE\n```',
                    first_token_delay=DELAY,
                )
            return Reply(text=f"```python\n{module(PATHS.index(path))}```", first_token_delay=DELAY)
        elif schema is None and role == "technical writer":
            text = "```markdown\n# Inventory\n\nRun `python -m inventory`.\n```"
            return Reply(text=text, first_token_delay=DELAY)
        if value is None:
            raise ValueError(f"cannot classify a request: schema {schema!r}, role {role!r}")
        return Reply(text=json.dumps(value), first_token_delay=DELAY)

    def respond(body: dict[str, Any]) -> Reply:
        try:
            return answer(body)
        except Exception as exc:  # said once the run ends; the server gets a 400 it won't retry
            problems.append(f"{exc}; system: {str(body['messages'][0]['content'])[:300]!r}")
            return Reply(fault="http_error", error_status=400, error_message=str(exc))

    return respond


def chain(calls: list[Any], until: float) -> tuple[int, list[str]]:
    """The longest run of calls, each starting after the previous ended, all ended by `until`."""
    done = sorted((c for c in calls if c.ended is not None and c.ended <= until), key=_start)
    length: list[int] = []
    before: list[int | None] = []
    for i, call in enumerate(done):
        prior = [j for j in range(i) if done[j].ended <= call.started]
        j = max(prior, key=lambda k: length[k], default=None)
        length.append(1 + (length[j] if j is not None else 0))
        before.append(j)
    if not done:
        return 0, []
    at: int | None = max(range(len(done)), key=lambda k: length[k])
    roles = []
    while at is not None:
        roles.append(_schema(done[at].body) or _role(done[at].body["messages"]))
        at = before[at]
    return len(roles), roles[::-1]


def _start(call: Any) -> float:
    return float(call.started)


def server_env(base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(TREE),
        "SAMOKODER_MODEL": "openai/fake-model",
        "SAMOKODER_API_BASE": base_url,
        "OPENAI_API_KEY": "sk-bench-0123456789",
    }


def project(root: Path, kind: str) -> Path:
    folder = root / kind / "project"
    folder.mkdir(parents=True)
    if kind == "implement":
        for i, p in enumerate(PATHS):
            (folder / p).parent.mkdir(parents=True, exist_ok=True)
            (folder / p).write_text(module(i))
    return folder


COMMANDS = {
    "generate": ("samokoder.generate", {"description": "An inventory service of 9 helpers."}),
    "implement": ("samokoder.implement", {"description": "Tidy the docstrings of parts 0-5."}),
}


async def settled(pid: int, quiet: float = 0.5, limit: float = 60.0) -> None:
    """Wait until the server used no CPU for `quiet` seconds: its warm-up (domain, litellm)
    is over, as in an editor open for a while before the user asks for a run."""

    def cpu() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks

    deadline = time.perf_counter() + limit
    last = cpu()
    while time.perf_counter() < deadline:
        await asyncio.sleep(quiet)
        now = cpu()
        if now - last <= 1:
            return
        last = now


async def one_run(root: Path, kind: str, settings: dict[str, Any], wait: float) -> dict[str, Any]:
    """One run on a settled server; each proposal accepted `wait` seconds after it arrives."""
    from benchmarks.quality.session import Session
    from tests.fakes.fake_provider import FakeProvider

    problems: list[str] = []
    folder = project(root, kind)
    settings = {"commands": "never", "cache": False, **settings}
    with FakeProvider() as fake:
        fake.responder = team(tasks(kind), problems)
        env = server_env(fake.base_url)
        async with Session(folder, settings, env, folder.parent / "serve.log") as session:
            client = session.client
            assert client is not None
            await settled(client.proc.pid)
            command, argument = COMMANDS[kind]
            started = time.perf_counter()
            answer = await client.request(
                "workspace/executeCommand", {"command": command, "arguments": [argument]}, 60
            )
            accepts: list[float] = []
            finished: list[Any] = []
            while not finished and time.perf_counter() < started + LIMIT and not problems:
                shown = client.of_method("samokoder/proposal")
                if len(shown) > len(accepts):
                    proposal = shown[len(accepts)]
                    await asyncio.sleep(max(0.0, proposal.at + wait - time.perf_counter()))
                    accepts.append(time.perf_counter())
                    accept = {"proposalId": proposal.params["proposalId"]}
                    request = {"command": "samokoder.review.accept", "arguments": [accept]}
                    await client.request("workspace/executeCommand", request, 60)
                await asyncio.sleep(0.01)
                finished = [
                    r
                    for r in client.of_method("samokoder/runFinished")
                    if r.params.get("runId") == answer["runId"]
                ]
            shown = client.of_method("samokoder/proposal")
        calls = [r for r in fake.requests if "messages" in r.body]
    if problems:
        raise SystemExit("the scripted team could not answer:\n" + "\n".join(problems))
    if not finished or finished[0].params.get("status") != "succeeded":
        raise SystemExit(f"{kind} did not succeed: {finished[0].params if finished else 'timeout'}")
    first = shown[0].at if shown else finished[0].at
    length, roles = chain(calls, first)
    return {
        "calls": len(calls),
        "seconds": finished[0].at - started,
        "first": first - started,
        "sequential": length,
        "chain": roles,
        "gaps": [p.at - a for a, p in zip(accepts, shown[1:], strict=False)],
        "proposals": len(shown),
    }


async def fastest(root: Path, parallel: int) -> dict[str, Any]:
    """The quickest of REPEATS review-off generate runs: the one least slowed by other load."""
    settings = {"review": "off", "maxParallel": parallel}
    runs = [
        await one_run(root / f"p{parallel}-{n}", "generate", settings, 0.0) for n in range(REPEATS)
    ]
    return min(runs, key=lambda r: float(r["seconds"]))


async def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        on = {"review": "proposal", "maxParallel": 10}
        return {
            "p1": await fastest(root, 1),
            "p10": await fastest(root, 10),
            "generate": await one_run(root / "g", "generate", on, REVIEW),
            "implement": await one_run(root / "i", "implement", on, 0.0),
        }


def run_tree(tree: Path) -> dict[str, Any]:
    env = {**os.environ, "WHOLE_RUN_TREE": str(tree), "PYTHONPATH": str(HERE)}
    return measure_in(__file__, env, HERE)


def baseline(given: str | None) -> dict[str, Any]:
    with checkout(HERE, BASELINE, given) as tree:
        return run_tree(tree)


def report(old: dict[str, Any], new: dict[str, Any]) -> None:
    def row(name: str, a: float, b: float, unit: str) -> None:
        """Counts and speed-ups: this tree minus baseline; seconds: baseline / this tree."""
        if unit == "s":
            cells, change = f"{a:8.2f} s {b:8.2f} s", f"{a / b:7.2f}x"
        else:
            digits = 2 if unit else 0
            cells = f"{a:8.{digits}f}{unit:2} {b:8.{digits}f}{unit:2}"
            change = f"{b - a:+8.{digits}f}"
        print(f"{name:42} {cells} {change}")

    print(f"Whole runs; the fake provider answers in {DELAY} s; a settled server per run")
    print(f"{'':42} {BASELINE + ' (old)':>10} {'this tree':>10} {'change':>8}")
    print(f"1. generate {TASKS} tasks x {PER_TASK} new files, review off")
    row("   model calls", old["p1"]["calls"], new["p1"]["calls"], "")
    row("   wall time, maxParallel 1", old["p1"]["seconds"], new["p1"]["seconds"], "s")
    row("   wall time, maxParallel 10", old["p10"]["seconds"], new["p10"]["seconds"], "s")
    speed = [f["p1"]["seconds"] / f["p10"]["seconds"] for f in (old, new)]
    row("   speed-up 10 vs 1 (goal >= 1.8x)", speed[0], speed[1], "x")
    print("2. command -> first proposal, review on, maxParallel 10")
    for kind, goal in (("generate", 4), ("implement", 3)):
        row(f"   {kind}: time to first proposal", old[kind]["first"], new[kind]["first"], "s")
        calls = old[kind]["sequential"], new[kind]["sequential"]
        row(f"   {kind}: sequential calls (goal <= {goal})", *calls, "")
    print(f"3. generate, each proposal accepted {REVIEW:.0f} s after it appears: accept -> next")
    for name, pick in (("median", statistics.median), ("max", max)):
        gaps = pick(old["generate"]["gaps"]), pick(new["generate"]["gaps"])
        row(f"   {name} (goal <= 1 s)", *gaps, "s")
    for label, f in (("old", old), ("this tree", new)):
        for kind in ("generate", "implement"):
            print(
                f"{label:9} {kind:9} chain: {' -> '.join(f[kind]['chain'])}; "
                f"{f[kind]['proposals']} proposals, {f[kind]['calls']} calls, "
                f"{f[kind]['seconds']:.1f} s; gaps {', '.join(f'{g:.2f}' for g in f[kind]['gaps'])}"
            )


def main() -> None:
    if "--measure" in sys.argv:
        print(json.dumps(asyncio.run(measure())))
        return
    given = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
    old = baseline(given)
    report(old, run_tree(HERE))


if __name__ == "__main__":
    main()
