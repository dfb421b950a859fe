"""Import a SUMO network (``.net.xml`` or ``.net.xml.gz``) into a mobsim :class:`~mobsim.net.network.Network`.

sumolib (the ``sumo`` extra) interprets the file; this module maps SUMO's model onto mobsim's.
The file is read in one expat pass (:func:`scan`): internal lanes (only their lengths are
needed), internal connections and junction request tables, which are most of a city network's
elements, are dropped before any sumolib code runs; connections are kept as plain tuples, and the
lanes' ``allow``/``disallow`` as written (sumolib keeps only its own reading of them); edges,
lanes, junctions and traffic-light programs go to sumolib's own ``NetReader``. The network is the
one ``sumolib.net.readNet`` gives (``tests/test_sumo_import.py`` checks that) in a third of the time
(79,200 lanes: 6.3 s against 19.1 s, ``python -m bench.import_bench --readnet``).


* **Edges** (not internal, crossing or walking area) become links; of their lanes only those that
  admit the vehicle class (passenger cars) are kept, renumbered from 0 (rightmost) up
  (``Network.sumo_lanes`` keeps the SUMO index of each). Permissions are read as SUMO reads
  ``allow``/``disallow`` (:func:`permits`; sumolib's ``Lane.allows`` differs on ``allow="all"``
  and where both are given). Length: the mean length of the kept lanes; speed: the highest of
  their speeds; the edge shape is kept for plotting. Very short edges (OSM networks have 0.2 m
  ones) are kept as they are.
* **Connections** become movements where a car may use them in SUMO (the successors of
  ``MSEdge``/``ROEdge``): the from lane, the to lane and the connection's first internal
  (``via``) lane, which carries the connection's own ``allow``/``disallow``, all admit the class.
  So the (edge, next edge) pairs of the movements are the ones SUMO lets cars drive
  (``tests/test_sumo_shipped_networks.py`` checks that on every network shipped with SUMO).
  mobsim's junctions have no internal lanes: a vehicle enters the next lane at once. So that the
  distance of the internal lanes a connection drives through (its ``via`` chain) is not lost,
  each link is lengthened by the mean internal length of the connections that enter it: the
  junction area becomes the start of the downstream link, and trip distances and travel times
  keep it.
* **Junction types**: ``traffic_light*`` become signal nodes (the connections' ``linkIndex`` into
  the static program; per node the indices it uses, in order, so joined traffic lights split
  into one program per node); ``priority``, ``priority_stop``, ``right_before_left``,
  ``left_before_right``, ``allway_stop`` and ``zipper`` become priority nodes, each connection's
  SUMO ``state`` giving the movement kind (``M``/``O`` major, ``m``/``o`` minor, ``s``/``w``
  stop; ``=`` right-before-left yields like minor ones; ``Z`` zipper takes turns with the
  other streams merging into its lane, :mod:`mobsim.kernels.road.zipper`); the
  other types SUMO knows (:data:`JUNCTION_TYPES`: ``dead_end``, ``unregulated``,
  ``rail_crossing``, ...) become uncontrolled nodes (with a warning where such a node has
  connections and is not ``dead_end`` or ``unregulated``). A type SUMO does not know (say
  ``trafic_light``) is an error, as it is in SUMO.
* **Right of way**: which movements each movement yields to is SUMO's own relation, the
  ``response`` of the junction's ``<request>`` table (``Movement.yields_to``), for priority,
  right-before-left, all-way-stop and zipper junctions and at traffic lights (a permissive ``g``
  yields to what the table says). Links are numbered as SUMO numbers them: the junction's
  ``incLanes`` in order, each lane's connections in file order, sidewalks' links into walking
  areas left out (checked against sumolib's ``Node.forbids`` on the shipped networks).
* **Signal programs**: the program SUMO runs, the one loaded last (of an additional file, else
  the last of the network's own programs for that traffic light; static, actuated and
  delay-based ones run as SUMO runs them, NEMA ones as fixed-time with their phase durations,
  with a warning), its offset, and its phases
  with states mapped to mobsim's ``Ggyros`` (``O`` -> ``G``, ``u`` -> ``r``; ``s``, the right
  turn on red of ``traffic_light_right_on_red`` junctions, stops at the line and then yields).
* **Lanes that end before the junction in SUMO** (a lane drop, a motorway acceleration lane, a
  lane that continues only for other vehicle classes: a kept lane with no connection at its end
  while other lanes of the link have one) stay, without a movement at their end: as in SUMO,
  vehicles on them must change lanes before the end, which is a wall to them until they have
  (counted in a warning). An earlier import removed such lanes and moved the connections into
  them onto the nearest kept lane, which turned an on-ramp's acceleration lane into a merge at
  the junction, where mainline vehicles ran into merging ones (SUMO's ``ramp`` scenario: a
  collision, and on-ramp travel times 9 % below SUMO's; with the lane kept, 87.6 against 87.7 s).
* **Edges without any connection** at a junction that has outgoing edges (SUMO lets an edge end
  so: a dead end where turning is not allowed) end at a node of their own, so they remain
  destinations; a warning counts those whose junction is not of type ``dead_end``.

* **Location**: the ``<location>``'s ``projParameter`` and ``netOffset`` become
  ``Network.geo`` (a :class:`~mobsim.net.network.GeoReference`; None for ``projParameter="!"``),
  and the links whose kept lanes all forbid buses ``Network.no_bus_links``: what a GTFS import
  needs to place stops given in lon/lat (:mod:`mobsim.interop.gtfs`).

Errors (an unreadable file, a file that is not a SUMO network, a network without passenger
lanes, a junction type SUMO does not know, a lane whose length is not a positive number, which
netconvert never writes: it writes at least 0.1 m) are :class:`~mobsim.errors.InputError` naming
the file and the element. Positive lengths are kept as they are, however short.
"""

