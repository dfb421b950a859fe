"""Generators, default movements and default signal programs."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from mobsim.errors import InputError
from mobsim.net import generators
from mobsim.net.movements import (
    classify_turn,
    default_movements,
    default_signal_program,
    default_signal_programs,
    signal_groups,
    signal_index,
)
from mobsim.net.netcheck import check_network
from mobsim.net.network import Link, Network, Node

ALL = [generators.grid, generators.district, generators.corridor, generators.ring,
       generators.single_link, generators.signal_approach]


def controls(net: Network) -> Counter:
    return Counter(n.control for n in net.nodes)


def every_lane_served(net: Network) -> bool:
    has_out = {link.from_node for link in net.links}
    served = {(m.from_link, m.from_lane) for m in net.movements}
    return all((link.id, k) in served for link in net.links if link.to_node in has_out
               for k in range(link.lanes))


@pytest.mark.parametrize("make", ALL)
def test_generators_give_checked_deterministic_networks(make) -> None:
    net = make()
    assert check_network(net) == []
    assert every_lane_served(net)
    assert net == make()
    assert net.movements == default_movements(net)


def test_grid_counts_and_ids() -> None:
    net = generators.grid(3, 4, lanes=2)
    # 12 junctions + 2 * (3 + 4) stubs; 2 * (3*3 + 4*2) inner links + 2 per stub
    assert len(net.nodes) == 12 + 14
    assert len(net.links) == 2 * (3 * 3 + 4 * 2) + 2 * 14
    assert controls(net) == {"signal": 12, "none": 14}
    ids = {link.id for link in net.links}
    assert {"n0_0-n0_1", "n0_1-n0_0", "W0-n0_0", "n0_0-W0", "n2_3-N3", "S0-n0_0"} <= ids
    assert all(link.lanes == 2 for link in net.links)
    plain = generators.grid(3, 3, boundary_links=False, signalised=False)
    assert len(plain.nodes) == 9 and len(plain.links) == 24
    assert controls(plain) == {"priority": 5, "none": 4}  # corners have two approaches


def test_district_size() -> None:
    net = generators.district()
    assert len(net.nodes) == 60 and len(net.links) == 168
    assert controls(net) == {"signal": 12, "priority": 24, "none": 24}
    assert sum(link.lanes for link in net.links) == 224
    arterial = next(link for link in net.links if link.id == "n1_1-n1_2")
    local = next(link for link in net.links if link.id == "n2_2-n2_3")
    assert (arterial.lanes, arterial.priority, arterial.speed) == (2, 2, pytest.approx(50 / 3.6))
    assert (local.lanes, local.priority, local.speed) == (1, 1, pytest.approx(30 / 3.6))


def test_corridor_offsets_and_split() -> None:
    net = generators.corridor(n_signals=4, offsets=[0, 10, 20, 30], green_split=0.6, cycle=80.0)
    assert controls(net) == {"signal": 4, "none": 2 + 8}
    assert [p.offset for p in net.signals] == [0, 10, 20, 30]
    for p in net.signals:
        assert p.cycle == pytest.approx(80.0)
        assert [ph.duration for ph in p.phases] == [42.0, 3.0, 2.0, 28.0, 3.0, 2.0]  # 0.6 of 70 s
    with pytest.raises(InputError, match="offsets"):
        generators.corridor(n_signals=2, offsets=[0.0])


def test_ring_is_closed_and_straight() -> None:
    net = generators.ring(length=230.0, n_links=4, lanes=2)
    assert sum(link.length for link in net.links) == pytest.approx(230.0)
    assert all(m.turn == "s" for m in net.movements)
    assert len(net.movements) == 8  # two lanes through each of four nodes
    for link in net.links:
        r = [math.hypot(x, y) for x, y in link.shape]
        assert r == pytest.approx([230.0 / (2 * math.pi)] * len(r))


def test_single_link_and_signal_approach() -> None:
    net = generators.single_link(length=1000.0, lanes=2, speed=20.0)
    assert [link.id for link in net.links] == ["o-a", "a-b", "b-d"]
    assert net.links[1].length == 1000.0
    sig = generators.signal_approach(cycle=60.0, green=25.0, yellow=3.0, lanes=2)
    (prog,) = sig.signals
    assert [(p.duration, p.state) for p in prog.phases] == [(32.0, "rr"), (25.0, "GG"), (3.0, "yy")]


@pytest.mark.parametrize("call", [
    lambda: generators.grid(0, 3), lambda: generators.grid(2, 2, lanes=0),
    lambda: generators.grid(2, 2, block_length=-1.0), lambda: generators.ring(n_links=1),
    lambda: generators.district(arterial_rows=(9,)), lambda: generators.signal_approach(green=88.0),
    lambda: generators.grid(2, 2, cycle=12.0),
])
def test_bad_generator_arguments(call) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert "mobsim.net.generators" in str(info.value) and info.value.fix


# ---------------------------------------------------------------------------------------------
# default movements


def cross(control: str = "priority", lanes: int = 2, side_lanes: int = 1,
          side_priority: int = 0) -> Network:
    """A junction J with a two-way main road W-E and a side road S (a T junction)."""
    nodes = [Node("W", -100, 0), Node("J", 0, 0, control), Node("E", 100, 0), Node("S", 0, -100)]
    links = [Link("W-J", "W", "J", 100, 10, lanes, 1), Link("E-J", "E", "J", 100, 10, lanes, 1),
             Link("S-J", "S", "J", 100, 10, side_lanes, side_priority),
             Link("J-W", "J", "W", 100, 10, lanes, 1), Link("J-E", "J", "E", 100, 10, lanes, 1),
             Link("J-S", "J", "S", 100, 10, side_lanes, side_priority)]
    return Network(nodes, links, [])


def test_turn_classes_and_lane_rules() -> None:
    net = cross(lanes=2)
    ms = [m for m in default_movements(net) if m.node == "J"]
    from_w = {(m.from_lane, m.to_link, m.to_lane, m.turn) for m in ms if m.from_link == "W-J"}
    # right turn to S from lane 0, straight from both lanes, no U-turn back to W
    assert from_w == {(0, "J-S", 0, "r"), (0, "J-E", 0, "s"), (1, "J-E", 1, "s")}
    from_e = {(m.from_lane, m.to_link, m.to_lane, m.turn) for m in ms if m.from_link == "E-J"}
    assert from_e == {(1, "J-S", 0, "l"), (0, "J-W", 0, "s"), (1, "J-W", 1, "s")}
    from_s = {(m.from_lane, m.to_link, m.to_lane, m.turn) for m in ms if m.from_link == "S-J"}
    assert from_s == {(0, "J-E", 0, "r"), (0, "J-W", 1, "l")}


def test_middle_lane_without_straight_goes_to_nearest_way() -> None:
    net = cross(side_lanes=3)
    ms = [m for m in default_movements(net) if m.from_link == "S-J"]
    assert {(m.from_lane, m.to_link) for m in ms} == {(0, "J-E"), (1, "J-E"), (2, "J-W")}


def test_uturn_only_at_dead_ends() -> None:
    ms = default_movements(cross())
    assert not any(m.turn == "t" for m in ms if m.node == "J")
    # dead ends W, E, S: every lane turns back
    assert {(m.from_link, m.from_lane) for m in ms if m.turn == "t"} == {
        ("J-W", 0), ("J-W", 1), ("J-S", 0), ("J-E", 0), ("J-E", 1)}


def test_priority_kinds() -> None:
    ms = {(m.from_link, m.to_link): m.kind for m in default_movements(cross()) if m.node == "J"}
    assert ms[("W-J", "J-E")] == "major" and ms[("W-J", "J-S")] == "major"
    assert ms[("E-J", "J-S")] == "minor"  # left turn off the major road yields to the opposing stream
    assert ms[("S-J", "J-W")] == "minor" and ms[("S-J", "J-E")] == "minor"
    # equal priorities: the two most opposite approaches are the through road
    net = cross(side_priority=1)
    ms = {(m.from_link, m.to_link): m.kind for m in default_movements(net) if m.node == "J"}
    assert ms[("W-J", "J-E")] == "major" and ms[("S-J", "J-E")] == "minor"
    ms = default_movements(cross(control="none"))
    assert all(m.kind == "major" and m.signal_index == -1 for m in ms)


def test_signal_indices_are_one_per_movement() -> None:
    ms = [m for m in default_movements(cross(control="signal")) if m.node == "J"]
    assert [m.signal_index for m in ms] == list(range(len(ms)))


def test_classify_turn() -> None:
    assert [classify_turn(a) for a in (0, 30, -44, 45, 90, 149, -60, -120, 150, -170, 180)] == \
        ["s", "s", "s", "l", "l", "l", "r", "r", "t", "t", "t"]


# ---------------------------------------------------------------------------------------------
# default signal programs


def test_signal_program_phases_and_cycle() -> None:
    net = generators.grid(1, 1, lanes=1)  # one junction, four one-lane approaches
    (prog,) = net.signals
    assert prog.cycle == pytest.approx(90.0)
    states = [p.state for p in prog.phases]
    assert [p.duration for p in prog.phases] == [40.0, 3.0, 2.0, 40.0, 3.0, 2.0]
    green_a, yellow_a, all_red, green_b = states[0], states[1], states[2], states[3]
    assert set(all_red) == {"r"} and set(yellow_a) == {"y", "r"}
    assert all((a in "Gg") != (b in "Gg") for a, b in zip(green_a, green_b, strict=True))
    ms = {m.signal_index: m for m in net.movements if m.node == "n0_0"}
    for k, ch in enumerate(green_a + green_b):
        if ch in "Gg":
            assert ch == ("g" if ms[k % len(green_a)].turn == "l" else "G")


def test_signal_groups_pair_opposite_approaches() -> None:
    net = cross(control="signal")
    nodes = {n.id: n for n in net.nodes}
    approaches = [link for link in net.links if link.to_node == "J"]
    assert signal_groups(approaches, nodes) == (["W-J", "E-J"], ["S-J"])


def test_green_split_follows_lanes_and_cycle_errors() -> None:
    net = cross(control="signal", lanes=2, side_lanes=1)
    net.movements = default_movements(net)
    prog = default_signal_program(net, "J", net.movements, cycle=60.0, yellow=4.0, all_red=1.0)
    assert [p.duration for p in prog.phases] == [40.0, 4.0, 1.0, 10.0, 4.0, 1.0]  # 4 : 1 lanes of 50 s
    assert prog.cycle == pytest.approx(60.0)
    with pytest.raises(InputError, match="cycle of at least 20.0 s"):
        default_signal_program(net, "J", net.movements, cycle=15.0)


def test_two_approach_signal_is_one_green_phase() -> None:
    net = generators.signal_approach()
    prog = default_signal_program(net, "j", net.movements, cycle=70.0)
    assert [(p.duration, p.state) for p in prog.phases] == [(70.0, "G")]


@pytest.mark.parametrize("make", [generators.district, generators.corridor,
                                  lambda: generators.grid(rows=4, cols=5, lanes=2, cycle=80.0)])
def test_programs_from_one_shared_index_are_the_per_node_programs(make) -> None:
    """Generators and default_signal_programs build one signal_index for all nodes (per node, its
    look-ups made a grid's programs quadratic in size); each program must be the one built for
    its node alone."""
    net = make()
    index = signal_index(net, net.movements)
    signals = [n.id for n in net.nodes if n.control == "signal"]
    assert signals
    for nid in signals:
        alone = default_signal_program(net, nid, net.movements, cycle=75.0)
        assert default_signal_program(net, nid, net.movements, cycle=75.0, index=index) == alone
    bare = Network(net.nodes, net.links, net.movements, [], name=net.name, source=net.source)
    assert default_signal_programs(bare, cycle=75.0) == [
        default_signal_program(net, nid, net.movements, cycle=75.0) for nid in signals]


def test_left_turns_wait_inside_signalised_junctions_as_in_sumo() -> None:
    """With ``left_turns_wait`` every left turn at a signalised junction gets a path through the
    junction (a quarter circle between the innermost lanes) and a waiting position where it
    reaches the opposing lanes; other movements and unsignalised junctions keep points."""
    plain = generators.grid(rows=3, cols=3, lanes=2)
    net = generators.grid(rows=3, cols=3, lanes=2, left_turns_wait=True)
    check_network(net)
    control = {n.id: n.control for n in net.nodes}
    assert [(m.node, m.from_link, m.to_link) for m in net.movements] == \
        [(m.node, m.from_link, m.to_link) for m in plain.movements]
    h = generators.CORNER_RADIUS + 2 * generators.LANE_WIDTH
    r = h + generators.LANE_WIDTH / 2
    lefts = 0
    for m in net.movements:
        if m.turn == "l" and control[m.node] == "signal":
            lefts += 1
            assert m.length == pytest.approx(math.pi / 2 * r) and m.length == pytest.approx(18.85, abs=0.01)
            assert m.wait == pytest.approx(r * math.acos(h / r)) and 0 < m.wait < m.length
        else:
            assert m.length == 0.0 and m.wait == 0.0
    assert lefts == 9 * 4  # every approach of the nine junctions has one left turn
    assert "left_turns_wait=True" in net.source
    assert net.signals == plain.signals
