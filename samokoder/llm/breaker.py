"""A circuit breaker per model: stop calling a model that keeps failing, then probe it.

litellm's Router cooldown has no half-open state and never cools a group with a
single deployment, so a user with one model would hammer a failing provider. Here:
after ``threshold`` consecutive failures a model is *open* (skipped) for ``cooldown``
seconds; then it is *half-open*: exactly one caller gets to probe it, and that call's
outcome closes the circuit or opens it for another cool-down. The retry loop reports
one outcome per *turn* (a model's share of a logical request, its retries included),
so transient errors that a retry absorbs never open a circuit; a model that stays
down does, after ``threshold`` requests.

One registry per server process (:data:`BREAKERS`), shared by every run; the lock
makes it safe from threads as well as from tasks (no method awaits).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from samokoder.llm.failures import where

logger = logging.getLogger(__name__)

State = Literal["closed", "open", "half_open"]
Grant = Literal["closed", "probe"]  # how a call was let through: normally, or as the probe

DEFAULT_THRESHOLD: Final = 3
DEFAULT_COOLDOWN: Final = 30.0


@dataclass
class _Circuit:
    failures: int = 0  # consecutive, since the last success
    opened_at: float | None = None
    probing: bool = False  # a half-open probe call is in flight
    last_error: str = ""


@dataclass(frozen=True)
class CircuitView:
    """A snapshot of one circuit, for messages and reports."""

    key: str
    state: State
    failures: int
    retry_in: float  # seconds until a probe is allowed (0 unless open)
    last_error: str


class BreakerRegistry:
    """Circuits keyed by model (and endpoint); see the module docstring for the rules."""

    def __init__(
        self,
        threshold: int = DEFAULT_THRESHOLD,
        cooldown: float = DEFAULT_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._circuits: dict[str, _Circuit] = {}

    @staticmethod
    def key(model: str, api_base: str | None) -> str:
        """The circuit's name: the model, and the endpoint without credentials or query."""
        return f"{model} @ {where(api_base).rstrip('/')}" if api_base else model

    def acquire(self, key: str) -> Grant | None:
        """Whether a call may go to ``key`` now: None (skip it), "closed" or "probe".

        A caller that got "probe" must report back with :meth:`success`, :meth:`failure`
        or :meth:`release`, or the half-open circuit stays reserved for it.
        """
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is None or circuit.opened_at is None:
                return "closed"
            if circuit.probing:
                return None
            if self._clock() - circuit.opened_at < self.cooldown:
                return None
            circuit.probing = True
        logger.info("circuit for %s is half-open: one probe call decides", key)
        return "probe"

    def success(self, key: str) -> None:
        with self._lock:
            circuit = self._circuits.pop(key, None)
        if circuit is not None and circuit.opened_at is not None:
            logger.info("circuit for %s closed: the probe call succeeded", key)

    def failure(self, key: str, error: str = "") -> None:
        """Count a health failure; opens the circuit at the threshold or after a failed probe."""
        with self._lock:
            circuit = self._circuits.setdefault(key, _Circuit())
            circuit.failures += 1
            circuit.last_error = error
            was_probe = circuit.probing
            circuit.probing = False
            if was_probe or (circuit.opened_at is None and circuit.failures >= self.threshold):
                circuit.opened_at = self._clock()
                reopened = was_probe
            else:
                return
        if reopened:
            logger.warning(
                "circuit for %s opened again: the probe call failed; next probe in %g s",
                key,
                self.cooldown,
            )
        else:
            logger.warning(
                "circuit for %s opened after %d failures in a row; skipped for %g s",
                key,
                self.threshold,
                self.cooldown,
            )

    def release(self, key: str) -> None:
        """Give up a probe without an outcome (the call was cancelled or not a health signal)."""
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is not None:
                circuit.probing = False

    def view(self, key: str) -> CircuitView:
        with self._lock:
            circuit = self._circuits.get(key) or _Circuit()
            now = self._clock()
            state: State = "closed"
            retry_in = 0.0
            if circuit.opened_at is not None:
                remaining = self.cooldown - (now - circuit.opened_at)
                if circuit.probing or remaining <= 0:
                    state = "half_open"
                else:
                    state, retry_in = "open", remaining
            return CircuitView(key, state, circuit.failures, retry_in, circuit.last_error)

    def reset(self) -> None:
        with self._lock:
            self._circuits.clear()


BREAKERS = BreakerRegistry()
"""The server process's registry; tests make their own."""
