"""Modes beside the road vehicles: a mode added from outside the engine (registered by name, as
the drones are) is found, compiled, advanced over exactly the road's steps, recorded at the steps
it asks for and closed, in ``Simulation.run`` and in ``Simulation.step``; the engine holds no
mode-specific code."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cudasim_env
from mobsim.engine import Simulation
from mobsim.modes import registry
from toy_mode import AGENTS, run_toy, toy_scenario

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def test_a_mode_registered_from_outside_runs_on_the_engines_clock(tmp_path: Path) -> None:
    got = run_toy("cpu", tmp_path / "toy.h5")
    assert got["compiled"] and got["counts"] == [18] * AGENTS
    assert [r[0] for r in got["records"]] == [0, 4, 8, 12, 16, 18]
    assert tuple(got["records"][-1]) == (18, 9.0, True) and got["closed_at"] == 9.0
    assert got["health"] == 18
    assert "toy" not in registry.registered()
    registry.register_factory("toy", "toy_mode:toy_factory")
    try:
        # Simulation.step advances the mode over the same steps, without records.
        sim2 = Simulation(toy_scenario(end=9.0), backend="cpu")
        (toy2,) = sim2.modes
        assert sim2.step(7) == 7 and toy2.counts() == [7] * AGENTS and toy2.records == []
        # A scenario that does not use the mode gets none of it.
        other = dataclasses.replace(toy_scenario(end=9.0), name="other")
        assert Simulation(other, backend="cpu").modes == []
    finally:
        registry.unregister("toy")


@pytest.mark.cuda
def test_the_toy_mode_runs_on_the_cuda_simulator_as_on_the_cpu(tmp_path: Path) -> None:
    """The same mode, unchanged, on the CUDA backend: its field lives in device memory (numpy
    copies under the simulator), its phase runs as a kernel, and it sees what it sees on the CPU."""
    if importlib.util.find_spec("numba_cuda") is None:
        pytest.skip("numba-cuda is not installed (pip install -e '.[dev]' brings it)")
    cpu = run_toy("cpu", tmp_path / "cpu.h5")
    out = tmp_path / "cuda.json"
    r = subprocess.run([sys.executable, str(HERE / "toy_mode.py"), "cuda", str(out)], capture_output=True,
                       text=True, env=cudasim_env(), timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    cuda = json.loads(out.read_text())
    assert cuda["backend"].startswith("cuda"), cuda["backend"]
    assert cuda.pop("backend") != cpu.pop("backend")
    assert cuda == json.loads(json.dumps(cpu))


def test_the_engine_names_no_mode() -> None:
    src = (ROOT / "mobsim" / "engine.py").read_text().lower()
    assert "drone" not in src and "airspace" not in src
