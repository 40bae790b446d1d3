"""The tasks on disk: Exercism practice exercises, our apps, and the per-language table.

An exercise is any folder with `.meta/config.json` naming its solution, test and
example files (Exercism's practice-exercise layout, as in Aider's polyglot
benchmark), so a folder of public exercises runs as it is. An app is a folder of
ours with `spec.md` (what the model is told), hidden acceptance tests
(`test_*.py`) and `reference/` (a known-good implementation).

Another language plugs in with one row of LANGUAGES: how its files are told
apart and the command that runs an exercise's tests in the judge folder.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXERCISES = HERE / "exercises"
APPS = HERE / "apps"


@dataclass(frozen=True)
class Language:
    """How to judge one language's exercises; `{tests}` expands to the test files."""

    name: str
    suffixes: tuple[str, ...]  # solution files with these endings belong to the language
    test_command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()  # added to the judge's environment


LANGUAGES: dict[str, Language] = {
    "python": Language(
        "python",
        (".py",),
        (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "{tests}"),
        (("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"),),  # plain tests; 4x faster start
    ),
    # Another row, e.g. JavaScript (exercises ship package.json with jest):
    # "javascript": Language("javascript", (".js", ".mjs"), ("npm", "test", "--silent")),
}


@dataclass(frozen=True)
class Exercise:
    """One practice exercise: files relative to `root`, instructions as the model reads them."""

    root: Path
    language: str
    solution: tuple[str, ...]
    tests: tuple[str, ...]
    example: tuple[str, ...]
    editor: tuple[str, ...]  # read-only helpers the solution may use (Exercism `editor`)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def key(self) -> str:
        return f"exercise/{self.language}/{self.name}"

    def instructions(self) -> str:
        docs = self.root / ".docs"
        parts = [
            (docs / name).read_text()
            for name in ("introduction.md", "instructions.md", "instructions.append.md")
            if (docs / name).is_file()
        ]
        return "\n\n".join(p.strip() for p in parts)


@dataclass(frozen=True)
class App:
    """One application to generate from a specification into an empty folder."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def key(self) -> str:
        return f"app/{self.name}"

    @property
    def language(self) -> str:
        return "python"

    def spec(self) -> str:
        return (self.root / "spec.md").read_text().strip()

    @property
    def tests(self) -> tuple[str, ...]:
        return tuple(sorted(p.name for p in self.root.glob("test_*.py")))

    def reference(self) -> dict[str, str]:
        ref = self.root / "reference"
        return {
            p.relative_to(ref).as_posix(): p.read_text()
            for p in sorted(ref.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }


def language_of(solution: tuple[str, ...]) -> str:
    for lang in LANGUAGES.values():
        if solution and all(s.endswith(lang.suffixes) for s in solution):
            return lang.name
    raise ValueError(f"no language in LANGUAGES takes {', '.join(solution) or 'no files'}")


def load_exercise(root: Path) -> Exercise:
    config = json.loads((root / ".meta" / "config.json").read_text())
    files = config.get("files", {})

    def names(kind: str) -> tuple[str, ...]:
        return tuple(str(n) for n in files.get(kind, []))

    solution = names("solution")
    if not solution or not names("test"):
        raise ValueError(f"{root}: .meta/config.json names no solution or no test files")
    return Exercise(
        root, language_of(solution), solution, names("test"), names("example"), names("editor")
    )


def find_exercises(folder: Path) -> list[Exercise]:
    """Every exercise under `folder` (itself one, or any depth below), by name."""
    roots = sorted(p.parent.parent for p in folder.rglob(".meta/config.json"))
    found = []
    for root in roots:
        try:
            exercise = load_exercise(root)
        except ValueError as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        found.append(exercise)
    return found


def find_apps(folder: Path = APPS) -> list[App]:
    return [App(p) for p in sorted(folder.iterdir()) if (p / "spec.md").is_file()]
