"""Periodic re-routing on current link travel times (``routing.reroute_period``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import mobsim
from conftest import boundary_links, make_sim
from mobsim.demand.route_codes import decode
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.net import generators


def _jam_scenario(crawler_speed: float = 0.5, **settings):
    """A 3 x 3 grid where every trip goes west to east along the middle row behind a crawler
    (``crawler_speed`` m/s) that enters first: the shortest path jams, the parallel rows are free."""
    net = generators.grid(3, 3, block_length=150.0, lanes=1, signalised=False)
    entries, exits = boundary_links(net)
    o = next(e for e in entries if e.startswith("W1"))
    d = next(e for e in exits if e.endswith("E1"))
    trips = [Trip("crawler", o, d, 0.0, vtype="crawler")]
    trips += [Trip(f"t{k:03d}", o, d, 20.0 + 3.0 * k) for k in range(200)]
    vtypes = [VehicleType(), VehicleType(id="crawler", max_speed=crawler_speed)]
    return make_sim(net, trips, vtypes=vtypes, **settings)


def _routes_valid(sim) -> None:
    """Every vehicle's remaining route is connected, ends at its destination, starts at its current
    link, and the kernels' packed copy decodes to the host's links."""
    a = sim.cn.arrays
    rl = sim.route_links
    V = sim.vehicles()
    for i in range(len(sim.trips)):
        if V.status[i] > 1:
            continue
        r = rl[V.route_pos[i]:V.route_end[i]]
        for x, y in zip(r[:-1], r[1:], strict=True):
            assert y in a.link_next[a.link_next_start[x]:a.link_next_start[x + 1]]
        assert r[-1] == sim.route_links[sim.route_end[i] - 1], "the destination never changes"
        if V.status[i] == 1:
            assert r[0] == a.lane_link[V.lane[i]]
        got = decode(a.link_next_start, a.link_next, sim.W.route_codes, int(r[0]), int(V.route_pos[i]),
                     int(V.route_end[i]))
        assert got.tolist() == r.tolist()


def test_reroute_moves_vehicles_off_a_jammed_path() -> None:
    sim = _jam_scenario(sim__end=900.0)
    sim.step(600)
    changed = sim.reroute()
    assert changed > 0, "a jammed shortest path must send some vehicles onto the parallel rows"
    _routes_valid(sim)
    sim.step(600)
    _routes_valid(sim)
    used = np.unique(sim.cn.arrays.lane_link[sim.V.lane[sim.V.status == 1]])
    rows = {sim.cn.link_ids[e].split("-")[0][:2] for e in used}
    assert len(rows) > 1


def test_rerouted_run_completes_and_is_deterministic(tmp_path: Path) -> None:
    outs = []
    for k in range(2):
        sim = _jam_scenario(0.3, sim__end=1500.0, routing__reroute_period=120.0)
        outs.append(mobsim.open(sim.run(out=tmp_path / f"r{k}.h5", progress="none")))
    t0, t1 = outs[0].trips, outs[1].trips
    assert t0["arrival"].equals(t1["arrival"])
    base = mobsim.open(_jam_scenario(0.3, sim__end=1500.0).run(out=tmp_path / "b.h5", progress="none"))
    # Behind a crawler at 0.3 m/s nobody gets through in 1500 s; over the parallel rows (four
    # turns without right of way at priority junctions each) nearly everyone does (196 of 201,
    # measured). With a 0.5 m/s crawler the detours no longer pay on mean travel time: the
    # turns' approach, able to stop at each line until 4.5 m before it as in SUMO, costs the
    # default IDM car more than the crawler's delay (1.07 of the baseline; 0.91 before that
    # approach).
    done, done_base = int(t0["arrival"].notna().sum()), int(base.trips["arrival"].notna().sum())
    assert done >= 150 and done_base <= 10, f"detours beat the crawler: {done} against {done_base} arrived"
    # Distances still add up with rerouted vehicles.
    assert np.isclose(outs[0].edgedata["distance"].sum(), t0["route_length"].sum(), rtol=1e-9)
