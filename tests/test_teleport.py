"""Teleports as SUMO's vehicle transfer makes them, trips routed when they are due, and
insertions as SUMO checks them (departPos last, the lanes before and after).

A vehicle at the head of a lane that has stood for ``sim.gridlock_time`` leaves the network at
once (its lane moves up), travels on along its route out of the network and re-enters where a
lane has room, or arrives past its last link (:mod:`mobsim.kernels.road.transfer`). With
``routing.departure = "current"`` trips are routed when they are due on the travel times the
vehicles measure, so later trips avoid a jam that formed after the run began.
"""

from __future__ import annotations

import numpy as np
import pytest

import mobsim
from conftest import make_sim
from mobsim.demand.trips import Trip
from mobsim.net.network import Link, Movement, Network, Node, SignalPhase, SignalProgram

#: A red that lasts longer than any run here (s).
FOREVER = 100_000.0


def chain(lengths: dict[str, float], red_at: tuple[str, ...]) -> Network:
    """Links in a row (``A`` from node ``nA`` to the next link's start node, ...), one lane each,
    13.89 m/s; the movements out of the links in ``red_at`` are red for :data:`FOREVER`."""
    ids = list(lengths)
    x = [0.0]
    for k in ids:
        x.append(x[-1] + lengths[k])
    nodes = [Node(f"n{k}", x[k], 0.0, control="signal" if k and ids[k - 1] in red_at else "priority")
             for k in range(len(ids) + 1)]
    links = [Link(k, f"n{j}", f"n{j + 1}", lengths[k], 13.89, 1) for j, k in enumerate(ids)]
    mv = [Movement(f"n{j + 1}", ids[j], 0, ids[j + 1], 0, signal_index=0 if ids[j] in red_at else -1)
          for j in range(len(ids) - 1)]
    progs = [SignalProgram(f"n{j + 1}", (SignalPhase(FOREVER, "r"), SignalPhase(10.0, "G")))
             for j in range(len(ids) - 1) if ids[j] in red_at]
    return Network(nodes=nodes, links=links, movements=mv, signals=progs)


def test_a_teleport_frees_the_lane_and_the_vehicle_reenters_further_on(tmp_path) -> None:
    """Two vehicles stand at a red that never ends; after 20 s the first leaves the network,
    the second moves up to the line, and the first re-enters on the next link, which is empty,
    and drives to its destination."""
    net = chain({"A": 100.0, "B": 100.0, "C": 100.0}, red_at=("A",))
    trips = [Trip("t0", "A", "C", 0.0), Trip("t1", "A", "C", 2.0)]
    sim = make_sim(net, trips, sim__end=120.0, sim__gridlock="teleport", sim__gridlock_time=20.0)
    res = mobsim.open(sim.run(tmp_path / "t.h5", progress="none"))
    ev = res.events
    tp = ev[ev["kind_name"].astype(str) == "teleport"]
    assert tp["trip_id"].astype(str).tolist()[:2] == ["t0", "t1"]
    assert (tp["link_id"].astype(str) == "A").all()
    t_tp = tp["time"].to_numpy()
    tr = res.trips.set_index(res.trips["id"].astype(str))
    for k, tid in enumerate(("t0", "t1")):
        row = tr.loc[tid]
        assert row["status"] == 2 and row["teleports"] == 1
        # Back on B one step after the teleport, then 200 m from B's start: 14.4 s at 13.89 m/s
        # plus the start from standstill.
        assert t_tp[k] + 14.0 < row["arrival"] < t_tp[k] + 30.0
        # It drove A up to where it stopped before the line, then B from its own length on
        # (5 m: where it re-entered) and C.
        assert 280.0 < row["route_length"] < 296.0
    # The second vehicle moved up to the line after the first had gone and stood there 20 s again.
    assert t_tp[1] - t_tp[0] == pytest.approx(20.0 + 2.0, abs=3.0)
    assert res.kpis()["teleports"] == len(tp)


