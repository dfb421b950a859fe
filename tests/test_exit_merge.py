"""Motorway exits as SUMO's drivers take them: a vehicle that must change lanes for its exit
makes the change possible before the lane ends (SUMO LC2013's urgent strategic change), and
departPos="last" on an empty lane inserts behind a queue that reaches back from beyond its end.

The network: ``M`` (two lanes) ends at node ``d``; lane 0 leads to the exit ``X``, lane 1 to the
through road ``T`` (one lane each, as a motorway diverge). The exit can be red for good: then
its queue stands on lane 0 of ``M``, as the exit queues of the ``A10KW`` scenario stood behind
the game's lights.
"""

from __future__ import annotations

import numpy as np

import mobsim
from conftest import make_sim
from mobsim.demand.trips import Trip
from mobsim.kernels.runtime import layout as K
from mobsim.net.network import Link, Movement, Network, Node, SignalPhase, SignalProgram

#: A red that lasts longer than any run here (s).
FOREVER = 100_000.0


def diverge(length: float = 600.0, exit_red: bool = False, speed: float = 25.0) -> Network:
    """``U`` (two lanes, 200 m) -> ``M`` (two lanes, ``length`` m) -> ``X`` from lane 0 (red for
    :data:`FOREVER` when ``exit_red``) or ``T`` from lane 1."""
    nodes = [Node("o", 0.0, 0.0), Node("u", 200.0, 0.0),
             Node("d", 200.0 + length, 0.0, control="signal" if exit_red else "priority"),
             Node("x", 400.0 + length, -50.0), Node("t", 400.0 + length, 0.0)]
    links = [Link("U", "o", "u", 200.0, speed, 2), Link("M", "u", "d", length, speed, 2),
             Link("X", "d", "x", 200.0, speed, 1), Link("T", "d", "t", 200.0, speed, 1)]
    mv = [Movement("u", "U", 0, "M", 0), Movement("u", "U", 1, "M", 1),
          Movement("d", "M", 0, "X", 0, signal_index=0 if exit_red else -1),
          Movement("d", "M", 1, "T", 0, signal_index=1 if exit_red else -1)]
    progs = [SignalProgram("d", (SignalPhase(FOREVER, "rG"),))] if exit_red else []
    return Network(nodes=nodes, links=links, movements=mv, signals=progs)


def lane_of(sim, tid: str) -> tuple[str, int, float, float]:
    """(link id, lane index, position m, speed m/s) of trip ``tid`` now."""
    k = [j for j, t in enumerate(sim.trips) if t.id == tid][0]
    V = sim.vehicles()
    a = sim.cn.arrays
    lane = int(V.lane[k])
    link = int(a.lane_link[lane])
    return sim.cn.link_ids[link], lane - int(a.link_first_lane[link]), float(V.pos[k]), float(V.speed[k])


def test_a_vehicle_side_by_side_with_its_target_lane_neighbour_drops_back_and_takes_the_exit(
        tmp_path) -> None:
    """Two identical drivers start side by side at the same speed, "exit" on lane 1 with the
    exit ahead, "mate" on lane 0. Nothing would ever separate them: "exit" drops below the
    other's speed once the change is urgent, lets it pass and changes in behind it, well before
    the lane's end and without stopping."""
    net = diverge()
    trips = [Trip("mate", "U", "X", 0.0, depart_lane="0", depart_speed="20"),
             Trip("exit", "U", "X", 0.0, depart_lane="1", depart_speed="20")]
    sim = make_sim(net, trips, sim__end=80.0)
    seen = []
    for _ in range(int(80.0 / sim.dt)):
        sim.step(1)
        k = [j for j, t in enumerate(sim.trips) if t.id == "exit"][0]
        if sim.vehicles().status[k] != 1:
            break
        seen.append(lane_of(sim, "exit"))
    on_m = [s for s in seen if s[0] == "M"]
    changed = [s for s in on_m if s[1] == 0]
    assert changed, "never reached lane 0 of M"
    # The change came well before the end of M, and it never stood. (The change becomes urgent
    # within the look-ahead of the lane's end, 10 s at 20 m/s plus two car lengths: 385 m into M.)
    assert 385.0 < changed[0][2] < 580.0
    assert min(s[3] for s in seen[10:]) > 5.0


