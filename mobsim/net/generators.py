"""Network generators: pure functions that return a checked :class:`~mobsim.net.network.Network`.

Ids are deterministic and readable. Links are named ``"{from}-{to}"``. Grid junctions are
``"n{row}_{col}"`` at x = col * block, y = row * block (row 0 at the bottom, y up); boundary stubs
(entry/exit nodes outside the grid, control ``"none"``) are ``"W{row}"``, ``"E{row}"``,
``"S{col}"``, ``"N{col}"``. A stub is joined to its junction by two links, so trips can start on
the stub's inbound link (e.g. ``"W0-n0_0"``) and end on its outbound link (``"n0_0-W0"``).

Movements come from :func:`mobsim.net.movements.default_movements`, signal programs from
:func:`mobsim.net.movements.default_signal_program` (unless a generator says otherwise). Units: m,
m/s, s. Bad arguments raise :class:`~mobsim.errors.InputError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mobsim.errors import InputError
from mobsim.net.movements import SignalIndex, default_movements, default_signal_program, signal_index
from mobsim.net.netcheck import check_network
from mobsim.net.network import Link, Movement, Network, Node, SignalPhase, SignalProgram

#: 50 km/h and 30 km/h in m/s.
KMH50 = 50.0 / 3.6
KMH30 = 30.0 / 3.6
#: netconvert's default lane width and junction corner radius (m): the junction geometry of
#: :func:`left_turns_inside`.
LANE_WIDTH = 3.2
CORNER_RADIUS = 4.0


@dataclass(frozen=True)
class _Road:
    """Cross-section of a road: lanes, speed (m/s), priority."""

    lanes: int
    speed: float
    priority: int = 0


class _Builder:
    """Collects nodes and links; ``road`` adds both directions."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: list[Node] = []
        self.links: list[Link] = []
        self._pos: dict[str, tuple[float, float]] = {}

    def node(self, nid: str, x: float, y: float, control: str = "none") -> None:
        self.nodes.append(Node(nid, float(x), float(y), control))
        self._pos[nid] = (float(x), float(y))

    def link(self, a: str, b: str, road: _Road, length: float | None = None,
             shape: tuple[tuple[float, float], ...] = ()) -> None:
        if length is None:
            (xa, ya), (xb, yb) = self._pos[a], self._pos[b]
            length = math.hypot(xb - xa, yb - ya)
        self.links.append(Link(f"{a}-{b}", a, b, float(length), float(road.speed), road.lanes,
                               road.priority, shape))

    def road(self, a: str, b: str, road: _Road) -> None:
        self.link(a, b, road)
        self.link(b, a, road)

    def set_controls(self, control: Callable[[Node, int], str]) -> None:
        """Set each node's control from ``control(node, number_of_approaches)``."""
        approaches: dict[str, int] = {n.id: 0 for n in self.nodes}
        for link in self.links:
            approaches[link.to_node] += 1
        self.nodes = [replace(n, control=control(n, approaches[n.id])) for n in self.nodes]

    def network(self, name: str,
                program: Callable[[Network, str, SignalIndex], SignalProgram] | None = None,
                left_turns_wait: bool = False) -> Network:
        """The finished, checked network; ``program(net, node_id, index)`` makes signal programs
        (``index``: the network's :class:`~mobsim.net.movements.SignalIndex`, built once);
        ``left_turns_wait``: :func:`left_turns_inside`."""
        net = Network(self.nodes, self.links, [], [], name=name, source=self.source)
        net.movements = default_movements(net)
        if left_turns_wait:
            net.movements = left_turns_inside(net)
        make = program or (lambda n, nid, index: default_signal_program(n, nid, n.movements, index=index))
        index = signal_index(net, net.movements)
        net.signals = [make(net, n.id, index) for n in net.nodes if n.control == "signal"]
        check_network(net)
        return net


