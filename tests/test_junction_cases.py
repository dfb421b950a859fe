"""Junction situations from real (OpenStreetMap) networks that once stalled vehicles for good.

Both were found on SUMO's shipped OSM city (``bench.vs_sumo`` case ``city``), where they ended in
300 s teleports and a gridlock loop that doubled the mean travel time.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_sim
from mobsim.demand.trips import Trip
from mobsim.engine import Simulation
from mobsim.kernels.runtime import layout as K
from mobsim.net.network import Link, Movement, Network, Node, SignalPhase, SignalProgram


def no_teleports_nor_collisions(sim: Simulation) -> bool:
    sim.backend.pull("W", ("cnt",))
    c = sim.W.cnt
    return int(c[K.C_TELE]) == 0 and int(c[K.C_COLL]) == 0 and int(sim.vehicles().teleports.sum()) == 0


def short_link_net(short: float = 4.6) -> Network:
    """A (20 m, 2 lanes) -> S (``short`` m, 2 lanes) -> B or C (100 m, 1 lane each); A's lanes
    continue on S's lanes one to one, and only S's lane 0 leads to B, only lane 1 to C."""
    x = 20.0 + short
    nodes = [Node("o", 0.0, 0.0), Node("a", 20.0, 0.0), Node("b", x, 0.0), Node("c", x + 100.0, 0.0),
             Node("d", x, 100.0)]
    links = [Link("A", "o", "a", 20.0, 13.89, 2), Link("S", "a", "b", short, 13.89, 2),
             Link("B", "b", "c", 100.0, 13.89, 1), Link("C", "b", "d", 100.0, 13.89, 1)]
    mv = [Movement("a", "A", 0, "S", 0), Movement("a", "A", 1, "S", 1),
          Movement("b", "S", 0, "B", 0, turn="s"), Movement("b", "S", 1, "C", 0, turn="l")]
    return Network(nodes=nodes, links=links, movements=mv)


@pytest.mark.parametrize("short,model", [(4.6, "IDM"), (3.8, "Krauss"), (4.6, "Krauss"), (2.6, "Krauss")])
def test_lane_change_on_a_link_shorter_than_the_vehicle(short: float, model: str) -> None:
    """v starts on S (shorter than the car) on the wrong lane for B, behind w, which starts on A's
    lane 0 and must pass first. v's rear always reaches back over S's start, where lane changes
    used to wait until the rear had cleared the line: v stood at S's end until the 300 s jam
    teleport. Now it changes lane there as soon as nothing coming into the target lane could run
    into its rear. The lengths include 3.8 m, where the stop position (1 m before the line) came
    out an ulp short of the bound for "at the end" and the vehicle stood until teleported (random
    trips on Ingolstadt and on the DRT city)."""
    trips = [Trip("v", "S", "B", 0.0, depart_lane="1", depart_speed="0"),
             Trip("w", "A", "B", 0.0, depart_lane="0", depart_speed="0")]
    from mobsim.demand.vtypes import VehicleType

    vt = VehicleType(cf_model=model, sigma=0.0)
    sim = make_sim(short_link_net(short), trips, vtypes=[vt], sim__end=400.0)
    lanes_of_v = set()
    while sim.time < 400.0:
        sim.step(1)
        V = sim.vehicles()
        if V.status[0] == 1:
            lanes_of_v.add(int(V.lane[0]))
        if (V.status == 2).all():
            break
    V = sim.vehicles()
    # Lanes: A 0, 1; S 2, 3; B 4; C 5. v was on S's lane 1 (the case this test is about) and
    # changed to lane 0 (in the step that took it on to B, or before).
    assert 3 in lanes_of_v and 4 in lanes_of_v and 5 not in lanes_of_v
    assert (V.status == 2).all() and sim.trip_table()["arrival"][0] < 30.0
    assert no_teleports_nor_collisions(sim)


def merge_net(minor_length: float = 100.0) -> Network:
    """Major road M (300 m) and minor road m (``minor_length`` m) merge at J into O (40 m), which
    ends at a signal at K (10 s green, 3 s yellow, 47 s red) before the exit E (100 m)."""
    nodes = [Node("s", -300.0, 0.0), Node("q", 0.0, -minor_length), Node("J", 0.0, 0.0, "priority"),
             Node("K", 40.0, 0.0, "signal"), Node("e", 140.0, 0.0)]
    links = [Link("M", "s", "J", 300.0, 13.89), Link("m", "q", "J", minor_length, 13.89),
             Link("O", "J", "K", 40.0, 13.89), Link("E", "K", "e", 100.0, 13.89)]
    mv = [Movement("J", "M", 0, "O", 0, kind="major"), Movement("J", "m", 0, "O", 0, kind="minor", turn="l"),
          Movement("K", "O", 0, "E", 0, signal_index=0)]
    prog = SignalProgram("K", (SignalPhase(10.0, "G"), SignalPhase(3.0, "y"), SignalPhase(47.0, "r")))
    return Network(nodes=nodes, links=links, movements=mv, signals=[prog])


def test_yielding_vehicle_takes_turns_with_a_queued_major_stream() -> None:
    """O fills behind the red at K and the major queue on M stands at J. A vehicle on the minor
    road used to yield to the standing front vehicle of that queue for ever (every space opening
    on O went to the major stream), so it waited until the whole major queue had gone; such
    starved queues closed gridlock loops. Standing vehicles now take turns: the one that has stood
    longer goes first."""
    major = [Trip(f"M{k:02d}", "M", "E", 2.0 * k) for k in range(60)]
    minor = [Trip(f"m{k}", "m", "E", 30.0 + 5.0 * k) for k in range(3)]
    sim = make_sim(merge_net(), major + minor, sim__end=1500.0)
    sim.step(3000)
    V = sim.vehicles()
    assert (V.status == 2).all()
    arrival = dict(zip([t.id for t in sim.trips], sim.trip_table()["arrival"], strict=True))
    last_major = max(arrival[t.id] for t in major)
    # The minor vehicles get in while the major queue is still there (about 5 vehicles leave per
    # 60 s cycle: the 60 major vehicles need some 12 cycles), not after it.
    for t in minor:
        assert arrival[t.id] < last_major - 300.0, (t.id, arrival[t.id], last_major)
    assert no_teleports_nor_collisions(sim)


def test_departure_from_a_link_shorter_than_car_and_jam_distance() -> None:
    """A trip starting on a 5.2 m minor road that ends at a yield line: insertion used to take the
    line for a standing vehicle, needing the car's length plus its jam distance (7.5 m) on the
    link, so the trip never started (3 of 1,000 random trips on the OSM city). Now it is inserted
    standing at the line and goes when the gap is there."""
    major = [Trip(f"M{k}", "M", "E", 10.0 * k) for k in range(5)]
    sim = make_sim(merge_net(minor_length=5.2), [*major, Trip("v", "m", "E", 5.0)], sim__end=600.0)
    sim.step(1200)
    V = sim.vehicles()
    assert (V.status == 2).all()
    v = [t.id for t in sim.trips].index("v")
    tt = sim.trip_table()
    assert tt["depart"][v] == 5.0 and tt["arrival"][v] < 200.0
    assert no_teleports_nor_collisions(sim)


def red_light_net() -> Network:
    """R (100 m, 1 lane) -> signal at ``ra``, green until t = 1 s, then red for 30 s, without a
    yellow (cycle 30 s green, 30 s red; offset -29 s puts t = 0 one second before the red) -> RB
    (100 m)."""
    nodes = [Node("ro", 0.0, -300.0), Node("ra", 100.0, -300.0, control="signal"),
             Node("rb", 200.0, -300.0)]
    links = [Link("R", "ro", "ra", 100.0, 13.89, 1), Link("RB", "ra", "rb", 100.0, 13.89, 1)]
    mv = [Movement("ra", "R", 0, "RB", 0, signal_index=0)]
    prog = [SignalProgram("ra", (SignalPhase(30.0, "G"), SignalPhase(30.0, "r")), offset=-29.0)]
    return Network(nodes=nodes, links=links, movements=mv, signals=prog)


#: departs 14 m before the light at 13 m/s while it is green (its insertion looks past the lane's
#: end); the light turns red without a yellow when the vehicle is 7.5 m before the line, where it
#: cannot stop even at 9 m/s^2 (9.4 m)
RED_LIGHT_TRIP = Trip("e", "R", "RB", 0.0, depart_pos="86", depart_speed="13")


def test_emergency_stop_at_a_red_light_is_an_event(tmp_path) -> None:
    """The move clamps a vehicle that cannot stop at the line to the line and records an
    emergency-braking event at the step's end, on its link, valued at the deceleration it took
    (speed / step, m/s^2)."""
    import mobsim

    sim = make_sim(red_light_net(), [RED_LIGHT_TRIP], sim__end=60.0)
    res = mobsim.open(sim.run(tmp_path / "r.h5", progress="none"))
    ev = res.events
    em = ev[ev["kind_name"].astype(str) == "emergency_braking"]
    assert len(em) == 1
    # red from 1 s on; the step that ends at 1.5 s brings the vehicle to the line, where it is
    # clamped (the event is stamped with the step's end)
    assert em["time"].iloc[0] == 3 * sim.dt and em["link_id"].astype(str).iloc[0] == "R"
    # the deceleration the clamp took (speed / step): beyond the car's emergency deceleration, 9 m/s^2
    assert em["value"].iloc[0] > 9.0
    assert res.kpis()["emergency_brakings"] == 1
    trip = res.trips.iloc[0]
    assert trip["status"] == 2 and trip["arrival"] > 31.0, "it waited for green at the line"


def short_major_net() -> Network:
    """Major road A (300 m) -> B (5 m, the few metres OSM leaves before a junction) -> J -> O
    (200 m); minor road m (50 m) merges at J into O and yields to B -> O."""
    nodes = [Node("s", -305.0, 0.0), Node("b", -5.0, 0.0), Node("q", 0.0, -50.0),
             Node("J", 0.0, 0.0, "priority"), Node("e", 200.0, 0.0)]
    links = [Link("A", "s", "b", 300.0, 13.89), Link("B", "b", "J", 5.0, 13.89),
             Link("m", "q", "J", 50.0, 13.89), Link("O", "J", "e", 200.0, 13.89)]
    mv = [Movement("b", "A", 0, "B", 0), Movement("J", "B", 0, "O", 0, kind="major"),
          Movement("J", "m", 0, "O", 0, kind="minor", turn="l")]
    return Network(nodes=nodes, links=links, movements=mv)


def test_a_yielding_vehicle_sees_a_foe_one_link_before_a_short_major_link() -> None:
    """The major link before the junction is 5 m long and empty; a major vehicle 30 m before
    its end, on the link before, arrives in about 2.5 s. The minor vehicle, standing at its
    yield line, needs about 2.2 s to clear the junction from a standstill and 1 s more (SUMO's
    time windows), so it waits and enters O after the major one; it used to see only the empty
    5 m link and went ahead of it."""
    trips = [Trip("major", "A", "O", 0.0, depart_pos="270", depart_speed="max"),
             Trip("minor", "m", "O", 0.0, depart_pos="49", depart_speed="0")]
    sim = make_sim(short_major_net(), trips, sim__end=60.0)
    order = []
    for _ in range(int(20.0 / sim.dt)):
        sim.step(1)
        V = sim.vehicles()
        a = sim.cn.arrays
        for k, t in enumerate(sim.trips):
            if V.status[k] == 1 and sim.cn.link_ids[a.lane_link[V.lane[k]]] == "O" and t.id not in order:
                order.append(t.id)
    assert order == ["major", "minor"]
    assert no_teleports_nor_collisions(sim)


def test_a_permitted_left_turn_waits_for_the_opposing_queue_starting_at_green() -> None:
    """SUMO's time windows: at the start of a green, the opposing queue's head stands at its line
    but arrives within a second or two, so a left turner waiting at the line lets the whole
    opposing queue go first (the former 4 s critical gap at the foe's current speed, floored at
    0.1 m/s, made the standing head arrive only after 10 s per metre, and the left turner went
    in front of the queue)."""
    from mobsim.net import generators as gen

    net = gen.corridor(n_signals=1, spacing=300.0, lanes=1, cycle=90.0)
    # The opposing queue forms on E-j0 during the side street's green (45-88 s); the left turner
    # reaches its line on W-j0 in that red too; both approaches turn green at 90 s.
    trips = [Trip(f"e{k}", "E-j0", "j0-W", 45.0 + 2.0 * k) for k in range(5)]
    trips.append(Trip("left", "W-j0", "j0-N0", 50.0))
    sim = make_sim(net, trips, sim__end=160.0)
    a = sim.cn.arrays
    crossed: dict[str, float] = {}
    while sim.time < 160.0:
        sim.step(1)
        V = sim.vehicles()
        for k, t in enumerate(sim.trips):
            link = sim.cn.link_ids[a.lane_link[V.lane[k]]]
            if V.status[k] >= 1 and link in ("j0-W", "j0-N0") and t.id not in crossed:
                crossed[t.id] = sim.time
    assert len(crossed) == 6
    assert crossed["left"] > max(crossed[f"e{k}"] for k in range(5)), crossed
    assert 90.0 < crossed["left"] < 130.0, "it still turns within the green"
    assert no_teleports_nor_collisions(sim)


def test_a_turn_is_taken_at_the_movements_speed_limit() -> None:
    """A movement with a speed limit (SUMO's internal lanes: a right turn 6.5 m/s) is crossed at
    that speed at most, after comfortable braking; without one the vehicle crosses at the road's
    13.89 m/s."""
    nodes = [Node("a", 0.0, 0.0), Node("j", 300.0, 0.0, "priority"), Node("b", 300.0, -200.0)]
    links = [Link("A", "a", "j", 300.0, 13.89), Link("B", "j", "b", 200.0, 13.89)]
    for limit in (6.5, None):
        mv = [Movement("j", "A", 0, "B", 0, turn="r", speed=limit)]
        sim = make_sim(Network(nodes, links, mv), [Trip("v", "A", "B", 0.0, depart_speed="max")],
                       sim__end=60.0)
        a = sim.cn.arrays
        at_line = None
        speeds = []
        while sim.time < 60.0:
            sim.step(1)
            V = sim.vehicles()
            if V.status[0] != 1:
                break
            speeds.append(float(V.speed[0]))
            if sim.cn.link_ids[a.lane_link[V.lane[0]]] == "B" and at_line is None:
                at_line = float(V.speed[0])  # the speed of the step that crossed the line (Euler)
        assert at_line is not None
        if limit is None:
            assert at_line == pytest.approx(13.89, abs=0.01)
        else:
            assert at_line <= limit + 1e-6
            decel = -min(np.diff(speeds)) / sim.dt
            assert decel <= 4.5 + 1e-6, "comfortable braking"