def test_exit_traffic_joins_the_standing_exit_queue_and_through_traffic_passes(tmp_path) -> None:
    """The exit is red for good and its queue stands on lane 0 of M. Exit traffic arriving on
    lane 1 falls in behind the queue's last vehicle instead of driving to the end of lane 1
    (where it would block the through lane for good, as no gap ever opens in a standing
    queue); the through traffic behind it reaches its destination."""
    net = diverge(exit_red=True)
    trips = [Trip(f"q{k}", "U", "X", 2.0 * k, depart_lane="0") for k in range(20)]
    trips += [Trip(f"x{k}", "U", "X", 50.0 + 4.0 * k, depart_lane="1") for k in range(3)]
    trips += [Trip(f"t{k}", "U", "T", 52.0 + 4.0 * k, depart_lane="1") for k in range(5)]
    sim = make_sim(net, trips, sim__end=150.0, sim__gridlock="none")
    res = mobsim.open(sim.run(tmp_path / "q.h5", progress="none"))
    tr = res.trips.set_index(res.trips["id"].astype(str))
    assert (tr.loc[[f"t{k}" for k in range(5)], "status"] == 2).all()
    for k in range(3):
        link, q, pos, _ = lane_of(sim, f"x{k}")
        assert (link, q) == ("M", 0), f"x{k} is on {link} lane {q} at {pos:.0f} m"
    assert res.kpis()["collisions"] == 0


def test_depart_pos_last_on_an_empty_lane_inserts_behind_the_queue_beyond_its_end(tmp_path) -> None:
    """departPos="last" on an empty lane whose continuation is queued from its start (SUMO's
    ``lastInsertion`` looks for a leader on the lanes ahead): the vehicle is inserted at once,
    upstream, with the gap it needs at its desired speed, instead of waiting for room at the
    lane's end."""
    net = diverge(length=40.0, exit_red=True)
    queue = [Trip(f"q{k}", "M", "X", 0.5 * k, depart_lane="0", depart_speed="0") for k in range(5)]
    late = [Trip("late", "U", "X", 40.0, depart_lane="0", depart_pos="last", depart_speed="max")]
    sim = make_sim(net, queue + late, sim__end=41.0, sim__gridlock="none")
    sim.step(int(40.0 / sim.dt) + 1)
    link, q, pos, speed = lane_of(sim, "late")
    assert (link, q) == ("U", 0)
    # Behind the queue's last vehicle (at the start of M) with a gap for 25 m/s: far upstream.
    assert 20.0 < pos < 150.0 and speed > 15.0
    V = sim.vehicles()
    assert np.count_nonzero(V.status == 0) == 0


