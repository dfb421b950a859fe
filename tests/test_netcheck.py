"""check_network: every error it raises, and its warnings."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from mobsim.errors import InputError
from mobsim.net import generators
from mobsim.net.netcheck import check_network, strongly_connected_components
from mobsim.net.network import Link, Movement, Network, Node, SignalPhase, SignalProgram


def corridor() -> Network:
    return generators.corridor(n_signals=2)


def raises(net: Network, *parts: str) -> InputError:
    with pytest.raises(InputError) as info:
        check_network(net)
    msg = str(info.value)
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    assert info.value.source == net.source and info.value.fix
    return info.value


def first_at(net: Network, node: str) -> int:
    return next(i for i, m in enumerate(net.movements) if m.node == node)


def test_generated_networks_are_clean() -> None:
    for net in (generators.district(), corridor(), generators.ring(), generators.grid(2, 2)):
        assert check_network(net) == []


def test_duplicate_node_and_link_ids() -> None:
    net = corridor()
    net.nodes.append(net.nodes[0])
    raises(net, "node 'j0'", "used 2 times", "unique id")
    net = corridor()
    net.links.append(net.links[0])
    raises(net, "link 'W-j0'", "used 2 times")


def test_dangling_node_reference_and_self_loop() -> None:
    net = corridor()
    net.links[0] = replace(net.links[0], from_node="ghost")
    raises(net, "link 'W-j0'", "from_node 'ghost' is not a node")
    net = corridor()
    net.links[0] = replace(net.links[0], from_node="j0")
    raises(net, "starts and ends at node 'j0'")


@pytest.mark.parametrize("field, value, text", [
    ("length", 0.0, "length 0.0 m"), ("length", -3.0, "length -3.0 m"), ("length", math.nan, "length nan"),
    ("speed", 0.0, "speed 0.0 m/s"), ("speed", math.inf, "speed inf"), ("lanes", 0, "lanes 0"),
    ("lanes", 32, "32 lanes: a link has at most 31"),
    ("lanes", 1.5, "lanes 1.5"), ("priority", 0.5, "priority 0.5"),
])
def test_bad_link_values(field: str, value: float, text: str) -> None:
    net = corridor()
    net.links[2] = replace(net.links[2], **{field: value})
    raises(net, f"link '{net.links[2].id}'", text)


def test_bad_node_values() -> None:
    net = corridor()
    net.nodes[2] = replace(net.nodes[2], control="yield")
    raises(net, "node 'W'", "control 'yield'")
    net = corridor()
    net.nodes[2] = replace(net.nodes[2], x=math.nan)
    raises(net, "node 'W'", "not finite")
    net = corridor()
    net.nodes[2] = replace(net.nodes[2], id=" W")
    raises(net, "surrounding spaces")


@pytest.mark.parametrize("change, text", [
    ({"from_link": "nope"}, "from_link 'nope' is not a link"),
    ({"to_link": "nope"}, "to_link 'nope' is not a link"),
    ({"from_lane": 5}, "lane 5 of from_link 'W-j0' is out of range"),
    ({"to_lane": -1}, "lane -1 of to_link"),
    ({"node": "ghost"}, "node 'ghost' is not a node"),
    ({"from_link": "j1-j0"}, "from_link 'j1-j0' ends at node 'j0', not at"),
    ({"to_link": "W-j0"}, "to_link 'W-j0' starts at node 'W', not at 'j0'"),
    ({"kind": "yield"}, "kind 'yield'"),
    ({"turn": "u"}, "turn 'u'"),
    ({"signal_index": -1}, "no signal_index"),
])
def test_bad_movements(change: dict, text: str) -> None:
    net = corridor()
    k = first_at(net, "j0")
    net.movements[k] = replace(net.movements[k], **change)
    if change.get("from_link") == "j1-j0":
        net.movements[k] = replace(net.movements[k], node="j1")
    raises(net, text)


def test_duplicate_movement_and_signal_index_at_unsignalised_node() -> None:
    net = corridor()
    net.movements.append(net.movements[0])
    raises(net, "listed twice")
    net = corridor()
    k = first_at(net, "W")
    net.movements[k] = replace(net.movements[k], signal_index=0)
    raises(net, "signal_index 0 at a 'none' node", "set signal_index to -1")


def test_lane_without_movement_is_a_lane_drop_and_a_link_without_one_an_error() -> None:
    net = corridor()
    net.movements = [m for m in net.movements if not (m.from_link == "W-j0" and m.from_lane == 1)]
    (w,) = [w for w in check_network(net) if "lane drops" in w]
    assert w.startswith("1 lane(s) have no movement at their end") and w.endswith("W-j0:1")
    net.movements = [m for m in net.movements if m.from_link != "W-j0"]
    raises(net, "link 'W-j0'", "no lane has a movement out of node 'j0'", "add a movement")


def test_signal_program_errors() -> None:
    net = corridor()
    net.signals = net.signals[1:]
    raises(net, "node 'j0'", "signal node has no signal program")
    net = corridor()
    net.signals.append(replace(net.signals[0], program_id="night"))
    raises(net, "more than one signal program")
    net = corridor()
    net.signals.append(SignalProgram("W", (SignalPhase(10.0, ""),)))
    raises(net, "node 'W' has control 'none', not signal")
    prog = corridor().signals[0]
    n = len(prog.phases[0].state)
    for phases, text in [
        ((SignalPhase(30.0, "G" * (n - 1)),), f"has {n - 1} characters but the node's movements use {n}"),
        ((SignalPhase(30.0, "X" * n),), "characters ['X'] outside 'Ggyros'"),
        ((SignalPhase(0.0, "G" * n),), "duration 0.0 s"),
        ((SignalPhase(-1.0, "G" * n),), "duration -1.0 s"),
        ((), "no phases"),
    ]:
        net = corridor()
        net.signals[0] = replace(prog, phases=phases)
        raises(net, "signal program '0' of node 'j0'", text)


def test_warning_for_unconnected_part() -> None:
    net = generators.grid(2, 2)
    net.nodes += [Node("X", 1000.0, 0.0), Node("Y", 1100.0, 0.0)]
    net.links += [Link("X-Y", "X", "Y", 100.0, 10.0), Link("Y-X", "Y", "X", 100.0, 10.0)]
    net.movements += [Movement("Y", "X-Y", 0, "Y-X", 0, turn="t"),
                      Movement("X", "Y-X", 0, "X-Y", 0, turn="t")]
    warnings = check_network(net)
    assert len(warnings) == 2
    assert "2 link(s) cannot be reached from the main part" in warnings[0] and "X-Y, Y-X" in warnings[0]
    assert "2 link(s) cannot reach the main part" in warnings[1]


def test_warning_for_one_way_dead_end_part() -> None:
    # stub W0 loses its U-turn and leads on, one way, to a sink X: n0_0-W0 can no longer get back,
    # and W0-n0_0 (no longer a pure entry, since W0 has an inbound link) cannot be reached
    net = generators.grid(2, 2)
    net.nodes.append(Node("X", -200.0, 0.0))
    net.links.append(Link("W0-X", "W0", "X", 50.0, 10.0))
    net.movements = [m for m in net.movements if m.node != "W0"] + [Movement("W0", "n0_0-W0", 0, "W0-X", 0)]
    warnings = check_network(net)
    assert len(warnings) == 2
    assert "1 link(s) cannot be reached from the main part" in warnings[0] and "W0-n0_0" in warnings[0]
    assert "1 link(s) cannot reach the main part" in warnings[1] and "n0_0-W0" in warnings[1]


def test_no_warning_for_networks_without_cycles() -> None:
    assert check_network(generators.single_link()) == []
    assert check_network(generators.signal_approach()) == []


def test_short_link_and_no_green_warnings() -> None:
    net = generators.single_link(length=5.0)
    assert any("shorter than 10 m" in w and "a-b" in w for w in check_network(net))
    net = generators.signal_approach(lanes=2)
    prog = net.signals[0]
    net.signals[0] = replace(prog, phases=tuple(replace(p, state="r" + p.state[1:]) for p in prog.phases))
    assert any("index(es) 0 never get green" in w for w in check_network(net))


def test_strongly_connected_components() -> None:
    # 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 4 -> 3, 5 alone
    succ = [[1], [2], [0, 3], [4], [3], []]
    comp = strongly_connected_components(6, succ)
    assert comp[0] == comp[1] == comp[2]
    assert comp[3] == comp[4] != comp[0]
    assert len(set(comp)) == 3
    # a long chain does not hit the recursion limit
    n = 5000
    comp = strongly_connected_components(n, [[(i + 1) % n] for i in range(n)])
    assert len(set(comp)) == 1


def test_too_many_movements_at_one_node() -> None:
    """Foes are stored as a byte (their rank among the node's movements): a node has at most
    MAX_NODE_MOVEMENTS lane-to-lane connections; the busiest node of SUMO's OSM city has 18."""
    from mobsim.net.netcheck import MAX_NODE_MOVEMENTS

    nodes = [Node("a", 0.0, 0.0), Node("j", 100.0, 0.0, "priority"), Node("b", 200.0, 0.0)]
    links = [Link("a-j", "a", "j", 100.0, 13.9, lanes=17), Link("j-b", "j", "b", 100.0, 13.9, lanes=16)]
    movements = [Movement("j", "a-j", p, "j-b", q) for p in range(17) for q in range(16)]
    net = Network(nodes, links, movements, source="wide.net")
    assert len(movements) > MAX_NODE_MOVEMENTS
    raises(net, "node 'j'", "272 movements (lane-to-lane connections): a node has at most "
           f"{MAX_NODE_MOVEMENTS}")
    links[0] = replace(links[0], lanes=16)
    ok = Network(nodes, links, [m for m in movements if m.from_lane < 16], source="wide.net")
    assert len(ok.movements) == MAX_NODE_MOVEMENTS
    check_network(ok)  # at the limit: accepted


def test_foes_decode_to_conflicting_movements_of_the_same_node() -> None:
    """The compiled foe lists (ranks at the node) decode to movements of the same node; conflicts
    are symmetric; crossing movements of a 4-leg junction conflict, and one approach's never do."""
    import numpy as np

    from mobsim.net.compile import compile_network

    net = generators.grid(rows=3, cols=3, block_length=150.0, lanes=2, signalised=False)
    a = compile_network(net).arrays
    n_mv = len(a.mv_node)
    pairs = set()
    for m in range(n_mv):
        node0 = a.node_mv_start[a.mv_node[m]]
        for q in range(a.mv_foe_start[m], a.mv_foe_start[m + 1]):
            f = int(a.node_mv[node0 + a.mv_foes[q]])
            assert a.mv_node[f] == a.mv_node[m] and f != m
            assert a.lane_link[a.mv_from_lane[f]] != a.lane_link[a.mv_from_lane[m]]
            pairs.add((m, f))
    assert pairs and all((f, m) in pairs for m, f in pairs)
    assert a.mv_foes.dtype == np.uint8
