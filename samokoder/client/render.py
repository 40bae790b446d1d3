"""Everything the CLI shows: diffs, run summaries, history and usage tables, progress.

Results go to stdout, everything else (progress, notices, errors) to stderr, so
`--json` output stays clean. Without a terminal there are no colours, no
spinner and no wrapping: diffs come out as plain unified diffs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.json import JSON
from rich.markdown import Markdown
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Column, Table
from rich.text import Text

STATUS_STYLES = {
    "succeeded": "bold green",
    "failed": "bold red",
    "rejected": "bold yellow",
    "cancelled": "bold yellow",
}
KIND_STYLES = {"create": "green", "modify": "yellow", "delete": "red"}


def make_console(file: TextIO | None = None, *, stderr: bool = False) -> Console:
    """A console that colours only a terminal (rich also honours NO_COLOR/FORCE_COLOR)."""
    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    console = Console(file=stream, highlight=False, emoji=False)
    console.soft_wrap = not console.is_terminal  # a log or a pipe gets whole lines
    return console


def print_json(console: Console, data: Any) -> None:
    """JSON for scripts: never wrapped, coloured only on a terminal."""
    console.print(JSON.from_data(data, indent=2), soft_wrap=True)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# -- proposals ---------------------------------------------------------------------


def diff_renderable(diff: str, terminal: bool) -> RenderableType:
    """A coloured diff for a terminal; the unified diff as it is for anything else."""
    text = diff.rstrip("\n")
    if terminal:
        return Syntax(text, "diff", theme="ansi_dark", background_color="default", word_wrap=True)
    return Text(text)


def file_line(file: dict[str, Any]) -> Text:
    kind = str(file.get("kind", "modify"))
    line = Text()
    line.append(f"  {kind:<6} ", style=KIND_STYLES.get(kind, ""))
    line.append(str(file.get("path", "?")))
    line.append(f"  +{file.get('additions', 0)}", style="green")
    line.append(f" -{file.get('deletions', 0)}", style="red")
    return line


def print_proposal(
    console: Console, proposal: dict[str, Any], diffs: dict[str, str | None]
) -> None:
    """The proposal's title, its files, and each file's diff (None: could not be fetched)."""
    files: list[dict[str, Any]] = list(proposal.get("files") or [])
    console.print(
        Text.assemble(
            ("Proposal: ", "bold"),
            str(proposal.get("title", "")),
            f"  ({plural(len(files), 'file')})",
        )
    )
    for file in files:
        console.print(file_line(file), soft_wrap=True)
    for file in files:
        path = str(file.get("path"))
        diff = diffs.get(path)
        console.print()
        if diff is None:
            console.print(Text(f"(no diff available for {path})", style="dim"))
        elif not diff.strip():
            console.print(Text(f"(no textual change in {path})", style="dim"))
        else:
            console.print(
                diff_renderable(diff, console.is_terminal), soft_wrap=not console.is_terminal
            )
    console.print()


# -- runs --------------------------------------------------------------------------


def usage_line(usage: dict[str, Any]) -> str:
    requests = int(usage.get("requests") or 0)
    prompt = int(usage.get("promptTokens") or 0)
    completion = int(usage.get("completionTokens") or 0)
    cost = float(usage.get("costUsd") or 0.0)
    line = f"{plural(requests, 'model request')}, {prompt:,} + {completion:,} tokens, ${cost:.4f}"
    cached = int(usage.get("cachedTokens") or 0)
    if cached:  # prompt tokens the provider served from its cache, billed at its cached price
        saved = usage.get("savedUsd")
        line += f" ({cached:,} cached" + (
            f", ${float(saved):.4f} saved)" if isinstance(saved, int | float) else ")"
        )
    estimated = int(usage.get("estimatedTokens") or 0)
    # a server that reports no usage gets counted here: say so rather than pass it off
    return f"{line} ({estimated:,} tokens estimated)" if estimated else line


def print_run_finished(console: Console, payload: dict[str, Any]) -> None:
    status = str(payload.get("status", "?"))
    line = Text()
    line.append(status.capitalize(), style=STATUS_STYLES.get(status, "bold"))
    line.append(f": {payload.get('summary', '')}")
    console.print(line, soft_wrap=True)
    error = payload.get("error")
    if error and error != payload.get("summary"):
        console.print(Text(f"  {error}", style="red"), soft_wrap=True)
    steps = [str(s) for s in payload.get("steps") or []]
    if steps:
        console.print(Text(f"  steps: {', '.join(steps)}", style="dim"), soft_wrap=True)
    usage = payload.get("usage")
    if isinstance(usage, dict) and usage:
        console.print(Text(f"  {usage_line(usage)}", style="dim"), soft_wrap=True)
    if payload.get("text"):  # explain's answer, Markdown
        console.print()
        text = str(payload["text"])
        if console.is_terminal:
            console.print(Markdown(text))
        else:
            console.print(Text(text), soft_wrap=True)


def print_walk(console: Console, verb: str, result: dict[str, Any]) -> None:
    """The answer of undo/redo: which step, which files."""
    files = [str(f) for f in result.get("files") or []]
    console.print(
        Text.assemble(
            (f"{verb} ", "bold"),
            f"step {result.get('target')} ",
            (f"(new step {result.get('stepId')})", "dim"),
        ),
        soft_wrap=True,
    )
    for path in files:
        console.print(f"  {path}", markup=False, soft_wrap=True)


# -- history and usage ---------------------------------------------------------------


def _when(created: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(created)))
    except (TypeError, ValueError, OverflowError):
        return "?"


def history_table(steps: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("when", "step", "kind", "summary", "files"):
        table.add_column(column, overflow="fold")
    for step in steps:
        files = ", ".join(
            f"{f.get('path')}" + ("" if f.get("change") == "modify" else f" ({f.get('change')})")
            for f in step.get("files") or []
        )
        table.add_row(
            _when(step.get("createdAt")),
            str(step.get("stepId", "")),
            str(step.get("kind", "")),
            escape(str(step.get("summary", ""))),
            escape(files),
        )
    return table


def command_status(command: dict[str, Any]) -> str:
    """`ran` with its exit code ("exit 0", "killed by signal 9"); other statuses as they are."""
    status = str(command.get("status", "?"))
    code = command.get("exitCode")
    if status != "ran" or not isinstance(code, int):
        return status
    return f"killed by signal {-code}" if code < 0 else f"exit {code}"


def commands_table(commands: list[dict[str, Any]]) -> Table:
    """The commands the agents proposed, run or not, newest first."""
    table = Table(
        title="Commands", title_justify="left", box=None, pad_edge=False, header_style="bold"
    )
    for column in ("when", "status", "time", "command", "note"):
        table.add_column(column, overflow="fold")
    for command in commands:
        millis = command.get("durationMs")
        table.add_row(
            _when(command.get("createdAt")),
            escape(command_status(command)),
            f"{float(millis) / 1000:.1f} s" if isinstance(millis, int | float) and millis else "",
            escape(str(command.get("command", ""))),
            escape(str(command.get("message") or "")),
        )
    return table


def print_history(console: Console, history: dict[str, Any]) -> None:
    steps = history.get("steps") or []
    commands = history.get("commands") or []
    if steps:
        console.print(history_table(steps))
    else:
        console.print("No steps yet.")
    if commands:
        console.print()
        console.print(commands_table(commands))


def usage_table(title: str, key: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold")
    table.add_column(key)
    for column in ("requests", "prompt", "completion", "cost"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            escape(str(row.get(key) if row.get(key) is not None else "-")),
            str(row.get("requests", 0)),
            f"{int(row.get('promptTokens') or 0):,}",
            f"{int(row.get('completionTokens') or 0):,}",
            f"${float(row.get('costUsd') or 0.0):.4f}",
        )
    return table


def print_usage(console: Console, usage: dict[str, Any]) -> None:
    total = usage.get("total") or {}
    console.print(Text.assemble(("Total: ", "bold"), usage_line(total)))
    for title, key, field in (
        ("By model", "model", "byModel"),
        ("By agent", "agent", "byAgent"),
        ("By run", "runId", "byRun"),
    ):
        rows = usage.get(field) or []
        if rows:
            console.print()
            console.print(usage_table(title, key, rows))


# -- progress ------------------------------------------------------------------------


class ProgressView:
    """`$/progress` as a spinner per token on a terminal; a line per begin otherwise.

    With --verbose every begin, report and end is also a line of its own (above
    the spinner), so the run can be followed and a log keeps its course.
    """

    def __init__(self, console: Console, *, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self._began: dict[str, float] = {}
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._titles: dict[str, str] = {}
        self._lines: dict[str, str] = {}  # token -> what the spinner says

    def begin(self, token: str, title: str, message: str | None = None) -> None:
        self._titles[token] = title
        self._lines[token] = _describe(title, message)
        self._began[token] = time.monotonic()
        if self.verbose:
            self._line(f"{self._lines[token]}…")
        if not self.console.is_terminal:
            if not self.verbose:
                self.console.print(Text(f"{title}…", style="dim"), soft_wrap=True)
            return
        progress = self._live()
        self._tasks[token] = progress.add_task(self._lines[token], total=None)

    def report(self, token: str, message: str | None) -> None:
        if token not in self._titles:
            return
        self._lines[token] = _describe(self._titles[token], message)
        if self.verbose and message:
            self._line(f"{self._lines[token]} ({self._elapsed(token)})")
        task = self._tasks.get(token)
        if self._progress is not None and task is not None:
            self._progress.update(task, description=self._lines[token])

    def end(self, token: str) -> None:
        if self.verbose and token in self._titles:
            self._line(f"{self._titles[token]}: done ({self._elapsed(token)})")
        self._began.pop(token, None)
        self._titles.pop(token, None)
        self._lines.pop(token, None)
        task = self._tasks.pop(token, None)
        if self._progress is not None and task is not None:
            self._progress.remove_task(task)
        if not self._tasks:
            self.stop()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No spinner while the user reads a diff or answers a question."""
        was_live = self._progress is not None
        self.stop()
        try:
            yield
        finally:
            if was_live and self._lines:
                progress = self._live()
                for token, line in self._lines.items():
                    self._tasks[token] = progress.add_task(line, total=None)

    def _elapsed(self, token: str) -> str:
        return f"{time.monotonic() - self._began.get(token, time.monotonic()):.1f} s"

    def _line(self, text: str) -> None:
        console = self._progress.console if self._progress is not None else self.console
        console.print(Text(text, style="dim"), soft_wrap=True)

    def _live(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn(
                    "{task.description}",
                    markup=False,
                    table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"),
                ),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self._progress


def _describe(title: str, message: str | None) -> str:
    return f"{title}: {message}" if message else title