from __future__ import annotations

import gc
import hashlib
import math
import os
import pickle
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobsim.errors import InputError
from mobsim.interop.sumo_scan import (
    SKIPPED_FUNCTIONS,
    internal_junction,
    junction_indices,
    scan_network,
    via_length,
    via_speed,
)
from mobsim.interop.sumo_signals import program, read_tls_file
from mobsim.net.network import GeoReference, Link, Movement, Network, Node, SignalProgram

SIGNAL_TYPES = ("traffic_light", "traffic_light_unregulated", "traffic_light_right_on_red")
PRIORITY_TYPES = ("priority", "priority_stop", "right_before_left", "left_before_right", "allway_stop",
                  "zipper")
#: SUMO connection state -> mobsim movement kind at priority junctions.
KIND_OF_STATE = {"M": "major", "O": "major", "m": "minor", "o": "minor", "s": "stop", "w": "stop",
                 "=": "minor", "Z": "zipper"}
TURN = {"s": "s", "l": "l", "L": "l", "r": "r", "R": "r", "t": "t"}
#: Every junction type SUMO reads (``SUMOXMLDefinitions::sumoNodeTypeValues``); SUMO refuses a
#: network with any other type, and so does the import.
JUNCTION_TYPES = frozenset(SIGNAL_TYPES + PRIORITY_TYPES + (
    "rail_signal", "rail_crossing", "district", "unregulated", "internal", "dead_end", "DEAD_END", "unknown"))


def permits(allow: str | None, disallow: str | None, vclass: str) -> bool:
    """Whether a lane with these ``allow``/``disallow`` attributes admits ``vclass``, by SUMO's rule
    (``parseVehicleClasses``): neither given (or both empty) -> every class; ``allow`` given ->
    only its classes (``all`` for every class), and ``disallow`` is then ignored (SUMO warns);
    only ``disallow`` -> every class but its own (``all``: none). sumolib's ``Lane.allows``
    differs in the last two points (it ignores ``allow`` when both are given and reads
    ``allow="all"`` as a class named "all"), so the import does not use it."""
    if vclass in ("", "ignoring"):
        return True
    allowed = (allow or "").split()
    if allowed:
        return "all" in allowed or vclass in allowed
    deny = (disallow or "").split()
    return not ("all" in deny or vclass in deny)


