"""Demand: the trips of a scenario, from trip tables, OD matrices over zones, and flows.

A scenario's ``[demand]`` section may combine three sources; their trips are merged and sorted by
``(depart, id)``, so the result is the same for the same inputs and seed on any machine.

Trip table (``trips = "trips.csv"``, or a list of files)
    CSV with a header. Columns ``id``, ``origin``, ``destination`` (link ids), ``depart`` (s) are
    required; ``vtype`` (default ``car``), ``route`` (space-separated link ids from origin to
    destination), ``depart_lane`` (``best``, ``first`` or a lane index) and ``depart_speed``
    (``max`` or m/s) are optional. With a ``route``, an empty origin or destination cell is taken
    from the route.

OD matrix (``[[demand.od]]`` tables)
    ``file`` = CSV with ``origin_zone, destination_zone, trips`` (trips may be fractional);
    ``zones`` = CSV with ``zone, link`` and optional ``weight`` (share of the zone's trips that
    start or end on the link, default 1) and ``role`` (``origin``, ``destination`` or ``both``,
    default ``both``: a boundary inflow link is an origin, an outflow link a destination).
    ``begin``, ``end`` (s): the departure window ``[begin, end)``. ``scale`` multiplies every cell.
    ``departure = "uniform"`` spreads a pair's n trips at ``begin + (k + 1/2)(end - begin)/n``;
    ``"random"`` draws them uniformly in ``[begin, end)``. ``vtype``, ``depart_lane``,
    ``depart_speed`` apply to every trip; ids are ``<id_prefix><k>`` numbered in departure order
    (default prefix ``od<i>_`` for the i-th table, from 0).

    *Rounding* (largest remainder, as in apportionment): the matrix total T (after ``scale``) is
    rounded to the nearest integer N (halves up); every cell gets the integer part of its value,
    and the N - Σ floor remaining trips go one each to the cells with the largest fractional
    parts, ties to the cell listed first. So the trip count always equals the rounded total.
    Each trip's origin and destination link are drawn by weight from its zones' links; a trip that
    draws the same link for both is skipped and counted in a warning.

Flows (``[[demand.flows]]`` tables, SUMO ``<flow>`` semantics)
    ``id``, ``from``, ``to`` (link ids; may be left out when ``route`` is given), ``begin``
    (default 0), ``end`` (s), and exactly one of ``vehs_per_hour`` (SUMO vehsPerHour: one vehicle
    every 3600/vph s from ``begin``), ``period`` (s, the same with the period given),
    ``probability`` (each whole second from ``begin`` a vehicle departs with this probability)
    or ``number`` (n vehicles spread evenly: one every (end - begin)/n s from ``begin``). Departures
    fall in ``[begin, end)``. Optional ``vtype``, ``route`` (string or array of link ids),
    ``depart_lane``, ``depart_speed``. Vehicle ids are ``<flow id>.<k>``, k from 0.

Random draws use ``numpy.random.Generator(PCG64(seed ^ h))``, where h is a 64-bit BLAKE2b hash of
the source (``"od:<i>:<id_prefix>"`` or ``"flow:<id>"``): deterministic for a seed, independent
of Python's hash salt, and independent between sources.

Demand checks that links and vehicle types exist and routes are contiguous; whether a destination
can be reached is decided by the engine's router (setting ``demand.unreachable``).
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.demand.trips import Trip
from mobsim.errors import InputError
from mobsim.net.network import Link, Network
from mobsim.settings import SETTINGS, suggest

TRIP_REQUIRED = ("id", "origin", "destination", "depart")
TRIP_OPTIONAL = ("vtype", "route", "depart_lane", "depart_speed", "depart_pos")
OD_REQUIRED = ("origin_zone", "destination_zone", "trips")
ZONE_REQUIRED = ("zone", "link")
ZONE_OPTIONAL = ("weight", "role")
ZONE_ROLES = ("both", "origin", "destination")
DEPARTURE_MODES = ("uniform", "random")
FLOW_RATES = ("vehs_per_hour", "period", "probability", "number")

#: Keys of a ``[demand]`` section that are demand inputs (the others are settings ``demand.*``).
DEMAND_INPUT_KEYS = ("trips", "od", "flows", "sumo")
#: Keys of one ``[[demand.od]]`` table with their defaults (``...`` = required).
OD_KEYS: dict[str, Any] = {
    "file": ..., "zones": ..., "begin": 0.0, "end": ..., "scale": 1.0, "departure": "uniform",
    "vtype": "car", "id_prefix": None, "depart_lane": "best", "depart_speed": "max",
}
#: Keys of one ``[[demand.flows]]`` table with their defaults (``...`` = required, ``None`` = absent).
FLOW_KEYS: dict[str, Any] = {
    "id": ..., "from": None, "to": None, "route": None, "begin": 0.0, "end": ...,
    "vehs_per_hour": None, "period": None, "probability": None, "number": None,
    "vtype": "car", "depart_lane": "best", "depart_speed": "max",
}


# --------------------------------------------------------------------------------------------
# configuration


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_keys(table: dict, known: Iterable[str], source: str, element: str) -> None:
    known = list(known)
    for key in table:
        if key not in known:
            raise InputError(f"unknown key '{key}'{suggest(key, known)}", source=source,
                             element=element, fix=f"use only: {', '.join(known)}")


def _number(table: dict, key: str, source: str, element: str, *, minimum: float | None = None,
            positive: bool = False) -> float:
    v = table[key]
    if not _is_number(v):
        raise InputError(f"{key} must be a finite number, got {v!r}", source=source, element=element,
                         fix=f"give {key} as a number")
    if positive and v <= 0:
        raise InputError(f"{key} must be > 0, got {v!r}", source=source, element=element,
                         fix=f"set {key} to a positive number")
    if minimum is not None and v < minimum:
        raise InputError(f"{key} must be >= {minimum}, got {v!r}", source=source, element=element,
                         fix=f"set {key} to at least {minimum}")
    return float(v)


def _string(table: dict, key: str, source: str, element: str) -> str:
    v = table[key]
    if not isinstance(v, str) or not v:
        raise InputError(f"{key} must be a non-empty string, got {v!r}", source=source,
                         element=element, fix=f'write {key} = "..."')
    return v


def _lane_speed(table: dict, source: str, element: str) -> tuple[str, str]:
    lane, speed = table["depart_lane"], table["depart_speed"]
    if isinstance(lane, int) and not isinstance(lane, bool):
        lane = str(lane)
    if _is_number(speed):
        speed = repr(float(speed)) if isinstance(speed, float) else str(speed)
    if not isinstance(lane, str) or not isinstance(speed, str):
        raise InputError("depart_lane and depart_speed must be strings or numbers", source=source,
                         element=element, fix='e.g. depart_lane = "best", depart_speed = "max"')
    return lane, speed


def _file_list(cfg: dict, key: str, source: str, fix: str) -> list[str]:
    """``cfg[key]`` as a list of file names (one name is a list of one); [] when absent."""
    value = cfg.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise InputError(f"{key} must be a file name or a list of file names, got {value!r}",
                         source=source, element=f"[demand] {key}", fix=fix)
    return list(value)


def normalize_config(cfg: dict, source: str) -> dict:
    """Check a ``[demand]`` section's inputs (``trips``, ``od``, ``flows``) and fill defaults.

    Setting keys (``unreachable``, ``insertion_delay_event``) must already be removed. Returns
    ``{"trips": [file, ...], "od": [table, ...], "flows": [table, ...], "sumo": [file, ...]}``
    (SUMO route files are read by :mod:`mobsim.interop.sumo_demand`) with every key present,
    numbers as floats (``number`` as int). Raises :class:`InputError` for unknown keys, missing
    required keys, wrong types or impossible values.
    """
    _check_keys(cfg, DEMAND_INPUT_KEYS, source, "[demand]")
    trips = _file_list(cfg, "trips", source, 'write trips = "trips.csv"')
    sumo = _file_list(cfg, "sumo", source, 'write sumo = ["city.rou.xml"]')
    out: dict[str, list] = {"trips": trips, "od": [], "flows": [], "sumo": sumo}

    for name, keys in (("od", OD_KEYS), ("flows", FLOW_KEYS)):
        tables = cfg.get(name, [])
        if isinstance(tables, dict):
            tables = [tables]
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise InputError(f"demand.{name} must be an array of tables", source=source,
                             element=f"[[demand.{name}]]", fix=f"write each one as [[demand.{name}]]")
        for i, table in enumerate(tables):
            element = f"[[demand.{name}]] #{i + 1}" if name == "od" else \
                f"[[demand.flows]] '{table.get('id', f'#{i + 1}')}'"
            _check_keys(table, keys, source, element)
            missing = [k for k, d in keys.items() if d is ... and k not in table]
            if missing:
                raise InputError(f"missing required key(s) {', '.join(missing)}", source=source,
                                 element=element, fix=f"add {' and '.join(missing)}")
            full = {k: table.get(k, d) for k, d in keys.items()}
            full["begin"] = _number(full, "begin", source, element, minimum=0.0)
            full["end"] = _number(full, "end", source, element)
            if full["end"] <= full["begin"]:
                raise InputError(f"end = {full['end']} s is not after begin = {full['begin']} s",
                                 source=source, element=element, fix="make end larger than begin")
            full["vtype"] = _string(full, "vtype", source, element)
            full["depart_lane"], full["depart_speed"] = _lane_speed(full, source, element)
            if name == "od":
                _normalize_od(full, i, source, element)
            else:
                _normalize_flow(full, source, element)
            out[name].append(full)
    return out


def _normalize_od(full: dict, index: int, source: str, element: str) -> None:
    for key in ("file", "zones"):
        _string(full, key, source, element)
    full["scale"] = _number(full, "scale", source, element, minimum=0.0)
    if full["departure"] not in DEPARTURE_MODES:
        raise InputError(f"departure = {full['departure']!r} is not allowed", source=source,
                         element=element, fix='use departure = "uniform" or "random"')
    if full["id_prefix"] is None:
        full["id_prefix"] = f"od{index}_"
    if not isinstance(full["id_prefix"], str):
        raise InputError(f"id_prefix must be a string, got {full['id_prefix']!r}", source=source,
                         element=element, fix='write id_prefix = "od_"')


def _normalize_flow(full: dict, source: str, element: str) -> None:
    _string(full, "id", source, element)
    route = full["route"]
    if isinstance(route, str):
        route = route.split()
    if route is not None and (not isinstance(route, list) or not route
                              or not all(isinstance(r, str) and r for r in route)):
        raise InputError(f"route must be a non-empty list of link ids, got {full['route']!r}",
                         source=source, element=element, fix='write route = "l1 l2 l3" or ["l1", "l2"]')
    full["route"] = route
    for key, pos in (("from", 0), ("to", -1)):
        if full[key] is None:
            if route is None:
                raise InputError(f"missing '{key}' (and no route)", source=source, element=element,
                                 fix=f"give {key} = link id, or a route")
            full[key] = route[pos]
        _string(full, key, source, element)
    given = [k for k in FLOW_RATES if full[k] is not None]
    if len(given) != 1:
        raise InputError(f"a flow needs exactly one of {', '.join(FLOW_RATES)}; got "
                         f"{', '.join(given) or 'none'}", source=source, element=element,
                         fix="keep exactly one of them")
    rate = given[0]
    if rate == "number":
        n = full["number"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InputError(f"number must be an integer >= 0, got {n!r}", source=source,
                             element=element, fix="give the number of vehicles as an integer")
    elif rate == "probability":
        p = _number(full, "probability", source, element, positive=True)
        if p > 1:
            raise InputError(f"probability must be in (0, 1], got {p}", source=source,
                             element=element, fix="give a probability per second, at most 1")
        full["probability"] = p
    else:
        full[rate] = _number(full, rate, source, element, positive=True)


# --------------------------------------------------------------------------------------------
# CSV reading


def _read_csv(path: Path, source: str, required: tuple[str, ...], optional: tuple[str, ...],
              files: list | None) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Rows of a CSV file as ``(line number, {column: stripped cell})``, with the header checked."""
    if not path.is_file():
        raise InputError(f"file not found: {path}", source=source,
                         fix="check the file name (relative paths are relative to the scenario file)")
    if files is not None:
        files.append(path)
    name = str(path)
    rows: list[tuple[int, dict[str, str]]] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = None
            for cells in reader:
                if not cells or all(not c.strip() for c in cells):
                    continue
                if header is None:
                    header = [c.strip() for c in cells]
                    _check_header(header, required, optional, name)
                    continue
                if len(cells) != len(header):
                    what = (f"has {len(cells)} fields, the header has {len(header)}"
                            + (": the file looks truncated or a field is missing"
                               if len(cells) < len(header) else ""))
                    raise InputError(what, source=name, element=f"line {reader.line_num}",
                                     fix="give every row one field per header column")
                rows.append((reader.line_num, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
        except csv.Error as exc:
            raise InputError(f"not valid CSV ({exc}); the file may be truncated", source=name,
                             element=f"line {reader.line_num}", fix="check quotes and line ends") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", source=name,
                             fix="save the file as UTF-8 CSV") from None
    if header is None:
        raise InputError("the file is empty (no header)", source=name,
                         fix=f"start with the header line: {','.join(required)}")
    return header, rows


def _check_header(header: list[str], required: tuple[str, ...], optional: tuple[str, ...],
                  name: str) -> None:
    known = required + optional
    seen = set()
    for col in header:
        if col in seen:
            raise InputError(f"column '{col}' appears twice", source=name, element="line 1",
                             fix="remove the duplicate column")
        seen.add(col)
        if col not in known:
            raise InputError(f"unknown column '{col}'{suggest(col, known)}", source=name,
                             element="line 1", fix=f"use only the columns {', '.join(known)}")
    missing = [c for c in required if c not in seen]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", source=name, element="line 1",
                         fix=f"the header must contain {', '.join(required)}")


