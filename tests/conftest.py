"""Shared helpers and fixtures for the engine tests (physics, verification, invariants, determinism).

Test modules import these helpers (``from conftest import make_sim``). Every scenario is built in
Python with :func:`mobsim.scenario.scenario_from_objects` and the network generators, and kept
small: all engine tests share the same numba kernels (compiled once, then loaded from numba's
cache), so what costs time is simulated vehicle-steps, not set-up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.engine import Simulation
from mobsim.scenario import Scenario, scenario_from_objects


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


class SimulatorRuns:
    """The backend cases' CUDA runs under the simulator, started in the background when the
    session begins (:func:`pytest_collection_modifyitems`), one after the other in one
    subprocess each.

    Under the simulator every per-item function is compiled anew (bounds checks on: a cache
    folder of its own) and each CUDA thread is a Python thread: the first of these runs takes
    minutes on a cold cache, nearly all of it compilation on one core. Started at once, they
    compile on the second core while the CPU tests run on the first; the other CUDA tests (which
    then find a warm cache) run last, and the tests that need these runs' results after them. A
    test that asks for a case the background has not started yet runs it itself, so that both
    cores work until the last case is done."""

    def __init__(self, cases: Sequence[str]) -> None:
        self.cases = tuple(cases)
        self.dir = Path(tempfile.mkdtemp(prefix="mobsim-simulator-runs-"))
        self.done: dict[str, tuple[int, str, Path]] = {}
        self._todo = list(cases)
        self._procs: set[subprocess.Popen] = set()
        self._stopped = False
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._work, daemon=True, name="simulator-runs")
        self._thread.start()

    def _claim(self, case: str | None = None) -> str | None:
        """Take ``case`` (or the next case) off the list to run it; None if it is taken or gone."""
        with self._lock:
            if self._stopped or not self._todo:
                return None
            if case is None:
                return self._todo.pop(0)
            if case in self._todo:
                self._todo.remove(case)
                return case
            return None

    def _run(self, case: str) -> None:
        here = Path(__file__).resolve().parent
        out = self.dir / f"{case}-cuda.h5"
        cmd = [sys.executable, str(here / "backend_cases.py"), case, "cuda", str(out)]
        with self._lock:
            if self._stopped:
                self.done[case] = (-1, "the session ended first", out)
                self._lock.notify_all()
                return
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    env=cudasim_env())
            self._procs.add(proc)
        try:
            _, err = proc.communicate(timeout=1800)
            result = (proc.returncode, err[-3000:], out)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            result = (-1, "timed out after 1800 s", out)
        with self._lock:
            self._procs.discard(proc)
            self.done[case] = result
            self._lock.notify_all()

    def _work(self) -> None:
        while (case := self._claim()) is not None:
            self._run(case)

    def stop(self) -> None:
        """End the runs (the session is over: nothing is left running after it)."""
        with self._lock:
            self._stopped = True
            for proc in self._procs:
                if proc.poll() is None:
                    proc.kill()
        self._thread.join()
        shutil.rmtree(self.dir, ignore_errors=True)

    def result(self, case: str) -> tuple[int, str, Path]:
        """(exit status, end of stderr, result path) of ``case``'s run, once it has finished (run
        here if the background has not started it)."""
        if self._claim(case) is not None:
            self._run(case)
        with self._lock:
            while case not in self.done:
                if self._stopped:
                    return (-1, "the session ended first", self.dir / f"{case}-cuda.h5")
                self._lock.wait(timeout=5.0)
            return self.done[case]


#: The background simulator runs of this session (None: not started; the tests run them).
SIMULATOR_RUNS: SimulatorRuns | None = None


def _simulator_mode() -> bool:
    """True where the CUDA tests run under numba's simulator: numba-cuda installed, no GPU."""
    import importlib.util

    if importlib.util.find_spec("numba_cuda") is None:
        return False
    from mobsim.backends.cuda import gpu_status

    return not gpu_status()[0]


def _uses_simulator(item: pytest.Item) -> bool:
    name = Path(str(item.fspath)).name
    return "cuda" in item.nodeid.split("::", 1)[-1] or name.startswith(("test_cuda", "test_gpu"))


@pytest.hookimpl(trylast=True)  # after -k / -m deselection: only the cases that will run
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Run the CUDA tests last and, under the simulator, start the backend cases' CUDA runs in
    the background now (:class:`SimulatorRuns`)."""
    global SIMULATOR_RUNS
    late = [it for it in items if _uses_simulator(it)]
    if not late:
        return
    # The tests that read the background runs' results go last of all: the CUDA tests that do
    # not need them (the PTX compile, the simulator's own tests) fill the time until they end.
    waits = [it for it in late if Path(str(it.fspath)).name == "test_backends.py"]
    # ... asking for the cases in the reverse of the background's order, so that they run the
    # cases it has not reached yet while it works through the rest (SimulatorRuns.result)
    waits = sorted(waits, key=lambda it: getattr(getattr(it, "callspec", None), "params", {}).get("case", ""),
                   reverse=True)
    late = [it for it in late if Path(str(it.fspath)).name != "test_backends.py"] + waits
    items[:] = [it for it in items if not _uses_simulator(it)] + late
    cases = sorted({it.callspec.params["case"] for it in late
                    if it.originalname == "test_case_runs_correctly" and hasattr(it, "callspec")
                    and it.callspec.params.get("backend") == "cuda"})
    if cases and SIMULATOR_RUNS is None and _simulator_mode():
        SIMULATOR_RUNS = SimulatorRuns(cases)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SIMULATOR_RUNS is not None:
        SIMULATOR_RUNS.stop()


def make_scenario(network: Any, trips: Iterable[Trip], vtypes: Sequence[VehicleType] | None = None,
                  name: str = "test", **settings: Any) -> Scenario:
    """A scenario from objects; ``settings`` use ``__`` for the dot (``sim__dt=0.25``)."""
    s = {k.replace("__", "."): v for k, v in settings.items()}
    return scenario_from_objects(network, list(trips), vtypes=vtypes, settings=s, name=name)


#: Engine tests renumber the vehicle slots every 7 steps whatever the number of vehicles (by
#: default only runs with 4,096+ vehicles do, every 20 steps), so every test also checks that no
#: code confuses a slot with a trip (mobsim.state.slots).
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
