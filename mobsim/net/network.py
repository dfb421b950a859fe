"""The road network as Python objects (string ids), before compilation to arrays.

Vocabulary follows SUMO and GMNS: a *node* is a junction, a *link* (SUMO: edge) is a directed road
segment with ``lanes`` lanes numbered from 0 (rightmost) up, a *movement* (SUMO: connection) joins
one lane of an incoming link to one lane of an outgoing link at a node. Units: m, m/s, s.

Node control (``Node.control``):

``"signal"``
    fixed-time signal; each movement at the node has a ``signal_index`` into the states of its
    :class:`SignalProgram`.
``"priority"``
    uncontrolled priority junction; movements of kind ``"minor"`` yield to conflicting
    ``"major"`` movements, ``"stop"`` movements stop first and then yield, ``"zipper"``
    movements take turns with the other streams merging into their lane (SUMO's zipper
    junctions: each vehicle falls in behind the next one ahead of it in the merged order).
``"none"``
    no control (network boundary, simple merges); every movement is major.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NODE_CONTROLS = ("signal", "priority", "none")
MOVEMENT_KINDS = ("major", "minor", "stop", "zipper")
#: Signal state characters, as in SUMO: G = protected green, g = permissive green (yield),
#: y = yellow (stop if you can), r = red, o = off (behaves like a priority junction minor).
SIGNAL_STATES = "Ggyros"


@dataclass(frozen=True)
class Node:
    """A junction at planar coordinates ``x``, ``y`` (m)."""

    id: str
    x: float
    y: float
    control: str = "none"


@dataclass(frozen=True)
class Link:
    """A directed road segment.

    ``length`` in m, ``speed`` (speed limit) in m/s, ``lanes`` >= 1. ``priority`` ranks roads at
    priority junctions (higher wins), as SUMO's edge priority. ``shape`` is an optional polyline
    of (x, y) points in m, for plots only.
    """

    id: str
    from_node: str
    to_node: str
    length: float
    speed: float
    lanes: int = 1
    priority: int = 0
    shape: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Movement:
    """A lane-to-lane connection through ``node`` (the to-node of ``from_link``).

    ``kind`` is one of :data:`MOVEMENT_KINDS`; ``signal_index`` is the position of this movement's
    state in the node's signal program (``-1`` at unsignalised nodes). ``turn`` is informative:
    ``"s"`` straight, ``"l"`` left, ``"r"`` right, ``"t"`` U-turn.
    """

    node: str
    from_link: str
    from_lane: int
    to_link: str
    to_lane: int
    kind: str = "major"
    signal_index: int = -1
    turn: str = "s"
    #: The movements of the same node this one yields to, as ``(from_link, from_lane, to_link,
    #: to_lane)``; ``None``: derived from the node's geometry and the movement kinds (SUMO
    #: networks give SUMO's own relation, the ``response`` of the junction's request table).
    yields_to: tuple[tuple[str, int, str, int], ...] | None = None
    #: Distance (m) through the junction: the length of SUMO's internal lanes for the connection
    #: (the first metres of ``to_link`` stand for them); 0 where junctions are points. A yielding
    #: vehicle must clear it (and its own length) before a foe arrives.
    length: float = 0.0
    #: Speed limit (m/s) through the junction, the lowest of SUMO's internal lanes for the
    #: connection (turns are slower: netconvert gives a right turn 6.5 m/s, a left one 8 m/s at a
    #: small junction); ``None``: the link's own. Vehicles slow down to it before the line.
    speed: float | None = None
    #: Distance (m, at most ``length``) from the line to a waiting position inside the junction
    #: (SUMO's internal junction of a split connection, typically a permitted left turn): the
    #: vehicle enters the junction whenever its signal is not red, waits there for the movements
    #: in ``waits_for`` only, and once inside it leaves on yellow or red as well. 0: it judges its
    #: foes at the line.
    wait: float = 0.0
    #: With ``wait``: the movements of the same node it yields to from the waiting position, as
    #: ``(from_link, from_lane, to_link, to_lane)`` (SUMO: those whose internal lanes the internal
    #: junction lists); ``None``: the same as at the line.
    waits_for: tuple[tuple[str, int, str, int], ...] | None = None
    #: Whether a vehicle enters only with room for it beyond the junction (its length and jam
    #: distance past the movement's ``length`` on ``to_link``), so that it never stands in the
    #: junction's way: SUMO's ``keepClear`` of a link that has foes. False where no other
    #: movement's way crosses or merges with this one (SUMO: a link without foes, e.g. a lane
    #: added at a node with one incoming edge), where the queue may back up into the junction.
    keep_clear: bool = True


@dataclass(frozen=True)
class SignalPhase:
    """One phase of a signal program: ``duration`` s, ``state`` one character per signal index.

    Actuated programs only: ``min_dur``/``max_dur`` (s; ``None``: the duration) bound the phase
    (SUMO's ``minDur``/``maxDur``), ``next`` is the phase that follows (SUMO's ``next``; -1: the
    next in order)."""

    duration: float
    state: str
    min_dur: float | None = None
    max_dur: float | None = None
    next: int = -1


#: Signal program kinds: fixed-time, and SUMO's gap-based actuated control.
PROGRAM_KINDS = ("static", "actuated", "delay_based")


@dataclass(frozen=True)
class SignalProgram:
    """A signal program for one node; ``offset`` (s) shifts the cycle start.

    ``kind = "static"``: fixed time; at simulation time t the program is in the phase that contains
    ``(t - offset) mod cycle``. ``kind = "actuated"`` (SUMO's ``type="actuated"``): a green
    phase runs at least ``min_dur`` and is extended, up to ``max_dur``, while a vehicle passed
    one of its lanes' detectors less than ``max_gap`` s ago; detectors sit ``detector_gap`` s of
    travel at the speed limit before the stop line, but no farther than the queue that
    ``min_dur`` can clear at one vehicle per ``passing_time`` s (SUMO's parameters and placement,
    :mod:`mobsim.kernels.road.signals`). ``kind = "delay_based"`` (SUMO's ``type="delay_based"``):
    a green phase runs at least ``min_dur`` and is extended while a vehicle within
    ``detector_range`` m of a green lane's stop line has lost more than ``min_time_loss`` s
    there (for the time it needs to reach the line at the speed limit, up to ``max_dur``), and
    by 1 s at a time while no vehicle waits on a red lane, up to ``max_dur`` (beyond it, without
    end, with ``extend_max_dur``: SUMO's ``extendMaxDur``); phases follow in order.
    """

    node: str
    phases: tuple[SignalPhase, ...]
    offset: float = 0.0
    program_id: str = "0"
    kind: str = "static"
    max_gap: float = 3.0
    detector_gap: float = 2.0
    passing_time: float = 1.9
    detector_range: float = 100.0
    min_time_loss: float = 1.0
    extend_max_dur: bool = False

    @property
    def cycle(self) -> float:
        """Cycle length in s."""
        return float(sum(p.duration for p in self.phases))


@dataclass(frozen=True)
class GeoReference:
    """Where a network's planar frame lies on the globe, as SUMO's ``<location>`` says: a point's
    coordinates in the projection ``proj`` (a PROJ string, e.g. ``+proj=utm +zone=32
    +datum=WGS84``), plus ``offset`` (m, SUMO's ``netOffset``), are its network coordinates. Used
    to place GTFS stops (lon/lat) on the network (:mod:`mobsim.interop.gtfs`)."""

    proj: str
    offset: tuple[float, float] = (0.0, 0.0)


@dataclass
class Network:
    """A whole road network. Build it with a generator, :func:`mobsim.net.netio.read_network` or by hand.

    ``source`` names where it came from (a folder, a generator call), for error messages.
    """

    nodes: list[Node]
    links: list[Link]
    movements: list[Movement]
    signals: list[SignalProgram] = field(default_factory=list)
    name: str = "network"
    source: str = "<memory>"
    #: Imported SUMO networks: link id -> SUMO indices of the lanes kept (only car lanes), so that
    #: SUMO demand naming a lane by its SUMO index finds it. Empty otherwise.
    sumo_lanes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: Imported SUMO networks with a projection: the frame's geo-reference; None otherwise
    #: (a GTFS import then needs an ``origin``). Not compared: it places no vehicle.
    geo: GeoReference | None = field(default=None, compare=False)
    #: Imported SUMO networks: the links none of whose kept lanes admit SUMO's vehicle class
    #: ``bus`` (by the lanes' ``allow``/``disallow``); the GTFS import puts no stop there. Empty
    #: otherwise (native networks have no lane permissions). Not compared, as ``geo``.
    no_bus_links: frozenset[str] = field(default=frozenset(), compare=False)

    def node_index(self) -> dict[str, int]:
        """Map node id to its integer index."""
        return {n.id: i for i, n in enumerate(self.nodes)}

    def link_index(self) -> dict[str, int]:
        """Map link id to its integer index."""
        return {link.id: i for i, link in enumerate(self.links)}
