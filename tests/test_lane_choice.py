"""Lane choice along the route: a vehicle moves to the lane it needs a few short links ahead.

SUMO plans lanes over the route ahead (``MSVehicle::getBestLanes``); mobsim looks over the next
links up to 20 s of travel past the end of the current link (``lanes.route_lanes_mask``). On the
A10 motorway's random trips a chain of 33, 67 and 2 m links before a lane split made vehicles
find their lane only on the last link, where the right one was queued.
"""

from __future__ import annotations

import pytest

from conftest import make_sim
from mobsim.demand.trips import Trip
from mobsim.net.network import Link, Movement, Network, Node


def chain_net(short: float = 30.0, far: float = 30.0) -> Network:
    """A (200 m) -> S1 (``short`` m) -> S2 (``far`` m) -> R or T; two lanes up to S2, lane by lane;
    S2's lane 0 leads only to R, its lane 1 only to T."""
    x1, x2 = 200.0, 200.0 + short
    x3 = x2 + far
    nodes = [Node("o", 0.0, 0.0), Node("a", x1, 0.0), Node("b", x2, 0.0), Node("c", x3, 0.0),
             Node("r", x3 + 100.0, -50.0), Node("t", x3 + 100.0, 50.0)]
    links = [Link("A", "o", "a", 200.0, 13.89, 2), Link("S1", "a", "b", short, 13.89, 2),
             Link("S2", "b", "c", far, 13.89, 2), Link("R", "c", "r", 112.0, 13.89, 1),
             Link("T", "c", "t", 112.0, 13.89, 1)]
    mv = [Movement("a", "A", 0, "S1", 0), Movement("a", "A", 1, "S1", 1),
          Movement("b", "S1", 0, "S2", 0), Movement("b", "S1", 1, "S2", 1),
          Movement("c", "S2", 0, "R", 0, turn="r"), Movement("c", "S2", 1, "T", 0, turn="l")]
    return Network(nodes, links, mv)


def lanes_on(net: Network, far: float) -> dict[str, set[int]]:
    """The lane indices a vehicle bound for T, departing on A's lane 0, uses on each link."""
    sim = make_sim(net, [Trip("v", "A", "T", 0.0, depart_lane="0")], sim__end=150.0)
    a = sim.cn.arrays
    used: dict[str, set[int]] = {}
    while sim.time < 150.0:
        sim.step(1)
        V = sim.vehicles()
        if V.status[0] != 1:
            break
        lane = int(V.lane[0])
        used.setdefault(sim.cn.link_ids[a.lane_link[lane]], set()).add(int(a.lane_index[lane]))
    assert sim.vehicles().status[0] == 2, "it arrives"
    return used


def test_the_lane_needed_three_links_ahead_is_taken_on_the_first() -> None:
    """S1 and S2 are 30 m each: on A the vehicle already knows that T needs S2's lane 1, changes
    to A's lane 1 there and drives S1 and S2 on lane 1 only (looking two links ahead, it found
    out on S1)."""
    used = lanes_on(chain_net(30.0, 30.0), 30.0)
    assert 1 in used["A"]
    assert used["S1"] == {1} and used["S2"] == {1}


@pytest.mark.parametrize("far", [400.0, 1000.0])
def test_a_split_more_than_20_s_ahead_does_not_move_the_vehicle_yet(far: float) -> None:
    """With S2 400 m or more long (29 s at 13.89 m/s), the split lies beyond the look-ahead from
    A: the vehicle stays on lane 0 over A and changes on S1, from where T is two links on."""
    used = lanes_on(chain_net(30.0, far), far)
    assert used["A"] == {0}
    assert 1 in used["S1"] and used["S2"] == {1}
