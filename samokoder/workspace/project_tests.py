"""Where a project keeps its tests, and how they are run (pure: paths in, a plan out).

`samokoder.writeTests` puts new tests where the project's own tests already are:
into an existing test file for the same module when there is one, else into the
nearest `tests/` (or `test/`) folder above the code, else by the language's
custom (Python `tests/` at the project root, Go `_test.go` beside the code,
JavaScript `.test.js` beside it, Rust in the file itself). The command runs in
the project root: the nearest folder above the code with the language's project
file (`pyproject.toml`, `go.mod`, `package.json`, `Cargo.toml`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

PYTHON = {".py"}
JAVASCRIPT = {".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs"}
PROJECT_FILES = {
    "python": ("pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini"),
    "go": ("go.mod",),
    "javascript": ("package.json",),
    "rust": ("Cargo.toml",),
}


@dataclass(frozen=True)
class TestPlan:
    """`path` and `cwd` are workspace-relative ("" is the folder); `command` may be None."""

    __test__ = False  # not a pytest class

    path: str
    command: str | None
    cwd: str


def plan_tests(rel: str, files: Iterable[str]) -> TestPlan:
    """Where tests for `rel` go, given the workspace's files (workspace-relative)."""
    existing = set(files)
    source = PurePosixPath(rel)
    suffix, stem = source.suffix, source.stem
    folder = _parent(rel)
    if suffix in PYTHON:
        return _python(rel, stem, existing)
    if suffix == ".go":
        root = _project_root(folder, existing, "go")
        path = rel if stem.endswith("_test") else _join(folder, f"{stem}_test.go")
        package = _inside(folder, root)
        return TestPlan(path, f"go test ./{package}" if package else "go test .", root)
    if suffix in JAVASCRIPT:
        return _javascript(rel, folder, stem, suffix, existing)
    if suffix == ".rs":
        return TestPlan(rel, "cargo test", _project_root(folder, existing, "rust"))
    tests = _tests_folder(folder, existing) or "tests"
    return TestPlan(f"{tests}/{stem}_test{suffix}", None, "")


def _python(rel: str, stem: str, existing: set[str]) -> TestPlan:
    folder = _parent(rel)
    tests = _tests_folder(folder, existing)
    root = _project_root(folder, existing, "python", _parent(tests) if tests else "")
    if stem.startswith("test_") or stem.endswith("_test"):
        return TestPlan(rel, f"python -m pytest -q {_inside(rel, root)}", root)
    for name in (f"test_{stem}.py", f"{stem}_test.py"):
        match = sorted(f for f in existing if f.rpartition("/")[2] == name)
        if match:
            chosen = match[0]
            return TestPlan(chosen, f"python -m pytest -q {_inside(chosen, root)}", root)
    path = f"{tests or _join(root, 'tests')}/test_{stem}.py"
    return TestPlan(path, f"python -m pytest -q {_inside(path, root)}", root)


def _javascript(rel: str, folder: str, stem: str, suffix: str, existing: set[str]) -> TestPlan:
    root = _project_root(folder, existing, "javascript")
    has_package = _join(root, "package.json") in existing
    command = "npm test" if has_package else None
    if stem.endswith((".test", ".spec")):
        return TestPlan(rel, command, root)
    for name in (f"{stem}.test{suffix}", f"{stem}.spec{suffix}"):
        match = sorted(f for f in existing if f.rpartition("/")[2] == name)
        if match:
            return TestPlan(match[0], command, root)
    kind = "spec" if any(".spec." in f.rpartition("/")[2] for f in existing) else "test"
    name = f"{stem}.{kind}{suffix}"
    uses_dunder = any("/__tests__/" in "/" + f for f in existing)
    path = _join(folder, f"__tests__/{name}") if uses_dunder else _join(folder, name)
    if command is None and suffix in (".js", ".mjs"):
        command = f"node --test {_inside(path, root)}"
    return TestPlan(path, command, root)


def _ancestors(folder: str) -> list[str]:
    """`folder` and every folder above it, deepest first, ending with "" (the root)."""
    out = []
    current = folder
    while current:
        out.append(current)
        current = _parent(current)
    return [*out, ""]


def _project_root(folder: str, existing: set[str], language: str, default: str = "") -> str:
    for candidate in _ancestors(folder):
        if any(_join(candidate, name) in existing for name in PROJECT_FILES[language]):
            return candidate
    return default


def _tests_folder(folder: str, existing: set[str]) -> str | None:
    for candidate in _ancestors(folder):
        for name in ("tests", "test"):
            prefix = _join(candidate, name) + "/"
            if any(f.startswith(prefix) for f in existing):
                return _join(candidate, name)
    return None


def _parent(rel: str) -> str:
    parent = str(PurePosixPath(rel).parent)
    return "" if parent == "." else parent


def _inside(path: str, root: str) -> str:
    """`path` relative to `root` (both workspace-relative)."""
    return path[len(root) + 1 :] if root and path.startswith(root + "/") else path


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name
