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
    without them; a SUMO network keeps its own right-of-way relation this way).
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
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from mobsim.errors import InputError
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

NODE_FILE, LINK_FILE, MOVEMENT_FILE, SIGNAL_FILE = "node.csv", "link.csv", "movement.csv", "signal.csv"


@dataclass(frozen=True)
class _Spec:
    """The columns of one file."""

    file: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    hints: dict[str, str] = field(default_factory=dict)

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


NODE_SPEC = _Spec(
    NODE_FILE, ("node_id", "x_coord", "y_coord"), ("control",),
    ignored=("name", "z_coord", "node_type", "zone_id", "parent_node_id", "osm_node_id", "notes"),
    hints={"ctrl_type": "rename it to 'control' with values signal, priority or none"},
)
LINK_SPEC = _Spec(
    LINK_FILE, ("link_id", "from_node_id", "to_node_id", "length", "lanes"),
    ("free_speed", "free_speed_kmh", "priority", "geometry"),
    ignored=("name", "facility_type", "link_type", "capacity", "grade", "toll", "jurisdiction",
             "row_width", "notes", "allowed_uses", "bike_facility", "ped_facility", "parking",
             "parent_link_id", "geometry_id", "osm_way_id"),
    hints={"directed": "remove it: mobsim links are one-way; write one row per direction",
           "dir_flag": "remove it: mobsim links are one-way; write one row per direction"},
)
MOVEMENT_SPEC = _Spec(
    MOVEMENT_FILE, ("node_id", "ib_link_id", "ib_lane", "ob_link_id", "ob_lane"),
    ("kind", "signal_index", "turn", "length", "speed", "wait", "yields_to", "waits_for"),
    ignored=("mvmt_id", "name", "mvmt_code", "penalty", "capacity", "notes", "geometry"),
    hints={**{c: "write one row per lane pair with ib_lane and ob_lane (0 = rightmost lane)"
              for c in ("start_ib_lane", "end_ib_lane", "start_ob_lane", "end_ob_lane")},
           "type": "rename it to 'turn' with values s, l, r or t",
           "ctrl_type": "rename it to 'kind' with values major, minor, stop or zipper"},
)
#: Program-level columns of signal.csv beside ``offset``: the same on every row of a program.
PROGRAM_COLUMNS = (("max_gap", 3.0), ("detector_gap", 2.0), ("passing_time", 1.9), ("detector_range", 100.0),
                   ("min_time_loss", 1.0))
SIGNAL_SPEC = _Spec(SIGNAL_FILE, ("node_id", "duration", "state"),
                    ("program_id", "offset", "phase", "type", "min_dur", "max_dur", "next",
                     *(c for c, _ in PROGRAM_COLUMNS), "extend_max_dur"),
                    ignored=("notes",))

#: Standard GMNS columns that are accepted and ignored, per file.
IGNORED_COLUMNS = {s.file: s.ignored for s in (NODE_SPEC, LINK_SPEC, MOVEMENT_SPEC, SIGNAL_SPEC)}


# --------------------------------------------------------------------------------------------
# reading rows


