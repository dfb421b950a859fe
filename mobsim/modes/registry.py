"""Modes beside the road vehicles, and how the engine finds them.

A mode is a class of agents with state, kernels and output of its own that advances on the
engine's clock (drones today; transit shuttles and on-demand fleets next). The engine knows no
mode by name: each mode registers a factory here when its package is imported, and
:class:`~mobsim.engine.Simulation` asks every registered factory whether the scenario uses it.
The engine then drives each attached mode through :class:`Mode`: its static tables when the
result file opens, one zero-step call to load its kernels before the clock starts, every chunk
of steps the road vehicles run, its records at the steps it asks for, and its closing tables.

A factory is named ``"package.module:function"`` and called as ``function(scenario, settings,
backend, services)`` (the scenario, its resolved settings, the run's backend, which the mode
shares with the road vehicles, and the engine's :class:`Services`); it returns the mode, or None
when the scenario does not use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mobsim.named import resolve

_FACTORIES: dict[str, str] = {}
_ROAD_TRIPS: dict[str, str] = {}


@dataclass(frozen=True)
class Services:
    """What the engine offers every mode besides the backend."""

    #: Shortest routes and travel times on the road network (:mod:`mobsim.demand.route_service`).
    routes: Any
    #: The clock: the run's begin time and step (s).
    begin: float
    dt: float
    #: The road vehicles' mode (:class:`mobsim.modes.road.mode.RoadMode`): its trips and state,
    #: for a mode whose agents ride in road vehicles (transit lines).
    road: Any = None


class Mode(Protocol):
    """What the engine asks of a mode (times in s, steps counted from ``sim.begin``)."""

    name: str

    def static_tables(self) -> dict[str, dict[str, Any]]:
        """Tables written once, when the result file opens (group -> column -> array)."""

    def attrs(self) -> dict[str, Any]:
        """Root attributes of the result file the mode adds (may be empty)."""

    def callbacks(self) -> list[Any]:
        """The mode's scheduled work (:class:`mobsim.schedules.Callback`; may be empty): the
        engine ends chunks where they ask and calls them, in order, at the steps they are due."""

    def compile(self) -> None:
        """Load (or compile) the mode's kernels, before the engine's clock starts."""

    def start(self, rec: Any, t: float) -> None:
        """Records at the first step's start (time ``t``)."""

    def next_stop(self, step: int) -> int:
        """The first step after ``step`` at whose end the mode records something; the engine
        returns to the host there."""

    def advance(self, n_steps: int, rec: Any | None) -> int | None:
        """Run ``n_steps`` steps; events go to ``rec`` (None: dropped, as ``sim.step`` does). The
        road (the first mode) may run fewer and returns how many; every other mode then runs
        exactly those (and may return None)."""

    def record(self, rec: Any, step: int, t: float, last: bool) -> None:
        """Records due at the end of step ``step`` (time ``t``; ``last``: the run's last step)."""

    def finished(self) -> bool:
        """Nothing of the mode is left to happen (the run may stop when the roads are empty)."""

    def finish(self, rec: Any, t_end: float) -> None:
        """Closing tables at the end of the run (time ``t_end``)."""

    def health(self) -> dict[str, Any]:
        """The mode's totals for ``/health``."""

    # Optional: ``progress() -> str``, the mode's part of a log line (the road's: running and
    # arrived vehicles); a mode without it adds nothing to the line.


def register_factory(name: str, factory: str) -> None:
    """Register the factory of mode ``name`` (``"module:function"``, see the module docstring); a
    second registration of the same name replaces the first."""
    _FACTORIES[name] = factory


def register_road_trips(name: str, source: str) -> None:
    """Register mode ``name``'s road vehicles: ``source`` (``"module:function"``) is called as
    ``function(scenario, route_service)`` when the road vehicles are built and returns the
    :class:`mobsim.demand.trips.Trip` s the mode drives on the roads (a transit line's services),
    which join the scenario's own trips."""
    _ROAD_TRIPS[name] = source


def road_trips(scenario: Any, routes: Any) -> list[Any]:
    """The road trips every registered mode adds to ``scenario`` (in registration order)."""
    out: list[Any] = []
    for spec in _ROAD_TRIPS.values():
        out += resolve(spec)(scenario, routes)
    return out


def unregister(name: str) -> None:
    """Forget the factory (and road trips) of mode ``name`` (no error if there is none)."""
    _FACTORIES.pop(name, None)
    _ROAD_TRIPS.pop(name, None)


def registered() -> tuple[str, ...]:
    """Names of the registered modes, in registration order."""
    return tuple(_FACTORIES)


def attach(scenario: Any, settings: dict[str, Any], backend: Any, services: Services) -> list[Mode]:
    """The modes ``scenario`` uses, in registration order."""
    modes = []
    for spec in _FACTORIES.values():
        mode = resolve(spec)(scenario, settings, backend, services)
        if mode is not None:
            modes.append(mode)
    return modes