def _check_connection(frm: str, fl: int, to: str, tl: int, all_lanes: dict[str, int], special: set[str],
                      source: str) -> None:
    """Raise :class:`InputError` if the connection names an edge or a lane that does not exist."""
    for edge_id, lane in ((frm, fl), (to, tl)):
        n = all_lanes.get(edge_id)
        element = f"connection from '{frm}' lane {fl} to '{to}' lane {tl}"
        if n is None and edge_id not in special:
            raise InputError(f"edge '{edge_id}' does not exist", source=source, element=element,
                             fix="rebuild the network with netconvert, or remove the connection")
        if n is not None and not 0 <= lane < n:
            raise InputError(f"edge '{edge_id}' has no lane {lane} (it has {n})", source=source,
                             element=element, fix="rebuild the network with netconvert, or fix the lane")


@dataclass(slots=True)
class _Conn:
    from_edge: str
    from_sumo_lane: int
    to_edge: str
    to_sumo_lane: int
    node: str
    state: str
    turn: str
    tls: str
    link_index: int
    internal_length: float
    internal_speed: float = math.inf    # lowest speed limit of its internal lanes (m/s)
    remapped: bool = False                # enters the nearest kept lane instead of a removed one
    jindex: int = -1                      # its link index in the junction's request table
    via_chain: tuple[str, ...] = ()       # its internal lanes, in driving order
    wait: float = 0.0                     # m from the line to its internal junction (0: none)
    wait_lanes: tuple[str, ...] = ()      # the internal junction's foe internal lanes (intLanes)
    wait_inc: tuple[str, ...] = ()        # the lanes whose approaching vehicles it checks (incLanes[1:])


@dataclass
class _Edge:
    id: str
    from_node: str
    to_node: str
    lanes: list[int]                      # SUMO indices of the kept lanes, rightmost first
    lane_len: dict[int, float]
    speed: float
    priority: int
    shape: tuple[tuple[float, float], ...]
    extra: float = 0.0
    out: list[_Conn] = field(default_factory=list)


def _cache_file(path: Path, vclass: str, tls_files: tuple[Path, ...] = ()) -> Path | None:
    """Where the import of ``path`` is cached: keyed by the file's path and content (and those of
    the additional traffic-light files), the vehicle class, and the source of this importer (with
    its scan and signal modules) and of the network model (an edit means a re-import)."""
    h = hashlib.sha256()
    for part in (str(path.resolve()), vclass):
        h.update(part.encode() + b"\0")
    here = Path(__file__).parent
    for src in (here / "sumo_net.py", here / "sumo_scan.py", here / "sumo_signals.py",
                here.parent / "net" / "network.py"):
        h.update(src.read_bytes())
    for p in (path, *tls_files):
        h.update(str(p.resolve()).encode() + b"\0")
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mobsim" / "sumo-networks" / f"{h.hexdigest()[:32]}.pickle"


def read_sumo_network(path: str | Path, *, vclass: str = "passenger",
                      warnings: list[str] | None = None, cache: bool = True,
                      tls_files: Sequence[str | Path] = ()) -> Network:
    """Read a SUMO network file into a mobsim :class:`Network` (see the module docstring).

    ``vclass``: the SUMO vehicle class whose lanes are kept (``passenger``). Warnings about what
    was approximated or repaired are appended to ``warnings`` when given. With ``cache`` the
    imported network is kept in ``~/.cache/mobsim/sumo-networks`` (or ``$XDG_CACHE_HOME``), so
    that running a city again skips the parse (79,200 lanes: 6 s, ~1 s from the cache).
    """
    path = Path(path)
    source = str(path)
    warn = warnings if warnings is not None else []
    if not path.is_file():
        raise InputError("the SUMO network file does not exist", source=source,
                         fix="check the path (relative paths are resolved against the scenario's folder)")
    tls_paths = tuple(Path(p) for p in tls_files)
    for p in tls_paths:
        if not p.is_file():
            raise InputError("the additional file does not exist", source=str(p),
                             fix="check the additional-files of the configuration")
    cached = _cache_file(path, vclass, tls_paths) if cache else None
    if cached is not None and cached.is_file():
        try:
            with cached.open("rb") as f:
                network, saved = pickle.load(f)
            warn.extend(saved)
            return network
        except Exception:  # noqa: BLE001 - a damaged cache entry is only a re-import
            pass
    mine: list[str] = []
    # The import creates a few million small objects and no garbage cycles: with the cyclic
    # collector on, its generation scans over the growing heap took half of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        network = _import(path, vclass, mine, tls_paths)
    finally:
        if collecting:
            gc.enable()
    warn.extend(mine)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as f:
                pickle.dump((network, mine), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cached)
        except OSError:
            pass  # no cache folder: the next run imports again
    return network


