"""Default movements (lane-to-lane connections) and default fixed-time signal programs.

Used when a network file leaves them out (:func:`mobsim.net.netio.read_network`) and by the network
generators (:mod:`mobsim.net.generators`). Everything here is deterministic: the same network gives
the same movements in the same order.

Geometry: directions come from node coordinates, or from a link's ``shape`` where it has one (the
last segment of the incoming link, the first segment of the outgoing one). The turning angle is
signed, in degrees, left positive (y axis up): ``|angle| < 45`` straight ``"s"``, ``45..150``
left ``"l"``, ``-150..-45`` right ``"r"``, ``|angle| >= 150`` U-turn ``"t"``.

Lane rules (lane 0 is the rightmost):

* U-turns back to the node the incoming link came from are made only at dead ends (where they
  are the only way out).
* If an incoming link has only one way out, every lane ``i`` goes there, to lane
  ``min(i, lanes_out - 1)``.
* Otherwise right turns leave from lane 0 to lane 0, left turns and U-turns from the leftmost
  lane to the leftmost lane, straight movements from every lane ``i`` to ``min(i, lanes_out - 1)``.
  A lane left without a movement (a middle lane where no road goes straight on) goes to the way
  out nearest to its position, right to left.

Kinds: every movement is ``"major"`` at ``"none"`` and ``"signal"`` nodes (the signal decides). At
``"priority"`` nodes the approaches with the highest ``Link.priority`` are the major road (if more
than two tie, the two most nearly opposite ones: the through road); their straight and right
movements are ``"major"``, their left turns and U-turns are ``"minor"`` (they yield to the
opposing major stream, as in SUMO), and every movement from other approaches is ``"minor"``.

Signal indices: at ``"signal"`` nodes each movement gets its own index, in the order the
movements are listed: incoming links in network order, then ways out from right to left, then
lanes from right to left (0 up).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import NamedTuple

from mobsim.errors import InputError
from mobsim.net.network import Link, Movement, Network, Node, SignalPhase, SignalProgram

#: Below this absolute turning angle (degrees) a movement is straight.
STRAIGHT_MAX_DEG = 45.0
#: From this absolute turning angle (degrees) on a movement is a U-turn.
UTURN_MIN_DEG = 150.0
#: Shortest green (s) :func:`default_signal_program` will make.
MIN_GREEN = 5.0


# --------------------------------------------------------------------------------------------
# geometry


def _points(link: Link, nodes: dict[str, Node]) -> Sequence[tuple[float, float]]:
    if len(link.shape) >= 2:
        return link.shape
    a, b = nodes[link.from_node], nodes[link.to_node]
    return ((a.x, a.y), (b.x, b.y))


def end_direction(link: Link, nodes: dict[str, Node]) -> tuple[float, float]:
    """Direction (dx, dy) in m of the last non-degenerate segment of ``link`` (into its to-node)."""
    pts = _points(link, nodes)
    for i in range(len(pts) - 1, 0, -1):
        dx, dy = pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]
        if dx or dy:
            return float(dx), float(dy)
    return 0.0, 0.0


def start_direction(link: Link, nodes: dict[str, Node]) -> tuple[float, float]:
    """Direction (dx, dy) in m of the first non-degenerate segment of ``link`` (out of its from-node)."""
    pts = _points(link, nodes)
    for i in range(1, len(pts)):
        dx, dy = pts[i][0] - pts[i - 1][0], pts[i][1] - pts[i - 1][1]
        if dx or dy:
            return float(dx), float(dy)
    return 0.0, 0.0


def angle_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Signed angle in degrees from direction ``a`` to direction ``b``, left (counter-clockwise) positive."""
    if a == (0.0, 0.0) or b == (0.0, 0.0):
        return 0.0
    cross = a[0] * b[1] - a[1] * b[0]
    dot = a[0] * b[0] + a[1] * b[1]
    return math.degrees(math.atan2(cross, dot))


def turn_angle(in_link: Link, out_link: Link, nodes: dict[str, Node]) -> float:
    """Signed turning angle in degrees (left positive) from ``in_link`` onto ``out_link``."""
    return angle_between(end_direction(in_link, nodes), start_direction(out_link, nodes))


