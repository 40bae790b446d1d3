"""The write-ahead record of steps and the recovery that settles it after a folder opens."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from samokoder.agents import step_record, steps
from samokoder.agents.project import Project
from samokoder.agents.recovery import Recovery, recover
from samokoder.agents.steps import PlannedFile, StepSpec
from samokoder.errors import StaleProposalError
from samokoder.store.rows import ProposalRow, RunRow
from tests.unit.test_steps import MemoryHost

META = StepSpec(
    kind="apply",
    target=None,
    agent="code_monkey",
    summary="edit a and b",
    run_id=None,
    model="m",
    tokens=3,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "a.txt").write_text("a0\n")
    (folder / "b.txt").write_text("b0\n")
    return folder


def planned(project: Project) -> list[PlannedFile]:
    ws = project.workspace
    return [
        PlannedFile("a.txt", ws.uri_for("a.txt"), "a0\n", "a1\n", None),
        PlannedFile("b.txt", ws.uri_for("b.txt"), "b0\n", None, None),
        PlannedFile("new/c.txt", ws.uri_for("new/c.txt"), None, "c1\n", None),
    ]


def opened(root: Path) -> tuple[Project, Recovery]:
    """Open the folder and settle it, as the server does."""
    project = Project.open(root, "shadow")
    return project, recover(project)


def interrupted_step(root: Path, disk: dict[str, str | None]) -> str:
    """A step whose server died after its write-ahead record, files then as in `disk`."""
    project = Project.open(root, "shadow")
    draft = step_record.plan_step(project, planned(project), META)
    project.close()
    for rel, text in disk.items():
        if text is None:
            (root / rel).unlink(missing_ok=True)
        else:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    return draft.step_id


def test_opening_settles_nothing_until_recover_runs(root: Path) -> None:
    step_id = interrupted_step(root, {"a.txt": "a1\n"})
    project = Project.open(root, "shadow")
    try:
        [pending] = project.store.pending_steps()
        assert pending.step_id == step_id and project.store.list_steps() == []
        assert (root / "a.txt").read_text() == "a1\n" and not (root / "new").exists()
        assert [s.outcome for s in recover(project).steps] == ["completed"]
        assert project.store.pending_steps() == [] and recover(project).steps == []
    finally:
        project.close()


def test_half_applied_step_is_completed(root: Path) -> None:
    step_id = interrupted_step(root, {"a.txt": "a1\n"})  # b and c not written yet
    (root / ".b.txt.k3j9x_2q.tmp").write_text("b")  # an atomic write cut short
    project, recovery = opened(root)
    try:
        [settled] = recovery.steps
        assert (settled.step_id, settled.outcome) == (step_id, "completed")
        assert "completed and can be undone" in settled.message
        assert (root / "a.txt").read_text() == "a1\n"
        assert not (root / "b.txt").exists()
        assert (root / "new/c.txt").read_text() == "c1\n"
        assert not (root / ".b.txt.k3j9x_2q.tmp").exists()
        assert [s.step_id for s in project.store.list_steps()] == [step_id]
        assert project.store.pending_steps() == []
        undone = asyncio.run(steps.undo(project, MemoryHost()))
        assert undone["target"] == step_id
        assert (root / "b.txt").read_text() == "b0\n" and not (root / "new").exists()
    finally:
        project.close()


def test_step_that_never_reached_the_disk_is_dropped(root: Path) -> None:
    interrupted_step(root, {})
    project, recovery = opened(root)
    try:
        assert [s.outcome for s in recovery.steps] == ["not_applied"]
        assert project.store.list_steps() == [] and project.store.pending_steps() == []
        assert project.checkpoints.head() is None
    finally:
        project.close()


def test_files_changed_since_are_left_alone_and_reported(root: Path) -> None:
    interrupted_step(root, {"a.txt": "a1\n", "b.txt": "the user's own text\n"})
    project, recovery = opened(root)
    try:
        [settled] = recovery.steps
        assert settled.outcome == "abandoned" and "b.txt changed since" in settled.message
        assert (root / "b.txt").read_text() == "the user's own text\n"
        assert (root / "a.txt").read_text() == "a1\n"
        assert not (root / "new").exists()
        assert project.store.pending_steps() == []  # kept, but as abandoned
    finally:
        project.close()
    reopened, again = opened(root)
    assert again.steps == []  # reported once
    reopened.close()


def test_committed_step_without_its_row_is_recorded(root: Path) -> None:
    project = Project.open(root, "shadow")
    files = planned(project)
    draft = step_record.plan_step(project, files, META)
    asyncio.run(steps.apply_files(project, MemoryHost(), files, label="x"))
    project.checkpoints.commit_step(
        step_record.step_changes(files),
        agent="code_monkey",
        summary="edit a and b",
        run_id="-",
        step_id=draft.step_id,
        model="m",
        tokens=3,
    )
    project.close()  # killed before the store row
    project, recovery = opened(root)
    try:
        assert [s.outcome for s in recovery.steps] == ["recorded"]
        [step] = project.store.list_steps()
        assert step.commit_sha == project.checkpoints.head()
        assert len(project.checkpoints.log(10)) == 1  # not committed twice
    finally:
        project.close()


def test_mark_is_stored_exactly_when_the_step_is(root: Path) -> None:
    project = Project.open(root, "shadow")
    try:
        store = project.store
        store.create_run(RunRow("r-1", "generate", "d", "running", "", None, time.time(), None))
        files = planned(project)
        spec = replace(META, run_id="r-1", mark=("task:1", "accepted"))
        dropped = step_record.plan_step(project, files, spec)
        store.drop_pending_step(dropped.step_id)
        assert store.artifacts("r-1") == {}
        draft = step_record.plan_step(project, files, spec)
        step_record.commit_and_record(project, draft, step_record.step_changes(files))
        assert store.artifacts("r-1") == {"task:1": "accepted"}
    finally:
        project.close()


async def test_a_file_changed_on_disk_after_planning_is_never_overwritten(root: Path) -> None:
    project = Project.open(root, "shadow")
    try:
        files = planned(project)
        (root / "b.txt").write_text("checked out meanwhile\n")
        with pytest.raises(StaleProposalError) as info:
            await steps.apply_step(project, MemoryHost(), files, _spec(), label="x")
        assert info.value.files == ["b.txt"]
        assert (root / "a.txt").read_text() == "a0\n"  # nothing written
        assert (root / "b.txt").read_text() == "checked out meanwhile\n"
        assert project.store.pending_steps() == [] and project.store.list_steps() == []
    finally:
        project.close()


async def test_a_failed_write_puts_back_what_was_written(root: Path) -> None:
    project = Project.open(root, "shadow")
    try:
        ws = project.workspace
        (root / "dir.txt").mkdir()  # writing a file here fails
        files = [
            PlannedFile("a.txt", ws.uri_for("a.txt"), "a0\n", "a1\n", None),
            PlannedFile("dir.txt/x", ws.uri_for("dir.txt/x"), None, "x\n", None),
            PlannedFile("zz/file", ws.uri_for("zz/file"), None, "z\n", None),
        ]
        (root / "zz").write_text("a file where a folder is needed\n")
        with pytest.raises(OSError):
            await steps.apply_step(project, MemoryHost(), files, _spec(), label="x")
        assert (root / "a.txt").read_text() == "a0\n"
        assert project.store.pending_steps() == [] and project.store.list_steps() == []
    finally:
        project.close()


async def test_cancelling_the_caller_lets_the_step_finish(root: Path) -> None:
    project = Project.open(root, "shadow")
    try:
        host = MemoryHost()
        uri = project.workspace.uri_for("a.txt")
        host.buffers[uri] = ("a0\n", 1)
        release = asyncio.Event()
        apply_edit = host.apply_edit

        async def slow_editor(*args: object) -> bool:
            await release.wait()
            return await apply_edit(*args)  # type: ignore[arg-type]

        host.apply_edit = slow_editor  # type: ignore[method-assign]
        recorded: list[str] = []
        files = [PlannedFile("a.txt", uri, "a0\n", "a1\n", 1)]
        task = asyncio.ensure_future(
            steps.apply_step(
                project,
                host,
                files,
                _spec(),
                label="x",
                on_recorded=lambda s: recorded.append(s.step_id),
            )
        )
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # waits for the step under way
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert host.buffers[uri] == ("a1\n", 2)
        assert [s.step_id for s in project.store.list_steps()] == recorded != []
    finally:
        project.close()


def test_interrupted_runs_and_their_proposals_are_marked(root: Path) -> None:
    project = Project.open(root, "shadow")
    store = project.store
    store.create_run(RunRow("r-1", "editSelection", "d", "awaiting_review", "", None, 1.0, None))
    store.create_proposal(ProposalRow("p-1", "r-1", "t", "pending", 1.0, ()))
    project.close()
    project, recovery = opened(root)
    try:
        assert recovery.interrupted_runs == ["r-1"]
        proposal = project.store.get_proposal("p-1")
        assert proposal is not None and proposal.status == "interrupted"
    finally:
        project.close()


def test_a_folder_another_live_server_has_open_is_left_alone(root: Path) -> None:
    first = Project.open(root, "shadow")
    first.store.create_run(RunRow("r-1", "editSelection", "d", "running", "", None, 1.0, None))
    interrupted_step(root, {"a.txt": "a1\n"})  # as if `first` were applying a step
    second, recovery = opened(root)  # e.g. the terminal client on the same folder
    try:
        assert second.owner_lock is None
        assert recovery.interrupted_runs == [] and recovery.steps == []
        run = second.store.get_run("r-1")
        assert run is not None and run.status == "running"
        assert len(second.store.pending_steps()) == 1
    finally:
        second.close()
        first.close()
    third, recovery = opened(root)  # the first server is gone
    try:
        assert recovery.interrupted_runs == ["r-1"]
        assert [s.outcome for s in recovery.steps] == ["completed"]
    finally:
        third.close()


def _spec() -> StepSpec:
    return StepSpec(agent="code_monkey", summary="s", run_id=None)
