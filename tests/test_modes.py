"""Modes beside the road vehicles: a mode added from outside the engine (registered by name, as
the drones are) is found, compiled, advanced over exactly the road's steps, recorded at the steps
it asks for and closed, in ``Simulation.run`` and in ``Simulation.step``; the engine holds no
mode-specific code."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numba import njit

from conftest import make_scenario, random_grid_trips
from mobsim.engine import Simulation
from mobsim.modes import registry
from mobsim.net import generators

ROOT = Path(__file__).resolve().parent.parent


@njit(cache=True)
def _increment(count, n_steps):
    """The toy mode's one phase: count every step."""
    for _ in range(n_steps):
        count[0] += 1


class ToyMode:
    """One field (a step counter) and one phase that increments it; records every 4 steps."""

    name = "toy"

    def __init__(self, settings: dict) -> None:
        self.count = np.zeros(1, np.int64)
        self.compiled = False
        self.records: list[tuple[int, float, bool]] = []
        self.closed_at: float | None = None

    def static_tables(self) -> dict[str, dict[str, Any]]:
        return {}

    def compile(self) -> None:
        _increment(self.count, 0)
        self.compiled = True

    def start(self, rec: Any, t: float) -> None:
        self.records.append((0, t, False))

    def next_stop(self, step: int) -> int:
        return (step // 4 + 1) * 4

    def advance(self, n_steps: int, rec: Any | None) -> None:
        _increment(self.count, n_steps)

    def record(self, rec: Any, step: int, t: float, last: bool) -> None:
        assert step == int(self.count[0]), "the mode has run exactly the road's steps"
        if step % 4 == 0 or last:
            self.records.append((step, t, last))

    def finished(self) -> bool:
        return True

    def finish(self, rec: Any, t_end: float) -> None:
        self.closed_at = t_end

    def health(self) -> dict[str, Any]:
        return {"toy_steps": int(self.count[0])}


def toy_factory(scenario: Any, settings: dict, backend: Any) -> ToyMode | None:
    return ToyMode(settings) if getattr(scenario, "name", "") == "toy" else None


def _scenario(end: float) -> Any:
    net = generators.grid(rows=2, cols=2, block_length=100.0, lanes=1, signalised=False)
    trips = random_grid_trips(net, 10, 10.0, np.random.default_rng(2))
    return dataclasses.replace(make_scenario(net, trips, sim__end=end), name="toy")


def test_a_mode_registered_from_outside_runs_on_the_engines_clock(tmp_path: Path) -> None:
    registry.register_factory("toy", f"{__name__}:toy_factory")
    try:
        sim = Simulation(_scenario(end=9.0), backend="cpu")  # 18 steps of 0.5 s
        (toy,) = [m for m in sim.modes if m.name == "toy"]
        out = sim.run(out=tmp_path / "toy.h5", progress="none", stop_when_empty=False)
        assert toy.compiled and int(toy.count[0]) == 18
        assert [r[0] for r in toy.records] == [0, 4, 8, 12, 16, 18]
        assert toy.records[-1] == (18, 9.0, True) and toy.closed_at == 9.0
        with h5py.File(out) as f:
            assert int(f["health"].attrs["toy_steps"]) == 18
        # Simulation.step advances the mode over the same steps, without records.
        sim2 = Simulation(_scenario(end=9.0), backend="cpu")
        (toy2,) = sim2.modes
        assert sim2.step(7) == 7 and int(toy2.count[0]) == 7 and toy2.records == []
        # A scenario that does not use the mode gets none of it.
        other = dataclasses.replace(_scenario(end=9.0), name="other")
        assert Simulation(other, backend="cpu").modes == []
    finally:
        registry.unregister("toy")
    assert "toy" not in registry.registered()


def test_the_engine_names_no_mode() -> None:
    src = (ROOT / "mobsim" / "engine.py").read_text().lower()
    assert "drone" not in src and "airspace" not in src