def classify_turn(angle: float) -> str:
    """Turn code for a signed turning angle in degrees: ``"s"``, ``"l"``, ``"r"`` or ``"t"``."""
    if abs(angle) < STRAIGHT_MAX_DEG:
        return "s"
    if abs(angle) >= UTURN_MIN_DEG:
        return "t"
    return "l" if angle > 0 else "r"


def _node_map(net: Network) -> dict[str, Node]:
    return {n.id: n for n in net.nodes}


def _adjacency(links: Iterable[Link]) -> tuple[dict[str, list[Link]], dict[str, list[Link]]]:
    incoming: dict[str, list[Link]] = defaultdict(list)
    outgoing: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        outgoing[link.from_node].append(link)
        incoming[link.to_node].append(link)
    return incoming, outgoing


# --------------------------------------------------------------------------------------------
# movements


def _ways_out(in_link: Link, outs: list[Link], nodes: dict[str, Node]) -> list[tuple[Link, float]]:
    """The outgoing links ``in_link`` may turn onto, with turning angles, sorted right to left."""
    cands = [o for o in outs if o.to_node != in_link.from_node] or list(outs)
    with_angle = [(o, turn_angle(in_link, o, nodes)) for o in cands]
    order = sorted(range(len(with_angle)), key=lambda k: (with_angle[k][1], k))
    return [with_angle[k] for k in order]


def _lane_pairs(in_link: Link, ways: list[tuple[Link, float]]) -> list[tuple[int, Link, int, str]]:
    """(from_lane, out_link, to_lane, turn) for one incoming link, by the lane rules above."""
    n = in_link.lanes
    pairs: dict[tuple[int, str], tuple[int, Link, int, str]] = {}

    def add(i: int, out: Link, j: int, turn: str) -> None:
        pairs.setdefault((i, out.id), (i, out, j, turn))

    if len(ways) == 1:
        out, ang = ways[0]
        for i in range(n):
            add(i, out, min(i, out.lanes - 1), classify_turn(ang))
    else:
        for out, ang in ways:
            turn = classify_turn(ang)
            if turn == "s":
                for i in range(n):
                    add(i, out, min(i, out.lanes - 1), turn)
            elif turn == "r":
                add(0, out, 0, turn)
            else:
                add(n - 1, out, out.lanes - 1, turn)
        covered = {i for i, _ in pairs}
        k = len(ways)
        for i in range(n):
            if i not in covered:
                pos = round(i * (k - 1) / (n - 1)) if n > 1 else 0
                out, ang = ways[pos]
                add(i, out, min(i, out.lanes - 1), classify_turn(ang))
    way_rank = {out.id: r for r, (out, _) in enumerate(ways)}
    return sorted(pairs.values(), key=lambda p: (way_rank[p[1].id], p[0]))


def major_approaches(incoming: list[Link], nodes: dict[str, Node]) -> set[str]:
    """Ids of the major-road approaches among the incoming links of a priority node.

    The approaches with the highest ``priority``; if more than two tie, the pair whose directions
    of travel are most nearly opposite (more lanes, then earlier in the list, break ties).
    """
    if not incoming:
        return set()
    top = max(link.priority for link in incoming)
    cands = [link for link in incoming if link.priority == top]
    if len(cands) <= 2:
        return {link.id for link in cands}
    best: tuple[float, int, int, int] | None = None
    best_pair = (cands[0], cands[1])
    for a in range(len(cands)):
        for b in range(a + 1, len(cands)):
            opp = abs(angle_between(end_direction(cands[a], nodes), end_direction(cands[b], nodes)))
            key = (-round(opp, 6), -(cands[a].lanes + cands[b].lanes), a, b)
            if best is None or key < best:
                best, best_pair = key, (cands[a], cands[b])
    return {best_pair[0].id, best_pair[1].id}


def _kind(node: Node, in_link: Link, turn: str, majors: set[str]) -> str:
    if node.control != "priority":
        return "major"
    if in_link.id not in majors:
        return "minor"
    if turn in ("l", "t") and len(majors) >= 2:
        return "minor"
    return "major"


