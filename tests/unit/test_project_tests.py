"""Where new tests go and how they are run, by the project's own layout."""

from __future__ import annotations

import pytest

from samokoder.workspace.project_tests import TestPlan, plan_tests


@pytest.mark.parametrize(
    ("rel", "files", "plan"),
    [
        (
            "app.py",
            ["app.py"],
            TestPlan("tests/test_app.py", "python -m pytest -q tests/test_app.py", ""),
        ),
        (
            "app/greeter/core.py",
            ["app/greeter/core.py", "app/tests/test_other.py"],
            TestPlan("app/tests/test_core.py", "python -m pytest -q tests/test_core.py", "app"),
        ),
        (
            "src/pkg/mod.py",
            ["pyproject.toml", "src/pkg/mod.py", "tests/unit/test_mod.py"],
            TestPlan("tests/unit/test_mod.py", "python -m pytest -q tests/unit/test_mod.py", ""),
        ),
        (
            "svc/src/pkg/mod.py",
            ["svc/pyproject.toml", "svc/src/pkg/mod.py", "svc/test/test_a.py"],
            TestPlan("svc/test/test_mod.py", "python -m pytest -q test/test_mod.py", "svc"),
        ),
        (
            "tests/test_x.py",
            ["tests/test_x.py"],
            TestPlan("tests/test_x.py", "python -m pytest -q tests/test_x.py", ""),
        ),
        ("pkg/a.go", ["go.mod", "pkg/a.go"], TestPlan("pkg/a_test.go", "go test ./pkg", "")),
        ("main.go", ["go.mod", "main.go"], TestPlan("main_test.go", "go test .", "")),
        (
            "web/src/util.ts",
            ["web/package.json", "web/src/util.ts", "web/src/__tests__/x.test.ts"],
            TestPlan("web/src/__tests__/util.test.ts", "npm test", "web"),
        ),
        (
            "web/util.js",
            ["package.json", "web/util.js", "web/other.spec.js"],
            TestPlan("web/util.spec.js", "npm test", ""),
        ),
        ("lib.mjs", ["lib.mjs"], TestPlan("lib.test.mjs", "node --test lib.test.mjs", "")),
        (
            "crate/src/lib.rs",
            ["crate/Cargo.toml"],
            TestPlan("crate/src/lib.rs", "cargo test", "crate"),
        ),
        ("script.rb", ["script.rb", "tests/a_test.rb"], TestPlan("tests/script_test.rb", None, "")),
    ],
)
def test_tests_go_where_the_project_keeps_them(rel: str, files: list[str], plan: TestPlan) -> None:
    assert plan_tests(rel, files) == plan