def _float_cell(row: dict[str, str], col: str, name: str, line: int, *, minimum: float | None = 0.0,
                default: float | None = None) -> float:
    text = row.get(col, "")
    element = f"line {line}, column '{col}'"
    if text == "" and default is not None:
        return default
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number", source=name, element=element,
                         fix=f"give {col} as a number") from None
    if not math.isfinite(v):
        raise InputError(f"{text!r} is not a finite number", source=name, element=element,
                         fix=f"give {col} as a finite number")
    if minimum is not None and v < minimum:
        raise InputError(f"{col} = {text} is negative", source=name, element=element,
                         fix=f"give {col} >= {minimum:g}")
    return v


# --------------------------------------------------------------------------------------------
# trip checks shared by every source


class TripChecker:
    """Checks links, vehicle types, routes and departure lane/speed against the network."""

    def __init__(self, network: Network, vtypes: Collection[str]) -> None:
        self.links: dict[str, Link] = {link.id: link for link in network.links}
        self.vtypes = list(vtypes)

    def link(self, link_id: str, source: str, element: str) -> str:
        if link_id not in self.links:
            raise InputError(f"unknown link '{link_id}'{suggest(link_id, self.links)}", source=source,
                             element=element, fix="use a link id of the scenario's network")
        return link_id

    def trip(self, tid: str, origin: str, destination: str, depart: float, vtype: str,
             route: tuple[str, ...], lane: str, speed: str, source: str, element: str,
             pos: str = "base") -> Trip:
        if vtype not in self.vtypes:
            raise InputError(f"unknown vehicle type '{vtype}'{suggest(vtype, self.vtypes)}",
                             source=source, element=element,
                             fix=f"use one of {', '.join(self.vtypes)} or add a [[vtypes]] table")
        self.link(origin, source, element)
        self.link(destination, source, element)
        if route:
            for r in route:
                self.link(r, source, element)
            if route[0] != origin or route[-1] != destination:
                raise InputError(f"route runs {route[0]} … {route[-1]} but the trip goes from "
                                 f"{origin} to {destination}", source=source, element=element,
                                 fix="start the route at the origin link and end it at the destination")
            for a, b in zip(route, route[1:], strict=False):
                if self.links[a].to_node != self.links[b].from_node:
                    raise InputError(f"route is not contiguous: link {a} ends at node "
                                     f"{self.links[a].to_node}, link {b} starts at node "
                                     f"{self.links[b].from_node}", source=source, element=element,
                                     fix="list every link of the route in driving order")
        if lane not in ("best", "first", "free"):
            if not lane.isdigit():
                raise InputError(f"depart_lane {lane!r} is not best, free, first or a lane index",
                                 source=source, element=element, fix="use best, free, first or 0, 1, ...")
            if int(lane) >= self.links[origin].lanes:
                raise InputError(f"depart_lane {lane} does not exist: link {origin} has "
                                 f"{self.links[origin].lanes} lane(s)", source=source, element=element,
                                 fix=f"use a lane index below {self.links[origin].lanes}")
        if speed != "max":
            try:
                v = float(speed)
            except ValueError:
                v = float("nan")
            if not math.isfinite(v) or v < 0:
                raise InputError(f"depart_speed {speed!r} is not max or a speed >= 0 in m/s",
                                 source=source, element=element, fix="use max or a number of m/s")
        if pos not in ("base", "last"):
            try:
                x = float(pos)
            except ValueError:
                x = float("nan")
            if not math.isfinite(x) or x < 0 or x > self.links[origin].length:
                raise InputError(f"depart_pos {pos!r} is not base, last or a position in m on link {origin} "
                                 f"(0 to {self.links[origin].length:g} m)", source=source, element=element,
                                 fix="use base, last or a number of m along the origin link")
            pos = repr(x)
        return Trip(tid, origin, destination, float(depart), vtype, route, lane, speed, pos)


