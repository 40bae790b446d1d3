"""Pure parts of the task runner: file ordering and path confinement to the project folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from samokoder.agents.project import Project
from samokoder.agents.review import ProposalBook
from samokoder.agents.runs import Run
from samokoder.agents.schemas import FileStep
from samokoder.agents.task_runner import ProjectFolder, _layers
from samokoder.errors import OutsideWorkspaceError
from samokoder.settings import Settings
from tests.unit.test_steps import MemoryHost


def step(path: str, *deps: str) -> FileStep:
    return FileStep(path=path, action="create", depends_on=list(deps))


def names(layers: list[list[FileStep]]) -> list[list[str]]:
    return [sorted(s.path for s in layer) for layer in layers]


def test_independent_files_form_one_layer() -> None:
    assert names(_layers([step("a"), step("b"), step("c")])) == [["a", "b", "c"]]


def test_dependencies_come_first() -> None:
    layers = _layers(
        [step("app.py", "db.py", "models.py"), step("models.py", "db.py"), step("db.py")]
    )
    assert names(layers) == [["db.py"], ["models.py"], ["app.py"]]


def test_unknown_dependency_is_ignored_and_cycle_broken() -> None:
    assert names(_layers([step("a", "elsewhere.py")])) == [["a"]]
    assert names(_layers([step("a", "b"), step("b", "a"), step("c")])) == [["c"], ["a", "b"]]


@pytest.fixture
def folder(tmp_path: Path) -> ProjectFolder:
    project = Project.open(tmp_path, "shadow")
    ctx = Run("r-1", "generate", project, Settings(), MemoryHost(), ProposalBook(), "off")
    return ProjectFolder(ctx, "app")


def test_paths_are_joined_to_the_project_folder(folder: ProjectFolder) -> None:
    assert folder.to_workspace("src/main.py") == "app/src/main.py"
    assert folder.to_workspace("./main.py") == "app/main.py"
    assert folder.to_workspace("`main.py`") == "app/main.py"


@pytest.mark.parametrize(
    "path", ["../outside.py", "/etc/passwd", ".git/config", "../app2/x.py", "x/../../y.py"]
)
def test_paths_leaving_the_folder_are_refused(folder: ProjectFolder, path: str) -> None:
    with pytest.raises(OutsideWorkspaceError):
        folder.to_workspace(path)