def test_in_transit_past_a_full_last_link_the_trip_arrives(tmp_path) -> None:
    """A vehicle teleported onto its last link while that link is full travels it out of the
    network (60 m at the 1 m/s floor: 60 s) and arrives at its end, as SUMO's 'teleports beyond
    arrival edge'; it drove A only. (C's first vehicle teleports at about 210 s, and the next
    one stands from then on: C is full from t's teleport at about 250 s to after 400 s.)"""
    net = chain({"A": 100.0, "C": 60.0, "D": 100.0}, red_at=("A", "C"))
    fill = [Trip(f"c{k:02d}", "C", "D", 0.5 * k) for k in range(30)]
    trips = [Trip("t", "A", "C", 40.0), *fill]
    sim = make_sim(net, trips, sim__end=400.0, sim__gridlock="teleport", sim__gridlock_time=200.0)
    res = mobsim.open(sim.run(tmp_path / "t.h5", progress="none"))
    ev = res.events
    tp = ev[(ev["kind_name"].astype(str) == "teleport") & (ev["trip_id"].astype(str) == "t")]
    assert len(tp) == 1 and tp["link_id"].astype(str).iloc[0] == "A"
    row = res.trips.set_index(res.trips["id"].astype(str)).loc["t"]
    assert row["status"] == 2 and row["teleports"] == 1
    assert row["arrival"] == pytest.approx(tp["time"].iloc[0] + 60.0, abs=1.0)
    assert row["route_length"] < 100.0


def diamond() -> Network:
    """o -A-> a, then a short way S1 (100 m) + S2 (100 m) through ``m``, whose signal is red for
    :data:`FOREVER`, and a long way L1 + L2 (150 m each), both to b, then B to the end."""
    nodes = [Node("o", -100.0, 0.0), Node("a", 0.0, 0.0), Node("m", 100.0, 0.0, control="signal"),
             Node("m2", 100.0, 100.0), Node("b", 200.0, 0.0), Node("e", 300.0, 0.0)]
    links = [Link("A", "o", "a", 100.0, 13.89, 1), Link("S1", "a", "m", 100.0, 13.89, 1),
             Link("S2", "m", "b", 100.0, 13.89, 1), Link("L1", "a", "m2", 150.0, 13.89, 1),
             Link("L2", "m2", "b", 150.0, 13.89, 1), Link("B", "b", "e", 100.0, 13.89, 1)]
    mv = [Movement("a", "A", 0, "S1", 0), Movement("a", "A", 0, "L1", 0),
          Movement("m", "S1", 0, "S2", 0, signal_index=0), Movement("m2", "L1", 0, "L2", 0),
          Movement("b", "S2", 0, "B", 0), Movement("b", "L2", 0, "B", 0)]
    prog = [SignalProgram("m", (SignalPhase(FOREVER, "r"), SignalPhase(10.0, "G")))]
    return Network(nodes=nodes, links=links, movements=mv, signals=prog)


@pytest.mark.parametrize("departure", ["setup", "current"])
def test_trips_routed_when_due_avoid_a_jam_that_formed_later(tmp_path, departure: str) -> None:
    """Free-flow routes all take the short way into the everlasting red; routed when due on the
    measured travel times, the trips after the first minutes take the long way and arrive."""
    trips = [Trip(f"v{k:02d}", "A", "B", 4.0 * k) for k in range(50)]
    sim = make_sim(diamond(), trips, sim__end=300.0, sim__gridlock="none", routing__departure=departure,
                   routing__update_period=5.0, routing__average_window=30.0)
    res = mobsim.open(sim.run(tmp_path / "d.h5", progress="none"))
    t = res.trips
    done = t[t["status"] == 2]
    if departure == "setup":
        assert len(done) == 0  # every route runs into the red
        return
    assert len(done) >= 30
    # A, L1, L2 and B, from the insertion with the rear at the start of A (5 m)
    assert np.allclose(done["route_length"], 495.0, atol=1.0)
    first = t.sort_values("depart_planned").iloc[0]
    assert first["status"] == 1  # the first trips, routed before the jam, stand at the red
    # The kernels' packed pool, extended by each call, is the packing of the whole pool.
    from mobsim.demand.route_codes import encode

    a = sim.cn.arrays
    sim.backend.pull("W")
    whole = encode(a.link_next_start, a.link_next, sim.route_links, sim._route_heads)
    assert np.array_equal(sim.W.route_codes, whole)