# --------------------------------------------------------------------------------------------
# sources


def read_trip_table(path: Path, checker: TripChecker, files: list | None = None) -> list[Trip]:
    """Trips from a trip-table CSV (see the module docstring for the columns)."""
    name = str(path)
    _, rows = _read_csv(path, name, TRIP_REQUIRED, TRIP_OPTIONAL, files)
    seen: dict[str, int] = {}
    trips = []
    for line, row in rows:
        tid = row["id"]
        if not tid:
            raise InputError("empty trip id", source=name, element=f"line {line}, column 'id'",
                             fix="give every trip an id")
        if tid in seen:
            raise InputError(f"duplicate trip id '{tid}' (first on line {seen[tid]})", source=name,
                             element=f"line {line}, column 'id'", fix="make trip ids unique")
        seen[tid] = line
        depart = _float_cell(row, "depart", name, line)
        route = tuple(row.get("route", "").split())
        origin = row["origin"] or (route[0] if route else "")
        destination = row["destination"] or (route[-1] if route else "")
        for col, value in (("origin", origin), ("destination", destination)):
            if not value:
                raise InputError(f"empty {col}", source=name, element=f"line {line}, column '{col}'",
                                 fix=f"give the {col} link id (or a route)")
        trips.append(checker.trip(tid, origin, destination, depart, row.get("vtype") or "car", route,
                                  row.get("depart_lane") or "best", row.get("depart_speed") or "max",
                                  name, f"line {line} (trip '{tid}')", row.get("depart_pos") or "base"))
    return trips


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """The random generator of one demand source: ``Generator(PCG64(seed ^ stable_hash(stream)))``."""
    return np.random.Generator(np.random.PCG64(int(seed) ^ stable_hash(stream)))