def test_no_lane_change_at_speed_into_a_lane_whose_continuation_is_queued(tmp_path) -> None:
    """P is a 10 m link of two lanes, each continuing on its own lane of Q; only Q's lane 1
    leads on to Z, and it is queued from its start behind a red that never ends. "f" arrives on
    P's lane 0 at speed, bound for Z: nobody is ahead on lane 1 of P itself, but the queue is
    just beyond its end, so "f" may change only where it can still stop behind the queue's last
    vehicle (SUMO looks for the target lane's leader on the lanes beyond). On a 10 m OSM link a
    vehicle changed twice at 13 m/s into such a lane and ran into the queue."""
    nodes = [Node("o", 0.0, 0.0), Node("u", 100.0, 0.0), Node("p", 110.0, 0.0),
             Node("q", 210.0, 0.0, control="signal"), Node("z", 310.0, 0.0), Node("r", 260.0, -100.0)]
    links = [Link("U", "o", "u", 100.0, 13.89, 1), Link("P", "u", "p", 10.0, 13.89, 2),
             Link("Q", "p", "q", 100.0, 13.89, 2), Link("Z", "q", "z", 100.0, 13.89, 1),
             Link("R", "q", "r", 100.0, 13.89, 1)]
    mv = [Movement("u", "U", 0, "P", 0), Movement("p", "P", 0, "Q", 0), Movement("p", "P", 1, "Q", 1),
          Movement("q", "Q", 0, "R", 0, signal_index=0), Movement("q", "Q", 1, "Z", 0, signal_index=1)]
    net = Network(nodes=nodes, links=links, movements=mv,
                  signals=[SignalProgram("q", (SignalPhase(FOREVER, "Gr"),))])
    queue = [Trip(f"q{k:02d}", "Q", "Z", 0.5 * k, depart_lane="1", depart_speed="0") for k in range(16)]
    # fokr_bs_demo's step, 0.05 s: several lane-change decisions fall within the 10 m link.
    sim = make_sim(net, [*queue, Trip("f", "U", "Z", 20.0, depart_speed="max")], sim__end=60.0,
                   sim__gridlock="none", sim__dt=0.05)
    k = [j for j, t in enumerate(sim.trips) if t.id == "f"][0]
    speeds = []
    for _ in range(int(40.0 / sim.dt)):
        sim.step(1)
        V = sim.vehicles()
        if V.status[k] == 1:
            speeds.append(float(V.speed[k]))
    decel = -np.diff(speeds) / sim.dt
    # Never harder than its emergency deceleration (9 m/s^2): before, it changed at 13 m/s into
    # lane 1 of P and was stopped by the hard no-overlap bound at the queue (13 -> 1 m/s in 0.3 s).
    assert decel.max() <= 9.0 + 1e-6
    sim.backend.pull("W", ("cnt",))
    assert int(sim.W.cnt[K.C_COLL]) == 0


def _slot(sim, tid: str) -> int:
    return [j for j, t in enumerate(sim.trips) if t.id == tid][0]


def test_depart_pos_last_takes_the_lane_whose_last_vehicle_is_farthest_ahead() -> None:
    """departLane="free" with departPos="last" goes to the lane whose last vehicle is farthest
    ahead (SUMO's ``getFreeLane``), not to the first lane with room: the gap behind the last
    vehicle is what the departure speed needs on every lane, so comparing gaps sent every tie to
    lane 0, whose insertion point then crept back up the link (A10KW's motorway entries)."""
    net = diverge()
    trips = [Trip("a0", "U", "X", 0.0, depart_lane="0", depart_pos="150", depart_speed="0"),
             Trip("a1", "U", "T", 0.0, depart_lane="1", depart_pos="190", depart_speed="0"),
             Trip("b", "U", "T", 1.0, depart_lane="free", depart_pos="last", depart_speed="max")]
    sim = make_sim(net, trips, sim__end=5.0)
    sim.step(int(round(1.0 / sim.dt)))  # b is inserted at the end of the last of these steps
    link, q, pos, _ = lane_of(sim, "b")
    assert (link, q) == ("U", 1)
    assert pos < lane_of(sim, "a1")[2] - 5.0


def test_departures_due_together_queue_back_from_the_lane_end_in_one_step() -> None:
    """Several departPos="last" departures due at once on one lane are all inserted in that step,
    each behind the one before with its jam distance and secure gap (SUMO inserts a burst the
    same way; one insertion per lane and step left the rest of the burst for later steps, each
    at the lane's end)."""
    net = diverge()
    trips = [Trip(f"b{k}", "U", "T", 1.0, depart_lane="0", depart_pos="last", depart_speed="max")
             for k in range(4)]
    sim = make_sim(net, trips, sim__end=5.0)
    sim.step(int(round(1.0 / sim.dt)))
    V = sim.vehicles()
    assert (V.status[[_slot(sim, f"b{k}") for k in range(4)]] == 1).all()
    pos = [lane_of(sim, f"b{k}")[2] for k in range(4)]
    assert all(lane_of(sim, f"b{k}")[:2] == ("U", 0) for k in range(4))
    gaps = [pos[k] - 5.0 - pos[k + 1] for k in range(3)]
    assert pos[0] > 180.0 and all(g >= 2.5 for g in gaps), (pos, gaps)


