"""The questions the CLI puts to the person at the terminal, and who answers without one.

Prompts block the event loop on purpose: nothing else needs the loop while the
run waits for the verdict, and a blocking `input()` on the main thread is the
only kind a Ctrl-C can interrupt (the loop's own SIGINT handler is swapped for
Python's default while a prompt is open).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.prompt import Confirm, Prompt
from rich.text import Text


@dataclass(frozen=True)
class Verdict:
    """What to answer a proposal with."""

    action: Literal["accept", "reject", "cancel"]
    files: tuple[str, ...] | None = None  # accept: None means every file
    feedback: str | None = None


@contextmanager
def interruptible() -> Iterator[None]:
    """Let Ctrl-C raise KeyboardInterrupt inside a blocking prompt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Prompter:
    """Asks when there is a terminal and the user wants to be asked; otherwise decides.

    `--yes` accepts every proposal and dismisses questions; without a terminal (or
    with `--no-input`) proposals are rejected and questions dismissed.
    """

    def __init__(self, console: Console, *, interactive: bool, yes: bool) -> None:
        self.console = console
        self.interactive = interactive and not yes
        self.yes = yes

    def review(self, paths: list[str]) -> Verdict:
        if self.yes:
            return Verdict("accept")
        if not self.interactive:
            self.console.print(
                "Not applied: there is no terminal to confirm it; pass --yes to accept.",
                style="yellow",
                markup=False,
            )
            return Verdict("reject")
        try:
            with interruptible():
                return self._review(paths)
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            return Verdict("cancel")

    def _review(self, paths: list[str]) -> Verdict:
        choices = ["a", "c", "r"] if len(paths) > 1 else ["a", "r"]
        label = "[a]ccept all, [c]hoose files, [r]eject" if len(paths) > 1 else "[a]ccept, [r]eject"
        answer = Prompt.ask(
            Text(f"Apply this change? {label}"), console=self.console, choices=choices, default="a"
        )
        if answer == "a":
            return Verdict("accept")
        if answer == "c":
            chosen = tuple(
                p
                for p in paths
                if Confirm.ask(Text(f"  apply {p}?"), console=self.console, default=True)
            )
            if chosen:
                return Verdict("accept", files=chosen)
            self.console.print("No file chosen.", markup=False)
        feedback = Prompt.ask(
            Text("Feedback for another attempt (Enter: just reject)"),
            console=self.console,
            default="",
            show_default=False,
        ).strip()
        return Verdict("reject", feedback=feedback or None)

    def ask(self, question: str, choices: list[str], free_text: bool) -> str | None:
        """The server's question; None dismisses it."""
        if not self.interactive:
            return None
        try:
            with interruptible():
                return self._ask(question, choices, free_text)
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            return None

    def _ask(self, question: str, choices: list[str], free_text: bool) -> str | None:
        self.console.print(Text(question, style="bold"))
        for number, choice in enumerate(choices, 1):
            self.console.print(f"  {number}. {choice}", markup=False)
        hint = "number or text" if choices and free_text else "number" if choices else "answer"
        while True:
            answer = Prompt.ask(
                Text(f"Your {hint} (Enter to dismiss)"),
                console=self.console,
                default="",
                show_default=False,
            ).strip()
            if not answer:
                return None
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return choices[int(answer) - 1]
            if free_text or not choices:
                return answer
            if answer in choices:
                return answer
            self.console.print(f"Pick 1 to {len(choices)}.", markup=False)

    def confirm(self, message: str) -> bool:
        """A yes/no gate (an edit the server marks as needing confirmation)."""
        if self.yes:
            return True
        if not self.interactive:
            return False
        try:
            with interruptible():
                return Confirm.ask(Text(message), console=self.console, default=True)
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            return False
