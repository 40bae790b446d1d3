"""Load: 20 runs queued at once stay answered and bounded (figures: benchmarks/reliability.py)."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.fake_provider import FakeProvider
from tests.reliability.load import run_load

RUNS = 20


def test_twenty_queued_runs(fake_provider: FakeProvider, tmp_path: Path) -> None:
    report = run_load(fake_provider, tmp_path, runs=RUNS)
    assert report.statuses == {"succeeded": RUNS}
    assert report.finished_twice == []
    assert report.steps == RUNS
    assert report.unanswered == 0 and len(report.code_action_ms) > RUNS
    for i in range(RUNS):
        assert "f'hello {name}'" in (tmp_path / "load" / f"mod{i}.py").read_text()
    # Bounded memory: the queue and its runs do not grow the server much (litellm and
    # the folder were loaded before the first figure); a generous bound, not a timing.
    assert report.rss_after_kib - report.rss_before_kib < 100 * 1024, report
