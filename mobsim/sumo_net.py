"""Import a SUMO network (``.net.xml`` or ``.net.xml.gz``) into a mobsim :class:`~mobsim.network.Network`.

sumolib (the ``sumo`` extra) parses the file; this module maps SUMO's model onto mobsim's:

* **Edges** (not internal, crossing or walking area) become links; of their lanes only those that
  passenger cars may use are kept, renumbered from 0 (rightmost) up. Length: the mean length of
  the kept lanes; speed: the highest of their speeds; the edge shape is kept for plotting.
* **Connections** between kept lanes become movements. mobsim's junctions have no internal
  lanes: a vehicle enters the next lane at once. So the distance of the internal lanes a
  connection drives through (its ``via`` chain) is not lost, each link is lengthened by the mean
  internal length of the connections that enter it: the junction area becomes the start of the
  downstream link, and trip distances and travel times keep it.
* **Junction types**: ``traffic_light*`` become signal nodes (the connections' ``linkIndex`` into
  the static program; per node the indices it uses, in order, so joined traffic lights split
  into one program per node); ``priority``, ``priority_stop``, ``right_before_left``,
  ``left_before_right``, ``allway_stop`` and ``zipper`` become priority nodes, each connection's
  SUMO ``state`` giving the movement kind (``M``/``O`` major, ``m``/``o`` minor, ``s``/``w``
  stop; ``=`` right-before-left and ``Z`` zipper approximated as minor, with a warning); other
  types (``dead_end``, ``unregulated``, ...) become uncontrolled nodes.
* **Signal programs**: the first program of each traffic light (actuated and delay-based ones
  run as fixed-time with their phase durations, with a warning), its offset, and its phases
  with states mapped to mobsim's ``Ggyro`` (``O`` -> ``G``, ``u`` -> ``r``, ``s`` -> ``g``).
* **Repairs, each counted in a warning**: a kept lane with no connection at its end while other
  lanes of the link have one (a lane drop, a lane for other vehicle classes further on) is
  removed, since mobsim lanes run the whole link; a link with no connection at all at a junction
  that has outgoing links (SUMO lets such an edge end) ends at a new node of its own, so it
  remains a destination.

Errors (an unreadable file, a file that is not a SUMO network, a network without passenger
lanes) are :class:`~mobsim.errors.InputError` naming the file and the element.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .network import Link, Movement, Network, Node, SignalPhase, SignalProgram

SIGNAL_TYPES = ("traffic_light", "traffic_light_unregulated", "traffic_light_right_on_red")
PRIORITY_TYPES = ("priority", "priority_stop", "right_before_left", "left_before_right", "allway_stop",
                  "zipper")
#: SUMO connection state -> mobsim movement kind at priority junctions.
KIND_OF_STATE = {"M": "major", "O": "major", "m": "minor", "o": "minor", "s": "stop", "w": "stop",
                 "=": "minor", "Z": "minor"}
#: SUMO signal state -> mobsim signal state (``Ggyro``).
SIGNAL_STATE = {"G": "G", "g": "g", "y": "y", "Y": "y", "r": "r", "u": "r", "o": "o", "O": "G", "s": "g"}
TURN = {"s": "s", "l": "l", "L": "l", "r": "r", "R": "r", "t": "t"}
SKIPPED_FUNCTIONS = ("internal", "crossing", "walkingarea", "connector")


def _require_sumolib() -> Any:
    try:
        import sumolib
    except ImportError as exc:
        raise InputError("reading SUMO files needs sumolib, which is not installed", source="sumolib",
                         fix="pip install -e '.[sumo]' (sumolib and eclipse-sumo)") from exc
    return sumolib


@dataclass
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


Internal = tuple[dict[str, float], dict[str, str]]  # internal lane lengths, next internal lane


def _internal_lanes(path: Path) -> Internal | None:
    """(length of every internal lane, the internal lane that follows it) from two
    ``sumolib.xml.parse_fast`` passes; None if the file cannot be read that way."""
    sumolib = _require_sumolib()
    lengths: dict[str, float] = {}
    after: dict[str, str] = {}
    try:
        for ln in sumolib.xml.parse_fast(str(path), "lane", ["id", "length"]):
            if ln.id.startswith(":"):
                lengths[ln.id] = float(ln.length)
        for c in sumolib.xml.parse_fast(str(path), "connection", ["from", "fromLane", "via"]):
            frm = c[0]
            if frm.startswith(":") and c.via:
                after.setdefault(f"{frm}_{c.fromLane}", c.via)
    except Exception:  # noqa: BLE001 - any trouble: the full parse reports it properly
        return None
    return lengths, after


def _covers_vias(net: Any, lengths: dict[str, float]) -> bool:
    """True if every connection's ``via`` lane was found by the fast pass."""
    for e in net.getEdges(withInternal=False):
        for ln in e.getLanes():
            for c in ln.getOutgoing():
                v = c.getViaLaneID()
                if v and v not in lengths:
                    return False
    return True


