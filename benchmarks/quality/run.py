"""Quality harness: exercises judged by their own tests, apps judged by hidden tests.

    uv run python benchmarks/quality/run.py                    # both tracks, configured model
    uv run python benchmarks/quality/run.py --track exercise --exercises ~/polyglot/python
    uv run python benchmarks/quality/run.py --model openai/gpt-4.1-mini -j 4
    uv run python benchmarks/quality/run.py --scripted         # replay the references (no model)

Results go to a JSON file and a Markdown table beside it (default
benchmarks/quality/results/<model>.json/.md); tasks already in the JSON file are
skipped unless --fresh, so an interrupted run resumes. See README.md here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.quality.layout import (  # noqa: E402
    APPS,
    EXERCISES,
    App,
    Exercise,
    find_apps,
    find_exercises,
)
from benchmarks.quality.report import Attempt, ResultsFile, TaskResult, markdown  # noqa: E402
from benchmarks.quality.tracks import Options, run_app, run_exercise  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BASE_SETTINGS: dict[str, Any] = {
    "review": "off",  # every change set is applied at once (still committed)
    "commands": "never",  # nothing the model proposes to run is run: the judge runs the tests
    "cache": False,  # every task meets the model
}
SCRIPTED_MODEL = "openai/fake-model"
NO_MODEL = "-32004"  # the server's "No model configured" error code

Task = Exercise | App


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="run only tasks whose key contains one of these")
    parser.add_argument("--track", choices=("exercise", "app", "all"), default="all")
    parser.add_argument("--exercises", type=Path, default=EXERCISES, help="exercises folder")
    parser.add_argument("--apps", type=Path, default=APPS, help="apps folder")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="tasks run at once")
    parser.add_argument("--model", help="litellm model string (default: the configured one)")
    parser.add_argument("--api-base", help="OpenAI-compatible server, Ollama, LiteLLM proxy")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any server setting, value as JSON when it parses (e.g. maxTokens=512)",
    )
    parser.add_argument("--results", type=Path, help="results JSON (Markdown goes beside it)")
    parser.add_argument("--fresh", action="store_true", help="ignore earlier results")
    parser.add_argument("--attempts", type=int, default=2, help="exercise attempts (2: pass@2)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--test-timeout", type=float, default=120.0, help="seconds per test run")
    parser.add_argument("--work", type=Path, help="keep the task folders and server logs here")
    parser.add_argument(
        "--scripted",
        action="store_true",
        help="no model: the fake provider replays each task's reference (checks the harness)",
    )
    return parser.parse_args(argv)


def select_tasks(args: argparse.Namespace) -> list[Task]:
    tasks: list[Task] = []
    if args.track in ("exercise", "all"):
        tasks += find_exercises(args.exercises)
    if args.track in ("app", "all"):
        tasks += find_apps(args.apps)
    if args.names:
        tasks = [t for t in tasks if any(n in t.key for n in args.names)]
    return tasks


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    from samokoder.client.options import check_settings, parse_assignment

    settings = dict(BASE_SETTINGS)
    for item in args.set:
        key, value = parse_assignment(item)
        settings[key] = value
    if args.model:
        settings["model"] = args.model
    if args.api_base:
        settings["apiBase"] = args.api_base
    check_settings(settings)
    return settings


def model_label(args: argparse.Namespace, settings: dict[str, Any]) -> str:
    if args.scripted:
        return "scripted"
    return str(settings.get("model") or os.environ.get("SAMOKODER_MODEL") or "configured")


def results_path(args: argparse.Namespace, label: str) -> Path:
    if args.results:
        return Path(args.results)
    return RESULTS / (re.sub(r"[^A-Za-z0-9._-]+", "_", label) + ".json")


@contextlib.contextmanager
def scripted_env(task: Task, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The fake provider replaying the task's reference, and the env that points at it."""
    from benchmarks.quality.scripted import app_team, exercise_team
    from tests.fakes.fake_provider import FakeProvider

    with FakeProvider() as fake:
        if isinstance(task, App):
            fake.responder = app_team(task.spec(), task.reference())
        else:
            example = [(task.root / n).read_text() for n in task.example]
            fake.responder = exercise_team([dict(zip(task.solution, example, strict=True))])
        yield {
            **env,
            "SAMOKODER_MODEL": SCRIPTED_MODEL,
            "SAMOKODER_API_BASE": fake.base_url,
            "OPENAI_API_KEY": "sk-scripted-0123456789",
        }


