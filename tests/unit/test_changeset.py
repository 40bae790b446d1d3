"""Change-set validation: one bad file refuses the whole set, with a message naming it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from samokoder.errors import InvalidArgumentError, OutsideWorkspaceError, SamokoderError
from samokoder.workspace.changeset import (
    MAX_FILE_BYTES,
    ChangeSet,
    FileChange,
    count_changes,
    validate_change_set,
)
from samokoder.workspace.confinement import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hi')\n")
    (tmp_path / "README.md").write_text("# hi\n")
    return Workspace.at(tmp_path)


def on_disk(ws: Workspace) -> Callable[[str], bool]:
    def exists(rel: str) -> bool:
        assert "\\" not in rel and not rel.startswith("/")  # always a normalized rel path
        return (ws.root / rel).is_file()

    return exists


def check(ws: Workspace, *files: FileChange) -> ChangeSet:
    return validate_change_set(ChangeSet(title="step", files=list(files)), ws, on_disk(ws))


def test_valid_change_set_is_normalized(ws: Workspace) -> None:
    result = check(
        ws,
        FileChange(path="./src/../src/app.py", kind="modify", content="print('bye')\n"),
        FileChange(path=str(ws.root / "README.md"), kind="delete"),
        FileChange(path="src/new/util.py", kind="create", content=""),
    )
    assert [f.path for f in result.files] == ["src/app.py", "README.md", "src/new/util.py"]
    assert result.title == "step"
    assert result.files[0].content == "print('bye')\n"


def test_models_are_frozen_and_strict() -> None:
    change = FileChange(path="a.py", kind="create", content="x")
    with pytest.raises(ValidationError):
        change.path = "b.py"
    with pytest.raises(ValidationError):
        FileChange(path="a.py", kind="rename", content="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FileChange.model_validate({"path": "a.py", "kind": "create", "mode": "755"})


def test_empty_change_set_refused(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError, match="no files"):
        check(ws)


def test_path_outside_refuses_whole_set(ws: Workspace) -> None:
    with pytest.raises(OutsideWorkspaceError) as info:
        check(
            ws,
            FileChange(path="src/app.py", kind="modify", content="ok\n"),
            FileChange(path="../evil.py", kind="create", content="boom"),
        )
    assert info.value.path == "../evil.py"


@pytest.mark.parametrize("path", [".git/hooks/pre-commit", ".samokoder/state.db", "a\x00b"])
def test_confinement_errors_propagate(ws: Workspace, path: str) -> None:
    with pytest.raises(OutsideWorkspaceError):
        check(ws, FileChange(path=path, kind="create", content="x"))


def test_duplicate_paths_after_normalization_refused(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError, match=r"'src/app\.py' more than once"):
        check(
            ws,
            FileChange(path="src/app.py", kind="modify", content="a"),
            FileChange(path="src/./app.py", kind="modify", content="b"),
        )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (FileChange(path="src/app.py", kind="create", content="x"), "already exists"),
        (FileChange(path="missing.py", kind="modify", content="x"), "does not exist"),
        (FileChange(path="missing.py", kind="delete"), "does not exist"),
        (FileChange(path="new.py", kind="create"), "has no content"),
        (FileChange(path="src/app.py", kind="modify"), "has no content"),
        (FileChange(path="README.md", kind="delete", content=""), "must not carry content"),
        (FileChange(path="bad.py", kind="create", content="\ud800"), "not valid text"),
    ],
)
def test_invalid_changes_name_the_path(ws: Workspace, change: FileChange, words: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        check(ws, change)
    assert words in info.value.message
    assert repr(change.path) in info.value.message
    assert isinstance(info.value, SamokoderError)


def test_content_size_limit(ws: Workspace) -> None:
    check(ws, FileChange(path="big.txt", kind="create", content="x" * MAX_FILE_BYTES))
    with pytest.raises(InvalidArgumentError, match="2 MB"):
        check(ws, FileChange(path="big.txt", kind="create", content="x" * (MAX_FILE_BYTES + 1)))
    # The limit is on UTF-8 bytes, not characters.
    with pytest.raises(InvalidArgumentError, match="2 MB"):
        check(
            ws, FileChange(path="big.txt", kind="create", content="é" * (MAX_FILE_BYTES // 2 + 1))
        )


def test_first_problem_wins(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError, match=r"'one\.py'"):
        check(
            ws,
            FileChange(path="one.py", kind="modify", content="x"),
            FileChange(path="two.py", kind="delete"),
        )


def test_count_changes_is_exported() -> None:
    assert count_changes("a\nb\n", "a\nc\nd\n") == (2, 1)