def _via_length(net: Any, via_id: str, internal: Internal | None = None) -> float:
    """Length (m) of the chain of internal lanes starting at ``via_id`` (from the fast-pass tables
    ``internal`` when given, else from ``net``'s internal lanes)."""
    total = 0.0
    seen: set[str] = set()
    lane_id = via_id
    if internal is not None:
        lengths, after = internal
        while lane_id and lane_id not in seen and lane_id in lengths:
            seen.add(lane_id)
            total += lengths[lane_id]
            lane_id = after.get(lane_id, "")
        return total
    while lane_id and lane_id not in seen:
        seen.add(lane_id)
        try:
            lane = net.getLane(lane_id)
        except KeyError:
            break
        total += float(lane.getLength())
        nxt = ""
        for c in lane.getOutgoing():
            if c.getViaLaneID():
                nxt = c.getViaLaneID()
            break
        lane_id = nxt
    return total


def _cache_file(path: Path, vclass: str) -> Path | None:
    """Where the import of ``path`` is cached: keyed by the file's path and content, the vehicle
    class, and the source of this importer and of the network model (an edit means a re-import)."""
    h = hashlib.sha256()
    for part in (str(path.resolve()), vclass):
        h.update(part.encode() + b"\0")
    for src in (Path(__file__), Path(__file__).with_name("network.py")):
        h.update(src.read_bytes())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mobsim" / "sumo-networks" / f"{h.hexdigest()[:32]}.pickle"


def read_sumo_network(path: str | Path, *, vclass: str = "passenger",
                      warnings: list[str] | None = None, cache: bool = True) -> Network:
    """Read a SUMO network file into a mobsim :class:`Network` (see the module docstring).

    ``vclass``: the SUMO vehicle class whose lanes are kept (``passenger``). Warnings about what
    was approximated or repaired are appended to ``warnings`` when given. With ``cache`` the
    imported network is kept in ``~/.cache/mobsim/sumo-networks`` (or ``$XDG_CACHE_HOME``), so
    that running a city again skips sumolib's parse (16 s for 79,200 lanes, ~1 s from the cache).
    """
    path = Path(path)
    source = str(path)
    warn = warnings if warnings is not None else []
    if not path.is_file():
        raise InputError("the SUMO network file does not exist", source=source,
                         fix="check the path (relative paths are resolved against the scenario's folder)")
    cached = _cache_file(path, vclass) if cache else None
    if cached is not None and cached.is_file():
        try:
            with cached.open("rb") as f:
                network, saved = pickle.load(f)
            warn.extend(saved)
            return network
        except Exception:  # noqa: BLE001 - a damaged cache entry is only a re-import
            pass
    mine: list[str] = []
    network = _import(path, vclass, mine)
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