def _import(path: Path, vclass: str, warn: list[str], tls_files: tuple[Path, ...] = ()) -> Network:
    """The import itself (see :func:`read_sumo_network`)."""
    source = str(path)
    scan = scan_network(path, source)
    net = scan.net
    active: dict[str, str] = {}
    for f in tls_files:
        read_tls_file(f, net, scan.tl_params, active)
    perms = scan.perms
    for node in net.getNodes():
        jtype = str(node.getType())
        if node.getType() is not None and jtype not in JUNCTION_TYPES:  # None: not defined (below)
            raise InputError(f"junction '{node.getID()}' has type '{jtype}', which SUMO does not know",
                             source=source, element=f"junction '{node.getID()}'",
                             fix="use a SUMO junction type (priority, traffic_light, right_before_left, "
                                 "allway_stop, dead_end, ...), or rebuild the network with netconvert")
    edges: dict[str, _Edge] = {}
    all_lanes: dict[str, int] = {}  # SUMO edge id -> its number of lanes (any vehicle class)
    skipped_edges = 0
    no_bus: set[str] = set()  # kept edges whose kept lanes all forbid buses
    for e in net.getEdges(withInternal=False):
        if e.getFunction() in SKIPPED_FUNCTIONS:
            continue
        for node in (e.getFromNode(), e.getToNode()):
            try:
                node.getCoord()
            except TypeError:  # no coordinates: named by the edge, not defined in the file
                raise InputError(f"junction '{node.getID()}' is not defined, but edge '{e.getID()}' "
                                 "starts or ends there", source=source, element=f"junction '{node.getID()}'",
                                 fix="rebuild the network with netconvert, or add the junction") from None
        sumo_lanes = e.getLanes()
        all_lanes[e.getID()] = len(sumo_lanes)
        for ln in sumo_lanes:
            length = float(ln.getLength())
            if not (math.isfinite(length) and length > 0):
                raise InputError(f"lane '{ln.getID()}' has length {ln.getLength()}, not a positive number",
                                 source=source, element=f"lane '{ln.getID()}'",
                                 fix="give the lane's length in metres, > 0 (netconvert writes at least 0.1)")
        lanes = [ln for ln in sumo_lanes if permits(*perms.get(ln.getID(), ("", "")), vclass)]
        if not lanes:
            skipped_edges += 1
            continue
        if not any(permits(*perms.get(ln.getID(), ("", "")), "bus") for ln in lanes):
            no_bus.add(e.getID())
        edges[e.getID()] = _Edge(
            id=e.getID(), from_node=e.getFromNode().getID(), to_node=e.getToNode().getID(),
            lanes=[ln.getIndex() for ln in lanes],
            lane_len={ln.getIndex(): float(ln.getLength()) for ln in lanes},
            speed=max(float(ln.getSpeed()) for ln in lanes), priority=int(e.getPriority()),
            shape=tuple((p[0], p[1]) for p in e.getShape()))
    if not edges:
        raise InputError(f"the network has no lanes that vehicle class '{vclass}' may use", source=source,
                         fix="check the lanes' allow/disallow attributes")
    if skipped_edges:
        warn.append(f"{source}: {skipped_edges} edge(s) without a lane for '{vclass}' were skipped")

    lengths, after = scan.internal_length, scan.internal_next
    jindex = junction_indices(scan)
    closed = 0
    for frm, from_lane, to, to_lane, via, tl, link_index, direction, state in scan.conns:
        try:
            fl, tl_ = int(from_lane), int(to_lane)
            ix = int(link_index) if tl else -1
        except ValueError:
            raise InputError("a lane or link index is not an integer", source=source,
                             element=f"connection from '{frm}' lane {from_lane} to '{to}' lane {to_lane}",
                             fix="rebuild the network with netconvert") from None
        e = edges.get(frm)
        t = edges.get(to)
        if e is None or t is None or fl not in e.lane_len or tl_ not in t.lane_len:
            _check_connection(frm, fl, to, tl_, all_lanes, scan.special, source)
            continue  # a connection to or from lanes that the vehicle class may not use
        if via and not permits(*perms.get(via, ("", "")), vclass):
            closed += 1  # the connection's own permissions (its internal lane's) exclude the class
            continue
        e.out.append(_Conn(
            from_edge=frm, from_sumo_lane=fl, to_edge=to, to_sumo_lane=tl_, node=e.to_node,
            state=state or "M", turn=TURN.get(direction, "s"), tls=tl, link_index=ix,
            internal_length=via_length(via, lengths, after) if via else 0.0,
            internal_speed=via_speed(via, scan.internal_speed, after) if via else math.inf,
            jindex=jindex.get((frm, from_lane, to, to_lane), -1),
            **internal_junction(via, lengths, after, scan.internal_junctions, scan.internal_inc)))

    if closed:
        warn.append(f"{source}: {closed} connection(s) between '{vclass}' lanes that their own permissions "
                    f"close to '{vclass}' were skipped")
    dropped_lanes, remapped, sinks = _repair(edges)
    if dropped_lanes:
        warn.append(f"{source}: {dropped_lanes} lane(s) end without a connection for '{vclass}' (lane drops, "
                    "acceleration lanes, lanes that continue only for other vehicle classes): vehicles "
                    "leave them by a lane change before their end, as in SUMO")
    if remapped:
        warn.append(f"{source}: {remapped} connection(s) into lanes not imported for '{vclass}' now enter "
                    "the nearest imported lane of their link")
    odd = [e for e in sinks if str(net.getNode(edges[e].to_node).getType()) != "dead_end"]
    if odd:  # at a dead end (a road's end, turning prohibited) SUMO's edges end there just as well
        warn.append(f"{source}: {len(odd)} edge(s) end without any connection at a junction with "
                    "outgoing edges; each now ends at a node of its own (a destination only)")

    # Junction distance: each link starts with the mean internal length of the connections into it.
    into: dict[str, list[float]] = defaultdict(list)
    for e in edges.values():
        for c in e.out:
            into[c.to_edge].append(c.internal_length)
    for eid, lens in into.items():
        edges[eid].extra = sum(lens) / len(lens)

    nodes, movements, signals = _junctions(net, edges, sinks, source, warn, scan.tl_params, active,
                                           scan.requests, scan.request_foes)
    links = []
    for e in edges.values():
        length = sum(e.lane_len[q] for q in e.lanes) / len(e.lanes) + e.extra
        links.append(Link(id=e.id, from_node=e.from_node, to_node=sinks.get(e.id, e.to_node),
                          length=length, speed=e.speed, lanes=len(e.lanes), priority=e.priority,
                          shape=e.shape))
    return Network(nodes=nodes, links=links, movements=movements, signals=signals,
                   name=path.name.split(".")[0], source=source,
                   sumo_lanes={e.id: tuple(e.lanes) for e in edges.values()},
                   geo=_geo_reference(net), no_bus_links=frozenset(no_bus))


