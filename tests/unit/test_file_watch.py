"""The folder watcher: maps look only at what changed once it is armed, and fall back to
full scans whenever it cannot be trusted (real watchfiles on a temporary folder)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from samokoder.workspace import file_watch
from samokoder.workspace.file_watch import FolderWatch


async def until(check: Callable[[], object], seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_changes_are_heard_after_one_full_scan(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "old.py").write_text("x = 1\n")
    watch = FolderWatch(tmp_path, {"src"})
    assert watch.take() is None  # not armed: only a full scan can be trusted
    watch.start()
    try:
        await until(lambda: watch.watching)
        assert watch.take() is None  # armed now: one full scan catches what came before
        (tmp_path / "src" / "new.py").write_text("y = 2\n")
        (tmp_path / "src" / "old.py").write_text("x = 3\n")
        (tmp_path / ".git").mkdir()
        (tmp_path / ".git" / "index").write_text("ignored")
        seen: set[str] = set()

        def heard() -> bool:
            taken = watch.take()
            assert taken is not None
            seen.update(taken)
            return {"src/new.py", "src/old.py"} <= seen

        await until(heard)
        assert not any(p.startswith(".git") for p in seen)
        watch.touch(["src/ours.py"])  # a step of ours: counted before its event comes
        assert "src/ours.py" in (watch.take() or set())
    finally:
        watch.stop()
        await asyncio.sleep(0.6)  # the watcher sees the stop within its timeout


async def test_a_watcher_that_cannot_start_leaves_full_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchfiles

    def broken(*_args: object, **_kwargs: object) -> object:
        raise OSError("inotify watch limit reached")

    monkeypatch.setattr(watchfiles, "awatch", broken)
    watch = FolderWatch(tmp_path)
    watch.start()
    await asyncio.sleep(0.1)
    assert not watch.watching
    assert watch.take() is None and watch.take() is None


async def test_a_full_scan_comes_again_after_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = FolderWatch(tmp_path)
    watch.start()
    try:
        await until(lambda: watch.watching)
        assert watch.take() is None
        assert watch.take() == set()
        monkeypatch.setattr(file_watch, "FULL_SCAN_EVERY", 0.0)
        assert watch.take() is None  # events the OS may have dropped are caught this way
    finally:
        watch.stop()
        await asyncio.sleep(0.6)


async def test_a_projects_maps_look_only_at_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from samokoder.agents import project as project_module
    from samokoder.agents.project import Project

    (tmp_path / "a.py").write_text("def a():\n    pass\n")
    (tmp_path / "empty").mkdir()
    project = await asyncio.to_thread(Project.open, tmp_path, "shadow")
    try:
        first = await project.current_map()  # a full scan; starts the watcher
        assert [e.path for e in first.entries] == ["a.py"]
        assert project.watch is not None
        watch = project.watch
        await until(lambda: watch.watching)
        await project.current_map()  # the full scan after arming

        def no_full_scan(*_args: object) -> None:
            raise AssertionError("a full scan while the watcher is trusted")

        monkeypatch.setattr(project_module, "scan_workspace", no_full_scan)
        (tmp_path / "b.py").write_text("def b():\n    pass\n")
        (tmp_path / "empty" / "e.py").write_text("def e():\n    pass\n")  # watched while empty
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while {"b.py", "empty/e.py"} - {e.path for e in (await project.current_map()).entries}:
            assert loop.time() < deadline, "b.py or empty/e.py never seen"
            await asyncio.sleep(0.02)
        (tmp_path / "empty" / "e.py").unlink()
        (tmp_path / "a.py").unlink()
        project.files_changed(["a.py", "empty/e.py"])  # as a step of ours says
        assert [e.path for e in (await project.current_map()).entries] == ["b.py"]

        # a new folder: heard through its parent, listed by the refresh, then watched too
        (tmp_path / "pkg" / "sub").mkdir(parents=True)
        (tmp_path / "pkg" / "sub" / "c.py").write_text("def c():\n    pass\n")
        deadline = loop.time() + 10
        while "pkg/sub/c.py" not in [e.path for e in (await project.current_map()).entries]:
            assert loop.time() < deadline, "pkg/sub/c.py never seen"
            await asyncio.sleep(0.02)
        assert project.watch is not watch and {"pkg", "pkg/sub"} <= project.watch.folders
        monkeypatch.undo()  # the new watch starts with full scans, as any does
        renewed = project.watch
        await until(lambda: renewed.watching)
        await project.current_map()
        monkeypatch.setattr(project_module, "scan_workspace", no_full_scan)
        (tmp_path / "pkg" / "sub" / "d.py").write_text("def d():\n    pass\n")
        deadline = loop.time() + 10
        while "pkg/sub/d.py" not in [e.path for e in (await project.current_map()).entries]:
            assert loop.time() < deadline, "pkg/sub/d.py never seen"
            await asyncio.sleep(0.02)
    finally:
        await asyncio.to_thread(project.close)
        await asyncio.sleep(0.6)