def _import(path: Path, vclass: str, warn: list[str]) -> Network:
    """The import itself (see :func:`read_sumo_network`)."""
    sumolib = _require_sumolib()
    source = str(path)
    # Internal lanes are most of a city file and only their lengths are needed: two fast sumolib
    # passes read those, and readNet skips them (79,200-lane grid: 27 -> 16 s). A file the fast
    # passes cannot follow (an element split over lines) falls back to reading them with readNet.
    internal = _internal_lanes(path)
    try:
        # withFoes=False: junction request tables are not needed (movement kinds come from the
        # connections' states); skipping them saves a good part of the parse on city networks.
        net = sumolib.net.readNet(str(path), withInternal=internal is None, withPrograms=True,
                                  withConnections=True, withPedestrianConnections=False, withFoes=False)
    except Exception as exc:  # noqa: BLE001 - sumolib raises many kinds; all mean a bad file
        raise InputError(f"cannot read the SUMO network: {type(exc).__name__}: {exc}", source=source,
                         fix="give a network written by netconvert or netedit (.net.xml[.gz])") from None
    if internal is not None and not _covers_vias(net, internal[0]):
        internal = None
        net = sumolib.net.readNet(str(path), withInternal=True, withPrograms=True, withConnections=True,
                                  withPedestrianConnections=False, withFoes=False)
    edges: dict[str, _Edge] = {}
    skipped_edges = 0
    for e in net.getEdges(withInternal=False):
        if e.getFunction() in SKIPPED_FUNCTIONS:
            continue
        lanes = [ln for ln in e.getLanes() if ln.allows(vclass)]
        if not lanes:
            skipped_edges += 1
            continue
        edges[e.getID()] = _Edge(
            id=e.getID(), from_node=e.getFromNode().getID(), to_node=e.getToNode().getID(),
            lanes=[ln.getIndex() for ln in lanes],
            lane_len={ln.getIndex(): float(ln.getLength()) for ln in lanes},
            speed=max(float(ln.getSpeed()) for ln in lanes), priority=int(e.getPriority()),
            shape=tuple((float(x), float(y)) for x, y, *_ in e.getShape()))
    if not edges:
        raise InputError(f"the network has no lanes that vehicle class '{vclass}' may use", source=source,
                         fix="check the lanes' allow/disallow attributes")
    if skipped_edges:
        warn.append(f"{source}: {skipped_edges} edge(s) without a lane for '{vclass}' were skipped")

    for e in edges.values():
        sumo_edge = net.getEdge(e.id)
        for ln in sumo_edge.getLanes():
            if ln.getIndex() not in e.lane_len:
                continue
            for c in ln.getOutgoing():
                to_lane = c.getToLane()
                to_edge = to_lane.getEdge().getID()
                if to_edge not in edges or to_lane.getIndex() not in edges[to_edge].lane_len:
                    continue
                e.out.append(_Conn(
                    from_edge=e.id, from_sumo_lane=ln.getIndex(), to_edge=to_edge,
                    to_sumo_lane=to_lane.getIndex(), node=e.to_node, state=str(c.getState() or "M"),
                    turn=TURN.get(str(c.getDirection()), "s"), tls=str(c.getTLSID() or ""),
                    link_index=int(c.getTLLinkIndex()) if c.getTLSID() else -1,
                    internal_length=(_via_length(net, c.getViaLaneID(), internal) if c.getViaLaneID()
                                     else 0.0)))

    dropped_lanes, sinks = _repair(edges)
    if dropped_lanes:
        warn.append(f"{source}: {dropped_lanes} lane(s) without a connection at their end (lane drops, or "
                    f"lanes that continue only for other vehicle classes) were removed")
    if sinks:
        warn.append(f"{source}: {len(sinks)} edge(s) end without any connection at a junction with "
                    "outgoing edges; each now ends at a node of its own (a destination only)")

    # Junction distance: each link starts with the mean internal length of the connections into it.
    into: dict[str, list[float]] = defaultdict(list)
    for e in edges.values():
        for c in e.out:
            into[c.to_edge].append(c.internal_length)
    for eid, lens in into.items():
        edges[eid].extra = sum(lens) / len(lens)

    nodes, movements, signals = _junctions(net, edges, sinks, source, warn)
    links = []
    for e in edges.values():
        length = sum(e.lane_len[q] for q in e.lanes) / len(e.lanes) + e.extra
        links.append(Link(id=e.id, from_node=e.from_node, to_node=sinks.get(e.id, e.to_node),
                          length=max(length, 0.1), speed=e.speed, lanes=len(e.lanes), priority=e.priority,
                          shape=e.shape))
    return Network(nodes=nodes, links=links, movements=movements, signals=signals,
                   name=path.name.split(".")[0], source=source,
                   sumo_lanes={e.id: tuple(e.lanes) for e in edges.values()})


