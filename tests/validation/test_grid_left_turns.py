"""The benchmark grid against SUMO: with left turns waiting inside the junction, as netconvert
builds them for SUMO from the same network, the 16 x 16 signalised grid with 10,000 trips
completes as many trips in 300 s as SUMO does, where junctions without that waiting position
completed 14 % fewer.

SUMO's figures come from ``python -m bench.vs_sumo --cases grid_10k`` (SUMO 1.28, IDM with
sigma 0, the network exported by ``mobsim.interop.sumo_export`` and built by netconvert): 1,008
trips completed, 166.2 s mean travel time; they do not depend on mobsim's network (netconvert
gives every junction its own geometry). Running SUMO here would take a minute.
"""

from __future__ import annotations

from pathlib import Path

import mobsim
from bench.scenarios import grid_scenario
from mobsim.engine import Simulation

SUMO_COMPLETED = 1008
SUMO_TRAVEL_TIME = 166.2


def test_grid_10k_completes_as_many_trips_as_sumo(tmp_path: Path) -> None:
    sc, _ = grid_scenario(10_000)
    out = Simulation(sc, backend="cpu").run(out=tmp_path / "g.h5", progress="none")
    k = mobsim.open(out).kpis()
    assert abs(k["trips_completed"] - SUMO_COMPLETED) <= 0.05 * SUMO_COMPLETED, k["trips_completed"]
    assert abs(k["mean_travel_time_s"] / SUMO_TRAVEL_TIME - 1) <= 0.10, k["mean_travel_time_s"]