def _geo_reference(net: Any) -> GeoReference | None:
    """The network's ``<location>`` as a :class:`GeoReference`, or None where it has no
    projection (``projParameter="!"`` or no location at all)."""
    loc = getattr(net, "_location", None) or {}
    proj = str(loc.get("projParameter", "!")).strip()
    if proj in ("", "!"):
        return None
    try:
        dx, dy = (float(v) for v in str(loc.get("netOffset", "0,0")).split(","))
    except ValueError:
        return None  # not SUMO's "x,y": no usable frame (netconvert always writes one)
    return GeoReference(proj=proj, offset=(dx, dy))


def _repair(edges: dict[str, _Edge]) -> tuple[int, int, dict[str, str]]:
    """Count the lanes with no connection at their end where other lanes of the link have one
    (they stay: lane drops, vehicles leave them by a lane change), move connections into lanes
    that were not kept (not for cars) onto the nearest kept lane of that link (so that no
    connection is lost); return (lanes that end, connections moved, {edge id: sink node id} for
    edges without any connection at a junction with exits)."""
    has_exit = defaultdict(bool)
    for e in edges.values():
        has_exit[e.from_node] = True
    dropped = 0
    for e in edges.values():
        if not has_exit[e.to_node] or not e.out:
            continue
        served = {c.from_sumo_lane for c in e.out}
        dropped += sum(1 for q in e.lanes if q not in served)
    moved = 0
    for e in edges.values():
        kept: dict[tuple[int, str, int], _Conn] = {}
        for c in e.out:
            lanes = edges[c.to_edge].lanes
            if c.to_sumo_lane not in lanes:
                c.to_sumo_lane = min(lanes, key=lambda q, want=c.to_sumo_lane: (abs(q - want), q))
                c.remapped = True
                moved += 1
            key = (c.from_sumo_lane, c.to_edge, c.to_sumo_lane)
            if key not in kept or (kept[key].remapped and not c.remapped):
                kept[key] = c  # one movement per lane pair; a connection of SUMO's own first
        if len(kept) != len(e.out):
            e.out = [c for c in e.out if kept[(c.from_sumo_lane, c.to_edge, c.to_sumo_lane)] is c]
    sinks = {e.id: f"{e.to_node}~end~{e.id}" for e in edges.values() if has_exit[e.to_node] and not e.out}
    return dropped, moved, sinks