async def run_task(task: Task, opts: Options, scripted: bool) -> TaskResult:
    """One task; a harness or server failure is recorded as a failed run, never raised."""
    track = "app" if isinstance(task, App) else "exercise"
    started = time.perf_counter()
    try:
        if scripted:
            with scripted_env(task, opts.env) as env:
                model = ("model", "apiBase", "apiKeys")  # the fake provider is the model
                settings = {k: v for k, v in opts.settings.items() if k not in model}
                mine = dataclasses.replace(opts, env=env, settings=settings)
                return await _dispatch(task, mine)
        return await _dispatch(task, opts)
    except Exception as exc:
        seconds = time.perf_counter() - started
        attempt = Attempt("failed", False, "run failed", 0, 0.0, seconds, f"harness: {exc!r}")
        return TaskResult(task.key, track, task.name, task.language, [attempt], seconds)


async def _dispatch(task: Task, opts: Options) -> TaskResult:
    if isinstance(task, App):
        return await run_app(task, opts)
    return await run_exercise(task, opts)


async def run_all(
    tasks: list[Task],
    opts: Options,
    results: ResultsFile,
    jobs: int,
    scripted: bool,
    on_done: Callable[[TaskResult], None] | None = None,
) -> None:
    gate = asyncio.Semaphore(max(1, jobs))
    refused: list[str] = []

    async def one(task: Task) -> None:
        async with gate:
            if refused:
                return
            result = await run_task(task, opts, scripted)
        if any(NO_MODEL in a.error for a in result.attempts):
            refused.append(result.attempts[0].error)  # not a result: nothing met a model
            return
        results.add(result)
        if on_done is not None:
            on_done(result)

    await asyncio.gather(*(one(t) for t in tasks))
    if refused:
        raise SystemExit(f"run.py: the server refused to run: {refused[0]}")


async def with_progress(
    total: int, work: Callable[[Callable[[TaskResult], None]], Awaitable[None]]
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]quality"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    passed = failed = 0
    with Progress(*columns, transient=False) as progress:
        bar = progress.add_task("", total=total)

        def done(result: TaskResult) -> None:
            nonlocal passed, failed
            passed += result.passed
            failed += not result.passed
            mark = "pass" if result.passed else f"FAIL ({result.failure})"
            progress.console.print(f"{result.key}: {mark}")
            progress.update(bar, advance=1, description=f"{passed} passed, {failed} failed")

        await work(done)


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = settings_from(args)
    except ValueError as exc:  # SettingError: an unknown setting or a bad value
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    label = model_label(args, settings)
    path = results_path(args, label)
    meta = {"model": label, "settings": {k: v for k, v in settings.items() if k != "apiKeys"}}
    results = ResultsFile(path, meta, fresh=args.fresh)
    tasks = select_tasks(args)
    if not tasks:
        print("no tasks match", file=sys.stderr)
        return 2
    todo = [t for t in tasks if not results.done(t.key)]
    if len(todo) < len(tasks):
        print(f"resuming: {len(tasks) - len(todo)} task(s) already in {path} (--fresh to redo)")
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        opts = Options(
            work=work.resolve(),
            settings=settings,
            env=dict(os.environ),
            timeout=args.timeout,
            test_timeout=args.test_timeout,
            attempts=args.attempts,
        )
        await with_progress(
            len(todo), lambda done: run_all(todo, opts, results, args.jobs, args.scripted, done)
        )
    results.save()
    keys = {t.key for t in tasks}
    chosen = [r for r in results.results.values() if r.key in keys]
    table = markdown(chosen, meta)
    path.with_suffix(".md").write_text(table)
    print(table)
    print(f"results: {path} and {path.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