def left_turns_inside(net: Network) -> list[Movement]:
    """The movements of ``net`` with every left turn at a signalised junction made to wait inside
    the junction, as netconvert builds a permitted left turn (an internal junction): the turning
    vehicle enters on green, waits at the edge of the opposing lanes for the oncoming traffic and
    so frees the stop line for the vehicles behind it on a shared lane.

    The junction is a square of half-width ``h = CORNER_RADIUS + LANE_WIDTH * lanes`` (the most
    lanes of a link into the node); the turn is a quarter circle of radius ``R = h + LANE_WIDTH /
    2`` from the innermost lane to the innermost lane, ``length = pi / 2 * R`` (m), and the waiting
    position is where that arc reaches the opposing lanes, ``wait = R * acos(h / R)`` (m). Two
    lanes: 18.8 m and 6.3 m (netconvert: 19.4 m and 5.0 m). On the 16 x 16 benchmark grid with
    10,000 trips this took mobsim from 866 to 1,005 trips done in 300 s (SUMO 1,008).
    """
    control = {n.id: n.control for n in net.nodes}
    lanes_in: dict[str, int] = {}
    for link in net.links:
        lanes_in[link.to_node] = max(lanes_in.get(link.to_node, 0), link.lanes)
    out = []
    for m in net.movements:
        if m.turn == "l" and control.get(m.node) == "signal":
            h = CORNER_RADIUS + LANE_WIDTH * lanes_in[m.node]
            r = h + LANE_WIDTH / 2
            m = replace(m, length=math.pi / 2 * r, wait=r * math.acos(h / r))
        out.append(m)
    return out


def _require(ok: bool, source: str, element: str, what: str, fix: str) -> None:
    if not ok:
        raise InputError(what, source=source, element=element, fix=fix)


def _positive(source: str, **values: float) -> None:
    for key, v in values.items():
        _require(isinstance(v, (int, float)) and math.isfinite(v) and v > 0, source, key,
                 f"{key}={v!r} is not a positive number", f"give {key} > 0")


def _count(source: str, minimum: int = 1, **values: int) -> None:
    for key, v in values.items():
        _require(isinstance(v, int) and not isinstance(v, bool) and v >= minimum, source, key,
                 f"{key}={v!r} is not an integer >= {minimum}", f"give {key} >= {minimum}")


# --------------------------------------------------------------------------------------------
# grids


def _grid_builder(rows: int, cols: int, block: float, row_road: Callable[[int], _Road],
                  col_road: Callable[[int], _Road], boundary_links: bool, stub: float,
                  source: str) -> _Builder:
    """Junctions ``n{r}_{c}``, two-way roads between neighbours, optional boundary stubs."""
    b = _Builder(source)
    for r in range(rows):
        for c in range(cols):
            b.node(f"n{r}_{c}", c * block, r * block)
    stubs: list[tuple[str, str, _Road]] = []
    if boundary_links:
        top, right = (rows - 1) * block, (cols - 1) * block
        for r in range(rows):
            b.node(f"W{r}", -stub, r * block)
            b.node(f"E{r}", right + stub, r * block)
            stubs += [(f"W{r}", f"n{r}_0", row_road(r)), (f"E{r}", f"n{r}_{cols - 1}", row_road(r))]
        for c in range(cols):
            b.node(f"S{c}", c * block, -stub)
            b.node(f"N{c}", c * block, top + stub)
            stubs += [(f"S{c}", f"n0_{c}", col_road(c)), (f"N{c}", f"n{rows - 1}_{c}", col_road(c))]
    for r in range(rows):
        for c in range(cols - 1):
            b.road(f"n{r}_{c}", f"n{r}_{c + 1}", row_road(r))
    for c in range(cols):
        for r in range(rows - 1):
            b.road(f"n{r}_{c}", f"n{r + 1}_{c}", col_road(c))
    for outer, inner, road in stubs:
        b.road(outer, inner, road)
    return b


def _grid_rc(node: Node) -> tuple[int, int] | None:
    """(row, col) of a grid junction id ``n{r}_{c}``; None for stubs."""
    if not node.id.startswith("n"):
        return None
    r, c = node.id[1:].split("_")
    return int(r), int(c)