@dataclass
class _Row:
    """One data row of a CSV file, with helpers that raise row-and-column errors."""

    path: Path
    line: int
    values: dict[str, str]

    def err(self, col: str | None, what: str, fix: str) -> InputError:
        where = f"row {self.line}" + (f", column '{col}'" if col else "")
        return InputError(what, source=str(self.path), element=where, fix=fix)

    def has(self, col: str) -> bool:
        """True if the column is present and the value not empty."""
        return bool(self.values.get(col, ""))

    def text(self, col: str, default: str | None = None) -> str:
        value = self.values.get(col, "")
        if value:
            return value
        if default is not None:
            return default
        raise self.err(col, "value is missing", f"fill in {col}")

    def number(self, col: str, *, positive: bool = False, default: float | None = None) -> float:
        if not self.has(col) and default is not None:
            return default
        raw = self.text(col)
        try:
            x = float(raw)
        except ValueError:
            raise self.err(col, f"'{raw}' is not a number", f"write {col} as a number, e.g. 12.5") from None
        if not math.isfinite(x):
            raise self.err(col, f"'{raw}' is not a finite number", f"write {col} as a finite number")
        if positive and x <= 0:
            raise self.err(col, f"{col} is {raw}, it must be > 0", f"give a positive {col}")
        return x

    def integer(self, col: str, *, minimum: int | None = None, default: int | None = None) -> int:
        if not self.has(col) and default is not None:
            return default
        raw = self.text(col)
        try:
            x = float(raw)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and x == int(x)):
            raise self.err(col, f"'{raw}' is not an integer", f"write {col} as a whole number, e.g. 2")
        if minimum is not None and x < minimum:
            raise self.err(col, f"{col} is {raw}, it must be >= {minimum}", f"give {col} >= {minimum}")
        return int(x)


def _file_error(path: Path, what: str, fix: str, element: str | None = None) -> InputError:
    return InputError(what, source=str(path), element=element, fix=fix)


def _check_header(path: Path, header: list[str], spec: _Spec) -> None:
    def err(what: str, fix: str) -> InputError:
        return _file_error(path, what, fix, element="row 1 (header)")

    for col in header:
        if header.count(col) > 1:
            raise err(f"column '{col}' appears {header.count(col)} times", "keep one column of each name")
        if col in spec.known or col in spec.ignored:
            continue
        if col in spec.hints:
            raise err(f"column '{col}' is not supported", spec.hints[col])
        raise err(f"unknown column '{col}'",
                  f"remove or rename it; allowed columns: {', '.join(spec.known + spec.ignored)}")
    for col in spec.required:
        if col not in header:
            raise err(f"required column '{col}' is missing",
                      f"add a column '{col}' (required: {', '.join(spec.required)})")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise _file_error(path, f"is not UTF-8 text ({e.reason} at byte {e.start})",
                          "save the file as UTF-8 CSV") from None
    except OSError as e:
        raise _file_error(path, f"cannot be read: {e.strerror}", "check the path and permissions") from None


def _blank(record: list[str]) -> bool:
    return all(not c.strip() for c in record)


def _read_table(folder: Path, spec: _Spec, required: bool) -> list[_Row] | None:
    """Rows of ``folder/spec.file``; ``None`` if an optional file is absent."""
    path = folder / spec.file
    if not path.is_file():
        if not required:
            return None
        raise _file_error(path, "file is missing",
                          f"create {spec.file} with the columns {', '.join(spec.required)}")
    reader = csv.reader(io.StringIO(_read_text(path)), strict=True)
    header: list[str] | None = None
    rows: list[_Row] = []
    try:
        for record in reader:
            if _blank(record):
                continue
            if header is None:
                header = [c.strip() for c in record]
                _check_header(path, header, spec)
                continue
            if len(record) != len(header):
                missing = len(record) < len(header)
                raise _file_error(
                    path, f"row has {len(record)} values but the header has {len(header)} columns"
                    + ("; the file may be truncated" if missing else ""),
                    "complete the row or delete it" if missing
                    else "remove the extra values, or quote values that contain commas",
                    element=f"row {reader.line_num}")
            values = {h: c.strip() for h, c in zip(header, record, strict=True)}
            rows.append(_Row(path, reader.line_num, values))
    except csv.Error as e:
        raise _file_error(path, f"is not valid CSV ({e}); the file may be truncated",
                          "close the open quote or repair the row",
                          element=f"row {reader.line_num}") from None
    if header is None:
        raise _file_error(path, "file is empty (no header row)",
                          f"write the header {','.join(spec.required)} and one row per element")
    return rows


# --------------------------------------------------------------------------------------------
# elements


