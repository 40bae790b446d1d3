"""The run state machine: the moves a run makes, and the ones that are bugs."""

from __future__ import annotations

import pytest

from samokoder.agents.run_state import MOVES, RunState, RunStateError, moved

LIFE = [
    RunState.QUEUED,
    RunState.RUNNING,
    RunState.AWAITING_REVIEW,
    RunState.APPLYING,
    RunState.RUNNING,
    RunState.APPLYING,  # review off: applied at once
    RunState.RUNNING,
    RunState.FINISHED,
]


def test_a_run_with_review_and_without_moves_through_its_life() -> None:
    now = LIFE[0]
    for to in LIFE[1:]:
        now = moved("r-1", now, to)
    assert now is RunState.FINISHED


def test_an_editor_refusing_the_accept_sends_the_run_back_to_review() -> None:
    assert moved("r-1", RunState.APPLYING, RunState.AWAITING_REVIEW) is RunState.AWAITING_REVIEW


@pytest.mark.parametrize("state", list(RunState))
def test_every_state_but_finished_can_finish(state: RunState) -> None:
    if state is RunState.FINISHED:
        assert MOVES[state] == frozenset()
    else:
        assert moved("r-1", state, RunState.FINISHED) is RunState.FINISHED


@pytest.mark.parametrize(
    ("now", "to"),
    [
        (RunState.QUEUED, RunState.AWAITING_REVIEW),
        (RunState.QUEUED, RunState.APPLYING),
        (RunState.FINISHED, RunState.RUNNING),
        (RunState.RUNNING, RunState.QUEUED),
    ],
)
def test_other_moves_are_bugs_and_say_which(now: RunState, to: RunState) -> None:
    with pytest.raises(RunStateError, match=f"{now.value} -> {to.value}"):
        moved("r-7", now, to)