def largest_remainder(values: list[float]) -> list[int]:
    """Round non-negative ``values`` to integers that sum to ``round(sum(values))`` (halves up).

    Every value gets its integer part; the remaining units go one each to the values with the
    largest fractional parts, ties to the earlier value.
    """
    floors = [math.floor(v) for v in values]
    target = math.floor(math.fsum(values) + 0.5)
    left = target - sum(floors)
    order = sorted(range(len(values)), key=lambda i: -(values[i] - floors[i]))
    for i in order[:max(left, 0)]:
        floors[i] += 1
    return floors


def _read_zones(path: Path, checker: TripChecker, files: list | None) -> dict[str, dict[str, list]]:
    """``{zone: {"origin": [(link, weight)], "destination": [(link, weight)]}}``."""
    name = str(path)
    _, rows = _read_csv(path, name, ZONE_REQUIRED, ZONE_OPTIONAL, files)
    zones: dict[str, dict[str, list]] = {}
    for line, row in rows:
        zone, link = row["zone"], row["link"]
        if not zone:
            raise InputError("empty zone", source=name, element=f"line {line}, column 'zone'",
                             fix="give every row a zone name")
        checker.link(link, name, f"line {line}, column 'link'")
        weight = _float_cell(row, "weight", name, line, default=1.0)
        role = row.get("role") or "both"
        if role not in ZONE_ROLES:
            raise InputError(f"role {role!r} is not allowed{suggest(role, ZONE_ROLES)}", source=name,
                             element=f"line {line}, column 'role'", fix="use both, origin or destination")
        z = zones.setdefault(zone, {"origin": [], "destination": []})
        for r in ("origin", "destination"):
            if role in (r, "both") and weight > 0:
                z[r].append((link, weight))
    return zones