def test_a_departure_on_a_lane_that_does_not_lead_on_starts_slow_enough_to_stop() -> None:
    """departPos="last" on an empty lane puts the vehicle at the lane's end; when that lane has
    no movement to the route's next link, its end is a wall (until a lane change succeeds), so
    the vehicle starts at a speed from which it can stop before it, as SUMO checks along the best
    lanes' continuation. Before, it started there at full speed and stopped dead in one step,
    and a car that had just changed in behind it ran into it."""
    net = diverge(length=300.0)
    trips = [Trip("w", "M", "X", 1.0, depart_lane="1", depart_pos="last", depart_speed="max")]
    sim = make_sim(net, trips, sim__end=5.0)
    sim.step(int(round(1.0 / sim.dt)))
    link, q, pos, speed = lane_of(sim, "w")
    assert (link, q) == ("M", 1)
    assert speed * speed / (2.0 * 4.5) <= 300.0 - pos + 1e-6, (pos, speed)


def test_a_vehicle_stuck_at_its_lane_end_gets_in_at_the_first_green_of_the_exit_queue(tmp_path) -> None:
    """The exit's light is red 20 s and green 10 s; its queue stands on lane 0 of M, past the end
    of lane 1 where "s" stands, bound for the exit, with through vehicles queued behind it. When
    the queue moves at the green, the lane-0 vehicle that is the nearest follower of "s" (with a
    lane-1 vehicle between them in position, which does not need lane 0) holds back and lets it
    in (SUMO LC2013's ``informFollower``), so "s" leaves with the first green after it appears.
    When only the nearest lane-1 vehicle ahead counted, the followers looked at the through
    vehicles behind "s", and "s" (and the through lane behind it) waited a whole cycle longer."""
    net = diverge(length=300.0, exit_red=True)
    net = Network(nodes=net.nodes, links=net.links, movements=net.movements,
                  signals=[SignalProgram("d", (SignalPhase(20.0, "rG"), SignalPhase(10.0, "GG")))])
    trips = [Trip(f"x{k:02d}", "U", "X", 2.0 * k, depart_lane="0", depart_speed="max") for k in range(60)]
    trips.append(Trip("s", "M", "X", 40.0, depart_lane="1", depart_pos="295", depart_speed="0"))
    trips += [Trip(f"t{k}", "M", "T", 40.5 + 0.5 * k, depart_lane="1", depart_pos=str(285 - 10 * k),
                   depart_speed="0") for k in range(3)]
    sim = make_sim(net, trips, sim__end=150.0, sim__gridlock="none")
    res = mobsim.open(sim.run(tmp_path / "s.h5", progress="none"))
    tr = res.trips.set_index(res.trips["id"].astype(str))
    # Greens at 50-60 and 80-90 s: "s" goes at the first (68 s; a cycle later before, 96 s).
    assert tr.loc["s", "status"] == 2 and tr.loc["s", "arrival"] < 80.0, tr.loc["s"]
    assert (tr.loc[[f"t{k}" for k in range(3)], "status"] == 2).all()
    assert res.kpis()["collisions"] == 0


def merge_ahead(red: float = 90.0) -> Network:
    """``U`` (one lane, 150 m) feeds lane 0 and the side road ``Y`` (one lane, 150 m) lane 1 of
    ``M`` (two lanes, 45 m), which ends at a signal ``d``: lane 0 goes straight on to lane 0 of
    ``N`` (two lanes, 400 m), green; lane 1 to ``N``'s lane 1, red for ``red`` s. At ``e``, the
    end of ``N``, lane 0 leads to ``X`` and lane 1 to ``T``."""
    nodes = [Node("o", 0.0, 0.0), Node("y", 0.0, -150.0), Node("u", 150.0, 0.0),
             Node("d", 195.0, 0.0, control="signal"), Node("e", 595.0, 0.0),
             Node("x", 695.0, -50.0), Node("t", 695.0, 50.0)]
    links = [Link("U", "o", "u", 150.0, 13.89, 1), Link("Y", "y", "u", 150.0, 13.89, 1),
             Link("M", "u", "d", 45.0, 13.89, 2), Link("N", "d", "e", 400.0, 13.89, 2),
             Link("X", "e", "x", 112.0, 13.89, 1), Link("T", "e", "t", 112.0, 13.89, 1)]
    mv = [Movement("u", "U", 0, "M", 0), Movement("u", "Y", 0, "M", 1),
          Movement("d", "M", 0, "N", 0, signal_index=0), Movement("d", "M", 1, "N", 1, signal_index=1),
          Movement("e", "N", 0, "X", 0, turn="r"), Movement("e", "N", 1, "T", 0, turn="l")]
    progs = [SignalProgram("d", (SignalPhase(red, "Gr"), SignalPhase(FOREVER, "GG")))]
    return Network(nodes=nodes, links=links, movements=mv, signals=progs)


