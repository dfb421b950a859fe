"""Benchmark scenarios: signalised grids loaded with a target number of concurrent vehicles.

:func:`grid_scenario` sizes a :func:`mobsim.net.generators.grid` so that ``n_vehicles`` fill it at a
moderate density (default 25 veh/lane-km when all of them are running) and gives it
``n_vehicles`` long trips that all depart in the first ``depart_window`` seconds, so that most of
them drive at the same time during the measured window.

Layout rules (deterministic, from ``n_vehicles`` alone):

* lanes: 1 below 5,000 vehicles, 2 from there on;
* a square grid of ``k`` x ``k`` junctions with blocks of ``clip(min_crossing / (k - 1), 200, 600)``
  m: the smallest ``k`` whose lane-km (stubs included) hold ``n_vehicles`` at ``density``, then
  the blocks shortened (not below 200 m) so that the lane-km match that target. Small
  grids get longer blocks so that a crossing (``min_crossing``, default 3 km) takes longer than
  the window and vehicles do not all arrive before it ends; blocks stay <= 600 m so that insertion
  (about 0.5 veh/s per lane at most) can place a link's share of vehicles within the departure
  window;
* every junction is signalised (default two-phase programs, ``cycle`` s).

Trips: origins are drawn over every link that does not end at a boundary stub (interior links and
the links out of the stubs, e.g. ``"W0-n0_0"``), weighted by lane-length, so the vehicles start
spread over the whole network (boundary stubs alone could insert only about 0.5 veh/s per lane, far
too few for 10k+ vehicles in two minutes). The destination is a link into a stub (e.g.
``"n0_4-E0"``) on the side of the grid the origin link heads towards, in a random row or column:
long routes to the opposite side. Departure times are uniform in ``[0, depart_window)`` s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mobsim.demand.trips import Trip
from mobsim.net.generators import grid
from mobsim.net.network import Network
from mobsim.scenario import Scenario, scenario_from_objects

DENSITY = 25.0          # veh per lane-km when every trip is running
MIN_CROSSING = 3000.0   # m, target length of a crossing of the grid
MIN_BLOCK, MAX_BLOCK = 200.0, 600.0
STUB = 100.0            # m, generators.grid default stub length
SPEED = 13.89           # m/s (50 km/h)


@dataclass(frozen=True)
class GridLayout:
    """Size of a benchmark grid: ``rows`` x ``cols`` junctions, ``block_length`` m, ``lanes`` lanes."""

    n_vehicles: int
    rows: int
    cols: int
    block_length: float
    lanes: int
    lane_km: float
    density: float
    cycle: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lane_km(k: int, block: float, lanes: int, stub: float = STUB) -> float:
    """Lane-kilometres of a ``k`` x ``k`` grid with boundary stubs (both directions)."""
    interior = 2 * 2 * k * (k - 1) * block      # two directions, k rows of k-1 blocks, and columns
    stubs = 2 * 4 * k * stub                    # 4k stubs, two links each
    return (interior + stubs) * lanes / 1000.0


def grid_layout(n_vehicles: int, density: float = DENSITY, cycle: float = 90.0,
                min_crossing: float = MIN_CROSSING) -> GridLayout:
    """The grid that holds ``n_vehicles`` at ``density`` veh/lane-km (see the module notes)."""
    if n_vehicles < 1:
        raise ValueError(f"n_vehicles={n_vehicles} must be >= 1")
    lanes = 1 if n_vehicles < 5000 else 2
    need = n_vehicles / density
    k = 2
    while True:
        block = float(np.clip(min_crossing / (k - 1), MIN_BLOCK, MAX_BLOCK))
        if lane_km(k, block, lanes) >= need:
            break
        k += 1
    # Shrink the blocks of the chosen k so that the lane-km match the target (not just exceed it).
    exact = (need * 1000.0 / lanes - 2 * 4 * k * STUB) / (2 * 2 * k * (k - 1))
    block = round(float(np.clip(exact, MIN_BLOCK, block)), 1)
    return GridLayout(n_vehicles, k, k, block, lanes, round(lane_km(k, block, lanes), 3), density, cycle)


def grid_trips(net: Network, n: int, depart_window: float, rng: np.random.Generator,
               prefix: str = "b") -> list[Trip]:
    """``n`` long trips on a benchmark grid (see the module notes); ids ``f"{prefix}{k}"``."""
    stubs = {nd.id for nd in net.nodes if not nd.id.startswith("n")}
    pos = {nd.id: (nd.x, nd.y) for nd in net.nodes}
    origins = [lk for lk in net.links if lk.to_node not in stubs]
    exits: dict[str, list[str]] = {"W": [], "E": [], "S": [], "N": []}
    for lk in net.links:
        if lk.to_node in stubs:
            exits[lk.to_node[0]].append(lk.id)
    weight = np.array([lk.length * lk.lanes for lk in origins], np.float64)
    pick = rng.choice(len(origins), size=n, p=weight / weight.sum())
    departs = np.round(rng.uniform(0.0, depart_window, size=n), 1)
    side_of = []
    for lk in origins:
        (x0, y0), (x1, y1) = pos[lk.from_node], pos[lk.to_node]
        dx, dy = x1 - x0, y1 - y0
        side_of.append(("E" if dx > 0 else "W") if abs(dx) >= abs(dy) else ("N" if dy > 0 else "S"))
    draw = rng.random(n)
    trips = []
    for k in range(n):
        o = origins[pick[k]]
        choices = exits[side_of[pick[k]]]
        d = choices[min(int(draw[k] * len(choices)), len(choices) - 1)]
        trips.append(Trip(f"{prefix}{k}", o.id, d, float(departs[k])))
    return trips


def grid_scenario(n_vehicles: int, seed: int = 1, window: float = 300.0, depart_window: float = 90.0,
                  cycle: float = 90.0, density: float = DENSITY,
                  settings: dict[str, Any] | None = None) -> tuple[Scenario, GridLayout]:
    """A signalised grid scenario with ``n_vehicles`` trips, run for ``window`` s of simulated time.

    Returns the scenario and its :class:`GridLayout`. The same ``(n_vehicles, seed)`` always gives
    the same scenario.
    """
    lay = grid_layout(n_vehicles, density=density, cycle=cycle)
    # Left turns wait inside the junction, as in the network netconvert builds from this one for
    # SUMO (bench.vs_sumo): the same junction model on both sides.
    net = grid(rows=lay.rows, cols=lay.cols, block_length=lay.block_length, lanes=lay.lanes,
               speed=SPEED, signalised=True, cycle=cycle, left_turns_wait=True)
    trips = grid_trips(net, n_vehicles, depart_window, np.random.default_rng(seed))
    s = {"sim.end": float(window), "sim.seed": int(seed), "sim.backend": "cpu"}
    s.update(settings or {})
    sc = scenario_from_objects(net, trips, settings=s, name=f"bench_grid_{n_vehicles}")
    return sc, lay


def tiny_scenario(seed: int = 1) -> Scenario:
    """A few vehicles on a 2 x 2 grid: runs every kernel once so that numba compiles (or loads)."""
    net = grid(rows=2, cols=2, block_length=200.0, lanes=2, signalised=True, cycle=60.0)
    trips = grid_trips(net, 40, 20.0, np.random.default_rng(seed))
    return scenario_from_objects(net, trips, settings={"sim.end": 120.0, "sim.backend": "cpu"},
                                 name="bench_warmup")