def read_od(table: dict, index: int, base_dir: Path, checker: TripChecker, seed: int, source: str,
            files: list | None = None, warnings: list | None = None) -> list[Trip]:
    """Trips of one normalised ``[[demand.od]]`` table (see the module docstring)."""
    zones_path = base_dir / table["zones"]
    zones = _read_zones(zones_path, checker, files)
    od_path = base_dir / table["file"]
    name = str(od_path)
    _, rows = _read_csv(od_path, name, OD_REQUIRED, (), files)
    pairs: list[tuple[str, str]] = []
    values: list[float] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        o, d = row["origin_zone"], row["destination_zone"]
        for col, z in (("origin_zone", o), ("destination_zone", d)):
            if z not in zones:
                raise InputError(f"unknown zone '{z}'{suggest(z, zones)}", source=name,
                                 element=f"line {line}, column '{col}'",
                                 fix=f"add the zone to {zones_path.name} or fix the name")
        if (o, d) in seen:
            raise InputError(f"duplicate OD pair {o} -> {d} (first on line {seen[(o, d)]})",
                             source=name, element=f"line {line}", fix="give each pair once")
        seen[(o, d)] = line
        v = _float_cell(row, "trips", name, line) * table["scale"]
        for z, role, col in ((o, "origin", "origin_zone"), (d, "destination", "destination_zone")):
            if v > 0 and not zones[z][role]:
                raise InputError(f"zone '{z}' has trips but no {role} link with weight > 0",
                                 source=name, element=f"line {line}, column '{col}'",
                                 fix=f"give zone '{z}' a link with role {role} or both in "
                                     f"{zones_path.name}")
        pairs.append((o, d))
        values.append(v)

    counts = largest_remainder(values)
    rng = rng_for(seed, f"od:{index}:{table['id_prefix']}")
    begin, end = table["begin"], table["end"]
    generated: list[tuple[float, int, int, str, str]] = []
    skipped = 0
    for p, ((o, d), n) in enumerate(zip(pairs, counts, strict=True)):
        if n == 0:
            continue
        if table["departure"] == "random":
            departs = np.sort(rng.uniform(begin, end, n))
        else:
            departs = begin + (np.arange(n) + 0.5) * ((end - begin) / n)
        o_links = _draw_links(zones[o]["origin"], n, rng)
        d_links = _draw_links(zones[d]["destination"], n, rng)
        for k in range(n):
            if o_links[k] == d_links[k]:
                skipped += 1
                continue
            generated.append((float(departs[k]), p, k, o_links[k], d_links[k]))
    generated.sort()
    if skipped and warnings is not None:
        warnings.append(f"{source}: [[demand.od]] #{index + 1} ({table['file']}): {skipped} trip(s) "
                        "skipped because their origin and destination link are the same")
    element = f"[[demand.od]] #{index + 1}"
    prefix = table["id_prefix"]
    return [checker.trip(f"{prefix}{i}", o, d, t, table["vtype"], (), table["depart_lane"],
                         table["depart_speed"], source, element)
            for i, (t, _, _, o, d) in enumerate(generated)]


