"""Drone operations end to end: explicit corridors, wind, layers by track, pad queues and landing
holds, and the command line on a run with drones. Expected values are worked out by hand here.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mobsim
from mobsim.engine import Simulation
from mobsim.kernels.air import layout as K
from mobsim.modes.drones.sim import free_flight
from mobsim.scenario import load_scenario

HEAD = """
[network]
generator = "grid"
[network.params]
rows = 3
cols = 3
block_length = 400.0
[sim]
end = {end}
"""


def _run(tmp_path: Path, body: str, end: float = 900.0,
         files: dict[str, str] | None = None) -> mobsim.Results:
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "scenario.toml").write_text(HEAD.format(end=end) + body)
    sc = load_scenario(tmp_path / "scenario.toml")
    out = Simulation(sc, backend="cpu").run(out=tmp_path / "run.h5", progress="none")
    return mobsim.open(out)


def _flights(r: mobsim.Results) -> dict[str, dict[str, float]]:
    f = r.read("drones/flights")
    return {fid: {k: f[k][i] for k in f} for i, fid in enumerate(f["id"])}


def test_explicit_corridors_are_followed(tmp_path: Path) -> None:
    # An L-shaped corridor a -> m -> b: the only way from the depot at (0, 0) to the pad at
    # (800, 800) is via (800, 0), so the flight covers 800 + 800 m, not the 1131 m diagonal.
    body = """
[[drones.vertiports]]
id = "a"
x = 0.0
y = 0.0
[[drones.vertiports]]
id = "b"
x = 800.0
y = 800.0
[drones.corridors]
nodes = "air_nodes.csv"
edges = "air_edges.csv"
[drones.requests]
file = "flights.csv"
"""
    r = _run(tmp_path, body, files={
        "air_nodes.csv": "id,x,y\na,0,0\nm,800,0\nb,800,800\n",
        "air_edges.csv": "from,to\na,m\nm,b\n",
        "flights.csv": "id,depart,origin,destination,mission\nt1,0,a,b,taxi\n"})
    f = _flights(r)["t1"]
    assert f["status"] == 2
    assert f["battery_left"] == pytest.approx(1.0 - f["energy"] / 500.0)  # the default type: 500 Wh
    assert 0.8 < f["battery_left"] < 1.0
    assert f["direct_distance"] == pytest.approx(800 * math.sqrt(2))
    # fly-by turns cut the corner at m by a few metres only
    assert 1580.0 < f["distance"] <= 1600.0 + 1e-6
    tr = r.read("drones/tracks")
    mine = tr["drone"] == 0
    # every sample is on the two legs of the L (x = 800 or y = 0), except the corner cut
    on_leg = (np.abs(tr["x"][mine] - 800.0) < 1.0) | (np.abs(tr["y"][mine]) < 1.0)
    assert on_leg.mean() > 0.9


def test_wind_triangle_keeps_the_track_and_sets_the_ground_speed() -> None:
    # Track east at 15 m/s airspeed. Tailwind 5 m/s: ground speed 20 m/s. Crosswind 5 m/s from
    # the south: heading into the wind, ground speed sqrt(15^2 - 5^2) = 14.142 m/s along the track.
    from mobsim.modes.drones.airspace import DroneType

    dtype = DroneType(cruise_speed=15.0, max_speed=25.0, accel=2.0, battery_wh=1e9)
    for wind, vg in (([5.0, 0.0], 20.0), ([0.0, 5.0], math.sqrt(200.0))):
        sim = free_flight(np.array([0.0]), np.array([0.0]), np.array([60.0]), np.array([90.0]), 15.0,
                          settings={"drones.wind": wind}, dtype=dtype)
        sim.run_steps(120)  # 60 s
        assert sim.D.vx[0] == pytest.approx(vg, abs=1e-6)
        assert abs(sim.D.y[0]) < 1e-6
        # the ground speed changes from 15 to vg at 2 m/s^2, then holds
        ramp = abs(vg - 15.0) / 2.0
        expect = 15.0 * ramp + 0.5 * (vg - 15.0) * ramp + vg * (60.0 - ramp)
        assert sim.D.x[0] == pytest.approx(expect, abs=0.5)


def test_cruise_layer_by_track_both_ways(tmp_path: Path) -> None:
    # Default layers: eastbound 60-75 m for tracks 0-180 deg, westbound 75-90 m for 180-360 deg.
    body = """
