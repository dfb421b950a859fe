"""Read and write networks as GMNS-style CSV files in one folder.

Files (UTF-8, comma separated, one header line; blank lines are skipped; values are stripped of
surrounding spaces; an empty value in an optional column means its default):

``node.csv`` (required)
    ``node_id``, ``x_coord`` (m), ``y_coord`` (m), optional ``control`` (``signal`` |
    ``priority`` | ``none``, default ``none``).
``link.csv`` (required)
    ``link_id``, ``from_node_id``, ``to_node_id``, ``length`` (m, > 0), ``lanes`` (integer >= 1),
    exactly one of ``free_speed`` (m/s) or ``free_speed_kmh`` (km/h), optional ``priority``
    (integer, default 0; higher wins at priority junctions), optional ``geometry`` (WKT
    ``LINESTRING (x y, x y, ...)`` in m, for plots and turn directions).
``movement.csv`` (optional; without it :func:`mobsim.net.movements.default_movements` is used)
    one row per lane-to-lane connection: ``node_id``, ``ib_link_id``, ``ib_lane``,
    ``ob_link_id``, ``ob_lane`` (lanes are 0-based from the rightmost lane, unlike GMNS),
    optional ``kind`` (``major`` | ``minor`` | ``stop`` | ``zipper``, default ``major``), ``signal_index``
    (integer, required at signal nodes, -1 or empty elsewhere), ``turn`` (``s`` | ``l`` | ``r`` |
    ``t``; default: from the geometry), ``length`` (m through the junction, >= 0, default 0),
    ``speed`` (m/s through the junction, > 0; empty: the link's own), ``wait`` (m from the line
    to a waiting position inside the junction, 0 to ``length``, default 0: a permitted left turn
    that enters at green and waits for its foes inside, as at SUMO's internal junctions),
    ``yields_to`` and ``waits_for`` (the movements of the same node this one yields to at its line
    and at its waiting position, as ``ib_link_id|ib_lane|ob_link_id|ob_lane`` items separated by
    ``;``, ``-`` for none; empty: derived from the geometry and the kinds, as for networks
    without them; a SUMO network keeps its own right-of-way relation this way), ``keep_clear``
    (1, the default: a vehicle enters only with room beyond the junction; 0: the queue may back
    up into it, for a movement without foes, as SUMO's links without foes).
``signal.csv`` (optional; a signal node without rows gets
:func:`mobsim.net.movements.default_signal_program`)
    one row per phase: ``node_id``, optional ``program_id`` (default ``0``; one program per
    node), optional ``offset`` (s, default 0, the same on every row of a program), optional
    ``phase`` (integer order of the phase; default: file order), ``duration`` (s, > 0),
    ``state`` (one character of ``Ggyros`` per signal index of the node, as in SUMO; ``s``:
    stop at the line, then go when the foes leave room, as SUMO's right turn on red); for
    actuated control (SUMO's ``type="actuated"`` and ``"delay_based"``): ``type`` (``static`` |
    ``actuated`` | ``delay_based``, default ``static``), per phase ``min_dur`` and ``max_dur``
    (s, default the duration) and ``next`` (phase number, default the following one), per
    program ``max_gap``, ``detector_gap`` and ``passing_time`` (s, defaults 3, 2 and 1.9 as SUMO;
    actuated), ``detector_range`` (m, default 100), ``min_time_loss`` (s, default 1) and
    ``extend_max_dur`` (0 or 1, default 0: whether a green may outlast ``max_dur`` while no
    vehicle waits on red; delay-based); program columns are the same on every row of a program.

Columns not listed are errors, except the standard GMNS columns in :data:`IGNORED_COLUMNS`,
which are accepted and ignored. Errors are :class:`~mobsim.errors.InputError` naming the file,
the row (its line number in a text editor; the header is row 1), the column, what is wrong and
how to fix it. :func:`write_network` followed by :func:`read_network` gives an equal network.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from mobsim.errors import InputError
from mobsim.net.csv_tables import (
    LINK_FILE,
    LINK_SPEC,
    MOVEMENT_FILE,
    MOVEMENT_SPEC,
    NODE_FILE,
    NODE_SPEC,
    PROGRAM_COLUMNS,
    SIGNAL_FILE,
    SIGNAL_SPEC,
    Row,
    file_error,
    read_table,
    unique,
)
from mobsim.net.movements import classify_turn, default_movements, default_signal_programs, turn_angle
from mobsim.net.netcheck import check_network, signal_counts
from mobsim.net.network import (
    MOVEMENT_KINDS,
    NODE_CONTROLS,
    SIGNAL_STATES,
    Link,
    Movement,
    Network,
    Node,
    SignalPhase,
    SignalProgram,
)


def _read_nodes(folder: Path) -> list[Node]:
    rows = read_table(folder, NODE_SPEC, required=True) or []
    if not rows:
        raise file_error(folder / NODE_FILE, "has no nodes", "add one row per node below the header")
    nodes, seen = [], {}
    for r in rows:
        nid = r.text("node_id")
        unique(r, "node_id", nid, seen, "node")
        control = r.text("control", default="none")
        if control not in NODE_CONTROLS:
            raise r.err("control", f"'{control}' is not a node control",
                        f"use one of {', '.join(NODE_CONTROLS)}")
        nodes.append(Node(nid, r.number("x_coord"), r.number("y_coord"), control))
    return nodes


_WKT = re.compile(r"^LINESTRING\s*\((.*)\)$", re.IGNORECASE | re.DOTALL)


def _parse_geometry(r: Row) -> tuple[tuple[float, float], ...]:
    raw = r.values.get("geometry", "")
    if not raw:
        return ()
    fix = "write the shape as LINESTRING (x1 y1, x2 y2, ...) in metres, or leave it empty"
    m = _WKT.match(raw)
    if not m:
        raise r.err("geometry", f"'{raw[:40]}' is not a WKT LINESTRING", fix)
    points = []
    for part in m.group(1).split(","):
        xy = part.split()
        try:
            x, y = (float(v) for v in xy)
        except ValueError:
            raise r.err("geometry", f"point '{part.strip()}' is not two numbers", fix) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise r.err("geometry", f"point '{part.strip()}' is not finite", fix)
        points.append((x, y))
    if len(points) < 2:
        raise r.err("geometry", "a LINESTRING needs at least two points", fix)
    return tuple(points)


def _speed(r: Row) -> float:
    if "free_speed" in r.values:
        return r.number("free_speed", positive=True)
    return r.number("free_speed_kmh", positive=True) / 3.6


def _read_links(folder: Path, nodes: list[Node]) -> list[Link]:
    path = folder / LINK_FILE
    rows = read_table(folder, LINK_SPEC, required=True) or []
    header = set(rows[0].values) if rows else set()
    if rows and ("free_speed" in header) == ("free_speed_kmh" in header):
        raise file_error(path, "give exactly one of the columns free_speed (m/s) and free_speed_kmh "
                          "(km/h)", "keep one speed column", element="row 1 (header)")
    if not rows:
        raise file_error(path, "has no links", "add one row per link below the header")
    node_ids = {n.id for n in nodes}
    links, seen = [], {}
    for r in rows:
        lid = r.text("link_id")
        unique(r, "link_id", lid, seen, "link")
        ends = []
        for col in ("from_node_id", "to_node_id"):
            ref = r.text(col)
            if ref not in node_ids:
                raise r.err(col, f"node '{ref}' is not in {NODE_FILE}",
                            f"add node '{ref}' to {NODE_FILE} or correct the id")
            ends.append(ref)
        if ends[0] == ends[1]:
            raise r.err("to_node_id", f"link starts and ends at node '{ends[0]}'",
                        "split the loop into two links through an extra node")
        links.append(Link(lid, ends[0], ends[1], r.number("length", positive=True), _speed(r),
                          r.integer("lanes", minimum=1), r.integer("priority", default=0),
                          _parse_geometry(r)))
    return links


def _lane(r: Row, col: str, link: Link) -> int:
    lane = r.integer(col, minimum=0)
    if lane >= link.lanes:
        raise r.err(col, f"lane {lane} does not exist: link '{link.id}' has {link.lanes} lane(s), "
                    f"0..{link.lanes - 1}", "use a lane from 0 (rightmost) to lanes - 1")
    return lane


def _movement(r: Row, links: dict[str, Link], nodes: dict[str, Node]) -> Movement:
    node = r.text("node_id")
    if node not in nodes:
        raise r.err("node_id", f"node '{node}' is not in {NODE_FILE}", "correct the node id")
    ib, ob = r.text("ib_link_id"), r.text("ob_link_id")
    for col, lid in (("ib_link_id", ib), ("ob_link_id", ob)):
        if lid not in links:
            raise r.err(col, f"link '{lid}' is not in {LINK_FILE}", "correct the link id")
    if links[ib].to_node != node:
        raise r.err("ib_link_id", f"link '{ib}' ends at node '{links[ib].to_node}', not at '{node}'",
                    "use an inbound link that ends at node_id")
    if links[ob].from_node != node:
        raise r.err("ob_link_id", f"link '{ob}' starts at node '{links[ob].from_node}', not at '{node}'",
                    "use an outbound link that starts at node_id")
    kind = r.text("kind", default="major")
    if kind not in MOVEMENT_KINDS:
        raise r.err("kind", f"'{kind}' is not a movement kind", f"use one of {', '.join(MOVEMENT_KINDS)}")
    turn = r.text("turn", default="") or classify_turn(turn_angle(links[ib], links[ob], nodes))
    if turn not in ("s", "l", "r", "t"):
        raise r.err("turn", f"'{turn}' is not a turn code", "use s, l, r or t")
    signal = nodes[node].control == "signal"
    index = r.integer("signal_index", minimum=-1, default=-1)
    if signal and index < 0:
        raise r.err("signal_index", f"node '{node}' is a signal node but the movement has no signal index",
                    "give the index of its character in the node's signal states (0 up)")
    if not signal and index != -1:
        raise r.err("signal_index", f"node '{node}' is not a signal node (control "
                    f"'{nodes[node].control}')", "leave signal_index empty or -1")
    length = r.number("length", default=0.0)
    if not (math.isfinite(length) and length >= 0.0):
        raise r.err("length", f"length is {length}, it must be >= 0 m", "give the distance through the "
                    "junction in m (0 for a point junction)")
    speed = r.number("speed", positive=True) if r.has("speed") else None
    wait = r.number("wait", default=0.0)
    if not (math.isfinite(wait) and 0.0 <= wait <= length):
        raise r.err("wait", f"wait is {wait}, it must be between 0 and the movement's length {length} m",
                    "give the distance from the line to the waiting position inside the junction in m "
                    "(0: none)")
    keep = r.integer("keep_clear", minimum=0, default=1)
    if keep > 1:
        raise r.err("keep_clear", f"keep_clear is {keep}", "give 1 (enter only with room beyond the "
                    "junction) or 0 (the queue may back up into it)")
    return Movement(node, ib, _lane(r, "ib_lane", links[ib]), ob, _lane(r, "ob_lane", links[ob]),
                    kind, index, turn, length=length, speed=speed, wait=wait,
                    yields_to=_relation(r, "yields_to"), waits_for=_relation(r, "waits_for"),
                    keep_clear=bool(keep))


#: Separators of a ``yields_to`` / ``waits_for`` cell: between the fields of one movement, and
#: between movements; ``-`` is the empty relation.
REL_FIELD, REL_ITEM, REL_NONE = "|", ";", "-"


def _relation(r: Row, col: str) -> tuple[tuple[str, int, str, int], ...] | None:
    """The movements listed in column ``col`` (None when the cell is empty: derive them)."""
    text = r.text(col, default="").strip()
    if not text:
        return None
    if text == REL_NONE:
        return ()
    out = []
    for item in text.split(REL_ITEM):
        parts = item.strip().split(REL_FIELD)
        if len(parts) != 4 or not parts[1].strip().isdigit() or not parts[3].strip().isdigit():
            sep = REL_FIELD
            raise r.err(col, f"'{item}' is not a movement",
                        f"write each movement as ib_link_id{sep}ib_lane{sep}ob_link_id{sep}ob_lane, "
                        f"separated by '{REL_ITEM}' ('{REL_NONE}': none)")
        out.append((parts[0].strip(), int(parts[1]), parts[2].strip(), int(parts[3])))
    return tuple(out)


def _format_relation(rel: tuple[tuple[str, int, str, int], ...] | None) -> str:
    if rel is None:
        return ""
    if not rel:
        return REL_NONE
    return REL_ITEM.join(REL_FIELD.join(str(x) for x in item) for item in rel)


def _read_movements(folder: Path, net: Network) -> list[Movement] | None:
    rows = read_table(folder, MOVEMENT_SPEC, required=False)
    if rows is None:
        return None
    links = {link.id: link for link in net.links}
    nodes = {n.id: n for n in net.nodes}
    movements, seen = [], {}
    for r in rows:
        m = _movement(r, links, nodes)
        key = f"{m.from_link}[{m.from_lane}] -> {m.to_link}[{m.to_lane}]"
        if key in seen:
            raise r.err(None, f"movement {key} is already listed on row {seen[key]}",
                        "delete one of the rows")
        seen[key] = r.line
        movements.append(m)
    at_node = {(m.node, m.from_link, m.from_lane, m.to_link, m.to_lane) for m in movements}
    for r, m in zip(rows, movements, strict=True):
        for col, rel in (("yields_to", m.yields_to), ("waits_for", m.waits_for)):
            for item in rel or ():
                if (m.node, *item) not in at_node:
                    raise r.err(col, f"movement {item[0]}[{item[1]}] -> {item[2]}[{item[3]}] is not a "
                                f"movement of node '{m.node}' in {MOVEMENT_FILE}",
                                "list movements of the same node")
    return movements


@dataclass
class _Program:
    node: str
    program_id: str
    offset: float
    first_row: int
    phases: dict[int, SignalPhase] = field(default_factory=dict)
    kind: str = "static"
    params: dict[str, float] = field(default_factory=dict)


def _signal_state(r: Row, node: str, n_idx: int) -> str:
    state = r.values.get("state", "")
    bad = sorted(set(state) - set(SIGNAL_STATES))
    if bad:
        raise r.err("state", f"state '{state}' has characters {bad} that are not signal states",
                    f"use only {SIGNAL_STATES}: G green, g yield green, y yellow, r red, o off, "
                    "s stop then yield (right turn on red)")
    if len(state) != n_idx:
        raise r.err("state", f"state '{state}' has {len(state)} characters but node '{node}' has "
                    f"{n_idx} signal indices", f"give one character per signal index 0..{n_idx - 1}")
    return state


def _signal_row(r: Row, net: Network, programs: dict[str, _Program], counts: dict[str, int]) -> None:
    control = {n.id: n.control for n in net.nodes}
    node = r.text("node_id")
    if node not in control:
        raise r.err("node_id", f"node '{node}' is not in {NODE_FILE}", "correct the node id")
    if control[node] != "signal":
        raise r.err("node_id", f"node '{node}' has control '{control[node]}', not signal",
                    f"set control=signal in {NODE_FILE} or delete its rows here")
    pid = r.text("program_id", default="0")
    offset = r.number("offset", default=0.0)
    prog = programs.setdefault(node, _Program(node, pid, offset, r.line))
    if prog.program_id != pid:
        raise r.err("program_id", f"node '{node}' already has program '{prog.program_id}' "
                    f"(row {prog.first_row})", "keep one fixed-time program per node")
    if offset != prog.offset:
        raise r.err("offset", f"offset {offset} differs from {prog.offset} on row {prog.first_row}",
                    "give every row of a program the same offset")
    kind = r.text("type", default="static")
    params: dict[str, float | bool] = {c: r.number(c, positive=True, default=d) for c, d in PROGRAM_COLUMNS}
    extend = r.integer("extend_max_dur", minimum=0, default=0)
    if extend > 1:
        raise r.err("extend_max_dur", f"extend_max_dur is {extend}, it must be 0 or 1",
                    "give 1 to let a delay-based green outlast max_dur while no one waits on red, else 0")
    params["extend_max_dur"] = bool(extend)
    if r.line == prog.first_row:
        prog.kind, prog.params = kind, params
    elif (kind, params) != (prog.kind, prog.params):
        raise r.err("type", f"type or {', '.join(c for c, _ in PROGRAM_COLUMNS)} differ from row "
                    f"{prog.first_row}", "give every row of a program the same type and parameters")
    phase = r.integer("phase", minimum=0) if "phase" in r.values else len(prog.phases)
    if phase in prog.phases:
        raise r.err("phase", f"phase {phase} of node '{node}' is listed twice", "number phases uniquely")
    lo = r.number("min_dur", positive=True) if r.has("min_dur") else None
    hi = r.number("max_dur", positive=True) if r.has("max_dur") else None
    prog.phases[phase] = SignalPhase(r.number("duration", positive=True),
                                     _signal_state(r, node, counts[node]), min_dur=lo, max_dur=hi,
                                     next=r.integer("next", minimum=-1, default=-1))


def _read_signals(folder: Path, net: Network) -> list[SignalProgram]:
    rows = read_table(folder, SIGNAL_SPEC, required=False) or []
    counts = signal_counts(net)
    programs: dict[str, _Program] = {}
    for r in rows:
        _signal_row(r, net, programs, counts)
    return [SignalProgram(p.node, tuple(p.phases[k] for k in sorted(p.phases)), p.offset, p.program_id,
                          kind=p.kind, **p.params) for p in programs.values()]


def _default_name(folder: Path) -> str:
    folder = folder.resolve()
    return folder.parent.name if folder.name == "net" else folder.name


def read_network(folder: str | Path, name: str | None = None) -> Network:
    """Read ``node.csv``, ``link.csv`` and the optional ``movement.csv``, ``signal.csv`` in ``folder``.

    Missing movements come from :func:`~mobsim.net.movements.default_movements`, missing signal
    programs from :func:`~mobsim.net.movements.default_signal_program`. The network is checked with
    :func:`~mobsim.net.netcheck.check_network` (call it again for the warnings). ``name`` defaults to
    the folder's name, or its parent's name for a folder called ``net``
    (``networks/default/net`` -> ``"default"``). Raises :class:`InputError` for bad input.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("network folder does not exist", source=str(folder),
                         fix=f"give a folder that holds {NODE_FILE} and {LINK_FILE}")
    nodes = _read_nodes(folder)
    links = _read_links(folder, nodes)
    net = Network(nodes, links, [], [], name=name or _default_name(folder), source=str(folder))
    movements = _read_movements(folder, net)
    net.movements = default_movements(net) if movements is None else movements
    net.signals = _read_signals(folder, net)
    net.signals += default_signal_programs(net)
    check_network(net)
    return net


