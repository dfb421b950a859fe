"""The DRT benchmark's SUMO side (bench.drt_bench): the smoke case is built, runs in SUMO and its
rides are parsed; mobsim imports the same files as an on-demand fleet and requests."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sumolib")

from bench import drt_bench  # noqa: E402


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (shutil.which("sumo") and shutil.which("netgenerate")):
        pytest.skip("needs SUMO's sumo and netgenerate (eclipse-sumo)")
    return drt_bench.build_case(tmp_path_factory.mktemp("drt"), drt_bench.CASES["smoke"], "smoke")


def test_smoke_case_runs_in_sumo_and_its_rides_parse(smoke):
    r = drt_bench.run_sumo(smoke, timeout_s=120)
    assert not r["timed_out"] and r["requests"] == 10
    rows = drt_bench.sumo_rides(smoke.parent / "sumo_tripinfo.xml")
    assert sorted(x["id"] for x in rows) == sorted(f"p{k}" for k in range(10))
    served = [x for x in rows if x["status"] == "served"]
    assert r["served"] == len(served) >= 1 and r["served_share"] == len(served) / 10
    for x in rows:
        assert 0.0 <= x["t_request"] < 300.0  # the requests of the first 300 s
        if x["status"] == "served":
            assert x["t_request"] <= x["t_pickup"] < x["t_dropoff"] <= 600.0
        elif x["status"] == "waiting":
            assert math.isnan(x["t_pickup"]) and math.isnan(x["t_dropoff"])
    waits = [x["t_pickup"] - x["t_request"] for x in served]
    assert r["mean_wait_s"] == pytest.approx(np.mean(waits))
    assert r["wall_s"] > 0 and r["veh_updates_per_s"] > 0


def test_smoke_case_imports_into_mobsim_as_a_fleet_and_requests(smoke):
    from mobsim.scenario import load_scenario

    sc = load_scenario(smoke)
    assert [v.id for v in sc.drt.vehicles] == ["taxi0.0", "taxi1.0", "taxi2.0"]
    assert {v.capacity for v in sc.drt.vehicles} == {4} and len(sc.drt.requests) == 10
    assert sc.drt.service.dispatch == "greedy" and sc.drt.service.period == 60.0
    assert not any(t.id.startswith("taxi") for t in sc.trips) and sc.trips  # the background cars


def test_mobsim_side_reads_the_drt_requests_of_a_run(tmp_path):
    """The mobsim side reads /drt/requests of a run (request time, pick-up, drop-off) into the rows
    SUMO's side gives; a run without a fleet has no such table."""
    import mobsim
    from mobsim.engine import Simulation
    from mobsim.net.generators import grid
    from mobsim.scenario import scenario_from_objects

    net = grid(3, 3, block_length=200.0, lanes=1, signalised=False)
    links = [lk.id for lk in net.links if lk.id[0] == "n" and lk.id.split("-")[1][0] == "n"]
    drt = {"dispatch": "greedy", "period": 10.0, "stop_time": 1.0,
           "fleets": [{"id": "t", "vehicles": 1, "depots": [links[0]], "capacity": 4}],
           "requests": [{"id": "p0", "time": 10.0, "from": links[3], "to": links[8]},
                        {"id": "p1", "time": 20.0, "from": links[9], "to": links[2]}]}
    sc = scenario_from_objects(net, [], settings={"sim.end": 1200.0, "sim.dt": 0.5}, name="b", drt=drt)
    out = Simulation(sc, backend="cpu").run(tmp_path / "b.h5", progress="none")
    rows = drt_bench.mobsim_rides(out)
    rq = mobsim.open(out).table("drt/requests")
    assert [x["id"] for x in rows] == ["p0", "p1"]
    assert [x["status"] for x in rows] == ["served", "served"]
    assert [x["t_pickup"] for x in rows] == rq["pickup"].tolist()
    s = drt_bench.summarise(rows)
    assert s["served"] == 2 and s["mean_wait_s"] == pytest.approx(float((rq["pickup"] - rq["time"]).mean()))
    sc = scenario_from_objects(net, [], settings={"sim.end": 10.0}, name="c")
    plain = Simulation(sc, backend="cpu").run(tmp_path / "c.h5", progress="none")
    assert drt_bench.mobsim_rides(plain) is None
