"""Scheduled transit: stops, transit vehicle types, lines and their services, and passenger demand,
read from a scenario's ``[transit]`` section, checked on load, and the lines' services expanded
into road trips (one trip per departure, routed through its stops) with their scheduled stops.

Scenario file (units: m, s, passengers per hour)::

    [[transit.stops]]
    id = "s1"
    link = "n1_1-n1_2"
    pos = 150            # where the front of a vehicle halts, m from the link start (default: end)
    length = 20          # the stop area, ending at pos (m)
    lane = 0             # the lane vehicles move to and halt in (0: the rightmost; -1: any)
    bay = false          # true: vehicles dwell in a bay beside the lane (traffic passes them)

    [[transit.vehicles]]  # a transit vehicle type (its driving: the road vehicle type `vtype`)
    id = "shuttle"
    vtype = "shuttle"     # default: the built-in automated shuttle (ACC), added when not defined
    seats = 10
    standing = 5
    doors = 1
    door_time = 5         # t0: dwell with no one boarding or alighting (s)
    board_time = 2.0      # a: s per boarding passenger, per door stream
    alight_time = 1.5     # b: s per alighting passenger, per door stream
    dwell = "sum"         # "sum": door_time + passenger work; "max": the larger (SUMO's)

    [[transit.lines]]
    id = "A"
    stops = ["s1", "s2", "s3"]
    loop = true           # back to the first stop after the last (a loop line); else one way
    vehicle = "shuttle"
    headway = 300         # a departure every 300 s in [begin, end) ...
    begin = 0
    end = 3600
    # departures = [0, 600, 1500]   # ... or a timetable of departures from the first stop
    rounds = 1            # loops driven per departure (loop lines)
    timepoints = { s1 = 0, s3 = 420 }   # scheduled departures (s after the service's departure):
                                        # a vehicle early there holds until then
    round_time = 900      # s per round, for timepoints of later rounds
    layover = { s1 = 120 }  # s a vehicle stays at least at every call there (recovery time at
                            # a terminus, the turn of an out-and-back loop)

    [[transit.passengers]]  # Poisson arrivals at a stop for another stop of a line ...
    from = "s1"
    to = "s3"
    rate = 30             # passengers per hour
    begin = 0
    end = 3600
    [[transit.passengers]]  # ... at every stop of a line, each for a uniformly drawn other stop
    line = "A"
    rate = 30             # per stop
    [[transit.passengers]]  # ... or a table: columns origin, destination, time [, line]
    file = "passengers.csv"
    [[transit.passengers]]  # ... or an OD matrix between zones, walking to the zones' stops
    od = "od.csv"                 # origin, destination (zones), per_hour
    zone_stops = "zones.csv"      # zone, stop, walk_time (s)
    begin = 0
    end = 3600

    [transit.transfers]     # journeys that no line serves in one ride
    max = 2                 # transfers per journey at most (0: only direct rides)
    time = 0                # s from alighting until the passenger can board at the shared stop

Dwell at a stop: ``door_time + (board_time * boardings + alight_time * alightings) / doors``,
counted from the halt (``dwell = "max"``: the larger of the two terms, as SUMO, where passengers
board while the doors are open for the stop's duration); passengers who reach the stop while the
doors are open board too and lengthen it; a vehicle holds at a time point until its scheduled
time.

A passenger's journey is planned before the run (:class:`Journeys`): one ride when a line serves
its origin and then its destination, else the rides with the fewest transfers (then the fewest
stops ridden) through stops that lines share. On each ride (a *leg*) the passenger takes the
first vehicle with room of **any** line that calls at the leg's end (common lines), FIFO among
the waiting; a passenger of a table row or a SUMO ride that names lines takes only those, in one
ride.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.config_tables import table_error, table_id, table_keys, table_list, table_number
from mobsim.demand.trip_tables import float_cell, read_csv
from mobsim.demand.trips import Stop, Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.errors import InputError

#: The keys of ``[transit]`` (all of them tables).
TRANSIT_INPUT_KEYS = ("stops", "vehicles", "lines", "passengers", "transfers")
#: The built-in road vehicle type of transit vehicles that name none: a small automated shuttle
#: (ACC car following with SUMO's gains), 40 km/h at most.
SHUTTLE_VTYPE = VehicleType(id="shuttle", length=6.0, min_gap=2.0, tau=1.2, accel=1.0, decel=1.5,
                            emergency_decel=5.0, max_speed=11.11, cf_model="ACC")
#: Most passengers a scenario may generate (the arrays of a run hold a few dozen bytes each).
MAX_PASSENGERS = 50_000_000
#: Seconds a service's vehicle is inserted before its scheduled departure from the first stop
#: (beyond the time it needs to drive there at the speed limit).
LEAD_TIME = 10.0

_STOP_KEYS = ("id", "link", "pos", "length", "bay", "lane")
_VEHICLE_KEYS = ("id", "vtype", "seats", "standing", "doors", "door_time", "board_time", "alight_time",
                 "dwell")
#: Dwell laws (the kernels' codes): the door time plus the passengers' work, or the larger of them.
DWELL_LAWS = {"sum": 0, "max": 1}
_LINE_KEYS = ("id", "stops", "loop", "vehicle", "headway", "begin", "end", "departures", "rounds",
              "timepoints", "round_time", "layover")
_PAX_KEYS = ("from", "to", "line", "rate", "begin", "end", "file", "od", "zone_stops")
_TRANSFER_KEYS = ("max", "time")
#: Transfers per journey at most, unless ``[transit.transfers]`` says otherwise.
MAX_TRANSFERS = 2


@dataclass(frozen=True)
class TransitStop:
    """A stop: vehicles halt with their front at ``pos`` m on link ``link``, in an area ``length`` m
    long ending there (several vehicles dwell at once where they fit); in lane ``lane`` (0: the
    rightmost; they change to it on the stop's link; -1: the lane they drive on), where the
    traffic behind waits or changes lanes, or, with ``bay``, beside it (they pull in, and out when
    the lane leaves room)."""

    id: str
    link: str
    pos: float
    length: float = 20.0
    bay: bool = False
    lane: int = 0


@dataclass(frozen=True)
class TransitVehicle:
    """A transit vehicle type: capacity (passengers), doors, the dwell law's times (s) and its form
    (``dwell``: :data:`DWELL_LAWS`) and the road vehicle type that drives it."""

    id: str
    vtype: str = "shuttle"
    seats: int = 10
    standing: int = 5
    doors: int = 1
    door_time: float = 5.0
    board_time: float = 2.0
    alight_time: float = 1.5
    dwell: str = "sum"

    @property
    def capacity(self) -> int:
        """Seated plus standing places."""
        return self.seats + self.standing


@dataclass(frozen=True)
class Line:
    """A line: its stop sequence, loop or one way, its vehicle type, its departures from the first
    stop (s), the rounds each departure drives (loops), and its time points (stop id -> scheduled
    departure in s after the service's departure; later rounds add ``round_time``), and its
    layovers (stop id -> s a vehicle stays at least at each call there). A loop's services call
    at the first stop again at the end (``closed``; an imported SUMO loop may end at the last
    stop of its last round instead)."""

    id: str
    stops: tuple[str, ...]
    vehicle: str
    departures: tuple[float, ...]
    loop: bool = False
    rounds: int = 1
    timepoints: dict[str, float] = field(default_factory=dict)
    round_time: float = 0.0
    closed: bool = True
    #: stop id -> the least time (s) a vehicle stays at each call there, from its halt (layover)
    layover: dict[str, float] = field(default_factory=dict)

    @property
    def pattern(self) -> int:
        """Stops per round."""
        return len(self.stops)

    def visits(self) -> int:
        """Stops one service calls at: every round's stops, and the first stop again at the end of
        a (closed) loop."""
        return self.rounds * len(self.stops) + (1 if self.loop and self.closed else 0)


@dataclass(frozen=True)
class PassengerSource:
    """Passengers: Poisson arrivals (``rate`` per hour) at ``origin`` for ``destination`` on
    ``[begin, end)``; or at every stop of ``line`` for uniformly drawn other stops; or the rows of
    a table ``file``; or an OD matrix between zones (``od``: (origin zone, destination zone,
    passengers per hour)) whose passengers walk to the stops of their zones (``zone_stops``: zone
    -> ((stop, walking time s), ...)) and ride between the served pair of stops with the least
    walking, reaching the stop after their walk."""

    origin: str = ""
    destination: str = ""
    line: str = ""
    rate: float = 0.0
    begin: float = 0.0
    end: float = math.inf
    file: str = ""
    od: tuple[tuple[str, str, float], ...] = ()
    zone_stops: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()


@dataclass
class TransitPlan:
    """Everything ``[transit]`` describes, checked: stops, vehicle types, lines, passenger sources
    (with the rows of their tables: origin, destination, time, line)."""

    stops: list[TransitStop]
    vehicles: list[TransitVehicle]
    lines: list[Line]
    sources: list[PassengerSource]
    #: rows of passenger tables: origin, destination, time (s), the lines they take ("" any; ids
    #: separated by spaces)
    table_rows: list[tuple[str, str, float, str]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    #: transfers per journey at most, and the time from alighting until boarding at the shared stop (s)
    max_transfers: int = MAX_TRANSFERS
    transfer_time: float = 0.0
    #: line id -> the ids of trips of the demand that run its services, in departure order (an
    #: imported SUMO line); the other lines' services are made from their departures.
    explicit: dict[str, list[str]] = field(default_factory=dict)

    def service_ids(self, line: Line) -> list[str]:
        """The trip ids of ``line``'s services."""
        if line.id in self.explicit:
            return list(self.explicit[line.id])
        return [f"{line.id}.{k}" for k in range(len(line.departures))]

    def stop_index(self) -> dict[str, int]:
        return {s.id: k for k, s in enumerate(self.stops)}

    def vehicle(self, line: Line) -> TransitVehicle:
        return next(v for v in self.vehicles if v.id == line.vehicle)


_err = table_error


def _num(row: dict, key: str, default: float, source: str, element: str, positive: bool = False) -> float:
    """A number >= 0 (> 0 with ``positive``) of a table (:func:`mobsim.config_tables.table_number`)."""
    return table_number(row, key, default, source, element, minimum=0.0, positive=positive)


def _int(row: dict, key: str, default: int, source: str, element: str, lo: int) -> int:
    v = row.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise _err(f"{key} = {v!r} is not a whole number >= {lo}", source, element,
                   f"give {key} as a whole number >= {lo}")
    return int(v)


def load_transit(cfg: dict, network: Any, vtype_ids: list[str], base_dir: Path, source: str,
                 files: list[Path], warnings: list[str] | None = None) -> TransitPlan:
    """The checked :class:`TransitPlan` of a scenario's ``[transit]`` tables (``cfg``); findings
    that are not errors go to ``warnings``."""
    table_keys(cfg, TRANSIT_INPUT_KEYS, source, "transit")
    links = {lk.id: lk for lk in network.links}
    stops: list[TransitStop] = []
    seen: set[str] = set()
    for n, row in enumerate(table_list(cfg, "stops", source, "transit")):
        el = f"transit.stops[{n}]"
        table_keys(row, _STOP_KEYS, source, el)
        sid = table_id(row, source, el, seen)
        el = f"transit stop '{sid}'"
        lk = row.get("link")
        if lk not in links:
            raise _err(f"unknown link {lk!r}", source, el, "give link = the id of a network link")
        length = float(links[lk].length)
        pos = _num(row, "pos", length, source, el)
        if pos > length + 1e-6:
            raise _err(f"pos = {pos:g} m is beyond the end of link '{lk}' ({length:g} m)", source, el,
                       f"give a position between 0 and {length:g} m")
        bay = row.get("bay", False)
        if not isinstance(bay, bool):
            raise _err(f"bay = {bay!r} is not true or false", source, el, "give bay = true or false")
        lane = _int(row, "lane", 0, source, el, -1)
        if lane >= links[lk].lanes:
            raise _err(f"lane = {lane} but link '{lk}' has {links[lk].lanes} lane(s)", source, el,
                       f"give a lane index from 0 (the rightmost) to {links[lk].lanes - 1}, or -1 (any)")
        stops.append(TransitStop(sid, lk, pos, _num(row, "length", 20.0, source, el, positive=True), bay,
                                 lane))
    if not stops:
        raise _err("no stops", source, "transit.stops", "add [[transit.stops]] tables")
    vehicles: list[TransitVehicle] = []
    seen = set()
    for n, row in enumerate(table_list(cfg, "vehicles", source, "transit") or [{"id": "shuttle"}]):
        el = f"transit.vehicles[{n}]"
        table_keys(row, _VEHICLE_KEYS, source, el)
        vid = table_id(row, source, el, seen)
        el = f"transit vehicle '{vid}'"
        vt = row.get("vtype", "shuttle")
        if vt not in vtype_ids and vt != SHUTTLE_VTYPE.id:
            raise _err(f"unknown vehicle type '{vt}'", source, el,
                       f"define [[vtypes]] id = \"{vt}\", or use one of {sorted(vtype_ids)}")
        seats = _int(row, "seats", 10, source, el, 0)
        standing = _int(row, "standing", 5, source, el, 0)
        if seats + standing < 1:
            raise _err("no places (seats + standing = 0)", source, el, "give seats or standing places")
        law = row.get("dwell", "sum")
        if law not in DWELL_LAWS:
            raise _err(f"dwell = {law!r} is not one of {sorted(DWELL_LAWS)}", source, el,
                       'give dwell = "sum" (door time + passenger work) or "max" (SUMO\'s)')
        vehicles.append(TransitVehicle(
            vid, vt, seats, standing, _int(row, "doors", 1, source, el, 1),
            _num(row, "door_time", 5.0, source, el), _num(row, "board_time", 2.0, source, el),
            _num(row, "alight_time", 1.5, source, el), law))
    stop_ids = {s.id for s in stops}
    lines: list[Line] = []
    seen = set()
    for n, row in enumerate(table_list(cfg, "lines", source, "transit")):
        el = f"transit.lines[{n}]"
        table_keys(row, _LINE_KEYS, source, el)
        lid = table_id(row, source, el, seen)
        lines.append(_read_line(row, lid, stop_ids, vehicles, source))
    if not lines:
        raise _err("no lines", source, "transit.lines", "add [[transit.lines]] tables")
    sources: list[PassengerSource] = []
    rows: list[tuple[str, str, float, str]] = []
    line_ids = {ln.id for ln in lines}
    for n, row in enumerate(table_list(cfg, "passengers", source, "transit")):
        el = f"transit.passengers[{n}]"
        table_keys(row, _PAX_KEYS, source, el)
        if "file" in row:
            if set(row) != {"file"}:
                raise _err("a passenger table takes no other key", source, el, "give only file = \"...\"")
            rows += _read_table((base_dir / str(row["file"])).resolve(), stop_ids, line_ids, files)
            sources.append(PassengerSource(file=str(row["file"])))
            continue
        if "od" in row or "zone_stops" in row:
            sources.append(_read_od(row, base_dir, stop_ids, el, source, files))
            continue
        rate = _num(row, "rate", 0.0, source, el, positive=True)
        begin = _num(row, "begin", 0.0, source, el)
        end = _num(row, "end", math.inf, source, el) if "end" in row else math.inf
        if end <= begin:
            raise _err(f"end = {end:g} s is not after begin = {begin:g} s", source, el, "give end > begin")
        if "line" in row:
            if "from" in row or "to" in row:
                raise _err("give either line (every stop of it) or from and to", source, el,
                           "drop line, or drop from and to")
            if row["line"] not in line_ids:
                raise _err(f"unknown line {row['line']!r}", source, el, f"use one of {sorted(line_ids)}")
            sources.append(PassengerSource(line=row["line"], rate=rate, begin=begin, end=end))
            continue
        o, d = row.get("from"), row.get("to")
        for key, s in (("from", o), ("to", d)):
            if s not in stop_ids:
                raise _err(f"{key} = {s!r} is not a stop", source, el, f"use one of {sorted(stop_ids)}")
        if o == d:
            raise _err(f"from and to are the same stop '{o}'", source, el, "give two different stops")
        sources.append(PassengerSource(origin=o, destination=d, rate=rate, begin=begin, end=end))
    max_tr, tr_time = _read_transfers(cfg.get("transfers", {}), source)
    plan = TransitPlan(stops, vehicles, lines, sources, rows, config=dict(cfg), max_transfers=max_tr,
                       transfer_time=tr_time)
    journeys = Journeys(plan)
    for src in sources:
        zones = dict(src.zone_stops)
        for zo, zd, _rate in src.od:
            if _od_pair(journeys, zones[zo], zones[zd]) is None:
                msg = (f"no journey (at most {max_tr} transfers) leads from a stop of zone '{zo}' to a "
                       f"stop of zone '{zd}': its passengers are left out")
                if warnings is not None:
                    warnings.append(f"{source}: {msg}")
    for s in sources:
        if s.origin and journeys.legs(s.origin, s.destination) is None:
            raise _err(f"no journey leads from stop '{s.origin}' to stop '{s.destination}' (lines in this "
                       f"order, at most {max_tr} transfers)", source, "transit.passengers",
                       "add a line through both stops, in this order, or allow more transfers")
    for o, d, _t, names in rows:
        if not names and journeys.legs(o, d) is None:
            raise _err(f"no journey leads from stop '{o}' to stop '{d}' (at most {max_tr} transfers)",
                       source, "transit.passengers", "add a line through both stops, in this order")
        if names and not any(ride_on(ln, o, d) for ln in lines if ln.id in names.split()):
            raise _err(f"none of the lines {names!r} serves stop '{o}' and then stop '{d}'", source,
                       "transit.passengers", "name a line through both stops, in this order, or none")
    return plan


def _read_transfers(row: Any, source: str) -> tuple[int, float]:
    """(transfers per journey at most, transfer time s) of ``[transit.transfers]``."""
    el = "transit.transfers"
    if not isinstance(row, dict):
        raise _err("transfers must be a table", source, el, "give [transit.transfers] with max and time")
    table_keys(row, _TRANSFER_KEYS, source, el)
    return _int(row, "max", MAX_TRANSFERS, source, el, 0), _num(row, "time", 0.0, source, el)


def _read_line(row: dict, lid: str, stop_ids: set[str], vehicles: list[TransitVehicle],
               source: str) -> Line:
    el = f"transit line '{lid}'"
    seq = row.get("stops")
    if not isinstance(seq, list) or len(seq) < 2 or not all(isinstance(s, str) for s in seq):
        raise _err("stops must list at least two stop ids", source, el, 'give stops = ["s1", "s2", ...]')
    for s in seq:
        if s not in stop_ids:
            raise _err(f"unknown stop '{s}'", source, el,
                       f"use stops of [[transit.stops]]: {sorted(stop_ids)}")
    loop = row.get("loop", False)
    if not isinstance(loop, bool):
        raise _err(f"loop = {loop!r} is not true or false", source, el, "give loop = true or false")
    veh = row.get("vehicle", vehicles[0].id)
    if veh not in {v.id for v in vehicles}:
        raise _err(f"unknown transit vehicle '{veh}'", source, el,
                   f"use one of {sorted(v.id for v in vehicles)} ([[transit.vehicles]])")
    if ("departures" in row) == ("headway" in row):
        raise _err("give either departures or headway", source, el,
                   "departures = [t1, t2, ...] (s), or headway = s with begin and end")
    if "departures" in row:
        deps = row["departures"]
        if not isinstance(deps, list) or not deps or not all(
                isinstance(t, (int, float)) and not isinstance(t, bool) and t >= 0 for t in deps):
            raise _err("departures must list times >= 0 s", source, el, "give departures = [0, 600, ...]")
        departures = tuple(sorted(float(t) for t in deps))
    else:
        for k in ("begin", "end"):
            if k not in row:
                raise _err(f"headway needs {k}", source, el, f"give {k} (s): departures in [begin, end)")
        h = _num(row, "headway", 0.0, source, el, positive=True)
        b = _num(row, "begin", 0.0, source, el)
        e = _num(row, "end", 0.0, source, el)
        if e <= b:
            raise _err(f"end = {e:g} s is not after begin = {b:g} s", source, el, "give end > begin")
        departures = tuple(float(t) for t in np.arange(b, e - 1e-9, h))
    rounds = _int(row, "rounds", 1, source, el, 1)
    if rounds > 1 and not loop:
        raise _err(f"rounds = {rounds} on a line that is not a loop", source, el,
                   "give loop = true, or one round (a one-way service ends at its last stop)")
    timepoints = _stop_seconds(row, "timepoints", seq, source, el)
    round_time = _num(row, "round_time", 0.0, source, el)
    if timepoints and rounds > 1 and round_time <= 0.0:
        raise _err("time points on several rounds need round_time", source, el,
                   "give round_time = s per round (the schedule's cycle)")
    layover = _stop_seconds(row, "layover", seq, source, el)
    return Line(lid, tuple(seq), veh, departures, loop, rounds, timepoints, round_time, layover=layover)


def _stop_seconds(row: dict, key: str, seq: list[str], source: str, el: str) -> dict[str, float]:
    """A line's table ``key`` of stop id = s >= 0 (time points, layovers), its stops checked."""
    tab = row.get(key, {})
    if not isinstance(tab, dict):
        raise _err(f"{key} must be a table of stop id = s", source, el, f"give {key} = {{ {seq[0]} = 0 }}")
    for s in tab:
        if s not in seq:
            raise _err(f"{key} stop '{s}' is not a stop of the line", source, el, f"use one of {seq}")
    return {s: _num(tab, s, 0.0, source, f"{el} {key}") for s in tab}


def _read_table(path: Path, stop_ids: set[str], line_ids: set[str], files: list[Path]
                ) -> list[tuple[str, str, float, str]]:
    """Passenger rows (origin stop, destination stop, time s, line or "") of a CSV table."""
    src = str(path)
    out = []
    for n, r in read_csv(path, src, ("origin", "destination", "time"), ("line",), files)[1]:
        o, d, ln = r["origin"], r["destination"], r.get("line", "")
        t = float_cell(r, "time", src, n)
        if o not in stop_ids or d not in stop_ids or o == d:
            raise _err(f"origin {o!r} / destination {d!r}: not two different stops", src, f"line {n}",
                       "use ids of [[transit.stops]]")
        unknown = [x for x in ln.split() if x not in line_ids]
        if unknown:
            raise _err(f"unknown line {unknown[0]!r}", src, f"line {n}",
                       f"use one of {sorted(line_ids)} (several: separated by spaces)")
        out.append((o, d, t, " ".join(ln.split())))
    return out


def _read_od(row: dict, base_dir: Path, stop_ids: set[str], el: str, source: str,
             files: list[Path]) -> PassengerSource:
    """An OD passenger source: ``od`` (CSV origin,destination,per_hour between zones) and
    ``zone_stops`` (CSV zone,stop,walk_time in s), with ``begin``/``end``."""
    for k in ("od", "zone_stops"):
        if k not in row:
            raise _err(f"an OD matrix needs {k}", source, el,
                       'give od = "od.csv" (origin,destination,per_hour) and zone_stops = "zones.csv" '
                       "(zone,stop,walk_time)")
    extra = sorted(set(row) - {"od", "zone_stops", "begin", "end"})
    if extra:
        raise _err(f"an OD matrix takes no {extra}", source, el, "give od, zone_stops, begin and end")
    zpath, opath = (base_dir / str(row["zone_stops"])).resolve(), (base_dir / str(row["od"])).resolve()
    zones: dict[str, list[tuple[str, float]]] = {}
    for n, r in read_csv(zpath, str(zpath), ("zone", "stop", "walk_time"), (), files)[1]:
        if r["stop"] not in stop_ids:
            raise _err(f"unknown stop {r['stop']!r}", str(zpath), f"line {n}", "use ids of [[transit.stops]]")
        zones.setdefault(r["zone"], []).append((r["stop"], float_cell(r, "walk_time", str(zpath), n)))
    od = []
    for n, r in read_csv(opath, str(opath), ("origin", "destination", "per_hour"), (), files)[1]:
        rate = float_cell(r, "per_hour", str(opath), n)
        for key in ("origin", "destination"):
            if r[key] not in zones:
                raise _err(f"{key} {r[key]!r} is not a zone of {zpath.name}", str(opath), f"line {n}",
                           "use the zones of the zone_stops table")
        if rate > 0:
            od.append((r["origin"], r["destination"], rate))
    begin = _num(row, "begin", 0.0, source, el)
    end = _num(row, "end", math.inf, source, el) if "end" in row else math.inf
    if end <= begin:
        raise _err(f"end = {end:g} s is not after begin = {begin:g} s", source, el, "give end > begin")
    return PassengerSource(begin=begin, end=end, od=tuple(od),
                           zone_stops=tuple((z, tuple(v)) for z, v in zones.items()))


def _od_pair(journeys: Journeys, origins: Any, dests: Any) -> tuple[str, str, float] | None:
    """(origin stop, destination stop, walk to the origin s) of the pair of stops with a journey
    between them and the least walking (ties: the fewer rides, then the order of the zone
    tables), or None."""
    best = None
    for o, wo in origins:
        for d, wd in dests:
            if o == d:
                continue
            legs = journeys.legs(o, d)
            if legs is not None and (best is None or (wo + wd, len(legs)) < best[0]):
                best = ((wo + wd, len(legs)), o, d, wo)
    return None if best is None else best[1:]


class Journeys:
    """Journeys between stops over the plan's lines: the rides (legs) of a passenger from one stop
    to another, with the fewest transfers (at most ``plan.max_transfers``), then the fewest stops
    ridden; ties go to the stop listed first. A leg is a pair of stops that some line serves in
    that order: any vehicle of any line that does takes the passenger (common lines)."""

    def __init__(self, plan: TransitPlan) -> None:
        self.max_legs = plan.max_transfers + 1
        self._order = {s.id: k for k, s in enumerate(plan.stops)}
        # stop -> {stop served after it by some line: the fewest stops ridden}
        direct: dict[str, dict[str, int]] = {}
        for ln in plan.lines:
            seq, p = ln.stops, len(ln.stops)
            for i, o in enumerate(seq):
                out = direct.setdefault(o, {})
                for r in range(1, p):
                    j = i + r
                    if j >= p:
                        if not ln.loop:
                            break
                        j -= p
                    d = seq[j]
                    if d != o and r < out.get(d, 1 << 30):
                        out[d] = r
        self._direct = direct
        self._trees: dict[str, dict[str, tuple[tuple[int, int], str]]] = {}

    def legs(self, origin: str, destination: str) -> list[tuple[str, str]] | None:
        """The legs ``[(from stop, to stop), ...]`` of the journey, or None if there is none."""
        if origin == destination:
            return None
        if destination in self._direct.get(origin, {}):
            return [(origin, destination)]
        tree = self._trees.get(origin)
        if tree is None:
            tree = self._trees[origin] = self._search(origin)
        if destination not in tree:
            return None
        path = [destination]
        while path[-1] != origin:
            path.append(tree[path[-1]][1])
        path.reverse()
        return list(zip(path, path[1:], strict=False))

    def _search(self, origin: str) -> dict[str, tuple[tuple[int, int], str]]:
        """stop -> ((legs, stops ridden), previous stop) of the best journeys from ``origin``
        (Dijkstra on the lexicographic cost)."""
        import heapq

        best: dict[str, tuple[tuple[int, int], str]] = {origin: ((0, 0), origin)}
        heap = [((0, 0), self._order.get(origin, 0), origin)]
        while heap:
            cost, _k, x = heapq.heappop(heap)
            if cost > best[x][0] or cost[0] >= self.max_legs:
                continue
            for y, r in self._direct.get(x, {}).items():
                c = (cost[0] + 1, cost[1] + r)
                if y not in best or c < best[y][0]:
                    best[y] = (c, x)
                    heapq.heappush(heap, (c, self._order.get(y, 0), y))
        return best


def ride_on(line: Line, origin: str, destination: str) -> tuple[int, int] | None:
    """(origin's index in the stop pattern, stops ridden to the destination) on ``line``, or None."""
    seq = line.stops
    if origin not in seq or destination not in seq:
        return None
    i = seq.index(origin)
    p = len(seq)
    for r in range(1, p):
        j = i + r
        if j >= p:
            if not line.loop:
                return None
            j -= p
        if seq[j] == destination:
            return i, r
    return None


# ----------------------------------------------------------------------------- services as trips
def service_trips(plan: TransitPlan, routes: Any, link_speed: dict[str, float],
                  vtypes: dict[str, VehicleType]) -> list[Trip]:
    """One road trip per departure of every line, routed through its stops (``routes``: the
    :class:`mobsim.demand.route_service.RouteService`), with its scheduled stops. Trip ids are
    ``"<line>.<k>"`` (k: the departure's number on the line). A service's vehicle enters at the
    start of the first stop's link early enough to reach the stop (at the speed limit, or its
    type's top speed, after accelerating) ``LEAD_TIME`` before its departure."""
    stops = {s.id: s for s in plan.stops}
    out: list[Trip] = []
    for ln in plan.lines:
        if ln.id in plan.explicit:
            continue  # its services are trips of the demand already
        veh = plan.vehicle(ln)
        seq = list(ln.stops) * ln.rounds + ([ln.stops[0]] if ln.loop else [])
        route = _route_through(routes, [stops[s] for s in seq], ln.id)
        first = stops[seq[0]]
        vt = vtypes.get(veh.vtype, SHUTTLE_VTYPE)
        v = max(min(link_speed.get(first.link, 10.0), vt.max_speed), 1.0)
        lead = first.pos / v + v / (2.0 * vt.accel) + v / (2.0 * vt.decel) + LEAD_TIME
        for k, dep in enumerate(ln.departures):
            visits = []
            for j, sid in enumerate(seq):
                st = stops[sid]
                until = -math.inf
                rnd = j // ln.pattern
                if j == 0:
                    until = dep
                elif sid in ln.timepoints and j < ln.rounds * ln.pattern:
                    until = dep + ln.timepoints[sid] + rnd * ln.round_time
                visits.append(Stop(st.link, st.pos, st.length, veh.door_time, until, st.lane))
            out.append(Trip(f"{ln.id}.{k}", route[0], route[-1], max(0.0, round(dep - lead, 1)),
                            vtype=veh.vtype, route=tuple(route), depart_lane="first", stops=tuple(visits)))
    return out


def _route_through(routes: Any, seq: list[TransitStop], line: str) -> list[str]:
    """The link sequence through the stops ``seq`` in order (the shortest way between each pair;
    a stop behind the previous one on the same link goes once round)."""
    cn = routes.cn
    ids = cn.link_ids
    cost = routes.free_flow_cost()
    out = [seq[0].link]
    for a, b in zip(seq, seq[1:], strict=False):
        la, lb = routes.link(a.link), routes.link(b.link)
        if la == lb and b.pos > a.pos:
            continue
        nxt = cn.arrays.link_next[cn.arrays.link_next_start[la]:cn.arrays.link_next_start[la + 1]]
        best: list[int] | None = None
        best_t = math.inf
        for s in nxt:
            flat, start, length = routes.routes(np.array([s]), np.array([lb]), cost)
            if length[0] > 0:
                seg = flat[start[0]:start[0] + length[0]].tolist()
                t = float(cost[seg].sum())
                if t < best_t:
                    best, best_t = seg, t
        if best is None:
            raise InputError(f"line '{line}': stop '{b.id}' cannot be reached from stop '{a.id}' by road",
                             source="transit", element=f"transit line '{line}'",
                             fix="check the stops' links and their connections (and the line's order)")
        out += [ids[k] for k in best]
    return out


def passenger_rows(plan: TransitPlan, seed: int, end: float) -> list[tuple[int, int, float, tuple[int, ...]]]:
    """Every passenger as (origin stop, destination stop, arrival time at the origin in s, the
    lines it takes: ``()`` any, else line indices), by stop and line index: the tables' rows, and
    the Poisson sources drawn from ``seed`` (a source without an end stops at ``end``, the run's
    end)."""
    from mobsim.demand.streams import rng_for

    sidx = plan.stop_index()
    lidx = {ln.id: k for k, ln in enumerate(plan.lines)}
    out: list[tuple[int, int, float, tuple[int, ...]]] = []
    for o, d, t, names in plan.table_rows:
        out.append((sidx[o], sidx[d], t, tuple(sorted(lidx[x] for x in names.split()))))
    journeys = None
    for n, s in enumerate(plan.sources):
        if s.file:
            continue
        rng = rng_for(seed, f"transit-passengers-{n}")
        e = min(s.end, end)
        if s.od:
            journeys = journeys or Journeys(plan)
            zones = dict(s.zone_stops)
            for zo, zd, rate in s.od:
                pair = _od_pair(journeys, zones[zo], zones[zd])
                if pair is None:
                    continue  # named in a load warning
                o, d, walk = pair
                out += [(sidx[o], sidx[d], t + walk, ()) for t in _poisson(rng, rate, s.begin, e)]
        elif s.line:
            ln = plan.lines[lidx[s.line]]
            stops = list(dict.fromkeys(ln.stops))
            for o in stops:
                dests = [d for d in stops if d != o and ride_on(ln, o, d) is not None]
                if not dests:
                    continue
                for t in _poisson(rng, s.rate, s.begin, e):
                    d = dests[int(rng.integers(len(dests)))]
                    out.append((sidx[o], sidx[d], t, ()))
        else:
            out += [(sidx[s.origin], sidx[s.destination], t, ()) for t in _poisson(rng, s.rate, s.begin, e)]
    if len(out) > MAX_PASSENGERS:
        raise InputError(f"{len(out):,} passengers: more than {MAX_PASSENGERS:,}", source="transit",
                         element="transit.passengers", fix="lower the rates or shorten the windows")
    return out


def _poisson(rng: np.random.Generator, rate_h: float, begin: float, end: float) -> list[float]:
    """Arrival times (s, rounded to 0.1 s) of a Poisson stream of ``rate_h`` per hour on [begin, end)."""
    if not math.isfinite(end) or end <= begin:
        return []
    n = int(rng.poisson(rate_h * (end - begin) / 3600.0))
    return sorted(round(float(t), 1) for t in rng.uniform(begin, end, n))


def periodic(seq: tuple[str, ...]) -> tuple[tuple[str, ...], int, bool] | None:
    """``(pattern, rounds, closed)`` when the stop sequence ``seq`` repeats a shorter pattern of at
    least two stops (a loop driven ``rounds`` times, ``closed``: back at the first stop at the
    end), else None."""
    n = len(seq)
    for p in range(2, n):
        if all(seq[i] == seq[i % p] for i in range(n)):
            rounds, extra = divmod(n, p)
            if extra <= 1 and rounds >= 1 and (rounds > 1 or extra == 1):
                return tuple(seq[:p]), rounds, extra == 1
            return None
    return None