def _unique(row: _Row, col: str, ident: str, seen: dict[str, int], kind: str) -> None:
    if ident in seen:
        raise row.err(col, f"{kind} id '{ident}' is already used on row {seen[ident]}",
                      f"give each {kind} a unique id")
    seen[ident] = row.line


def _read_nodes(folder: Path) -> list[Node]:
    rows = _read_table(folder, NODE_SPEC, required=True) or []
    if not rows:
        raise _file_error(folder / NODE_FILE, "has no nodes", "add one row per node below the header")
    nodes, seen = [], {}
    for r in rows:
        nid = r.text("node_id")
        _unique(r, "node_id", nid, seen, "node")
        control = r.text("control", default="none")
        if control not in NODE_CONTROLS:
            raise r.err("control", f"'{control}' is not a node control",
                        f"use one of {', '.join(NODE_CONTROLS)}")
        nodes.append(Node(nid, r.number("x_coord"), r.number("y_coord"), control))
    return nodes


_WKT = re.compile(r"^LINESTRING\s*\((.*)\)$", re.IGNORECASE | re.DOTALL)


def _parse_geometry(r: _Row) -> tuple[tuple[float, float], ...]:
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


def _speed(r: _Row) -> float:
    if "free_speed" in r.values:
        return r.number("free_speed", positive=True)
    return r.number("free_speed_kmh", positive=True) / 3.6


def _read_links(folder: Path, nodes: list[Node]) -> list[Link]:
    path = folder / LINK_FILE
    rows = _read_table(folder, LINK_SPEC, required=True) or []
    header = set(rows[0].values) if rows else set()
    if rows and ("free_speed" in header) == ("free_speed_kmh" in header):
        raise _file_error(path, "give exactly one of the columns free_speed (m/s) and free_speed_kmh "
                          "(km/h)", "keep one speed column", element="row 1 (header)")
    if not rows:
        raise _file_error(path, "has no links", "add one row per link below the header")
    node_ids = {n.id for n in nodes}
    links, seen = [], {}
    for r in rows:
        lid = r.text("link_id")
        _unique(r, "link_id", lid, seen, "link")
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


def _lane(r: _Row, col: str, link: Link) -> int:
    lane = r.integer(col, minimum=0)
    if lane >= link.lanes:
        raise r.err(col, f"lane {lane} does not exist: link '{link.id}' has {link.lanes} lane(s), "
                    f"0..{link.lanes - 1}", "use a lane from 0 (rightmost) to lanes - 1")
    return lane


def _movement(r: _Row, links: dict[str, Link], nodes: dict[str, Node]) -> Movement:
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
    return Movement(node, ib, _lane(r, "ib_lane", links[ib]), ob, _lane(r, "ob_lane", links[ob]),
                    kind, index, turn, length=length, speed=speed, wait=wait,
                    yields_to=_relation(r, "yields_to"), waits_for=_relation(r, "waits_for"))


#: Separators of a ``yields_to`` / ``waits_for`` cell: between the fields of one movement, and
#: between movements; ``-`` is the empty relation.
REL_FIELD, REL_ITEM, REL_NONE = "|", ";", "-"


def _relation(r: _Row, col: str) -> tuple[tuple[str, int, str, int], ...] | None:
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
    rows = _read_table(folder, MOVEMENT_SPEC, required=False)
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


def _signal_state(r: _Row, node: str, n_idx: int) -> str:
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


def _signal_row(r: _Row, net: Network, programs: dict[str, _Program], counts: dict[str, int]) -> None:
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
    rows = _read_table(folder, SIGNAL_SPEC, required=False) or []
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
                "length", "speed", "wait", "yields_to", "waits_for"),
               [(m.node, m.from_link, m.from_lane, m.to_link, m.to_lane, m.kind, m.signal_index, m.turn,
                 _num(m.length), "" if m.speed is None else _num(m.speed), _num(m.wait),
                 _format_relation(m.yields_to), _format_relation(m.waits_for))
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
