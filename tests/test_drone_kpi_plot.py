"""Drone KPIs (mobsim.modes.drones.kpi) and drone figures (mobsim.modes.drones.plot) on a hand-made
result file.

The file is written through the real HDF5Recorder: the minimal road network of fakerun plus four
flights whose KPIs are computed by hand below:

====  ========  =========  =======  ========  =======  ========  ========  ======  ========  =======
row   status    t_request  takeoff  delivery  delay    energy    flight s  dist    direct    min sep
====  ========  =========  =======  ========  =======  ========  ========  ======  ========  =======
f0    done      0          10       130       5        20        240       500     400       30
f1    done      60         100      460       35       40        560       1100    1000      12
f2    refused   120        NaN      NaN       NaN      0         0         0       700       NaN
f3    depleted  200        205      530       0        80        300       900     600       8
====  ========  =========  =======  ========  =======  ========  ========  ======  ========  =======

Events: conflicts f0-f1 (start 110) and f1-f3 (start 400, still open), a loss of separation
f0-f1 (start 115), a geofence violation of f3 and a battery depletion of f3 (not counted by any
rate KPI).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from mobsim.analysis import kpi, results
from mobsim.modes.drones import kpi as drone_kpi
from mobsim.modes.drones import plot as drone_plot
from mobsim.output.recorder import HDF5Recorder

try:
    from tests.fakerun import make_fake_run, minimal_static
except ImportError:  # tests/ is on sys.path, not the repository root
    from fakerun import make_fake_run, minimal_static

PNG = b"\x89PNG\r\n\x1a\n"
ALL = {"drone_tracks.png", "drone_conflicts.png", "drone_pad_queue.png", "drones_airborne.png"}
NAN = math.nan

FLIGHTS = {
    "id": ["f0", "f1", "f2", "f3"],
    "type": [0, 0, 0, 0],
    "mission": ["delivery"] * 4,
    "origin": [0, 0, 1, 1],
    "dest_vertiport": [1, -1, 0, 0],
    "dest_x": [200.0, 150.0, 0.0, 0.0],
    "dest_y": [100.0, 80.0, 0.0, 0.0],
    "payload": [1.0, 2.0, 5.0, 1.5],
    "t_request": [0.0, 60.0, 120.0, 200.0],
    "t_takeoff": [10.0, 100.0, NAN, 205.0],
    "t_delivery": [130.0, 460.0, NAN, 530.0],
    "t_done": [250.0, 660.0, NAN, 505.0],
    "departure_delay": [5.0, 35.0, NAN, 0.0],
    "status": [2, 2, 3, 4],
    "refused": ["", "", "battery", ""],
    "energy": [20.0, 40.0, 0.0, 80.0],
    "energy_climb": [5.0, 5.0, 0.0, 5.0],
    "energy_cruise": [12.0, 30.0, 0.0, 60.0],
    "energy_descent": [2.0, 2.0, 0.0, 0.0],
    "energy_hover": [1.0, 3.0, 0.0, 15.0],
    "time_climb": [10.0, 10.0, 0.0, 10.0],
    "time_cruise": [200.0, 500.0, 0.0, 260.0],
    "time_descent": [20.0, 20.0, 0.0, 0.0],
    "time_hover": [10.0, 30.0, 0.0, 30.0],
    "distance": [500.0, 1100.0, 0.0, 900.0],
    "direct_distance": [400.0, 1000.0, 700.0, 600.0],
    "energy_planned": [18.0, 38.0, 200.0, 50.0],
    "min_separation": [30.0, 12.0, NAN, 8.0],
    "recharge_time": [120.0, NAN, NAN, NAN],
    "battery_left": [0.9, 0.8, 1.0, 0.0],
}

EVENTS = {  # kind 0 conflict, 1 los, 2 geofence, 3 battery_depleted
    "kind": [0, 1, 2, 0, 3],
    "drone": [0, 0, 3, 1, 3],
    "other": [1, 1, 0, 3, -1],
    "start": [110.0, 115.0, 300.0, 400.0, 500.0],
    "end": [125.0, 120.0, 330.0, NAN, 500.0],
    "value": [40.0, 12.0, 0.0, 25.0, 80.0],
}


def _tracks() -> dict[str, np.ndarray]:
    """Samples every 10 s of f0, f1 and f3 while airborne (straight lines at 60 m)."""
    rows = []
    for drone, t0, t1, (x0, y0), (x1, y1) in ((0, 10, 250, (0, 0), (200, 100)),
                                              (1, 100, 660, (0, 0), (150, 80)),
                                              (3, 205, 505, (200, 100), (90, 40))):
        for t in np.arange(t0, t1 + 1e-9, 10.0):
            f = (t - t0) / (t1 - t0)
            z = min(60.0, 6.0 * (t - t0), 6.0 * (t1 - t))
            rows.append((t, drone, x0 + f * (x1 - x0), y0 + f * (y1 - y0), z, 5.0, 4))
    rows.sort()
    a = np.array(rows)
    return {"time": a[:, 0], "drone": a[:, 1].astype(np.int32), "x": a[:, 2].astype(np.float32),
            "y": a[:, 3].astype(np.float32), "z": a[:, 4].astype(np.float32),
            "speed": a[:, 5].astype(np.float32), "phase": a[:, 6].astype(np.int8)}


def _drone_run(path: Path, events: bool = True, tracks: bool = True) -> Path:
    rec = HDF5Recorder(path)
    rec.open({"seed": 1, "dt": 1.0, "scenario": "drones", "begin": 0.0, "end": 720.0}, minimal_static(), {})
    rec.append("drones/vertiports", {"id": ["V0", "V1"], "x": [0.0, 200.0], "y": [0.0, 100.0],
                                     "pads": [2, 1]})
    rec.append("drones/types", {"id": ["quad"], "cruise_speed": [15.0], "rpz": [25.0], "hpz": [10.0],
                                "battery_wh": [100.0]})
    rec.append("drones/geofences", {"id": ["park"], "bottom": [0.0], "top": [120.0], "begin": [0.0],
                                    "end": [math.inf]})
    rec.append("drones/geofence_vertices", {"geofence": [0, 0, 0, 0], "x": [80.0, 120.0, 120.0, 80.0],
                                            "y": [20.0, 20.0, 60.0, 60.0]})
    t = np.arange(0.0, 720.0 + 1e-9, 60.0)
    n = len(t)
    rec.append("drones/summary", {"time": t, "queued": (t == 60.0).astype(int), "airborne": np.arange(n) % 3,
                                  "done": np.minimum(np.arange(n) // 4, 3), "conflicts": np.zeros(n, int),
                                  "los": np.zeros(n, int), "energy": np.linspace(0.0, 140.0, n)})
    rec.append("drones/pad_queue", {"time": np.repeat(t, 2), "vertiport": np.tile([0, 1], n),
                                    "queue": np.tile([1, 0], n) * (np.repeat(t, 2) < 120.0),
                                    "holding": np.tile([0, 1], n) * (np.repeat(t, 2) == 480.0)})
    if tracks:
        rec.append("drones/tracks", _tracks())
    if events:
        rec.append("drones/events", EVENTS)
    rec.append("drones/flights", FLIGHTS)
    return rec.close(completed_steps=720)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return _drone_run(tmp_path_factory.mktemp("drones") / "drones.h5")


def _is_png(p: Path) -> bool:
    return p.is_file() and p.stat().st_size > 1000 and p.read_bytes()[:8] == PNG


# ------------------------------------------------------------------------------ KPIs
def test_every_kpi_against_hand_computed_values(run: Path) -> None:
    k = drone_kpi.drone_kpis(results.open(run))
    assert list(k) == list(drone_kpi.DRONE_UNITS)
    assert k["drone_flights_requested"] == 4
    assert k["drone_flights_completed"] == 2
    assert k["drone_flights_refused"] == 1
    assert k["drone_battery_depleted"] == 1
    # delivery times of f0, f1, f3 (f3 delivered, then ran out of battery): 130, 400, 330 s
    assert k["drone_mean_delivery_time_s"] == pytest.approx(860.0 / 3.0)
    # p95 of [130, 330, 400] by linear interpolation: rank 0.95 * 2 = 1.9 -> 330 + 0.9 * 70
    assert k["drone_p95_delivery_time_s"] == pytest.approx(393.0)
    # delays of the flights that took off (f0, f1, f3): 5, 35, 0 s
    assert k["drone_mean_departure_delay_s"] == pytest.approx(40.0 / 3.0)
    # completed flights f0, f1: (400 + 1000) / (500 + 1100)
    assert k["drone_route_efficiency"] == pytest.approx(0.875)
    assert k["drone_energy_wh_per_flight"] == pytest.approx(30.0)
    # 240 + 560 + 0 + 300 s in the air
    assert k["drone_flight_hours"] == pytest.approx(1100.0 / 3600.0)
    assert k["drone_conflicts_per_flight_hour"] == pytest.approx(2 * 3600.0 / 1100.0)
    assert k["drone_los_per_flight_hour"] == pytest.approx(3600.0 / 1100.0)
    assert k["drone_min_separation_m"] == 8.0
    assert k["drone_geofence_violations"] == 1
    for key in ("drone_flights_requested", "drone_flights_completed", "drone_flights_refused",
                "drone_battery_depleted", "drone_geofence_violations"):
        assert type(k[key]) is int
    assert all(type(v) is float for key, v in k.items() if key not in (
        "drone_flights_requested", "drone_flights_completed", "drone_flights_refused",
        "drone_battery_depleted", "drone_geofence_violations"))
    assert drone_kpi.drone_kpis(run) == k  # a path works too
    kpi.to_json(k)


def test_no_drone_groups_gives_empty_dict(tmp_path: Path) -> None:
    plain = make_fake_run(tmp_path / "cars.h5")
    assert drone_kpi.drone_kpis(plain) == {}
    assert drone_plot.plot_drones_all(plain, tmp_path / "figs") == []
    assert not (tmp_path / "figs").exists()
    tables = drone_kpi.drone_tables(plain)
    assert all(len(df) == 0 for df in tables.values())


def test_no_events_and_nothing_completed(tmp_path: Path) -> None:
    path = tmp_path / "quiet.h5"
    rec = HDF5Recorder(path)
    rec.open({"dt": 1.0}, minimal_static(), {})
    rec.append("drones/flights", {**{c: v[2:3] for c, v in FLIGHTS.items()}})  # only the refused f2
    rec.close(10)
    k = drone_kpi.drone_kpis(path)
    assert k["drone_flights_requested"] == 1 and k["drone_flights_refused"] == 1
    assert k["drone_flights_completed"] == 0 and k["drone_geofence_violations"] == 0
    assert k["drone_flight_hours"] == 0.0
    for key in ("drone_mean_delivery_time_s", "drone_p95_delivery_time_s", "drone_mean_departure_delay_s",
                "drone_route_efficiency", "drone_energy_wh_per_flight", "drone_conflicts_per_flight_hour",
                "drone_los_per_flight_hour", "drone_min_separation_m"):
        assert math.isnan(k[key]), key


def test_drone_tables(run: Path) -> None:
    t = drone_kpi.drone_tables(run)
    assert {"flights", "events", "summary", "pad_queue", "tracks", "vertiports"} <= set(t)
    assert list(t["events"]["kind_name"].astype(str)) == ["conflict", "los", "geofence", "conflict",
                                                          "battery_depleted"]
    assert list(t["events"]["flight_id"]) == ["f0", "f0", "f3", "f1", "f3"]
    assert list(t["flights"]["status_name"].astype(str)) == ["done", "done", "refused", "battery_depleted"]
    assert list(t["pad_queue"]["vertiport_id"][:2]) == ["V0", "V1"]
    assert len(t["tracks"]) == len(_tracks()["time"]) and len(t["vertiports"]) == 2


# ------------------------------------------------------------------------------ plots
def test_event_positions_use_nearest_track_sample(run: Path) -> None:
    pos = drone_plot._event_positions(results.open(run))
    assert list(pos["kind"]) == [0, 1, 0]
    tr = _tracks()
    for (_, e), expect_t in zip(pos.iterrows(), (110.0, 110.0, 400.0), strict=True):
        # f0 is sampled at 10, 20, ...: the LoS at 115 s is equally near 110 and 120 -> the earlier
        i = np.flatnonzero((tr["drone"] == e["drone"]) & (tr["time"] == expect_t))[0]
        assert (e["x"], e["y"]) == pytest.approx((float(tr["x"][i]), float(tr["y"][i])))


def test_plot_drones_all_writes_four_pngs(run: Path, tmp_path: Path) -> None:
    paths = drone_plot.plot_drones_all(run, tmp_path / "figs", dpi=60)
    assert {p.name for p in paths} == ALL
    assert all(_is_png(p) for p in paths)


def test_plots_without_events_or_tracks(tmp_path: Path) -> None:
    for name, kw in (("noev", {"events": False}), ("bare", {"events": False, "tracks": False})):
        r = results.open(_drone_run(tmp_path / f"{name}.h5", **kw))
        assert drone_kpi.drone_kpis(r)["drone_conflicts_per_flight_hour"] == 0.0
        fig = drone_plot.plot_drone_conflicts(r)
        assert isinstance(fig, Figure)
        assert "no conflicts" in " ".join(t.get_text() for t in fig.axes[0].texts)
        assert fig.axes[0].get_title() == "0 conflicts, 0 losses of separation"
        paths = drone_plot.plot_drones_all(r, tmp_path / name, dpi=50)
        assert {p.name for p in paths} == ALL and all(_is_png(p) for p in paths)


def test_plots_draw_into_given_axes(run: Path) -> None:
    r = results.open(run)
    fig = Figure()
    axes = fig.subplots(2, 2).ravel()
    for ax, fn in zip(axes, (drone_plot.plot_drone_tracks, drone_plot.plot_drone_conflicts,
                             drone_plot.plot_pad_queue, drone_plot.plot_drones_airborne), strict=True):
        assert fn(r, ax=ax) is fig
    assert "2 conflicts, 1 loss of separation" in axes[1].get_title()


def test_track_segments_join_samples_of_one_drone_only(run: Path) -> None:
    seg, z = drone_plot._track_segments(drone_kpi.drone_tables(run)["tracks"])
    assert len(seg) == len(z) == 24 + 56 + 30  # 25, 57 and 31 samples of f0, f1, f3
    gap = pd.DataFrame({"time": [0.0, 10.0, 20.0, 100.0, 110.0], "drone": [0] * 5, "x": np.arange(5.0),
                        "y": np.zeros(5), "z": np.full(5, 30.0)})
    seg, _ = drone_plot._track_segments(gap)
    assert len(seg) == 3  # no segment across the 80 s gap (on a pad between two legs)
