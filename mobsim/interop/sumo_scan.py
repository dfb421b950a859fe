"""One pass over a SUMO network file (:func:`scan_network`): what sumolib's reader needs, the
connections, internal lanes and junctions' request tables that mobsim reads itself; and the
lengths, speeds and internal junctions of the internal lanes a connection drives through. Used by
:mod:`mobsim.interop.sumo_net`. Units: m, m/s."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobsim.errors import InputError

#: Edge functions whose lanes are not driven (internal lanes, crossings, walking areas, connectors).
SKIPPED_FUNCTIONS = ("internal", "crossing", "walkingarea", "connector")


def require_sumolib() -> Any:
    try:
        import sumolib
    except ImportError as exc:
        raise InputError("reading SUMO files needs sumolib, which is not installed", source="sumolib",
                         fix="pip install -e '.[sumo]' (sumolib and eclipse-sumo)") from exc
    return sumolib


@dataclass
class Scan:
    """What one pass over a SUMO network file yields."""

    net: Any                                      # sumolib Net: edges, lanes, junctions, programs
    conns: list[tuple[str, ...]]  # (from, fromLane, to, toLane, via, tl, linkIndex, dir, state)
    internal_length: dict[str, float]             # internal lane id -> length (m)
    internal_next: dict[str, str]                 # internal lane id -> the internal lane that follows it
    special: set[str]                             # crossings, walking areas and macro connectors
    perms: dict[str, tuple[str, str]]             # lane id -> (allow, disallow), lanes that set either
    tl_params: dict[tuple[str, str], dict[str, str]]  # (tlLogic id, programID) -> its <param>s
    inc_lanes: dict[str, list[str]] = field(default_factory=dict)  # junction -> incLanes, in order
    requests: dict[str, dict[int, str]] = field(default_factory=dict)  # junction -> index -> response
    internal_speed: dict[str, float] = field(default_factory=dict)  # internal lane id -> speed limit (m/s)
    #: internal junction id (= the id of the internal lane that starts there) -> its intLanes
    internal_junctions: dict[str, list[str]] = field(default_factory=dict)
    #: internal junction id -> its incLanes (the first is the waiting vehicle's own internal lane)
    internal_inc: dict[str, list[str]] = field(default_factory=dict)
    #: junction -> index -> foes (the request table's: foes[-1 - k] == "1" when link k crosses or
    #: merges with this link, whichever has priority)
    request_foes: dict[str, dict[int, str]] = field(default_factory=dict)


#: Elements sumolib's NetReader interprets in the one-pass scan (everything mobsim uses but the
#: connections); all others (requests, params, internal edges, ...) are skipped there.
_FORWARDED = frozenset(("net", "location", "type", "edge", "lane", "junction", "tlLogic", "phase"))


def scan_network(path: Path, source: str) -> Scan:
    """Read ``path`` in one expat pass, with sumolib's :class:`NetReader` interpreting the edges,
    lanes, junctions and traffic-light programs.

    ``sumolib.net.readNet`` runs Python code for each of the file's elements through ``xml.sax``,
    and builds an object per connection; on a city network, internal lanes, internal connections
    and junction request tables are most of the elements and mobsim needs only the internal lanes'
    lengths. Here the expat callback drops those elements before any sumolib code runs, keeps the
    connections as plain tuples, and hands the rest to sumolib's own reader."""
    sumolib = require_sumolib()
    import xml.parsers.expat

    reader = sumolib.net.NetReader(withInternal=False, withPrograms=True, withConnections=False,
                                   withFoes=False)
    fwd_start, fwd_end = reader.startElement, reader.endElement
    conns: list[tuple[str, ...]] = []
    lengths: dict[str, float] = {}
    speeds: dict[str, float] = {}
    after: dict[str, str] = {}
    special: set[str] = set()
    perms: dict[str, tuple[str, str]] = {}
    tl_params: dict[tuple[str, str], dict[str, str]] = {}
    in_internal = False  # inside an internal (or crossing, walking area) edge
    tl: tuple[str, str] | None = None  # the tlLogic whose phases and params are being read
    inc_lanes: dict[str, list[str]] = {}
    requests: dict[str, dict[int, str]] = {}
    request_foes: dict[str, dict[int, str]] = {}
    junction: str | None = None  # the (non-internal) junction whose request table is being read
    internal_junctions: dict[str, list[str]] = {}
    internal_inc: dict[str, list[str]] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal in_internal, tl, junction
        if name == "request":
            # right of way: response[-1 - k] == "1" means link k has priority over this link
            if junction is not None:
                requests.setdefault(junction, {})[int(attrs["index"])] = attrs.get("response", "")
                request_foes.setdefault(junction, {})[int(attrs["index"])] = attrs.get("foes", "")
            return
        if name == "param":
            # actuated parameters (max-gap, detector-gap, passing-time) of the current tlLogic
            if tl is not None:
                tl_params.setdefault(tl, {})[attrs.get("key", "")] = attrs.get("value", "")
            return
        if name == "tlLogic":
            tl = (attrs.get("id", ""), attrs.get("programID", ""))
        elif name not in ("phase", "condition", "assignment", "function"):
            tl = None
        if name == "connection":
            frm = attrs["from"]
            if frm[0] == ":":
                via = attrs.get("via")
                if via:
                    after.setdefault(f"{frm}_{attrs['fromLane']}", via)
            else:
                conns.append((frm, attrs["fromLane"], attrs["to"], attrs["toLane"], attrs.get("via", ""),
                              attrs.get("tl", ""), attrs.get("linkIndex", "-1"), attrs.get("dir", "s"),
                              attrs.get("state", "M")))
            return
        if name == "lane":
            if "allow" in attrs or "disallow" in attrs:
                perms[attrs["id"]] = (attrs.get("allow", ""), attrs.get("disallow", ""))
            if in_internal:
                lengths[attrs["id"]] = float(attrs["length"])
                speeds[attrs["id"]] = float(attrs.get("speed", "inf"))
                return
        elif name == "edge":
            function = attrs.get("function", "")
            in_internal = function in SKIPPED_FUNCTIONS
            if in_internal:
                if function != "internal":
                    special.add(attrs["id"])
                return
        elif name == "junction":
            if attrs["id"][:1] == ":":
                junction = None
                if attrs.get("type") == "internal":
                    internal_junctions[attrs["id"]] = attrs.get("intLanes", "").split()
                    internal_inc[attrs["id"]] = attrs.get("incLanes", "").split()
                return
            junction = attrs["id"]
            inc_lanes[junction] = attrs.get("incLanes", "").split()
        elif name not in _FORWARDED:
            return
        fwd_start(name, attrs)

    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    # No end-element callback: NetReader's only uses it to forget the current edge, lane,
    # junction or program, and a forwarded element always sits inside the one started last; the
    # end of ``net`` (bidirectional edges) is forwarded once the file is read.
    parser.StartElementHandler = start
    try:
        with path.open("rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
        if gz:
            import gzip
            with gzip.open(path, "rb") as f:
                parser.ParseFile(f)
        else:
            with path.open("rb") as f:
                parser.ParseFile(f)
        fwd_end("net")
        reader.endDocument()
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(f"cannot read the SUMO network: not well-formed XML ({exc})", source=source,
                         fix="give a network written by netconvert or netedit (.net.xml[.gz])") from None
    except (KeyError, ValueError, IndexError, TypeError, AttributeError, OSError, EOFError) as exc:
        where = f" (line {parser.CurrentLineNumber})" if parser.CurrentLineNumber else ""
        raise InputError(f"cannot read the SUMO network{where}: {type(exc).__name__}: {exc}", source=source,
                         fix="give a network written by netconvert or netedit (.net.xml[.gz])") from None
    return Scan(reader.getNet(), conns, lengths, after, special, perms, tl_params, inc_lanes, requests,
                 speeds, internal_junctions, internal_inc, request_foes)


def junction_indices(scan: Scan) -> dict[tuple[str, str, str, str], int]:
    """Each vehicle connection's link index in its junction's request table, keyed by ``(from
    edge, from lane, to edge, to lane)`` as written in the file: the junction's ``incLanes`` in
    order, each lane's connections in file order (as SUMO numbers them; ``sumolib`` does the same
    in ``Node.getLinkIndex``). Pedestrian links come after the vehicles' and are not needed."""
    by_lane: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for frm, from_lane, to, to_lane, *_ in scan.conns:
        if to[:1] != ":":  # a sidewalk's link into a walking area has no number among them
            by_lane[f"{frm}_{from_lane}"].append((frm, from_lane, to, to_lane))
    out: dict[tuple[str, str, str, str], int] = {}
    for lanes in scan.inc_lanes.values():
        k = 0
        for lane in lanes:
            if lane.startswith(":"):
                continue  # walking areas: their links are not numbered among the vehicles'
            for key in by_lane.get(lane, ()):
                out[key] = k
                k += 1
    return out


def via_speed(via_id: str, speeds: dict[str, float], after: dict[str, str]) -> float:
    """Lowest speed limit (m/s) of the chain of internal lanes that starts at ``via_id`` (inf if
    none is known)."""
    low = math.inf
    seen: set[str] = set()
    lane_id = via_id
    while lane_id and lane_id not in seen and lane_id in speeds:
        seen.add(lane_id)
        low = min(low, speeds[lane_id])
        lane_id = after.get(lane_id, "")
    return low


def via_chain_of(via_id: str, after: dict[str, str]) -> list[str]:
    """The internal lanes of a connection, in driving order, from its first (``via``) lane."""
    chain: list[str] = []
    lane_id = via_id
    while lane_id and lane_id not in chain:
        chain.append(lane_id)
        lane_id = after.get(lane_id, "")
    return chain


def internal_junction(via_id: str, lengths: dict[str, float], after: dict[str, str],
                       internal_junctions: dict[str, list[str]],
                       internal_inc: dict[str, list[str]]) -> dict[str, Any]:
    """A connection's internal lanes and, where its internal lanes are split by an internal
    junction (SUMO's ``cont`` links: a left turn that waits inside the junction for the opposing
    stream), the distance (m) from the line to that junction and its foe internal lanes."""
    if not via_id:
        return {}
    chain = via_chain_of(via_id, after)
    for k in range(1, len(chain)):
        if chain[k] in internal_junctions:
            return {"via_chain": tuple(chain), "wait": sum(lengths.get(q, 0.0) for q in chain[:k]),
                    "wait_lanes": tuple(internal_junctions[chain[k]]),
                    "wait_inc": tuple(internal_inc.get(chain[k], [])[1:])}
    return {"via_chain": tuple(chain)}


def via_length(via_id: str, lengths: dict[str, float], after: dict[str, str]) -> float:
    """Length (m) of the chain of internal lanes that starts at ``via_id``."""
    total = 0.0
    seen: set[str] = set()
    lane_id = via_id
    while lane_id and lane_id not in seen and lane_id in lengths:
        seen.add(lane_id)
        total += lengths[lane_id]
        lane_id = after.get(lane_id, "")
    return total
