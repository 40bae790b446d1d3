"""How soon a changed file is in the workspace map: the folder watcher vs a stat rescan.

Run: uv run python benchmarks/map_watch.py [FILES]   (default: 100000)

Builds the tree of ``benchmarks/repo_map.py`` (FILES source files), opens it as the
server does (``Project``), takes the first map (a full scan) and waits for the
watcher to be armed. Then, ten times: one file is changed, and once the watcher
has heard of it, ``Project.current_map()`` is timed (a refresh of that path), side
by side with ``scan_workspace`` after the same
kind of change (a walk that stats every file); and how long after the write the
watcher heard of it. Also: the watcher's setup time and the memory it adds.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.repo_map import build, file_path, rss_mib
from samokoder.agents.project import Project
from samokoder.workspace import repo_map

ROUNDS = 10


async def measure(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, files)
        project = await asyncio.to_thread(Project.open, root, "shadow")
        try:
            started = time.perf_counter()
            first = await project.current_map()
            cold = time.perf_counter() - started
            rss = rss_mib()
            assert project.watch is not None
            watch = project.watch
            armed_at = time.perf_counter()
            while not watch.watching:  # noqa: ASYNC110 (the watcher has no event to wait on)
                await asyncio.sleep(0.01)
            armed = time.perf_counter() - armed_at
            await project.current_map()  # the full scan that follows arming
            rss_watch = rss_mib() - rss
            heard, mapped, walked = [], [], []
            for n in range(ROUNDS):
                path = file_path(root, (files // ROUNDS) * n + 1)
                rel = path.relative_to(root).as_posix()
                line = f"# change {n}\n"
                path.write_text(path.read_text() + line)
                t0 = time.perf_counter()
                while rel not in watch.pending:  # noqa: ASYNC110 (polled, as a caller would)
                    await asyncio.sleep(0.001)
                heard.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                repo = await project.current_map()
                mapped.append(time.perf_counter() - t0)
                entry = next(e for e in repo.entries if e.path == rel)
                assert entry.size == path.stat().st_size, "the map missed the change"
                path.write_text(path.read_text() + line)
                t0 = time.perf_counter()
                await asyncio.to_thread(repo_map.scan_workspace, project.workspace, project.ignore)
                walked.append(time.perf_counter() - t0)
        finally:
            await asyncio.to_thread(project.close)
    ms = {name: statistics.median(v) * 1000 for name, v in (("heard", heard), ("map", mapped))}
    walk = statistics.median(walked) * 1000
    print(f"{files} files ({len(first.entries)} in the map); first map {cold:.1f} s")
    print(f"watcher armed {armed * 1000:.0f} ms after the first map; memory +{rss_watch:.1f} MiB")
    print(
        f"map after one change: watcher {ms['map']:.1f} ms (max {max(mapped) * 1000:.1f}) vs "
        f"stat rescan {walk:.1f} ms (max {max(walked) * 1000:.1f}): {walk / ms['map']:.0f}x "
        f"faster (goal <= 50 ms); the change heard {ms['heard']:.1f} ms after the write "
        f"(max {max(heard) * 1000:.1f})"
    )


if __name__ == "__main__":
    asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