def grid(rows: int = 3, cols: int = 3, block_length: float = 200.0, lanes: int = 1,
         speed: float = 13.89, signalised: bool = True, cycle: float = 90.0,
         boundary_links: bool = True, stub_length: float = 100.0, left_turns_wait: bool = False) -> Network:
    """A ``rows`` x ``cols`` grid of junctions ``block_length`` m apart, two-way roads between them.

    Every road has ``lanes`` lanes per direction and speed limit ``speed`` (m/s), priority 0.
    With ``boundary_links`` every boundary junction gets a stub node ``stub_length`` m outside
    each of its open sides (corners get two). Junctions with three or more approaches are
    ``"signal"`` (default two-phase programs of ``cycle`` s) if ``signalised``, else
    ``"priority"`` (equal priorities: the through road is chosen by geometry); junctions with
    fewer approaches and stubs are ``"none"``. With ``left_turns_wait`` the left turns at
    signalised junctions wait inside the junction, as SUMO's do (:func:`left_turns_inside`).
    """
    src = (f"mobsim.net.generators.grid(rows={rows}, cols={cols}, block_length={block_length}, "
           f"lanes={lanes}, speed={speed}, signalised={signalised}"
           + (", left_turns_wait=True)" if left_turns_wait else ")"))
    _count(src, rows=rows, cols=cols, lanes=lanes)
    _positive(src, block_length=block_length, speed=speed, cycle=cycle, stub_length=stub_length)
    road = _Road(lanes, speed, 0)
    b = _grid_builder(rows, cols, block_length, lambda r: road, lambda c: road, boundary_links,
                      stub_length, src)
    junction = "signal" if signalised else "priority"
    b.set_controls(lambda n, k: junction if _grid_rc(n) and k >= 3 else "none")
    return b.network("grid", lambda net, nid, index: default_signal_program(net, nid, net.movements,
                                                                            cycle=cycle, index=index),
                     left_turns_wait=left_turns_wait)


def district(rows: int = 6, cols: int = 6, block_length: float = 200.0,
             arterial_rows: Sequence[int] = (1, 4), arterial_cols: Sequence[int] = (1, 4),
             arterial_lanes: int = 2, arterial_speed: float = KMH50, local_speed: float = KMH30,
             cycle: float = 90.0, stub_length: float = 100.0, left_turns_wait: bool = False) -> Network:
    """The default demo district: a grid of local streets crossed by signalised arterials.

    ``rows`` x ``cols`` junctions ``block_length`` m apart (default 6 x 6, 1 km x 1 km). Rows in
    ``arterial_rows`` and columns in ``arterial_cols`` are arterials: ``arterial_lanes`` lanes,
    ``arterial_speed`` m/s (50 km/h), priority 2. The other streets are one-lane local streets
    at ``local_speed`` m/s (30 km/h), east-west ones priority 1, north-south ones priority 0.
    Junctions: ``"signal"`` where two arterials cross and where an arterial crosses a local
    street away from the boundary (default two-phase programs of ``cycle`` s, green in
    proportion to lanes); ``"priority"`` elsewhere (the higher-priority road is major). Every
    boundary junction has entry/exit stubs ``stub_length`` m long with the cross-section of
    the road they extend. ``left_turns_wait``: as in :func:`grid`.
    """
    src = (f"mobsim.net.generators.district(rows={rows}, cols={cols}, block_length={block_length}"
           + (", left_turns_wait=True)" if left_turns_wait else ")"))
    _count(src, minimum=2, rows=rows, cols=cols)
    _count(src, arterial_lanes=arterial_lanes)
    _positive(src, block_length=block_length, arterial_speed=arterial_speed,
              local_speed=local_speed, cycle=cycle, stub_length=stub_length)
    for key, values, n in (("arterial_rows", arterial_rows, rows), ("arterial_cols", arterial_cols, cols)):
        _require(all(isinstance(v, int) and 0 <= v < n for v in values), src, key,
                 f"{key}={tuple(values)} has an index outside 0..{n - 1}", f"give indices 0..{n - 1}")
    art = _Road(arterial_lanes, arterial_speed, 2)
    a_rows, a_cols = set(arterial_rows), set(arterial_cols)
    b = _grid_builder(rows, cols, block_length,
                      lambda r: art if r in a_rows else _Road(1, local_speed, 1),
                      lambda c: art if c in a_cols else _Road(1, local_speed, 0),
                      True, stub_length, src)

    def control(node: Node, approaches: int) -> str:
        rc = _grid_rc(node)
        if rc is None:
            return "none"
        r, c = rc
        interior = 0 < r < rows - 1 and 0 < c < cols - 1
        arterials = (r in a_rows) + (c in a_cols)
        if arterials == 2 or (arterials == 1 and interior):
            return "signal"
        return "priority"

    b.set_controls(control)
    return b.network("district",
                     lambda net, nid, index: default_signal_program(net, nid, net.movements, cycle=cycle,
                                                                    index=index),
                     left_turns_wait=left_turns_wait)