def _draw_links(links: list[tuple[str, float]], n: int, rng: np.random.Generator) -> list[str]:
    ids = [link for link, _ in links]
    w = np.array([weight for _, weight in links], dtype=np.float64)
    idx = rng.choice(len(ids), size=n, p=w / w.sum())
    return [ids[i] for i in idx]


def flow_departures(table: dict, seed: int) -> np.ndarray:
    """Departure times (s) of one normalised ``[[demand.flows]]`` table, in ``[begin, end)``."""
    begin, end = table["begin"], table["end"]
    span = end - begin
    if table["number"] is not None:
        n = table["number"]
        return begin + np.arange(n) * (span / n) if n else np.zeros(0)
    if table["probability"] is not None:
        seconds = begin + np.arange(math.ceil(span))
        seconds = seconds[seconds < end]
        draws = rng_for(seed, f"flow:{table['id']}").random(len(seconds))
        return seconds[draws < table["probability"]]
    period = table["period"] if table["period"] is not None else 3600.0 / table["vehs_per_hour"]
    n = max(0, math.ceil(span / period - 1e-9))
    times = begin + np.arange(n) * period
    return times[times < end]


def read_flow(table: dict, checker: TripChecker, seed: int, source: str) -> list[Trip]:
    """Trips of one normalised ``[[demand.flows]]`` table (ids ``<flow id>.<k>``)."""
    element = f"[[demand.flows]] '{table['id']}'"
    route = tuple(table["route"] or ())
    return [checker.trip(f"{table['id']}.{k}", table["from"], table["to"], float(t), table["vtype"],
                         route, table["depart_lane"], table["depart_speed"], source, element)
            for k, t in enumerate(flow_departures(table, seed))]