def _junctions(net: Any, edges: dict[str, _Edge], sinks: dict[str, str], source: str,
               warn: list[str], tl_params: dict[tuple[str, str], dict[str, str]] | None = None,
               active: dict[str, str] | None = None, requests: dict[str, dict[int, str]] | None = None,
               request_foes: dict[str, dict[int, str]] | None = None
               ) -> tuple[list[Node], list[Movement], list[SignalProgram]]:
    """Nodes, movements and signal programs. A movement keeps the junction clear unless its
    request table gives it no foes (:attr:`Movement.keep_clear`)."""
    used = {e.from_node for e in edges.values()} | {e.to_node for e in edges.values()}
    by_node: dict[str, list[_Conn]] = defaultdict(list)
    for e in edges.values():
        for c in e.out:
            by_node[c.node].append(c)
    nodes: list[Node] = []
    movements: list[Movement] = []
    signals: list[SignalProgram] = []
    approx: dict[str, int] = defaultdict(int)
    for nid in sorted(used):
        sn = net.getNode(nid)
        x, y = (float(v) for v in sn.getCoord()[:2])
        conns = by_node.get(nid, [])
        jtype = str(sn.getType())
        tls_ids = {c.tls for c in conns if c.tls}
        if conns and jtype in SIGNAL_TYPES and tls_ids:
            control = "signal"
        elif conns and jtype in PRIORITY_TYPES:
            control = "priority"
        else:
            control = "none"
            if conns and jtype not in ("dead_end", "unregulated"):
                approx[f"junction type '{jtype}' (run uncontrolled)"] += 1
        nodes.append(Node(id=nid, x=x, y=y, control=control))
        local: dict[int, int] = {}
        if control == "signal":
            tls_id = sorted(tls_ids)[0]
            if len(tls_ids) > 1:
                approx["junction controlled by several traffic lights (the first one used)"] += 1
            indices = sorted({c.link_index for c in conns if c.tls == tls_id and c.link_index >= 0})
            local = {ix: k for k, ix in enumerate(indices)}
            unsignalled = [c for c in conns if c.tls != tls_id or c.link_index < 0]
            prog = program(net, tls_id, nid, indices, len(unsignalled), source, approx, tl_params or {},
                            (active or {}).get(tls_id))
            signals.append(prog)
            extra = len(indices)
        # SUMO's right of way at this junction: which links each link yields to (its request
        # table's response), for the links cars use; junctions without a table keep geometry.
        table = (requests or {}).get(nid) if control != "none" else None
        foes_of = (request_foes or {}).get(nid, {}) if table is not None else {}
        key_of: dict[int, tuple[str, int, str, int]] = {}
        by_lane: dict[str, tuple[str, int, str, int]] = {}  # internal lane -> its connection
        from_lane_id: dict[tuple[str, int, str, int], str] = {}  # connection -> its SUMO from-lane
        for c in conns:
            key = (c.from_edge, edges[c.from_edge].lanes.index(c.from_sumo_lane),
                   c.to_edge, edges[c.to_edge].lanes.index(c.to_sumo_lane))
            from_lane_id[key] = f"{c.from_edge}_{c.from_sumo_lane}"
            if c.jindex >= 0:
                key_of[c.jindex] = key
            for q in c.via_chain:
                by_lane.setdefault(q, key)
        for c in conns:
            from_lane = edges[c.from_edge].lanes.index(c.from_sumo_lane)
            to_lane = edges[c.to_edge].lanes.index(c.to_sumo_lane)
            yields: tuple[tuple[str, int, str, int], ...] | None = None
            if table is not None and c.jindex in table:
                resp = table[c.jindex]
                yields = tuple(sorted({key_of[k] for k in range(len(resp))
                                       if resp[-1 - k] == "1" and k in key_of}))
            kind = "major"
            sig = -1
            if control == "priority":
                kind = KIND_OF_STATE.get(c.state, "minor")
                if c.state == "=" and yields is None:
                    approx["right-before-left connections without a request table "
                           "(yield like minor roads)"] += 1
            elif control == "signal":
                if c.tls == tls_id and c.link_index >= 0:
                    sig = local[c.link_index]
                else:
                    sig = extra  # always green: a connection the traffic light does not control
                    extra += 1
            wait, waits_for = 0.0, None
            if c.wait > 0.0 and control != "none":
                me = (c.from_edge, from_lane, c.to_edge, to_lane)
                wait = min(c.wait, c.internal_length)
                # The movements whose approaching vehicles SUMO's internal-junction link checks:
                # internal lanes among intLanes, entered from lanes among incLanes (after its own
                # internal lane). The other intLanes (e.g. minor roads that cross the turn's way)
                # hold it only with a vehicle on them, which mobsim's point junctions do not have;
                # waited for at their lines, they and the turn waited for one another in a ring.
                waits_for = tuple(sorted({by_lane[q] for q in c.wait_lanes
                                          if q in by_lane and from_lane_id[by_lane[q]] in c.wait_inc} - {me}))
            # SUMO keeps a junction clear only on links with foes (of any vehicle class)
            keep_clear = "1" in foes_of.get(c.jindex, "1")
            movements.append(Movement(node=nid, from_link=c.from_edge, from_lane=from_lane, to_link=c.to_edge,
                                      length=c.internal_length, keep_clear=keep_clear,
                                      speed=c.internal_speed if math.isfinite(c.internal_speed) else None,
                                      to_lane=to_lane, kind=kind, signal_index=sig, turn=c.turn,
                                      yields_to=yields, wait=wait, waits_for=waits_for))
    for e_id, sink in sinks.items():
        e = edges[e_id]
        x, y = e.shape[-1] if e.shape else (0.0, 0.0)
        nodes.append(Node(id=sink, x=x, y=y, control="none"))
    for what, n in sorted(approx.items()):
        warn.append(f"{source}: approximated: {what}: {n}")
    return nodes, movements, signals