def _repair(edges: dict[str, _Edge]) -> tuple[int, dict[str, str]]:
    """Remove lanes with no connection at their end where the link has other lanes with one
    (repeated: a removed lane takes the connections into it along); return (lanes removed,
    {edge id: sink node id} for edges left without any connection at a junction with exits)."""
    has_exit = defaultdict(bool)
    for e in edges.values():
        has_exit[e.from_node] = True
    dropped = 0
    changed = True
    while changed:
        changed = False
        for e in edges.values():
            if not has_exit[e.to_node] or not e.out:
                continue
            served = {c.from_sumo_lane for c in e.out}
            keep = [q for q in e.lanes if q in served]
            if len(keep) < len(e.lanes):
                dropped += len(e.lanes) - len(keep)
                e.lanes = keep
                changed = True
        for e in edges.values():
            before = len(e.out)
            e.out = [c for c in e.out if c.to_sumo_lane in edges[c.to_edge].lanes]
            changed = changed or len(e.out) != before
    sinks = {e.id: f"{e.to_node}~end~{e.id}" for e in edges.values() if has_exit[e.to_node] and not e.out}
    return dropped, sinks


def _junctions(net: Any, edges: dict[str, _Edge], sinks: dict[str, str], source: str,
               warn: list[str]) -> tuple[list[Node], list[Movement], list[SignalProgram]]:
    """Nodes, movements and signal programs."""
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
            prog = _program(net, tls_id, nid, indices, len(unsignalled), source, approx)
            signals.append(prog)
            extra = len(indices)
        for c in conns:
            from_lane = edges[c.from_edge].lanes.index(c.from_sumo_lane)
            to_lane = edges[c.to_edge].lanes.index(c.to_sumo_lane)
            kind = "major"
            sig = -1
            if control == "priority":
                kind = KIND_OF_STATE.get(c.state, "minor")
                if c.state in ("=", "Z"):
                    approx["right-before-left or zipper connections (yield like minor roads)"] += 1
            elif control == "signal":
                if c.tls == tls_id and c.link_index >= 0:
                    sig = local[c.link_index]
                else:
                    sig = extra  # always green: a connection the traffic light does not control
                    extra += 1
            movements.append(Movement(node=nid, from_link=c.from_edge, from_lane=from_lane, to_link=c.to_edge,
                                      to_lane=to_lane, kind=kind, signal_index=sig, turn=c.turn))
    for e_id, sink in sinks.items():
        e = edges[e_id]
        x, y = e.shape[-1] if e.shape else (0.0, 0.0)
        nodes.append(Node(id=sink, x=x, y=y, control="none"))
    for what, n in sorted(approx.items()):
        warn.append(f"{source}: approximated: {what}: {n}")
    return nodes, movements, signals


def _program(net: Any, tls_id: str, node: str, indices: list[int], n_extra: int, source: str,
             approx: dict[str, int]) -> SignalProgram:
    """The node's fixed-time program: the traffic light's first program, restricted to ``indices``."""
    try:
        tls = net.getTLS(tls_id)
    except KeyError:
        raise InputError(f"connections refer to traffic light '{tls_id}', which has no tlLogic",
                         source=source, element=f"junction '{node}'",
                         fix="rebuild the network with netconvert") from None
    programs = tls.getPrograms()
    if not programs:
        raise InputError(f"traffic light '{tls_id}' has no program", source=source,
                         element=f"tlLogic '{tls_id}'", fix="add a static program (netconvert writes one)")
    pid = "0" if "0" in programs else sorted(programs)[0]
    prog = programs[pid]
    if str(prog.getType()) not in ("static", "None", ""):
        approx[f"'{prog.getType()}' traffic lights (run fixed-time with their phase durations)"] += 1
    phases = []
    for k, ph in enumerate(prog.getPhases()):
        state = str(ph.state)
        if indices and max(indices) >= len(state):
            raise InputError(f"phase {k} has {len(state)} states but a connection uses link index "
                             f"{max(indices)}", source=source, element=f"tlLogic '{tls_id}'",
                             fix="rebuild the network with netconvert")
        chars = []
        for ix in indices:
            ch = state[ix]
            if ch not in SIGNAL_STATE:
                raise InputError(f"phase {k} has state '{ch}', which mobsim does not know", source=source,
                                 element=f"tlLogic '{tls_id}'", fix="use the SUMO states G g y r u o O s")
            if ch in "Ous":
                approx[f"signal state '{ch}'"] += 1
            chars.append(SIGNAL_STATE[ch])
        phases.append(SignalPhase(duration=float(ph.duration), state="".join(chars) + "G" * n_extra))
    return SignalProgram(node=node, phases=tuple(phases), offset=float(prog.getOffset() or 0.0),
                         program_id=pid)
