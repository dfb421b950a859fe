"""When something happens during a run: schedules and the callbacks on them.

The step loop runs in chunks inside the kernels; it returns to the host only at the next step
some schedule asks for. A writer (edge data, trajectories), a route update, a log line or a
user's own function is a :class:`Callback` on a schedule: :class:`StepInterval` (every N steps),
:class:`TimeInterval` (every T simulated seconds, a whole number of steps) or
:class:`WallTimeInterval` (every S seconds of wall-clock time, checked where a chunk ends). The
engine ends each chunk at the earliest step any schedule asks for and then calls, in order, the
callbacks that are due (Oceananigans' schedules, with numba's chunked steps).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: A step far beyond any run: "this schedule asks for no step".
NEVER = 2**62


class Schedule(Protocol):
    """When a callback is due (steps counted from ``sim.begin``)."""

    def next_step(self, step: int) -> int:
        """The first step after ``step`` at whose end the schedule is due (:data:`NEVER`: none)."""

    def due(self, step: int) -> bool:
        """Whether the schedule is due at the end of step ``step``."""


@dataclass
class StepInterval:
    """Every ``every`` steps (at the ends of steps ``every``, ``2 every``, ...)."""

    every: int

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"a step interval must be at least 1 step, got {self.every}")

    def next_step(self, step: int) -> int:
        return (step // self.every + 1) * self.every

    def due(self, step: int) -> bool:
        return step % self.every == 0


def TimeInterval(seconds: float, dt: float) -> StepInterval:  # noqa: N802 - reads as a schedule class
    """Every ``seconds`` of simulated time (s), rounded to a whole number of steps of ``dt`` (s),
    at least one."""
    return StepInterval(max(1, round(float(seconds) / float(dt))))


@dataclass
class WallTimeInterval:
    """Every ``seconds`` of wall-clock time (s), checked at the end of every chunk of steps (it
    does not end chunks itself: a chunk ends at the other schedules' steps)."""

    seconds: float
    _last: float = field(default_factory=time.perf_counter)

    def next_step(self, step: int) -> int:
        return NEVER

    def due(self, step: int) -> bool:
        now = time.perf_counter()
        if now - self._last >= self.seconds:
            self._last = now
            return True
        return False


@dataclass
class Callback:
    """``fn(rec, step, t)`` at the end of every step ``schedule`` is due (``rec``: the recorder,
    ``t``: the time at the step's end, s). ``final``: also at the run's last step, or where it
    ends early because everything has finished; ``before_end``: never at the run's last step (an
    update that only matters for steps still to come); ``in_step``: also in
    ``Simulation.step``, which records nothing (with ``rec`` None)."""

    name: str
    schedule: Any
    fn: Callable[[Any, int, float], None]
    final: bool = False
    before_end: bool = False
    in_step: bool = False

    def due(self, step: int, end: bool, finished: bool = False) -> bool:
        """Due at the end of step ``step``; ``end``: the run's last step; ``finished``: the run
        ends here early."""
        if end and self.before_end:
            return False
        return self.schedule.due(step) or (self.final and (end or finished))


def next_stop(callbacks: list[Callback], step: int, n_steps: int) -> int:
    """The earliest step after ``step`` at which a callback is due, at most ``n_steps``."""
    return min([n_steps, *(cb.schedule.next_step(step) for cb in callbacks)])
