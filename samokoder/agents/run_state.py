"""Where a run is, as a small state machine the run moves through (issue 12).

queued (behind another run of its folder) -> running -> awaiting_review (a proposal
is with the user) -> applying (the accepted files are being written) -> running ...
-> finished. Any state may end in finished (a cancel, a failure). A move the table
does not allow is a bug in the orchestration, so it raises instead of being
recorded: the run's own coroutine is the only writer.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_REVIEW = "awaiting_review"
    APPLYING = "applying"
    FINISHED = "finished"


MOVES: dict[RunState, frozenset[RunState]] = {
    RunState.QUEUED: frozenset({RunState.RUNNING, RunState.FINISHED}),
    RunState.RUNNING: frozenset({RunState.AWAITING_REVIEW, RunState.APPLYING, RunState.FINISHED}),
    # an accept starts applying; an editor that refuses the edit sends it back to review
    RunState.AWAITING_REVIEW: frozenset({RunState.APPLYING, RunState.RUNNING, RunState.FINISHED}),
    RunState.APPLYING: frozenset({RunState.RUNNING, RunState.AWAITING_REVIEW, RunState.FINISHED}),
    RunState.FINISHED: frozenset(),
}


class RunStateError(RuntimeError):
    """A move the table forbids: a bug, never a user's error."""


def moved(run_id: str, now: RunState, to: RunState) -> RunState:
    """`to`, if a run in state `now` may go there."""
    if to not in MOVES[now]:
        raise RunStateError(f"run {run_id}: {now.value} -> {to.value} is not a move a run makes")
    return to