def node_movements(node: Node, incoming: list[Link], outgoing: list[Link],
                   nodes: dict[str, Node]) -> list[Movement]:
    """Default movements through one node (see the module docstring for the rules)."""
    if not outgoing:
        return []
    majors = major_approaches(incoming, nodes) if node.control == "priority" else set()
    result: list[Movement] = []
    for in_link in incoming:
        ways = _ways_out(in_link, outgoing, nodes)
        for i, out, j, turn in _lane_pairs(in_link, ways):
            result.append(Movement(node.id, in_link.id, i, out.id, j,
                                   kind=_kind(node, in_link, turn, majors), turn=turn))
    if node.control == "signal":
        result = [replace(m, signal_index=k) for k, m in enumerate(result)]
    return result


def default_movements(net: Network) -> list[Movement]:
    """Movements for every node of ``net`` by the default rules (module docstring).

    Ignores ``net.movements``. Nodes are visited in ``net.nodes`` order, incoming links in
    ``net.links`` order.
    """
    nodes = _node_map(net)
    incoming, outgoing = _adjacency(net.links)
    result: list[Movement] = []
    for node in net.nodes:
        result.extend(node_movements(node, incoming[node.id], outgoing[node.id], nodes))
    return result


# --------------------------------------------------------------------------------------------
# signal programs


def _axis(direction: tuple[float, float]) -> float:
    """Axis angle of a direction in degrees, in [0, 180)."""
    return math.degrees(math.atan2(direction[1], direction[0])) % 180.0


def _axis_diff(a: float, b: float) -> float:
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


def signal_groups(approaches: list[Link], nodes: dict[str, Node]) -> tuple[list[str], list[str]]:
    """Split approach link ids into two phase groups by direction.

    The first group holds the leading approach (highest ``priority``, then most lanes, then first
    in the list) and every approach whose axis is within 45 degrees of its axis (so opposite
    approaches share a phase); the second group holds the rest (it may be empty).
    """
    if not approaches:
        return [], []
    lead = min(range(len(approaches)), key=lambda k: (-approaches[k].priority, -approaches[k].lanes, k))
    lead_axis = _axis(end_direction(approaches[lead], nodes))
    first: list[str] = []
    second: list[str] = []
    for link in approaches:
        near = _axis_diff(_axis(end_direction(link, nodes)), lead_axis) <= 45.0
        (first if near else second).append(link.id)
    return first, second


def _green_states(ms: list[Movement], group: list[str], n_idx: int) -> str:
    """State string of the green phase that serves the approaches in ``group``."""
    chars = ["r"] * n_idx
    opposed = len(group) >= 2
    for m in ms:
        if m.from_link not in group:
            continue
        ch = "g" if (m.turn in ("l", "t") and opposed) else "G"
        if chars[m.signal_index] != "g":
            chars[m.signal_index] = ch
    return "".join(chars)


def _clearance(state: str, yellow: float, all_red: float) -> list[SignalPhase]:
    phases = []
    if yellow > 0:
        phases.append(SignalPhase(yellow, "".join("y" if c in "Gg" else "r" for c in state)))
    if all_red > 0:
        phases.append(SignalPhase(all_red, "r" * len(state)))
    return phases


def _split_greens(effective: float, lanes_a: int, lanes_b: int,
                  green_split: float | None) -> tuple[float, float]:
    share = green_split if green_split is not None else lanes_a / max(lanes_a + lanes_b, 1)
    g_a = float(round(effective * share))
    g_a = min(max(g_a, MIN_GREEN), effective - MIN_GREEN)
    return g_a, effective - g_a


class SignalIndex(NamedTuple):
    """Look-ups :func:`default_signal_program` needs, built once per network by
    :func:`signal_index`: links and nodes by id, and the signalised movements of each node."""

    links: dict[str, Link]
    nodes: dict[str, Node]
    by_node: dict[str, list[Movement]]