def test_trips_are_routed_when_due_by_step_as_by_run(tmp_path) -> None:
    """The set-up only checks that trips routed when due can reach their destinations; the trips
    of the first routing period get their routes before the first step, the others when due.
    Stepping (``sim.step``) routes them where ``run`` does: the same state after 150 s."""
    trips = [Trip(f"v{k:02d}", "A", "B", 4.0 * k) for k in range(50)]
    kw = dict(sim__end=300.0, sim__gridlock="none", routing__departure="current",
              routing__update_period=5.0, routing__average_window=30.0)
    by_step = make_sim(diamond(), trips, **kw)
    by_run = make_sim(diamond(), trips, **kw)
    V = by_step.V  # slot = trip before the first step
    ids = by_step.cn.link_ids
    routes = [[ids[x] for x in by_step.route_links[V.route_pos[k]:V.route_end[k]]] for k in range(50)]
    # due by 5 s: v00 and v01, routed the short way; the others hold [origin, destination]
    assert routes[:2] == [["A", "S1", "S2", "B"]] * 2
    assert all(r == ["A", "B"] for r in routes[2:])
    n = round(150.0 / by_step.dt)
    assert by_step.step(n) == n
    by_run.run(tmp_path / "r.h5", end=150.0, progress="none", stop_when_empty=False)
    a, b = by_step.vehicles(), by_run.vehicles()
    for name in ("status", "lane", "pos", "speed"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    inserted = np.nonzero(a.status > 0)[0]
    # (step() has also routed the trips due in the next period, which run() had no need to)
    assert np.array_equal(a.route_end[inserted], b.route_end[inserted])
    assert len(inserted) >= 30
    assert not by_step._dep_free[inserted].any()
    # the rest of every inserted vehicle's route: links that follow one another
    nxt = by_step.cn.arrays
    for k in inserted:
        r = by_step.route_links[a.route_pos[k]:a.route_end[k]]
        for x, y in zip(r[:-1], r[1:], strict=True):
            assert y in nxt.link_next[nxt.link_next_start[x]:nxt.link_next_start[x + 1]]
    assert {ids[by_step.route_links[a.route_end[k] - 1]] for k in inserted} == {"B"}


def test_depart_pos_last_inserts_behind_the_last_vehicle_or_at_the_lane_end(tmp_path) -> None:
    """SUMO's departPos="last": on an empty lane at its end, else behind the lane's last vehicle
    with the gap it needs at its desired speed, and only where the whole vehicle fits (else it
    waits)."""
    net = chain({"A": 300.0, "B": 100.0}, red_at=("A",))
    trips = [Trip(f"v{k}", "A", "B", 2.0 * k, depart_pos="last", depart_speed="0") for k in range(40)]
    sim = make_sim(net, trips, sim__end=20.0, sim__gridlock="none")
    sim.step(1)
    V = sim.vehicles()
    assert V.status[0] == 1 and V.pos[0] == pytest.approx(300.0)  # the first one at the end of A
    sim.step(int(19.0 / sim.dt))
    V = sim.vehicles()
    pos = np.sort(V.pos[V.status == 1])[::-1]
    # A queue from the end of A: each one inserted standing (departSpeed 0) just behind the one
    # before it, which needs only the jam distance (IDM's queue settles a few cm closer).
    assert len(pos) >= 9 and pos[0] > 297.0
    gaps = pos[:-1] - pos[1:] - 5.0
    assert (gaps >= 2.4).all() and (gaps < 3.5).all()
    # Nobody was inserted where the vehicle would stick out over the start of A.
    assert pos[-1] >= 5.0


@pytest.mark.parametrize("late_depart", [13.0, 16.0])
def test_a_departure_waits_for_a_vehicle_about_to_enter_its_lane(tmp_path, late_depart: float) -> None:
    """A vehicle due to start standing at the start of B while another one, 14 m before B at
    13.9 m/s, is about to cross into it waits until that one has passed (it could not stop
    behind a standing car in 14 m at 4.5 m/s^2), as SUMO checks the rear gap towards the lanes
    before; due after it has passed, it starts at once."""
    net = chain({"A": 200.0, "B": 100.0, "C": 100.0}, red_at=())
    trips = [Trip("fast", "A", "C", 0.0), Trip("late", "B", "C", late_depart, depart_speed="0")]
    sim = make_sim(net, trips, sim__end=60.0)
    res = mobsim.open(sim.run(tmp_path / "i.h5", progress="none"))
    k = res.kpis()
    assert k["collisions"] == 0 and k["emergency_brakings"] == 0
    tr = res.trips.set_index(res.trips["id"].astype(str))
    delay = tr.loc["late", "insertion_delay"]
    if late_depart == 13.0:
        assert delay > 0.5  # held until "fast" had crossed into B and passed its start
    else:
        assert delay == 0.0
    assert (tr["status"] == 2).all()


def test_depart_lane_free_takes_the_lane_with_most_room_best_only_lanes_that_lead_on(tmp_path) -> None:
    """departLane="free" (SUMO's free and allowed): the lane with the most room of all, here the
    left lane of A, which does not lead on to B (the vehicle then changes lanes); "best" only
    lanes that lead on (lane 0, behind the standing queue)."""
    from mobsim.net.network import Link, Movement, Network, Node

    nodes = [Node("o", 0.0, 0.0), Node("a", 200.0, 0.0), Node("b", 300.0, 0.0)]
    links = [Link("A", "o", "a", 200.0, 13.89, 2), Link("B", "a", "b", 100.0, 13.89, 1)]
    net = Network(nodes=nodes, links=links, movements=[Movement("a", "A", 0, "B", 0)])
    trips = [Trip("q", "A", "B", 0.0, depart_lane="0", depart_speed="0", depart_pos="20"),
             Trip("free", "A", "B", 1.0, depart_lane="free", depart_speed="0"),
             Trip("best", "A", "B", 1.0, depart_lane="best", depart_speed="0")]
    sim = make_sim(net, trips, sim__end=3.0)
    sim.step(int(1.5 / sim.dt))
    V = sim.vehicles()
    lanes = {t.id: int(V.lane[k]) for k, t in enumerate(sim.trips) if V.status[k] == 1}
    assert lanes == {"q": 0, "free": 1, "best": 0}


def _running(sim) -> dict[str, tuple[float, float]]:
    """trip id -> (front position m, speed m/s) of every running vehicle."""
    V = sim.vehicles()
    return {sim.trips[int(V.trip[s])].id: (float(V.pos[s]), float(V.speed[s]))
            for s in range(len(V.status)) if V.status[s] == 1}


@pytest.mark.parametrize("how", ["free", "base"])
def test_depart_pos_free_takes_the_first_safe_gap_ahead_of_a_vehicle(tmp_path, how: str) -> None:
    """SUMO's departPos="free" (freeInsertion): the lane's start is taken (a car just pulling away
    from 10 m), so the departure goes just ahead of that car, with the jam distance and the gap
    the car needs to stop behind it, and behind the one standing at the line; "base" waits for
    the start to clear."""
    net = chain({"A": 300.0, "B": 100.0}, red_at=("A",))
    trips = [Trip("head", "A", "B", 0.0, depart_pos="300", depart_speed="0"),
             Trip("tail", "A", "B", 0.0, depart_pos="10", depart_speed="0"),
             Trip("new", "A", "B", 0.5, depart_pos=how, depart_speed="0")]
    sim = make_sim(net, trips, sim__end=30.0, sim__gridlock="none")
    sim.step(int(0.5 / sim.dt) + 1)  # the first step at whose end (or start) "new" is due
    run = _running(sim)
    if how == "base":
        assert "new" not in run  # its rear would be at the start, 1 m behind the tail's rear
        return
    p_new, _ = run["new"]
    p_tail, v_tail = run["tail"]
    head_rear = run["head"][0] - 5.0
    assert p_tail + 2.5 + 5.0 < p_new < head_rear - 2.5
    # no further than the first gap: the tail's jam distance, its stopping gap and a margin
    assert p_new - 5.0 - p_tail < 2.5 + v_tail * 1.0 + v_tail**2 / (2 * 4.5) + 3.0
    assert mobsim.open(sim.run(tmp_path / "f.h5", progress="none")).kpis()["collisions"] == 0


def test_depart_pos_random_is_drawn_anew_at_every_attempt(tmp_path) -> None:
    """SUMO's departPos="random" draws a position at every insertion attempt: behind a standing
    queue that fills the last 190 m of a 300 m lane, ten random departures all get in within a
    few seconds (a position drawn once per vehicle would keep two thirds of them waiting for
    good), each in the free part, and the positions follow the seed."""
    def run(seed: int) -> dict[str, tuple[float, float]]:
        net = chain({"A": 300.0, "B": 100.0}, red_at=("A",))
        trips = [Trip(f"q{k:02d}", "A", "B", 0.1 * k, depart_pos="last", depart_speed="0") for k in range(25)]
        trips += [Trip(f"r{k}", "A", "B", 30.0 + 3.0 * k, depart_pos="random", depart_speed="0")
                  for k in range(10)]
        sim = make_sim(net, trips, seed=seed, sim__end=120.0, sim__gridlock="none")
        sim.step(int(30.0 / sim.dt))
        tail = min(p for tid, (p, _) in _running(sim).items() if tid.startswith("q")) - 5.0
        sim.step(int(60.0 / sim.dt))
        got = {tid: pv for tid, pv in _running(sim).items() if tid.startswith("r")}
        assert len(got) == 10, sorted(got)
        assert all(p < tail for p, _ in got.values())
        res = mobsim.open(sim.run(tmp_path / f"r{seed}.h5", progress="none"))
        assert res.kpis()["collisions"] == 0
        return got

    a, b = run(1), run(2)
    assert a == run(1) and a != b


@pytest.mark.parametrize("keep_clear", [True, False])
def test_a_queue_backs_up_into_a_junction_only_where_the_movement_has_no_foes(keep_clear: bool) -> None:
    """B's first 10 m stand for the junction before it (the movement's length). Twelve cars stand
    on B from its red line back to 12.5 m. A car from A enters B only where it fits beyond the
    junction (SUMO's keepClear, on links with foes): here it waits at A's line. Where the
    movement has no foes (a lane added at a node with one incoming edge) it moves up behind the
    queue into the junction, as SUMO's vehicle does, and the queue behind it moves up with it."""
    import dataclasses

    net = chain({"A": 200.0, "B": 100.0, "C": 50.0}, red_at=("B",))
    net = dataclasses.replace(net, movements=[
        dataclasses.replace(m, length=10.0, keep_clear=keep_clear) if m.from_link == "A" else m
        for m in net.movements])
    trips = [Trip(f"q{k:02d}", "B", "C", 0.0, depart_pos="last", depart_speed="0") for k in range(12)]
    trips.append(Trip("x", "A", "C", 0.0, depart_speed="0"))
    sim = make_sim(net, trips, sim__end=60.0, sim__gridlock="none")
    sim.step(int(60.0 / sim.dt))
    run = _running(sim)
    V = sim.vehicles()
    lane_of = {sim.trips[int(V.trip[s])].id: int(V.lane[s]) for s in range(len(V.status)) if V.status[s] == 1}
    rear = min(p for tid, (p, _) in run.items() if tid.startswith("q")) - 5.0
    assert rear == pytest.approx(12.5, abs=0.3)
    if keep_clear:
        assert lane_of["x"] == 0 and run["x"][0] > 190.0  # standing at A's line
    else:
        assert lane_of["x"] == 1 and rear - 3.0 < run["x"][0] <= rear - 2.4  # behind the queue on B


def test_departures_inside_one_lane_start_in_the_same_step() -> None:
    """Ten departures due together at positions 20, 45, ... 245 m of one lane, standing: SUMO
    inserts them all in the step they are due; so does mobsim (each checks the ones inserted
    before it in that step as neighbours), and a departure whose position overlaps one of them
    waits."""
    net = chain({"A": 300.0, "B": 100.0}, red_at=("A",))
    trips = [Trip(f"d{k}", "A", "B", 1.0, depart_pos=str(20.0 + 25.0 * k), depart_speed="0")
             for k in range(10)]
    trips.append(Trip("overlap", "A", "B", 1.0, depart_pos="47", depart_speed="0"))
    sim = make_sim(net, trips, sim__end=10.0, sim__gridlock="none")
    sim.step(int(1.0 / sim.dt) + 1)
    run = _running(sim)
    assert sorted(run) == sorted(f"d{k}" for k in range(10))
    # inserted standing at the start of the step, each has driven its first half second since
    assert all(run[f"d{k}"][0] == pytest.approx(20.0 + 25.0 * k, abs=0.5) for k in range(10))