def load_demand(cfg: dict, base_dir: str | Path, network: Network, seed: int,
                source: str = "scenario", *, vtypes: Collection[str] = ("car",),
                warnings: list[str] | None = None, files: list[Path] | None = None) -> list[Trip]:
    """All trips of a ``[demand]`` section, sorted by ``(depart, id)``.

    Parameters
    ----------
    cfg: the ``[demand]`` table (``trips``, ``od``, ``flows``; normalised or not).
    base_dir: folder that relative file names are resolved against (the scenario file's folder).
    network: the scenario's network; every link id is checked against it.
    seed: ``sim.seed``; random departures and zone-link draws depend only on it and the inputs.
    source: the scenario file, for error messages about the TOML tables.
    vtypes: the ids of the scenario's vehicle types.
    warnings: if given, warnings (e.g. OD trips skipped) are appended to it.
    files: if given, every file read is appended to it (for provenance hashes).

    Raises :class:`InputError` for any bad input, naming the file, the line and column or table.
    """
    base = Path(base_dir)
    cfg = normalize_config({k: v for k, v in cfg.items() if f"demand.{k}" not in SETTINGS}, source)
    checker = TripChecker(network, vtypes)
    trips: list[Trip] = []
    origin_of: dict[str, str] = {}

    def add(new: list[Trip], where: str) -> None:
        for t in new:
            if t.id in origin_of:
                raise InputError(f"trip id '{t.id}' is used twice: in {origin_of[t.id]} and in {where}",
                                 source=source, fix="make trip ids unique across demand sources "
                                                    "(id_prefix for OD tables, flow ids)")
            origin_of[t.id] = where
        trips.extend(new)

    for f in cfg["trips"]:
        add(read_trip_table(base / f, checker, files), f)
    for i, table in enumerate(cfg["od"]):
        add(read_od(table, i, base, checker, seed, source, files, warnings), f"[[demand.od]] #{i + 1}")
    for table in cfg["flows"]:
        add(read_flow(table, checker, seed, source), f"[[demand.flows]] '{table['id']}'")
    trips.sort(key=lambda t: (t.depart, t.id))
    return trips


def write_trips(trips: Iterable[Trip], path: str | Path) -> Path:
    """Write trips as a trip-table CSV that :func:`load_demand` reads back unchanged."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(TRIP_REQUIRED + TRIP_OPTIONAL)
        for t in trips:
            w.writerow([t.id, t.origin, t.destination, repr(float(t.depart)), t.vtype, " ".join(t.route),
                        t.depart_lane, t.depart_speed, t.depart_pos])
    return path