def signal_index(net: Network, movements: Sequence[Movement]) -> SignalIndex:
    """The :class:`SignalIndex` of ``net`` with ``movements``. Programs for many nodes share one:
    built per node, these look-ups made a grid's programs quadratic in its size (a 25,000-node
    grid took ten minutes)."""
    by_node: dict[str, list[Movement]] = defaultdict(list)
    for m in movements:
        if m.signal_index >= 0:
            by_node[m.node].append(m)
    return SignalIndex({link.id: link for link in net.links}, _node_map(net), dict(by_node))


def default_signal_program(net: Network, node_id: str, movements: Sequence[Movement],
                           cycle: float = 90.0, yellow: float = 3.0, all_red: float = 2.0,
                           green_split: float | None = None, offset: float = 0.0,
                           program_id: str = "0", index: SignalIndex | None = None) -> SignalProgram:
    """A two-phase fixed-time program for signal node ``node_id``.

    The approaches are split into two groups by direction (:func:`signal_groups`, e.g. E-W and
    N-S). Each group's green phase gives ``"G"`` to straight and right movements and ``"g"``
    (permissive: yield to the opposing stream) to left turns and U-turns where an opposing
    approach shares the phase; then ``yellow`` s of ``"y"`` and ``all_red`` s of all ``"r"``.
    Greens (whole seconds, at least 5 s) split the rest of the ``cycle`` (s) in proportion to the
    lanes of the two groups, or as ``green_split`` (share of the first group, 0..1) when given.
    With fewer than two groups the program is one always-green phase of ``cycle`` s.
    ``offset`` (s) shifts the cycle start. Only movements at ``node_id`` with a ``signal_index``
    are used; the states have ``max(signal_index) + 1`` characters. ``index``: the look-ups of
    ``signal_index(net, movements)``, when programs are made for many nodes (built here if None).
    """
    where = f"node '{node_id}'"
    if index is None:
        index = signal_index(net, [m for m in movements if m.node == node_id])
    ms = index.by_node.get(node_id, [])
    n_idx = max((m.signal_index for m in ms), default=-1) + 1
    links = index.links
    approaches = [links[lid] for lid in dict.fromkeys(m.from_link for m in ms)]
    first, second = signal_groups(approaches, index.nodes)
    if not (cycle > 0 and yellow >= 0 and all_red >= 0):
        raise InputError(f"signal timing must be positive (cycle={cycle}, yellow={yellow}, "
                         f"all_red={all_red})", source=net.source, element=where,
                         fix="use cycle > 0 s and yellow, all_red >= 0 s")
    if green_split is not None and not 0.0 < green_split < 1.0:
        raise InputError(f"green_split={green_split} is not between 0 and 1", source=net.source,
                         element=where, fix="give the first phase's share of green, e.g. 0.5")
    green_a = _green_states(ms, first, n_idx)
    if not second:
        return SignalProgram(node_id, (SignalPhase(float(cycle), green_a),), float(offset), program_id)
    effective = cycle - 2 * (yellow + all_red)
    if effective < 2 * MIN_GREEN:
        raise InputError(f"cycle {cycle} s leaves {effective} s of green for two phases "
                         f"after yellow {yellow} s and all-red {all_red} s", source=net.source,
                         element=where, fix=f"use a cycle of at least {2 * (yellow + all_red + MIN_GREEN)} s")
    lanes_a = sum(links[lid].lanes for lid in first)
    lanes_b = sum(links[lid].lanes for lid in second)
    g_a, g_b = _split_greens(effective, lanes_a, lanes_b, green_split)
    green_b = _green_states(ms, second, n_idx)
    phases = [SignalPhase(g_a, green_a), *_clearance(green_a, yellow, all_red),
              SignalPhase(g_b, green_b), *_clearance(green_b, yellow, all_red)]
    return SignalProgram(node_id, tuple(phases), float(offset), program_id)


def default_signal_programs(net: Network, movements: Sequence[Movement] | None = None,
                            cycle: float = 90.0) -> list[SignalProgram]:
    """Default programs for every ``"signal"`` node of ``net`` that has none, in node order."""
    ms = net.movements if movements is None else movements
    have = {p.node for p in net.signals}
    index = signal_index(net, ms)
    return [default_signal_program(net, n.id, ms, cycle=cycle, index=index)
            for n in net.nodes if n.control == "signal" and n.id not in have]
