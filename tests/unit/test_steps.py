"""Steps against a real project folder: apply, undo, redo, conflicts, open buffers."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from samokoder.agents import steps
from samokoder.agents.host import FileEdit, OpenDocument, ProposalNotice
from samokoder.agents.project import Project
from samokoder.agents.steps import PlannedFile, StepSpec
from samokoder.errors import CheckpointConflictError, NotFoundError, StaleProposalError
from samokoder.store.rows import RunRow
from samokoder.workspace.textedits import apply_edits, minimal_edits

SPEC = StepSpec(agent="code_monkey", summary="s", run_id=None)


class MemoryHost:
    """An editor in memory: buffers by URI, edits applied like VS Code does."""

    def __init__(self) -> None:
        self.buffers: dict[str, tuple[str, int]] = {}
        self.edits: list[list[FileEdit]] = []
        self.refuse = False

    def open_document(self, uri: str) -> OpenDocument | None:
        if uri not in self.buffers:
            return None
        text, version = self.buffers[uri]
        return OpenDocument(uri, text, version)

    async def run_started(self, run_id: str, title: str) -> str | None: ...

    def progress(self, token: str | None, message: str, percentage: int | None = None) -> None: ...

    async def ask(self, question: str, choices: list[str], free_text: bool) -> str | None:
        return None

    async def propose(self, notice: ProposalNotice) -> None: ...

    async def run_finished(self, payload: dict[str, Any], token: str | None) -> None: ...

    async def apply_edit(self, label: str, edits: list[FileEdit], needs_confirmation: bool) -> bool:
        self.edits.append(edits)
        if self.refuse:
            return False
        for e in edits:
            text, version = self.buffers[e.uri]
            if e.version != version:
                return False
            self.buffers[e.uri] = (
                apply_edits(text, minimal_edits(e.old_text, e.new_text)),
                version + 1,
            )
        return True

    def log(self, message: str, *, error: bool = False) -> None: ...

    async def show_document(self, uri: str) -> bool:
        return False


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "keep.txt").write_text("keep\n")
    (root / "gone.txt").write_text("to be deleted\n")
    return Project.open(root, "shadow")


def plan(project: Project, rel: str, before: str | None, after: str | None) -> PlannedFile:
    return PlannedFile(rel, project.workspace.uri_for(rel), before, after, None)


async def test_create_modify_delete_then_undo_redo(project: Project) -> None:
    host = MemoryHost()
    root = project.root
    files = [
        plan(project, "src/new.py", None, "print('new')\n"),
        plan(project, "keep.txt", "keep\n", "kept\n"),
        plan(project, "gone.txt", "to be deleted\n", None),
    ]
    step = await steps.apply_step(project, host, files, SPEC, label="step")
    assert (root / "src/new.py").read_text() == "print('new')\n"
    assert not (root / "gone.txt").exists()

    undone = await steps.undo(project, host)
    assert undone["target"] == step.step_id
    assert sorted(undone["files"]) == ["gone.txt", "keep.txt", "src/new.py"]
    assert not (root / "src/new.py").exists() and not (root / "src").exists()
    assert (root / "keep.txt").read_text() == "keep\n"
    assert (root / "gone.txt").read_text() == "to be deleted\n"

    await steps.redo(project, host)
    assert (root / "src/new.py").read_text() == "print('new')\n"
    assert (root / "keep.txt").read_text() == "kept\n"
    assert not (root / "gone.txt").exists()
    with pytest.raises(NotFoundError, match="Nothing to redo"):
        await steps.redo(project, host)
    history = await steps.history(project, 10)
    assert [s["kind"] for s in history["steps"]] == ["redo", "undo", "apply"]
    changes = {f["path"]: f["change"] for f in history["steps"][2]["files"]}
    assert changes == {"src/new.py": "create", "keep.txt": "modify", "gone.txt": "delete"}


async def test_undo_refuses_and_changes_nothing_when_a_file_differs(project: Project) -> None:
    host = MemoryHost()
    files = [plan(project, "keep.txt", "keep\n", "kept\n"), plan(project, "a.txt", None, "a\n")]
    await steps.apply_step(project, host, files, SPEC, label="step")
    (project.root / "keep.txt").write_text("kept\nand mine\n")
    with pytest.raises(CheckpointConflictError) as info:
        await steps.undo(project, host)
    assert info.value.files == ["keep.txt"]
    assert "keep.txt" in info.value.message
    assert (project.root / "a.txt").read_text() == "a\n"  # untouched: all or nothing
    assert (project.root / "keep.txt").read_text() == "kept\nand mine\n"


async def test_open_buffers_go_through_the_editor(project: Project) -> None:
    host = MemoryHost()
    uri = project.workspace.uri_for("keep.txt")
    host.buffers[uri] = ("keep\n", 3)
    file = PlannedFile("keep.txt", uri, "keep\n", "kept\n", 3)
    await steps.apply_step(project, host, [file], SPEC, label="step")
    assert host.buffers[uri] == ("kept\n", 4)
    assert (project.root / "keep.txt").read_text() == "keep\n"  # the editor leaves it unsaved
    await steps.undo(project, host)
    assert host.buffers[uri] == ("keep\n", 5)


async def test_editor_refusal_is_reported_and_disk_untouched(project: Project) -> None:
    host = MemoryHost()
    uri = project.workspace.uri_for("keep.txt")
    host.buffers[uri] = ("keep\n", 1)
    host.refuse = True
    files = [
        PlannedFile("keep.txt", uri, "keep\n", "kept\n", 1),
        plan(project, "b.txt", None, "b\n"),
    ]
    with pytest.raises(StaleProposalError, match="keep.txt"):
        await steps.apply_files(project, host, files, label="step")
    assert not (project.root / "b.txt").exists()


async def test_checkpoint_commit_holds_the_step_files(project: Project) -> None:
    host = MemoryHost()
    project.store.create_run(RunRow("r-1", "editSelection", "d", "running", "", None, 0.0, None))
    files = [plan(project, "keep.txt", "keep\n", "kept\n")]
    spec = StepSpec(agent="code_monkey", summary="Edit keep", run_id="r-1", model="m", tokens=7)
    step = await steps.apply_step(project, host, files, spec, label="step")
    gitdir = project.root / ".samokoder" / "checkpoints.git"
    show = subprocess.run(
        ["git", "--git-dir", str(gitdir), "show", "--format=%B", "--name-only", step.commit_sha],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert show.startswith("code_monkey: Edit keep\n")
    assert "Samokoder-Run: r-1" in show and f"Samokoder-Step: {step.step_id}" in show
    assert "Samokoder-Tokens: 7" in show
    assert show.strip().endswith("keep.txt")
