"""The side-by-side benchmark stays runnable: one small case, a table, JSON and the scaling plot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sumolib = pytest.importorskip("sumolib", reason="sumolib not installed (pip install -e '.[sumo]')")
pytest.importorskip("sumo", reason="eclipse-sumo not installed (pip install -e '.[sumo]')")

ROOT = Path(__file__).resolve().parent.parent


def test_vs_sumo_grid_1k(tmp_path: Path) -> None:
    out = tmp_path / "vs.json"
    r = subprocess.run([sys.executable, "-m", "bench.vs_sumo", "--cases", "grid_1k", "--same-files",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "| grid_1k |" in r.stdout and "| mobsim_sumo_net |" in r.stdout
    data = json.loads(out.read_text())
    (case,) = data["results"]
    for sim in ("mobsim", "sumo"):
        b = case["best"][sim]
        assert b["veh_updates_per_s"] > 0 and b["peak_rss_mb"] > 0 and b["wall_s"] > 0
        assert b["trips_completed"] > 0.2 * case["vehicles"]  # 300 s: the long trips are still on the road
    # Same scenario in both: travel times agree roughly (the validation suite is the precise check).
    tt = case["best"]["mobsim"]["mean_travel_time_s"] / case["best"]["sumo"]["mean_travel_time_s"]
    assert 0.7 < tt < 1.3
    assert case["speed_ratio"] > 0
    # mobsim on SUMO's own files (netconvert's junction geometry): a reference row, same trips.
    ref = case["best"]["mobsim_sumo_net"]
    assert ref["trips_completed"] > 0.2 * case["vehicles"]
    assert 0.7 < ref["mean_travel_time_s"] / case["best"]["sumo"]["mean_travel_time_s"] < 1.3
    assert out.with_suffix(".png").is_file()
    assert data["meta"]["machine"]["cores_logical"] >= 1


def test_vs_sumo_hour_grid_small_runs_the_same_sumo_files(tmp_path: Path) -> None:
    """The hour-of-demand imported grid through its own code path, as a 3 x 3 grid with
    100 trips over 300 s: netgenerate + randomTrips files, ``sumo -c`` and ``mobsim run`` of the
    same ``.sumocfg``; the table and the JSON carry loop and end-to-end times, UPS, trips and the
    ratios."""
    out, keep = tmp_path / "hour.json", tmp_path / "keep"
    r = subprocess.run([sys.executable, "-m", "bench.vs_sumo", "--cases", "hour_grid_small", "--cuda", "no",
                        "--keep", str(keep), "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    # 3 x 3 junctions, 12 two-way streets of 2 lanes: 48 lanes; 100 trips.
    assert "| hour_grid_small | 100 | 48 | mobsim |" in r.stdout
    assert "| hour_grid_small | 100 | 48 | sumo |" in r.stdout
    assert "| wall s | loop s | veh-updates/s |" in r.stdout
    files = keep / "hour_grid_small"
    cfg = (files / "sumo" / "hour.sumocfg").read_text()
    assert 'value="grid.net.xml"' in cfg and 'value="trips.trips.xml"' in cfg and 'value="0.5"' in cfg
    trips = (files / "sumo" / "trips.trips.xml").read_text()
    assert trips.count("<trip ") == 100
    # mobsim ran a fresh copy of the very same files (a first import, not the network cache).
    net = (files / "sumo" / "grid.net.xml").read_bytes()
    assert (files / "mobsim_0" / "grid.net.xml").read_bytes() == net
    (case,) = json.loads(out.read_text())["results"]
    assert case["case"] == "hour_grid_small" and case["vehicles"] == 100 and case["lanes"] == 48
    assert case["simulated_s"] == 600.0 and "mobsim_cuda" not in case["best"]
    for sim in ("mobsim", "sumo"):
        b = case["best"][sim]
        assert b["wall_s"] > 0 and 0 < b["loop_s"] < b["wall_s"] and b["veh_updates_per_s"] > 0
        assert b["trips_completed"] >= 95  # 300 s of departures, 600 s run: (nearly) all arrive
    tt = case["best"]["mobsim"]["mean_travel_time_s"] / case["best"]["sumo"]["mean_travel_time_s"]
    assert 0.7 < tt < 1.3
    assert case["speed_ratio"] == pytest.approx(
        case["best"]["mobsim"]["veh_updates_per_s"] / case["best"]["sumo"]["veh_updates_per_s"])
    assert case["wall_ratio"] == pytest.approx(
        case["best"]["sumo"]["wall_s"] / case["best"]["mobsim"]["wall_s"])


def test_import_bench_small_grid(tmp_path: Path) -> None:
    """The import benchmark runs (a 4 x 4 grid): mobsim's first and cached import, SUMO's load."""
    out = tmp_path / "imp.json"
    r = subprocess.run([sys.executable, "-m", "bench.import_bench", "--grids", "4", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "| 4x4 |" in r.stdout
    (row,) = json.loads(out.read_text())["results"]
    # 4 x 4 junctions, 24 two-way streets of 2 lanes each: 96 lanes.
    assert row["lanes"] == 96 and row["movements"] > row["links"]
    for what in ("mobsim", "cached", "sumo"):
        assert row[what]["wall_s"] > 0 and row[what]["peak_rss_mb"] > 0
    bad = subprocess.run([sys.executable, "-m", "bench.import_bench", "--grids", "x"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--grids" in bad.stderr and "Traceback" not in bad.stderr


def test_city_case_runs_sumo_on_the_original_network_with_mobsims_signal_control(tmp_path: Path) -> None:
    """SUMO gets the shipped OSM file itself (not a re-export, which would count the junctions'
    internal lanes twice), with NEMA programs made static as mobsim runs them; actuated and
    delay-based programs stay (mobsim runs those)."""
    from bench.vs_sumo import ORIGINAL_NET, static_signals_copy

    src = ORIGINAL_NET["city"]()
    if not src.is_file():
        pytest.skip(f"{src} is not shipped with this eclipse-sumo wheel")
    text = src.read_text()
    out = static_signals_copy(src, tmp_path / "s.net.xml").read_text()
    n_actuated = text.count('type="actuated"')
    assert n_actuated > 5 and out.count('type="actuated"') == n_actuated
    other = tmp_path / "d.net.xml"
    other.write_text(text.replace('type="actuated"', 'type="delay_based"', 1)
                     .replace('type="actuated"', 'type="NEMA"', 1))
    out = static_signals_copy(other, tmp_path / "d2.net.xml").read_text()
    assert out.count('type="delay_based"') == 1 and 'type="NEMA"' not in out
    assert out.count('type="static"') == text.count('type="static"') + 1
    net = sumolib.net.readNet(str(tmp_path / "s.net.xml"), withPrograms=True)
    programs = [p for tls in net.getTrafficLights() for p in tls.getPrograms().values()]
    assert programs and {p.getType() for p in programs} <= {"static", "actuated"}


def test_cuda_rows_in_table_and_plot(tmp_path: Path) -> None:
    """Where a GPU runs mobsim's CUDA backend too, it is a third row per case and a third line."""
    from bench.vs_sumo import format_table, scaling_plot

    def sim(ups: float) -> dict[str, float]:
        return {"wall_s": 2.0, "peak_rss_mb": 100.0, "veh_updates_per_s": ups, "trips_completed": 900,
                "mean_travel_time_s": 100.0}

    results = [{"case": c, "vehicles": n, "lanes": 10, "best": {"mobsim": sim(1e7), "sumo": sim(1e5),
                                                              "mobsim_cuda": sim(1e9)},
                "speed_ratio": 100.0, "wall_ratio": 1.0, "speed_ratio_cuda": 1e4, "wall_ratio_cuda": 1.0}
               for c, n in (("grid_1k", 1000), ("grid_10k", 10000), ("city", 1000))]
    table = format_table(results)
    assert table.count("| mobsim_cuda |") == 3 and "10000.0x" in table
    assert scaling_plot(results, tmp_path / "p.png").stat().st_size > 1000


