"""An on-demand fleet in the run (mobsim.modes.drt.sim): requests picked up and dropped off by road
vehicles whose routes and stops the dispatcher rewrites, against the travel times of the road, the
rules of the service and the invariants every run must keep."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mobsim
from mobsim.demand.trips import Trip
from mobsim.engine import Simulation
from mobsim.errors import InputError
from mobsim.net.generators import grid
from mobsim.scenario import scenario_from_objects

DT = 0.5
STOP_TIME = 20.0


def _net(lanes: int = 1, signalised: bool = False):
    return grid(3, 3, block_length=200.0, lanes=lanes, signalised=signalised)


def _inner(net) -> list[str]:
    """Links between grid junctions (no boundary stubs)."""
    return [lk.id for lk in net.links if lk.id[0] == "n" and lk.id.split("-")[1][0] == "n"]


def _run(tmp_path: Path, net, drt: dict, trips=(), end: float = 1800.0, name: str = "d", **settings):
    sc = scenario_from_objects(net, list(trips), settings={"sim.end": end, "sim.dt": DT, **settings},
                               name=name, drt=drt)
    out = Simulation(sc, backend="cpu").run(tmp_path / f"{name}.h5", progress="none")
    return mobsim.open(out)


def _random_service(net, n_req: int, seed: int, dispatch: str, vehicles: int = 4, cap: int = 4,
                    horizon: float = 1200.0) -> dict:
    links = _inner(net)
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, horizon, n_req))
    o = rng.choice(links, n_req)
    d = rng.choice(links, n_req)
    reqs = [{"id": f"r{k}", "time": float(times[k]), "from": str(o[k]), "to": str(d[k]),
             "group": int(rng.integers(1, 3))} for k in range(n_req) if o[k] != d[k]]
    return {"dispatch": dispatch, "stop_time": STOP_TIME, "max_wait": 600.0, "alpha": 2.0, "beta": 400.0,
            "period": 0.0 if dispatch == "insertion" else 30.0,
            "fleets": [{"id": "s", "vehicles": vehicles, "depots": links[::5], "capacity": cap}],
            "requests": reqs}


def test_one_vehicle_one_request_waits_the_drive_to_the_pick_up_and_rides_the_shortest_way(tmp_path):
    """One vehicle, one request, an empty grid: the wait is the drive from the depot to the
    pick-up, the ride the halts at the pick-up and the drop-off plus the drive along the shortest
    route (at the shuttle's top speed, plus the time it takes to speed up from and brake to the
    stops)."""
    net = _net()
    links = _inner(net)
    depot, o, d = links[0], links[5], links[10]
    r = _run(tmp_path, net, {"dispatch": "insertion", "stop_time": STOP_TIME,
                             "fleets": [{"id": "s", "vehicles": 1, "depots": [depot], "capacity": 4}],
                             "requests": [{"id": "r1", "time": 60.0, "from": o, "to": d}]})
    rq = r.table("drt/requests").iloc[0]
    veh = r.table("drt/vehicles").iloc[0]
    assert rq["status"] == 4 and rq["vehicle"] == 0 and rq["assigned"] == 60.0
    vt = r.table("vtypes").set_index("id").loc["shuttle"]
    vmax, acc, dec = float(vt["max_speed"]), float(vt["accel"]), float(vt["decel"])
    # The ride's distance: half the pick-up link, the links between, half the drop-off link.
    ride_m = float(veh["occupied_distance"])
    drive = float(rq["ride"]) - 2 * STOP_TIME  # the halts at the pick-up and the drop-off
    assert drive >= ride_m / vmax
    # speeding up from 0 and braking to 0 cost v/2a + v/2b; turns at the junctions a few s more
    assert drive <= ride_m / vmax + vmax / (2 * acc) + vmax / (2 * dec) + 12.0
    assert float(rq["wait"]) >= 0.0
    ev = r.table("drt/events")
    assert ev["kind"].tolist() == [2, 0, 1]  # assigned, picked up, dropped off
    assert ev["load"].tolist() == [0, 1, 0]
    # the vehicle went home once nothing was left to serve: its road trip arrived
    trips = r.table("trips").set_index("id")
    assert trips.loc["drt.s.0", "status"] == 2
    k = r.kpis()
    assert k["drt_requests"] == 1 and k["drt_served"] == 1 and k["drt_rejection_rate"] == 0.0
    assert k["drt_mean_wait_s"] == pytest.approx(float(rq["wait"]))
    assert 0.0 < k["drt_occupancy_pkm_per_vkm"] < 1.0


@pytest.mark.parametrize("dispatch", ["insertion", "batch", "greedy"])
def test_every_request_keeps_the_rules_of_the_service(tmp_path, dispatch):
    """Many requests on a busy grid: capacity never exceeded, persons conserved, picked up after
    the request and dropped off after the pick-up, every request ends served or rejected (greedy
    rejects none), no collision, and every fleet vehicle leaves once the demand is served."""
    net = _net(lanes=2, signalised=True)
    links = _inner(net)
    rng = np.random.default_rng(3)
    cars = [Trip(id=f"c{k}", origin=str(a), destination=str(b), depart=float(t))
            for k, (a, b, t) in enumerate(zip(rng.choice(links, 150), rng.choice(links, 150),
                                              rng.uniform(0, 1200, 150), strict=True)) if a != b]
    r = _run(tmp_path, net, _random_service(net, 80, 1, dispatch, vehicles=6), trips=cars, end=5400.0)
    rq = r.table("drt/requests")
    ev = r.table("drt/events")
    veh = r.table("drt/vehicles")
    status = rq["status"].to_numpy()
    assert set(np.unique(status)) <= ({4, 5} if dispatch != "greedy" else {4})
    assert (status == 4).sum() >= len(rq) // 2
    picked = np.isfinite(rq["pickup"].to_numpy())
    assert (rq["pickup"][picked] >= rq["earliest"][picked] - 1e-9).all()
    served = status == 4
    assert (rq["dropoff"][served] > rq["pickup"][served]).all()
    # load after each event, vehicle by vehicle: never above the seats, back to 0 at the end
    for v, g in ev[ev["kind"] <= 1].groupby("vehicle"):
        assert g["load"].max() <= veh["capacity"].iloc[v]
        assert g["load"].iloc[-1] == 0
        assert (g["load"] >= 0).all()
    assert (veh["pickups"] == veh["dropoffs"]).all()
    assert int(veh["dropoffs"].sum()) == int(served.sum())
    events = r.table("events")
    assert (events["kind"] != 0).all(), "collision"
    trips = r.table("trips")
    assert (trips["status"] == 2).all()
    assigned = np.isfinite(rq["planned_pickup"].to_numpy())
    assert assigned[served].all()
    if dispatch != "greedy":
        # The dispatcher's plan keeps every deadline on its own travel times ...
        assert (rq["planned_pickup"][assigned] <= rq["latest_pickup"][assigned] + 1e-6).all()
        assert (rq["planned_dropoff"][assigned] <= rq["latest_dropoff"][assigned] + STOP_TIME + 1e-6).all()
    # ... and the road keeps to the plan: on average within a minute (signals, turns, queues)
    late = (rq["pickup"] - rq["planned_pickup"])[picked]
    assert late.mean() < 60.0, late.describe()


def test_pooling_shares_rides_and_saves_vehicle_km(tmp_path):
    """The same dense demand with seats for four and for one: pooling carries more persons per
    vehicle-km and serves at least as many."""
    net = _net()
    out = {}
    for cap in (4, 1):
        svc = _random_service(net, 60, 7, "insertion", vehicles=3, cap=cap, horizon=600.0)
        for q in svc["requests"]:
            q["group"] = 1
        svc["alpha"], svc["beta"] = 3.0, 900.0
        out[cap] = _run(tmp_path, net, svc, end=3600.0, name=f"cap{cap}").kpis()
    assert out[4]["drt_occupancy_pkm_per_vkm"] > out[1]["drt_occupancy_pkm_per_vkm"]
    assert out[4]["drt_served"] >= out[1]["drt_served"]


def test_same_scenario_same_events_on_any_thread_count(tmp_path):
    """Determinism: the same scenario on one thread, again, and on two threads with the parallel
    step and renumbered slots gives the same tables."""
    net = _net()
    svc = _random_service(net, 30, 5, "insertion")
    sc = scenario_from_objects(net, [], settings={"sim.end": 1800.0, "sim.dt": DT}, name="det", drt=svc)
    runs = [Simulation(sc, backend="cpu", threads=1).run(tmp_path / "a.h5", progress="none"),
            Simulation(sc, backend="cpu", threads=1).run(tmp_path / "b.h5", progress="none"),
            Simulation(sc, backend="cpu", threads=2, parallel_min=1, reorder_every=5).run(
                tmp_path / "c.h5", progress="none")]
    res = [mobsim.open(p) for p in runs]
    for g in ("drt/requests", "drt/events", "drt/vehicles"):
        for other in res[1:]:
            assert res[0].table(g).equals(other.table(g)), g


def test_a_scenario_file_with_a_request_table_runs_from_the_command_line(tmp_path):
    """``[drt]`` in a scenario file, its requests in a CSV file, run by ``mobsim run``."""
    from mobsim.cli import main

    net = _net()
    links = _inner(net)
    (tmp_path / "req.csv").write_text(
        "id,time,from,to,group\n"
        + "".join(f"q{k},{30 * k},{links[k]},{links[-1 - k]},1\n" for k in range(6)))
    (tmp_path / "s.toml").write_text(f"""
