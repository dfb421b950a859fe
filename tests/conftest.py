"""Shared helpers and fixtures for the engine tests (physics, verification, invariants, determinism).

Test modules import these helpers (``from conftest import make_sim``). Every scenario is built in
Python with :func:`mobsim.scenario.scenario_from_objects` and the network generators, and kept
small: all engine tests share the same numba kernels (compiled once, then loaded from numba's
cache), so what costs time is simulated vehicle-steps, not set-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.engine import Simulation
from mobsim.scenario import Scenario, scenario_from_objects
from mobsim.trips import Trip
from mobsim.vtypes import VehicleType


def cudasim_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess that runs the CUDA kernels in numba's simulator.

    Bounds checks are on: under the simulator the shared per-item functions run as CPU-compiled
    code, where an index past a GPU-sized array (the GPU state has some arrays shorter than the
    CPU's) would corrupt memory silently instead of raising. Code compiled with checks gets a cache
    folder of its own (numba's cache key leaves the flag out), and every simulator subprocess of
    the suite uses this one environment so that the kernels compile once for all of them (several
    minutes on a cold cache), not once per flavour.
    """
    from mobsim.kernels import _kernel_cache_dir

    base = Path(os.environ.get("NUMBA_CACHE_DIR") or _kernel_cache_dir())
    return dict(os.environ, NUMBA_ENABLE_CUDASIM="1", NUMBA_BOUNDSCHECK="1",
                NUMBA_CACHE_DIR=str(base / "boundscheck"), **extra)


def make_scenario(network: Any, trips: Iterable[Trip], vtypes: Sequence[VehicleType] | None = None,
                  name: str = "test", **settings: Any) -> Scenario:
    """A scenario from objects; ``settings`` use ``__`` for the dot (``sim__dt=0.25``)."""
    s = {k.replace("__", "."): v for k, v in settings.items()}
    return scenario_from_objects(network, list(trips), vtypes=vtypes, settings=s, name=name)


#: Engine tests renumber the vehicle slots every 7 steps whatever the number of vehicles (by
#: default only runs with 4,096+ vehicles do, every 20 steps), so every test also checks that no
#: code confuses a slot with a trip (mobsim.slots).
TEST_REORDER_EVERY = 7


def make_sim(network: Any, trips: Iterable[Trip], vtypes: Sequence[VehicleType] | None = None,
             seed: int | None = None, threads: int | None = None, **settings: Any) -> Simulation:
    """A CPU :class:`Simulation` of a scenario built by :func:`make_scenario`."""
    return Simulation(make_scenario(network, trips, vtypes, **settings), backend="cpu", seed=seed,
                      threads=threads, reorder_every=TEST_REORDER_EVERY)


def boundary_links(net: Any) -> tuple[list[str], list[str]]:
    """(entry links, exit links) of a grid: links from and to its boundary stub nodes."""
    stubs = {n.id for n in net.nodes if not n.id.startswith("n")}
    entries = [lk.id for lk in net.links if lk.from_node in stubs]
    exits = [lk.id for lk in net.links if lk.to_node in stubs]
    return entries, exits


def random_grid_trips(net: Any, n: int, horizon: float, rng: np.random.Generator,
                      prefix: str = "t") -> list[Trip]:
    """``n`` trips between random boundary stubs of a grid (never back to the origin's stub),
    departing uniformly at random in ``[0, horizon)`` s, rounded to 0.1 s."""
    entries, exits = boundary_links(net)
    trips = []
    for k in range(n):
        o = entries[int(rng.integers(len(entries)))]
        stub = o.split("-")[0]
        choices = [e for e in exits if e.split("-")[1] != stub]
        d = choices[int(rng.integers(len(choices)))]
        trips.append(Trip(f"{prefix}{k}", o, d, round(float(rng.uniform(0.0, horizon)), 1)))
    return trips


def running(sim: Simulation) -> np.ndarray:
    """Trips (rows of ``sim.vehicles()``) of the running vehicles."""
    return np.nonzero(sim.vehicles().status == 1)[0]


def lane_orders(sim: Simulation) -> dict[int, list[int]]:
    """Trips of the running vehicles on every occupied lane, sorted from the lane's start to its end."""
    V = sim.vehicles()
    idx = np.nonzero(V.status == 1)[0]
    out: dict[int, list[int]] = {}
    if len(idx) == 0:
        return out
    order = np.lexsort((V.pos[idx], V.lane[idx]))
    for i in idx[order]:
        out.setdefault(int(V.lane[i]), []).append(int(i))
    return out
