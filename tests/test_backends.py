"""The same scenarios on the CPU and the CUDA backend: each runs correctly, and both agree.

The ``backend`` fixture runs over ``cpu`` and ``cuda``. The CUDA case runs on a GPU when one is
usable, else under numba's CUDA simulator in a subprocess (``NUMBA_ENABLE_CUDASIM=1`` must be set
before numba-cuda is imported), else it is skipped with the reason. Each (case, backend) runs
once per session.

The simulator runs with ``NUMBA_BOUNDSCHECK=1`` (see ``_run``): an index out of bounds in the
shared functions raises there, as it would not in their plain CPU build.

Parity tolerance. Under the simulator the kernels call the same CPU-compiled per-item functions
in a different order, so every table must be identical. On a GPU, float arithmetic differs in
the last bits (fused multiply-add, libdevice's ``pow``/``sqrt``), so floats are compared with a
relative tolerance of 1e-6: over these 70-second runs such differences stay below 1e-9 unless a
discrete decision flips, which the identical integer columns (insertion and arrival steps,
stops, teleports, status, event tables) would show.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import conftest
import mobsim
from backend_cases import CASES, run_case
from conftest import cudasim_env
from mobsim.backends.cuda import gpu_status

HERE = Path(__file__).resolve().parent
FLOAT_RTOL = 1e-6


def _cuda_mode() -> tuple[str | None, str]:
    ok, why = gpu_status()
    if ok:
        return "gpu", "a usable GPU"
    if importlib.util.find_spec("numba_cuda") is None:
        return None, "numba-cuda is not installed (pip install -e '.[dev]' brings it)"
    return "sim", f"no GPU ({why}): numba's CUDA simulator"


CUDA_MODE, CUDA_WHY = _cuda_mode()
_RESULTS: dict[tuple[str, str], Path] = {}


def _run(case: str, backend: str, out_dir: Path) -> Path:
    key = (case, backend)
    if key in _RESULTS:
        return _RESULTS[key]
    out = out_dir / f"{case}-{backend}.h5"
    if backend == "cuda" and CUDA_MODE == "sim":
        runs = conftest.SIMULATOR_RUNS
        if runs is not None and case in runs.cases:
            code, err, out = runs.result(case)  # started in the background with the session
            assert code == 0, err
        else:
            # cudasim_env: bounds checks on, the suite's one simulator cache
            r = subprocess.run([sys.executable, str(HERE / "backend_cases.py"), case, "cuda", str(out)],
                               capture_output=True, text=True, env=cudasim_env(), timeout=900)
            assert r.returncode == 0, r.stderr[-3000:]
    else:
        run_case(case, backend, out)
    _RESULTS[key] = out
    return out


@pytest.fixture(scope="session")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backends")


@pytest.fixture(params=["cpu", "cuda"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "cuda" and CUDA_MODE is None:
        pytest.skip(f"CUDA backend not testable here: {CUDA_WHY}")
    return request.param


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_runs_correctly(case: str, backend: str, out_dir: Path) -> None:
    res = mobsim.open(_run(case, backend, out_dir))
    assert res.attrs["status"] == "complete"
    assert res.attrs["backend"] == backend
    trips = res.trips
    k = res.kpis()
    # Conservation: every trip is loaded, and waiting, running, arrived or removed exactly once.
    assert k["trips_loaded"] == len(trips)
    assert set(np.unique(trips["status"])) <= {0, 1, 2, 3}
    assert k["collisions"] == 0
    assert k["trips_completed"] > 0
    s = res.summary
    assert (s["inserted"] - s["arrived"] - s["removed"] == s["running"]).all()
    if case == "drones":
        from mobsim.modes.drones.kpi import drone_tables

        d = drone_tables(res)
        ev = d["events"]
        assert (ev["kind"] == 0).any() and (ev["kind"] == 2).any(), "conflicts and a geofence violation"
        assert (d["flights"]["status"] == 2).any(), "some flights end within the run"
        assert len(d["tracks"]) > 0 and len(d["pad_queue"]) > 0
    if case == "osm_junctions":
        arr = dict(zip(trips["id"], trips["arrival"], strict=True))
        assert arr["v"] < 30.0, "the lane change at the end of the 4.6 m link"
        assert arr["m0"] < 75.0 and arr["m1"] < 75.0, "minor-road trips start on 5.2 m and take turns"
        assert np.isnan(arr["M03"]), "while the major queue is still there"
        assert all(arr[f"z{x}{k}"] < 90.0 for x in "ab" for k in range(3)), "the zipper merge flows"
        assert k["teleports"] == 0
        em = res.events[res.events["kind_name"].astype(str) == "emergency_braking"]
        assert em["trip_id"].astype(str).tolist() == ["e"] and em["link_id"].astype(str).tolist() == ["R"]
        assert em["time"].tolist() == [1.5] and k["emergency_brakings"] == 1
    if case == "transit":
        from mobsim.modes.transit.kpi import transit_tables

        t = transit_tables(res)
        ev, pax = t["stop_events"], t["passengers"]
        assert np.isfinite(ev["departure"]).sum() >= 6 and ev["boardings"].sum() > 0
        assert k["transit_denied_boardings"] > 0 and (ev["load"] <= 4).all()
        assert np.isfinite(pax["alighting"]).any()
        held = ev[np.isfinite(ev["scheduled"]) & (ev["visit"] == 2) & (ev["line"] == 0)]
        assert len(held) == 2 and (held["departure"] >= held["scheduled"]).all(), "held at the time point"
        legs = t["legs"]
        assert k["transit_transfers"] > 0 and (legs.groupby("passenger")["line"].nunique() == 2).any(), \
            "journeys to s4 transfer from the loop to the one-way line"
        common = legs[(legs["origin"] == 1) & (legs["destination"] == 2) & (legs["line"] >= 0)]
        assert set(common["line"]) == {0, 1}, "from s1 to s2 both lines take passengers (common lines)"
    if case == "jam":
        assert k["teleports"] > 0, "the jam case must exercise the gridlock policy"
        back = (trips["teleports"] > 0) & (trips["status"] == 2)
        assert back.any(), "vehicles in transit after a teleport must re-enter and arrive"
        assert (res.events["kind"] == 5).any(), "the jam case must block crossings"


def _frames(path: Path) -> dict[str, pd.DataFrame]:
    r = mobsim.open(path)
    frames = {"trips": r.trips, "events": r.events, "summary": r.summary.drop(columns=["wall_time"]),
              "edgedata": r.edgedata}
    if r.has("fcd"):
        frames["fcd"] = r.fcd
    from mobsim.modes.drones.schema import DRONE_GROUPS

    for group, cols in DRONE_GROUPS.items():
        if r.has(group):
            frames[group] = r._frame(group, cols)
    return frames


def _assert_same(name: str, a: pd.DataFrame, b: pd.DataFrame, exact: bool) -> None:
    assert list(a.columns) == list(b.columns), name
    assert len(a) == len(b), f"{name}: {len(a)} rows on the CPU, {len(b)} on CUDA"
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype == object:
            # ids, with missing ones (a signal_switch event has no trip) on both sides alike
            miss = pd.isna(x)
            assert np.array_equal(miss, pd.isna(y)) and np.array_equal(x[~miss], y[~miss]), \
                f"{name}.{col} differs"
        elif exact or not np.issubdtype(x.dtype, np.floating):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{name}.{col} differs"
        else:
            np.testing.assert_allclose(y, x, rtol=FLOAT_RTOL, atol=1e-6, err_msg=f"{name}.{col}")


@pytest.mark.cuda
@pytest.mark.parametrize("case", sorted(CASES))
def test_cpu_and_cuda_agree(case: str, out_dir: Path) -> None:
    if CUDA_MODE is None:
        pytest.skip(f"CUDA backend not testable here: {CUDA_WHY}")
    a = _frames(_run(case, "cpu", out_dir))
    b = _frames(_run(case, "cuda", out_dir))
    for name in a:
        _assert_same(name, a[name], b[name], exact=CUDA_MODE == "sim")


def test_auto_picks_cpu_without_gpu(caplog: Any) -> None:
    from mobsim.backends.cpu import CPUBackend
    from mobsim.backends.select import select_backend

    if CUDA_MODE == "gpu":
        pytest.skip("a GPU is present: auto picks CUDA")
    with caplog.at_level("INFO", logger="mobsim"):
        be = select_backend("auto")
    assert isinstance(be, CPUBackend)
    assert "backend cpu (auto: " in caplog.text


@pytest.mark.cuda
def test_cli_backend_cuda_under_the_simulator(tmp_path: Path) -> None:
    """``NUMBA_ENABLE_CUDASIM=1 mobsim run ... --backend cuda`` runs the CUDA kernels in numba's
    simulator and writes the same trips as the CPU."""
    if CUDA_MODE != "sim":
        pytest.skip(f"the simulator case only: {CUDA_WHY}")
    (tmp_path / "scenario.toml").write_text(
        '[network]\ngenerator = "grid"\n[network.params]\nrows = 2\ncols = 2\nblock_length = 100.0\n'
        '[[demand.flows]]\nid = "f"\nfrom = "W0-n0_0"\nto = "n0_1-E0"\nend = 30\nvehs_per_hour = 720\n'
        "[sim]\nend = 60\n")
    outs = {}
    for backend in ("cuda", "cpu"):
        out = tmp_path / f"{backend}.h5"
        cmd = [sys.executable, "-m", "mobsim", "run", str(tmp_path), "--backend", backend, "--out", str(out),
               "--progress", "none"]
        env = cudasim_env() if backend == "cuda" else None
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        assert r.returncode == 0, r.stderr[-2000:]
        outs[backend] = mobsim.open(out)
    assert outs["cuda"].attrs["backend"] == "cuda" and "simulator" in outs["cuda"].attrs["device"]
    assert outs["cuda"].trips.equals(outs["cpu"].trips)