def test_cuda_yes_without_a_gpu_is_a_clear_error() -> None:
    from bench.vs_sumo import cuda_usable

    if cuda_usable()[0]:
        pytest.skip("a usable GPU is present")
    r = subprocess.run([sys.executable, "-m", "bench.vs_sumo", "--cases", "grid_1k", "--cuda", "yes"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--cuda yes" in r.stderr and "Traceback" not in r.stderr


def test_vs_sumo_city_runs_sumo_as_configured_and_as_shipped(tmp_path: Path) -> None:
    """The city case: SUMO on the original file, its actuated signals actuated as in mobsim (the
    ratios), and as shipped (a reference row: the same here, the file has no NEMA signals);
    mobsim completes every trip."""
    from bench.vs_sumo import ORIGINAL_NET

    if not ORIGINAL_NET["city"]().is_file():
        pytest.skip("SUMO's DRT network is not shipped with this eclipse-sumo wheel")
    out = tmp_path / "city.json"
    r = subprocess.run([sys.executable, "-m", "bench.vs_sumo", "--cases", "city", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    # 867 car lanes: the complete import (863) and the 4 lanes that end before their junction
    assert "| city | 1,000 | 867 | sumo_shipped |" in r.stdout
    (case,) = json.loads(out.read_text())["results"]
    best = case["best"]
    assert best["mobsim"]["trips_completed"] == 1000
    assert best["sumo_shipped"]["trips_completed"] == 1000
    assert best["sumo_shipped"]["mean_travel_time_s"] == pytest.approx(best["sumo"]["mean_travel_time_s"])
