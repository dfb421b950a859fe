"""Permitted left turns wait inside the junction, as SUMO runs them: a connection whose internal
lanes SUMO splits by an internal junction (a ``cont`` link) is entered whenever its signal is not
red, its foes are judged at the waiting position (the approaches the internal junction lists as
incoming, whose movements cross its way), and a vehicle waiting there clears the junction on
yellow and red once the opposing stream has stopped.

The networks are built by SUMO's netconvert from a mobsim corridor (``convert to-sumo``'s code),
with internal lanes, and imported again."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

sumo = pytest.importorskip("sumo")

import mobsim  # noqa: E402
from kernels.road.blocked import leave_time  # noqa: E402
from mobsim.demand.trips import Trip  # noqa: E402
from mobsim.demand.vtypes import VehicleType  # noqa: E402
from mobsim.engine import Simulation  # noqa: E402
from mobsim.interop.sumo_export import export_scenario  # noqa: E402
from mobsim.interop.sumo_net import read_sumo_network  # noqa: E402
from mobsim.net import generators as gen  # noqa: E402
from mobsim.scenario import scenario_from_objects  # noqa: E402

KRAUSS = {"cf_model": "Krauss", "sigma": 0.0, "accel": 2.6, "decel": 4.5, "emergency_decel": 9.0, "tau": 1.0,
          "min_gap": 2.5, "length": 5.0}


def _sumo_config(tmp: Path, trips: list[Trip], end: float) -> Path:
    """One signalised junction ``j0`` (90 s cycle: east-west green 0-40 s, yellow 40-43 s), one
    lane each way, exported and built by netconvert with internal lanes."""
    net = gen.corridor(n_signals=1, spacing=300.0, lanes=1, cycle=90.0)
    sc = scenario_from_objects(net, trips, vtypes=[VehicleType(**KRAUSS)],
                               settings={"sim.end": end, "sim.dt": 0.5, "sim.gridlock": "none"},
                               name="left_wait")
    return export_scenario(sc, tmp / "sumo", internal_links=True)


def test_import_gives_left_turns_a_waiting_position(tmp_path: Path) -> None:
    """The left turns of a netconvert junction wait 4.07 m inside it, for the movements whose
    internal lanes the internal junction lists: the opposing through traffic and the merging right
    turn, not the opposing left turn (which SUMO's internal junction does not list either)."""
    cfg = _sumo_config(tmp_path, [Trip("a", "W-j0", "j0-E", 0.0)], 100.0)
    net = read_sumo_network(next(cfg.parent.glob("*.net.xml")), cache=False)
    mvs = {(m.from_link, m.to_link): m for m in net.movements if m.node == "j0"}
    left = mvs[("W-j0", "j0-N0")]
    assert left.turn == "l"
    assert 0.0 < left.wait < left.length
    assert math.isclose(left.wait, 4.07, abs_tol=0.5)
    waits_for = {(k[0], k[2]) for k in left.waits_for}
    assert ("E-j0", "j0-W") in waits_for  # the opposing through stream
    assert ("E-j0", "j0-N0") in waits_for  # the right turn into the same exit
    assert ("E-j0", "j0-S0") not in waits_for  # the opposing left turn
    # Straight on and right turns have no internal junction: they are judged at the line.
    assert mvs[("W-j0", "j0-E")].wait == 0.0 and mvs[("W-j0", "j0-E")].waits_for is None
    assert mvs[("W-j0", "j0-S0")].wait == 0.0
    # Compiled: the waiting distance and its foes, by rank at the node.
    from mobsim.net.compile import compile_network

    a = compile_network(net).arrays
    waits = a.mv_wait[a.mv_wait > 0]
    assert len(waits) == 4 and np.allclose(waits, left.wait, atol=0.5)
    assert a.mv_foe2_start[-1] == sum(len(m.waits_for or ()) for m in net.movements if m.wait > 0)


def test_waiting_left_turns_check_the_approaches_sumo_checks() -> None:
    """At a cluster junction of SUMO's DRT city (two major approaches whose left turns wait
    inside, two minor roads), a waiting left turner checks the approaching vehicles of the lanes
    its internal junction lists as incoming (``incLanes`` after its own internal lane: the
    opposing major approach), not every movement whose internal lanes cross its way
    (``intLanes``): SUMO judges those only by the vehicles already on them. With the wider list
    the two left turners and the two minor roads waited for one another in a ring (at one such
    junction mobsim's cars stood for 9,420 vehicle-seconds where SUMO's stood for none; IDM
    city, 224 s against SUMO's 173 s)."""
    path = Path(sumo.SUMO_HOME) / "tools" / "game" / "DRT" / "osm.net.xml"
    if not path.is_file():
        pytest.skip("DRT/osm.net.xml is not shipped with this eclipse-sumo wheel")
    net = read_sumo_network(path)
    node = "cluster_1789928382_664166124_664166125_664166127"
    mvs = {(m.from_link, m.to_link): m for m in net.movements if m.node == node}
    # (the opposing approach's right turn, through movement and left turn; not its U-turn, whose
    # internal lane does not cross)
    cases = ((("142575692#6", "-143308521#8"), "142575685#1",
              {"-143308521#8", "142575693#0", "-142575655#10"}),
             (("142575685#1", "-142575655#10"), "142575692#6",
              {"-142575655#10", "142575686#0", "-143308521#8"}))
    for (frm, to), opposite, outs in cases:
        left = mvs[(frm, to)]
        assert left.turn == "l" and left.wait > 0.0
        assert {(k[0], k[2]) for k in left.waits_for} == {(opposite, o) for o in outs}


def _left_turner_exit(cfg: Path, wait: bool) -> float:
    """When (s) the left turner ``L`` arrives at the end of ``j0-N0`` (200 m past the junction);
    with ``wait=False`` the import's waiting positions are removed (every movement judges its foes
    at the line)."""
    sc = mobsim.load_scenario(cfg)
    if not wait:
        import dataclasses

        sc.network.movements[:] = [dataclasses.replace(m, wait=0.0, waits_for=None)
                                   for m in sc.network.movements]
    out = Simulation(sc, backend="cpu").run(out=cfg.parent / f"run_{wait}.h5", progress="none")
    trips = mobsim.open(out).trips.set_index("id")
    assert not math.isnan(trips.loc["L", "arrival"])
    return float(trips.loc["L", "arrival"])


def test_left_turner_waiting_inside_clears_on_yellow(tmp_path: Path) -> None:
    """An opposing stream every 2.5 s through the whole green: the left turner reaches the line at
    green, enters and waits inside, and clears once the opposing stream stops at the yellow and
    red, and arrives at its destination 200 m on before the next east-west green (90 s). Judged at
    the line, as before, it stood through the whole red."""
    trips = [Trip(f"e{k:02d}", "E-j0", "j0-W", round(k * 2.5, 1)) for k in range(40)]
    trips.append(Trip("L", "W-j0", "j0-N0", 2.0))
    cfg = _sumo_config(tmp_path, sorted(trips, key=lambda t: (t.depart, t.id)), 300.0)
    inside = _left_turner_exit(cfg, wait=True)
    at_line = _left_turner_exit(cfg, wait=False)
    # The green ends at 40 s, the next east-west green starts at 90 s.
    assert 43.0 < inside < 90.0 < at_line, (inside, at_line)


def test_leave_time_is_sumos_estimate() -> None:
    """SUMO's ``MSLink::getLeaveTime``: arrival + (junction + vehicle length) over the mean of the
    arrival speed and the speed after the junction at full acceleration (at most the limit)."""
    # A car standing at the waiting position: 1.3 m/s after one step of 2.6 m/s² (0.5 s), 10.13 m
    # of the left turn still to drive, 5 m long, 8 m/s through the junction.
    t, v = leave_time(0.0, 1.3, 10.13, 5.0, 2.6, 8.0)
    v_after = math.sqrt(1.3 ** 2 + 2 * 2.6 * 10.13)
    assert math.isclose(v, v_after)
    assert math.isclose(t, 15.13 / (0.5 * (1.3 + v_after)))
    assert 3.4 < t < 3.6  # SUMO's lefts accept no lag under ~4.5 s (this + jmTimegapMinor 1 s)
    # At the speed limit the mean speed is the limit.
    t, v = leave_time(2.0, 8.0, 14.2, 5.0, 2.6, 8.0)
    assert v == 8.0 and math.isclose(t, 2.0 + 19.2 / 8.0)


def test_a_foe_standing_in_a_queue_short_of_the_crossing_is_not_in_the_way() -> None:
    """A left turner waiting inside the junction yields to a foe that has left its lane but is
    still short of the crossing point when it would get there (``foe_crossing``). A foe that
    stands in the queue of its exit with its front short of the crossing is not in the way (SUMO's
    ``inTheWay`` needs the foe to have entered the crossing point), and waiting for it closed a
    ring on the DRT city: the foe's queue reached back into the junction, fed by the left
    turner's own approach. A standing foe inside the crossing, or a moving one short of it, is in
    the way."""
    from conftest import make_sim
    from kernels.road.yielding import CROSSING_WIDTH, foe_crossing

    net = gen.corridor(n_signals=1, spacing=300.0, lanes=1, cycle=90.0, left_turns_wait=True)
    sim = make_sim(net, [Trip("L", "W-j0", "j0-N0", 0.0), Trip("e", "E-j0", "j0-W", 0.0)], sim__end=60.0)
    sim.step(10)
    a, cn = sim.cn.arrays, sim.cn
    V, L = sim.V, sim.L
    i, j = 0, 1
    lane_w = int(a.link_first_lane[cn.link_index["W-j0"]])
    m = [k for k in range(a.lane_mv_start[lane_w], a.lane_mv_start[lane_w + 1])
         if a.mv_to_link[k] == cn.link_index["j0-N0"]][0]
    lane_e = int(a.link_first_lane[cn.link_index["E-j0"]])
    f = [k for k in range(a.lane_mv_start[lane_e], a.lane_mv_start[lane_e + 1])
         if a.mv_to_link[k] == cn.link_index["j0-W"]][0]
    # ``e`` has just crossed from E-j0 onto j0-W: the last vehicle to leave its lane.
    V.lane[j] = a.link_first_lane[cn.link_index["j0-W"]]
    L.lane_last_exit[lane_e] = j
    short = 0.5 * a.mv_len[f] - CROSSING_WIDTH
    for front, speed, in_the_way in ((short - 0.5, 0.0, False), (short - 0.5, 3.0, True),
                                     (short + 1.0, 0.0, True)):
        V.pos[j], V.speed[j] = front, speed
        assert foe_crossing(V, a, L, sim.vt, i, m, 0.0) == in_the_way, (front, speed)