[scenario]
name = "drt_file"
[network]
generator = "grid"
params = {{rows = 3, cols = 3, block_length = 200.0, lanes = 1, signalised = false}}
[sim]
end = 1800.0
dt = 0.5
[drt]
dispatch = "insertion"
stop_time = 20.0
requests_file = "req.csv"
[[drt.fleets]]
id = "bus"
vehicles = 2
depots = ["{links[0]}"]
capacity = 4
""")
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "r.h5"), "--progress", "none"]) == 0
    k = mobsim.open(tmp_path / "r.h5").kpis()
    assert k["drt_requests"] == 6 and k["drt_served"] == 6


@pytest.mark.parametrize("patch,fix", [
    ({"dispatch": "nearest"}, "dispatch"),
    ({"fleets": []}, "fleet"),
    ({"requests": [{"time": 5.0, "from": "nowhere", "to": "n0_0-n0_1"}]}, "link"),
    ({"requests": [{"time": 5.0, "from": "n0_0-n0_1", "to": "n0_1-n0_2", "group": 9}]}, "seats"),
    ({"alpha": 0.5}, "alpha"),
])
def test_bad_service_is_a_clear_error(patch, fix):
    net = _net()
    drt = {"fleets": [{"id": "s", "vehicles": 1, "depots": ["n0_0-n0_1"], "capacity": 4}], "requests": []}
    drt.update(patch)
    with pytest.raises(InputError) as e:
        scenario_from_objects(net, [], settings={"sim.end": 100.0}, name="bad", drt=drt)
    assert fix in str(e.value)


@pytest.mark.parametrize("in_lane", [False, True])
def test_a_halt_at_the_curb_lets_the_traffic_pass(tmp_path, in_lane):
    """A shuttle halts 120 s for a pick-up on a one-lane ring with a car behind it: at the curb (the
    default, as SUMO's taxis park) the car passes at once; halting in the lane
    (``stop_in_lane``), the car waits until the shuttle leaves."""
    from mobsim.net.generators import ring

    net = ring(length=800.0, n_links=4)
    links = [lk.id for lk in net.links]
    drt = {"dispatch": "insertion", "pickup_time": 120.0, "dropoff_time": 5.0, "stop_in_lane": in_lane,
           "fleets": [{"id": "s", "vehicles": 1, "depots": [links[0]], "capacity": 4}],
           "requests": [{"id": "r", "time": 1.0, "from": links[1], "to": links[2]}]}
    car = Trip(id="car", origin=links[0], destination=links[3], depart=20.0)
    r = _run(tmp_path, net, drt, trips=[car], end=600.0, name=f"curb{int(in_lane)}")
    trips = r.table("trips").set_index("id")
    rq = r.table("drt/requests").iloc[0]
    assert rq["status"] == 4 and rq["ride"] >= 120.0
    free = 600.0 / 13.89  # the car's three links after its first, at the speed limit
    if in_lane:
        assert trips.loc["car", "duration"] > free + 60.0
    else:
        assert trips.loc["car", "duration"] < free + 30.0
    assert (r.table("events")["kind"] != 0).all(), "collision"


class NearestIdle:
    """A researcher's dispatcher for the test below: each request to the idle vehicle nearest its
    pick-up (by the travel times it is given), on the fleet's arrays."""

    calls = 0

    def dispatch(self, fleet, req, tt, dwell, loop=None):
        from mobsim.modes.drt.dispatch import insert

        NearestIdle.calls += 1
        out = np.full(len(req), -1, np.int64)
        for r in range(len(req)):
            idle = np.nonzero(fleet.stop_n == 0)[0]
            idle = idle[fleet.cap[idle] >= req.group[r]]
            if not len(idle):
                continue
            v = int(idle[np.argmin(fleet.time[idle] + tt[fleet.node[idle], req.origin[r]])])
            insert(fleet, v, req, r, 0, 0, r)
            out[r] = v
        return out


def test_a_researchers_dispatcher_runs_from_the_scenario(tmp_path):
    """``dispatch = "package.module:Class"``: the run makes the class and calls it with the fleet's
    arrays; its assignments are driven like the built-in ones'."""
    net = _net()
    svc = _random_service(net, 12, 2, "insertion", vehicles=3)
    svc["dispatch"] = "test_drt_run:NearestIdle"
    svc["period"] = 20.0
    NearestIdle.calls = 0
    r = _run(tmp_path, net, svc, end=2400.0, name="own")
    rq = r.table("drt/requests")
    assert NearestIdle.calls > 0
    assert (rq["status"] == 4).all()
    # no pooling: every vehicle carries one request at a time
    ev = r.table("drt/events")
    assert ev[ev["kind"] <= 1]["load"].max() <= rq["group"].max()


def test_a_dispatcher_that_cannot_be_imported_is_a_clear_error():
    net = _net()
    drt = {"dispatch": "no_such_module:X",
           "fleets": [{"id": "s", "vehicles": 1, "depots": ["n0_0-n0_1"], "capacity": 4}]}
    with pytest.raises(InputError, match="cannot be imported"):
        scenario_from_objects(net, [], settings={"sim.end": 100.0}, name="bad", drt=drt)


def test_requests_from_rates_between_zones(tmp_path):
    """``[[drt.rates]]``: Poisson requests between two zones at the rate asked (within 4 standard
    deviations), within begin..end, from and to the zones' links, the same for the same seed and
    other ones for another."""
    net = _net()
    links = _inner(net)
    zone_a, zone_b = links[:4], links[-4:]
    drt = {"rates": [{"from": zone_a, "to": zone_b, "per_hour": 720.0, "begin": 100.0, "end": 1900.0}],
           "fleets": [{"id": "s", "vehicles": 2, "depots": [links[0]], "capacity": 4}]}
    plans = [scenario_from_objects(net, [], settings={"sim.end": 2000.0, "sim.seed": seed}, name="z",
                                   drt=drt).drt.requests for seed in (1, 1, 2)]
    rq = plans[0]
    assert abs(len(rq) - 360) < 4 * 360 ** 0.5
    assert (rq.time >= 100.0).all() and (rq.time <= 1900.0).all() and (np.diff(rq.time) >= 0).all()
    assert set(rq.origin) <= set(zone_a) and set(rq.destination) <= set(zone_b)
    assert list(rq.id) == list(plans[1].id) and np.array_equal(rq.time, plans[1].time)
    assert not (len(plans[2]) == len(rq) and np.array_equal(plans[2].time, rq.time))
    with pytest.raises(InputError, match="per_hour"):
        scenario_from_objects(net, [], settings={"sim.end": 10.0}, name="z",
                              drt={**drt, "rates": [{"from": zone_a, "to": zone_b, "per_hour": -1.0}]})


def test_saturated_greedy_fleet_serves_no_more_than_its_cycles_allow(tmp_path):
    """Saturation, no pooling (greedy): a vehicle carries one ride after the other (the next
    pick-up after the last drop-off), so the rides served are at most fleet x run time / mean
    cycle (a cycle: from the assignment, or the last drop-off if later, to the drop-off); with far
    more requests than the fleet can serve, the fleet stays busy (close to that bound)."""
    net = _net()
    svc = _random_service(net, 200, 11, "greedy", vehicles=2, cap=4, horizon=1200.0)
    svc["period"] = 10.0
    span = 1800.0
    r = _run(tmp_path, net, svc, end=span, name="sat")
    rq = r.table("drt/requests")
    done = rq[rq["status"] == 4]
    cycles = []
    for _, g in done.sort_values("assigned").groupby("vehicle"):
        a, p, d = (g[c].to_numpy() for c in ("assigned", "pickup", "dropoff"))
        assert (p[1:] >= d[:-1] - 1e-9).all(), "a vehicle picked up before it had dropped off the last"
        cycles += list(d - np.maximum(a, np.concatenate([[-np.inf], d[:-1]])))
    cycle = float(np.mean(cycles))
    assert len(done) <= 2 * span / cycle
    assert sum(cycles) / (2 * span) > 0.6
