"""A toy mode, written the way any new mode is: one field (a counter per agent) declared as a
namedtuple of arrays, one phase (a per-item function that increments it), no driver code of its
own. The backend it is given holds the field (``add_part``) and runs the phase (``run_items``):
the CPU backend as a parallel loop, the CUDA backend (or its simulator) as a kernel.

Run as a script (``python tests/toy_mode.py cpu|cuda OUT.json``), it registers the mode, runs a
small scenario with it on that backend and writes what the mode saw: the CUDA simulator needs
``NUMBA_ENABLE_CUDASIM=1`` before numba-cuda is imported, so the tests run it in a subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np
from numba.extending import register_jitable

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: The toy mode's one field: a step counter per agent.
ToyState = namedtuple("ToyState", ["count"])
AGENTS = 5


@register_jitable
def increment(i, count):
    """The toy mode's one phase, for agent ``i``: count the step."""
    count[i] += 1


class ToyMode:
    """Counts every step in every agent; records every 4 steps."""

    name = "toy"

    def __init__(self, settings: dict, backend: Any) -> None:
        self.backend = backend
        self.state = ToyState(np.zeros(AGENTS, np.int64))
        self.k = backend.add_part("toy", self.state)
        self.compiled = False
        self.records: list[tuple[int, float, bool]] = []
        self.closed_at: float | None = None

    def static_tables(self) -> dict[str, dict[str, Any]]:
        return {}

    def attrs(self) -> dict[str, Any]:
        return {"toy_agents": AGENTS}

    def callbacks(self) -> list[Any]:
        return []

    def compile(self) -> None:
        self.compiled = True  # the phase compiles at its first run

    def start(self, rec: Any, t: float) -> None:
        self.records.append((0, t, False))

    def next_stop(self, step: int) -> int:
        return (step // 4 + 1) * 4

    def advance(self, n_steps: int, rec: Any | None) -> None:
        for _ in range(n_steps):
            self.backend.run_items(increment, AGENTS, self.k.count)

    def counts(self) -> list[int]:
        self.backend.pull("toy", ("count",))
        return [int(c) for c in self.state.count]

    def record(self, rec: Any, step: int, t: float, last: bool) -> None:
        assert self.counts() == [step] * AGENTS, "every agent has run exactly the road's steps"
        if step % 4 == 0 or last:
            self.records.append((step, t, last))

    def finished(self) -> bool:
        return True

    def finish(self, rec: Any, t_end: float) -> None:
        self.closed_at = t_end

    def health(self) -> dict[str, Any]:
        return {"toy_steps": self.counts()[0]}


def toy_factory(scenario: Any, settings: dict, backend: Any, services: Any) -> ToyMode | None:
    return ToyMode(settings, backend) if getattr(scenario, "name", "") == "toy" else None


def toy_scenario(end: float) -> Any:
    from conftest import make_scenario, random_grid_trips
    from mobsim.net import generators

    net = generators.grid(rows=2, cols=2, block_length=100.0, lanes=1, signalised=False)
    trips = random_grid_trips(net, 10, 10.0, np.random.default_rng(2))
    return dataclasses.replace(make_scenario(net, trips, sim__end=end), name="toy")


def run_toy(backend: str, out: Path) -> dict[str, Any]:
    """Run the toy scenario (9 s, 18 steps) with the mode registered; what the mode saw."""
    import h5py

    from mobsim.engine import Simulation
    from mobsim.modes import registry

    registry.register_factory("toy", "toy_mode:toy_factory")
    try:
        sim = Simulation(toy_scenario(end=9.0), backend=backend)
        (toy,) = [m for m in sim.modes if m.name == "toy"]
        path = sim.run(out=out, progress="none", stop_when_empty=False)
        with h5py.File(path) as f:
            health = int(f["health"].attrs["toy_steps"])
        return {"backend": sim.backend.describe(), "compiled": toy.compiled, "counts": toy.counts(),
                "records": toy.records, "closed_at": toy.closed_at, "health": health}
    finally:
        registry.unregister("toy")


if __name__ == "__main__":
    which, dest = sys.argv[1], Path(sys.argv[2])
    dest.write_text(json.dumps(run_toy(which, dest.with_suffix(".h5"))))