[[drones.vertiports]]
id = "a"
node = "n0_0"
[[drones.vertiports]]
id = "b"
node = "n0_2"
[drones.requests]
file = "flights.csv"
"""
    r = _run(tmp_path, body, files={"flights.csv": "id,depart,origin,destination,mission,returns\n"
                                                   "east,0,a,b,taxi,true\n"})
    tr = r.read("drones/tracks")
    cruise = tr["phase"] == K.PH_CRUISE
    alts = set(np.round(tr["z"][cruise], 3).tolist())
    assert alts == {67.5, 82.5}  # out east at 67.5 m, back west at 82.5 m
    f = _flights(r)["east"]
    assert f["status"] == 2 and np.isfinite(f["t_done"])


def test_pad_queue_and_landing_hold(tmp_path: Path) -> None:
    # One pad at each vertiport, 60 s turnaround at a, 20 s at b. Three taxi flights requested at
    # t = 0 from a to b: they take off 60 s apart plus the time to climb clear of the pad
    # (10 m at 3 m/s), so the departure delays grow by ~63 s each.
    body = """
[[drones.vertiports]]
id = "a"
node = "n0_0"
pads = 1
turnaround = 60
[[drones.vertiports]]
id = "b"
node = "n1_1"
pads = 1
turnaround = 20
[drones.requests]
file = "flights.csv"
"""
    r = _run(tmp_path, body, end=1200.0, files={"flights.csv": "id,depart,origin,destination,mission\n"
                                                              "f1,0,a,b,taxi\nf2,0,a,b,taxi\nf3,0,a,b,taxi\n"})
    f = _flights(r)
    d = [f[k]["departure_delay"] for k in ("f1", "f2", "f3")]
    assert d[0] == pytest.approx(0.0, abs=0.5)
    clear = 10.0 / 3.0  # s to climb 10 m
    for a, b in zip(d, d[1:], strict=False):
        assert b - a == pytest.approx(60.0 + clear, abs=1.0)
    assert all(f[k]["status"] == 2 for k in f)
    q = r.read("drones/pad_queue")
    assert q["queue"].max() == 2  # two flights waited for the pad at the start
    # b's pad is taken for the descent from 67.5 m at 2 m/s and the turnaround: 33.75 + 20 s,
    # less than the ~63.3 s between arrivals, so none has to hold
    assert q["holding"].max() == 0


def test_landing_hold_when_the_pad_is_taken(tmp_path: Path) -> None:
    # Two vertiports a and c, 400 m from b on either side; one flight each to b at t = 0, b has
    # one pad with a 120 s turnaround: the second to arrive holds over b for ~120 s.
    body = """
[[drones.vertiports]]
id = "a"
node = "n1_0"
[[drones.vertiports]]
id = "c"
node = "n1_2"
[[drones.vertiports]]
id = "b"
node = "n1_1"
pads = 1
turnaround = 120
[drones.requests]
file = "flights.csv"
"""
    r = _run(tmp_path, body, files={"flights.csv": "id,depart,origin,destination,mission\n"
                                                   "fa,0,a,b,taxi\nfc,0,c,b,taxi\n"})
    f = _flights(r)
    first, second = sorted((f["fa"], f["fc"]), key=lambda x: x["t_delivery"])
    assert second["t_delivery"] - first["t_delivery"] > 110.0
    assert second["time_hover"] > 100.0 > first["time_hover"]
    assert r.read("drones/pad_queue")["holding"].max() == 1


def test_cli_kpi_json_and_plots_include_drones(tmp_path: Path) -> None:
    body = """
[[drones.vertiports]]
id = "a"
node = "n1_1"
pads = 2
[[drones.generate]]
depot = "a"
per_hour = 120
end = 300
radius = 700
"""
    r = _run(tmp_path, body, end=900.0)
    out = subprocess.run([sys.executable, "-m", "mobsim", "kpi", str(r.path), "--json"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    k = json.loads(out.stdout)
    for key in ("drone_flights_requested", "drone_flights_completed", "drone_flights_refused",
                "drone_mean_delivery_time_s", "drone_p95_delivery_time_s", "drone_mean_departure_delay_s",
                "drone_route_efficiency", "drone_energy_wh_per_flight", "drone_conflicts_per_flight_hour",
                "drone_los_per_flight_hour", "drone_min_separation_m", "drone_geofence_violations"):
        assert key in k, key
    assert k["drone_flights_completed"] == k["drone_flights_requested"] > 3
    table = subprocess.run([sys.executable, "-m", "mobsim", "kpi", str(r.path)], capture_output=True,
                           text=True, timeout=300)
    assert "drone_flights_requested" in table.stdout
    plots = subprocess.run([sys.executable, "-m", "mobsim", "plot", str(r.path), "--out",
                            str(tmp_path / "p")], capture_output=True, text=True, timeout=300)
    assert plots.returncode == 0, plots.stderr
    for name in ("drone_tracks", "drone_conflicts", "drone_pad_queue", "drones_airborne"):
        assert (tmp_path / "p" / f"{name}.png").stat().st_size > 1000
