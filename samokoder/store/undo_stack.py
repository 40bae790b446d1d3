"""Undo/redo stacks derived from the step history, so no stack state is ever stored."""

from __future__ import annotations

from collections.abc import Sequence


def undo_redo_targets(
    chain: Sequence[tuple[str, str, str | None]],
) -> tuple[str | None, str | None]:
    """Replay ``(step_id, kind, target_step_id)`` oldest first; return (next undo, next redo).

    Both results are ids of "apply" steps. An inconsistent chain (a target that is not
    on top, or not on the expected stack at all) is tolerated: the target is removed
    wherever it is, and an undo/redo of something not on its stack changes nothing.
    """
    done: list[str] = []
    redo: list[str] = []
    for step_id, kind, target in chain:
        if kind == "apply":
            done.append(step_id)
            redo.clear()
        elif kind == "undo" and target is not None and target in done:
            done.remove(target)
            redo.append(target)
        elif kind == "redo" and target is not None and target in redo:
            redo.remove(target)
            done.append(target)
    return (done[-1] if done else None, redo[-1] if redo else None)