# --------------------------------------------------------------------------------------------
# corridors and small test networks


def corridor(n_signals: int = 3, spacing: float = 400.0, lanes: int = 2, speed: float = 13.89,
             cross_lanes: int = 1, cycle: float = 90.0, offsets: Sequence[float] | None = None,
             green_split: float = 0.5, cross_speed: float | None = None,
             side_length: float = 200.0, left_turns_wait: bool = False) -> Network:
    """An east-west arterial through ``n_signals`` signalised junctions ``j0``..``j{n-1}``.

    Junctions are ``spacing`` m apart on y = 0; the arterial (``lanes`` lanes, ``speed`` m/s,
    priority 2) continues ``spacing`` m past both ends to stubs ``W`` and ``E``. Every junction
    has side streets (``cross_lanes`` lanes, ``cross_speed`` m/s, default ``speed``, priority 1)
    to stubs ``N{i}`` and ``S{i}`` ``side_length`` m away. Each signal runs a two-phase program
    of ``cycle`` s: the arterial gets ``green_split`` of the green time, the side streets the
    rest; ``offsets`` (s, one per junction) shift the programs; ``None`` means all 0. A green
    wave eastwards is ``offsets=[i * spacing / speed for i in range(n_signals)]``.
    ``left_turns_wait``: as in :func:`grid`.
    """
    src = (f"mobsim.net.generators.corridor(n_signals={n_signals}, spacing={spacing}, lanes={lanes}"
           + (", left_turns_wait=True)" if left_turns_wait else ")"))
    _count(src, n_signals=n_signals, lanes=lanes, cross_lanes=cross_lanes)
    cross_speed = speed if cross_speed is None else cross_speed
    _positive(src, spacing=spacing, speed=speed, cross_speed=cross_speed, cycle=cycle,
              side_length=side_length)
    offs = [0.0] * n_signals if offsets is None else [float(o) for o in offsets]
    _require(len(offs) == n_signals and all(math.isfinite(o) for o in offs), src, "offsets",
             f"offsets has {len(offs)} values for {n_signals} signals", "give one offset (s) per signal")
    art, side = _Road(lanes, speed, 2), _Road(cross_lanes, cross_speed, 1)
    b = _Builder(src)
    for i in range(n_signals):
        b.node(f"j{i}", i * spacing, 0.0, "signal")
    b.node("W", -spacing, 0.0)
    b.node("E", n_signals * spacing, 0.0)
    for i in range(n_signals):
        b.node(f"N{i}", i * spacing, side_length)
        b.node(f"S{i}", i * spacing, -side_length)
    b.road("W", "j0", art)
    for i in range(n_signals - 1):
        b.road(f"j{i}", f"j{i + 1}", art)
    b.road(f"j{n_signals - 1}", "E", art)
    for i in range(n_signals):
        b.road(f"N{i}", f"j{i}", side)
        b.road(f"S{i}", f"j{i}", side)

    def program(net: Network, nid: str, index: SignalIndex) -> SignalProgram:
        return default_signal_program(net, nid, net.movements, cycle=cycle, green_split=green_split,
                                      offset=offs[int(nid[1:])], index=index)

    return b.network("corridor", program, left_turns_wait=left_turns_wait)