# --------------------------------------------------------------------------------------------
# writing


def _num(x: float) -> str:
    return repr(float(x))


def _wkt(shape: tuple[tuple[float, float], ...]) -> str:
    if not shape:
        return ""
    return "LINESTRING (" + ", ".join(f"{_num(x)} {_num(y)}" for x, y in shape) + ")"


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_network(net: Network, folder: str | Path) -> None:
    """Write ``net`` as ``node.csv``, ``link.csv``, ``movement.csv`` and ``signal.csv`` into ``folder``.

    The folder is created if needed; existing files of these names are replaced. Speeds are
    written in m/s (``free_speed``), floats with full precision so that reading gives an equal
    network. The network is checked first (:func:`~mobsim.net.netcheck.check_network`).
    """
    check_network(net)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / NODE_FILE, ("node_id", "x_coord", "y_coord", "control"),
               [(n.id, _num(n.x), _num(n.y), n.control) for n in net.nodes])
    _write_csv(folder / LINK_FILE,
               ("link_id", "from_node_id", "to_node_id", "length", "free_speed", "lanes", "priority",
                "geometry"),
               [(k.id, k.from_node, k.to_node, _num(k.length), _num(k.speed), k.lanes, k.priority,
                 _wkt(k.shape)) for k in net.links])
    for m in net.movements:
        for item in (*(m.yields_to or ()), *(m.waits_for or ())):
            if any(c in str(x) for x in (item[0], item[2]) for c in (REL_FIELD, REL_ITEM)):
                raise InputError(f"link id '{item[0]}' or '{item[2]}' contains '{REL_FIELD}' or "
                                 f"'{REL_ITEM}', which the yields_to and waits_for columns use",
                                 source=str(folder / MOVEMENT_FILE),
                                 element=f"movement {m.from_link}[{m.from_lane}] -> {m.to_link}[{m.to_lane}]",
                                 fix="rename the link")
    _write_csv(folder / MOVEMENT_FILE,
               ("node_id", "ib_link_id", "ib_lane", "ob_link_id", "ob_lane", "kind", "signal_index", "turn",
                "length", "speed", "wait", "yields_to", "waits_for", "keep_clear"),
               [(m.node, m.from_link, m.from_lane, m.to_link, m.to_lane, m.kind, m.signal_index, m.turn,
                 _num(m.length), "" if m.speed is None else _num(m.speed), _num(m.wait),
                 _format_relation(m.yields_to), _format_relation(m.waits_for), int(m.keep_clear))
                for m in net.movements])
    def opt(x: float | None) -> str:
        return "" if x is None else _num(x)

    _write_csv(folder / SIGNAL_FILE, ("node_id", "program_id", "offset", "phase", "duration", "state", "type",
                                      "min_dur", "max_dur", "next", *(c for c, _ in PROGRAM_COLUMNS),
                                      "extend_max_dur"),
               [(p.node, p.program_id, _num(p.offset), k, _num(ph.duration), ph.state, p.kind,
                 opt(ph.min_dur), opt(ph.max_dur), ph.next,
                 *(_num(getattr(p, c)) for c, _ in PROGRAM_COLUMNS), int(p.extend_max_dur))
                for p in net.signals for k, ph in enumerate(p.phases)])