def test_a_change_that_can_still_be_made_on_the_next_link_is_not_urgent_yet() -> None:
    """Lane 1 of ``M`` is queued from its line (red) back to its start, so the car from ``U``,
    which needs lane 1 only at the end of ``N``, cannot change on ``M``. Its lane goes straight
    on to ``N`` at green, where the change can still be made: SUMO counts the room for a change
    along the lane's continuation (``currentDist``, ``MSVehicle::getBestLanes``), so the change
    is not urgent on ``M``. The car drives on, changes on ``N`` and arrives long before the red
    ends. Counting only the room left on ``M`` made it fall in behind the queue and wait out the
    red, 55 m before a green line (a small two-lane grid locked at a corner that way)."""
    net = merge_ahead(red=90.0)
    trips = [Trip(f"q{k}", "Y", "T", 2.0 * k, depart_lane="0") for k in range(10)]
    trips.append(Trip("v", "U", "T", 30.0, depart_lane="0"))
    sim = make_sim(net, trips, sim__end=90.0)
    a = sim.cn.arrays
    m = sim.cn.link_index["M"]
    seen = []
    while sim.time < 90.0:
        sim.step(1)
        if sim.time >= 30.0:
            k = [j for j, t in enumerate(sim.trips) if t.id == "v"][0]
            if sim.vehicles().status[k] != 1:
                break
            seen.append(lane_of(sim, "v"))
    V = sim.vehicles()
    queued = int(((V.status == 1) & (a.lane_link[V.lane] == m) & (a.lane_index[V.lane] == 1)).sum())
    assert queued * 7.5 >= 45.0 - 7.5, "lane 1 of M is queued back to its start"
    on_m = [s for s in seen if s[0] == "M"]
    assert on_m and all(s[1] == 0 for s in on_m)
    assert min(s[3] for s in on_m) > 5.0, "it drove on over M"
    assert any(s[0] == "N" and s[1] == 1 for s in seen), "it changed on N"
    k = [j for j, t in enumerate(sim.trips) if t.id == "v"][0]
    assert V.status[k] == 2 and sim.time < 90.0, "it arrived before the red ended"


def test_lane_continuation_follows_the_lane_along_the_route() -> None:
    """:func:`~kernels.road.lanes.lane_continuation_a` (SUMO's ``currentDist``): lane 0 of ``M``
    goes on to lane 0 of ``N``, which does not lead to ``T``; lane 1 reaches the route's end."""
    from mobsim.kernels.road.lanes import lane_continuation_a

    net = merge_ahead()
    sim = make_sim(net, [Trip("v", "U", "T", 0.0)], sim__end=10.0)
    sim.step(1)
    a = sim.cn.arrays
    m = int(a.link_first_lane[sim.cn.link_index["M"]])
    V = sim.vehicles()
    rp, end = int(V.route_pos[0]) + 1, int(V.route_end[0])  # M is the route's second link

    def lane_continuation(lane: int, horizon: float) -> float:
        return lane_continuation_a(a.lane_len, a.lane_link, a.lane_mv_start, a.mv_to_link, a.mv_to_lane,
                                   a.link_next_start, a.link_next, sim.W.route_codes, lane, rp, end, horizon)

    assert lane_continuation(m, 3000.0) == 45.0 + 400.0
    assert lane_continuation(m + 1, 3000.0) == np.inf
    assert lane_continuation(m, 40.0) == 45.0  # stops past the horizon