def ring(length: float = 230.0, n_links: int = 4, lanes: int = 1, speed: float = 13.89,
         segments: int = 8) -> Network:
    """A closed one-way ring road (counter-clockwise) of total ``length`` m, without entries or exits.

    ``n_links`` links ``r{i}-r{i+1}`` of ``length / n_links`` m each join nodes ``r0``..``r{n-1}``
    (control ``"none"``) on a circle; each link's shape is an arc of ``segments`` segments, so
    every movement is straight. Default: the 230 m ring of the Sugiyama et al. (2008) experiment.
    """
    src = f"mobsim.net.generators.ring(length={length}, n_links={n_links}, lanes={lanes})"
    _count(src, minimum=2, n_links=n_links)
    _count(src, lanes=lanes, segments=segments)
    _positive(src, length=length, speed=speed)
    radius = length / (2.0 * math.pi)
    pos = [(radius * math.cos(2 * math.pi * i / n_links), radius * math.sin(2 * math.pi * i / n_links))
           for i in range(n_links)]
    b = _Builder(src)
    for i, (x, y) in enumerate(pos):
        b.node(f"r{i}", x, y)
    road = _Road(lanes, speed, 0)
    for i in range(n_links):
        j = (i + 1) % n_links
        arc = [(radius * math.cos(2 * math.pi * (i + k / segments) / n_links),
                radius * math.sin(2 * math.pi * (i + k / segments) / n_links)) for k in range(1, segments)]
        b.link(f"r{i}", f"r{j}", road, length=length / n_links, shape=(pos[i], *arc, pos[j]))
    return b.network("ring")


def single_link(length: float = 1000.0, lanes: int = 1, speed: float = 13.89,
                stub_length: float = 100.0) -> Network:
    """One road ``a-b`` of ``length`` m between an origin stub ``o-a`` and a destination stub ``b-d``.

    All links have ``lanes`` lanes and speed limit ``speed`` m/s; all nodes are ``"none"``.
    """
    src = f"mobsim.net.generators.single_link(length={length}, lanes={lanes}, speed={speed})"
    _count(src, lanes=lanes)
    _positive(src, length=length, speed=speed, stub_length=stub_length)
    b = _Builder(src)
    for nid, x in (("o", -stub_length), ("a", 0.0), ("b", length), ("d", length + stub_length)):
        b.node(nid, x, 0.0)
    road = _Road(lanes, speed, 0)
    for u, v in (("o", "a"), ("a", "b"), ("b", "d")):
        b.link(u, v, road)
    return b.network("single_link")


def signal_approach(length: float = 500.0, lanes: int = 1, speed: float = 13.89,
                    cycle: float = 90.0, green: float = 40.0, yellow: float = 3.0,
                    exit_length: float = 200.0, offset: float = 0.0) -> Network:
    """One approach ``o-j`` (``length`` m) to a signalised node ``j``, then an exit ``j-d``.

    The program starts with red (``cycle - green - yellow`` s), then ``green`` s of ``"G"`` and
    ``yellow`` s of ``"y"``, shifted by ``offset`` s: with offset 0 a queue builds from t = 0
    and is released at t = cycle - green - yellow. For queue discharge tests.
    """
    src = f"mobsim.net.generators.signal_approach(length={length}, lanes={lanes}, green={green})"
    _count(src, lanes=lanes)
    _positive(src, length=length, speed=speed, cycle=cycle, green=green, exit_length=exit_length)
    red = cycle - green - yellow
    _require(red > 0 and yellow >= 0, src, "green", f"green {green} s + yellow {yellow} s leave no "
             f"red in a {cycle} s cycle", "make green + yellow shorter than the cycle")
    b = _Builder(src)
    b.node("o", -length, 0.0)
    b.node("j", 0.0, 0.0, "signal")
    b.node("d", exit_length, 0.0)
    road = _Road(lanes, speed, 0)
    b.link("o", "j", road)
    b.link("j", "d", road)

    def program(net: Network, nid: str, index: SignalIndex) -> SignalProgram:
        phases = [SignalPhase(red, "r" * lanes), SignalPhase(float(green), "G" * lanes)]
        if yellow > 0:
            phases.append(SignalPhase(float(yellow), "y" * lanes))
        return SignalProgram(nid, tuple(phases), float(offset))

    return b.network("signal_approach", program)
