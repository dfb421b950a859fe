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

Mixed fleets: in an OD or flow table ``vtype`` may be a table of vehicle type -> share, e.g.
``vtype = { car = 0.7, cacc = 0.3 }`` (a CACC penetration rate of 30 %): each trip draws its type
by these weights (they need not add up to 1) from the source's own stream ``"vtype:<source>"``.

Random draws use ``numpy.random.Generator(PCG64(seed ^ h))``, where h is a 64-bit BLAKE2b hash of
the source (``"od:<i>:<id_prefix>"`` or ``"flow:<id>"``): deterministic for a seed, independent
of Python's hash salt, and independent between sources.

Demand checks that links and vehicle types exist and routes are contiguous; whether a destination
can be reached is decided by the engine's router (setting ``demand.unreachable``).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.demand.od import read_od
from mobsim.demand.streams import rng_for
from mobsim.demand.trip_tables import TRIP_OPTIONAL, TRIP_REQUIRED, TripChecker, read_trip_table
from mobsim.demand.trips import Trip
from mobsim.errors import InputError
from mobsim.net.network import Network
from mobsim.settings import SETTINGS, suggest

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


def _vtype_mix(table: dict, source: str, element: str) -> tuple[tuple[str, float], ...]:
    """``vtype`` as ((vehicle type, weight), ...): one type, or a table of type = share."""
    v = table["vtype"]
    if isinstance(v, str):
        return ((_string(table, "vtype", source, element), 1.0),)
    fix = 'write vtype = "car", or vtype = { car = 0.7, cacc = 0.3 } (shares of the trips)'
    if not isinstance(v, dict) or not v:
        raise InputError(f"vtype must be a type id or a table of type = share, got {v!r}", source=source,
                         element=element, fix=fix)
    mix = []
    for k, w in v.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise InputError(f"vtype share {k} = {w!r} is not a number >= 0", source=source,
                             element=element, fix=fix)
        mix.append((str(k), float(w)))
    if sum(w for _, w in mix) <= 0.0:
        raise InputError("vtype shares add up to 0", source=source, element=element, fix=fix)
    return tuple(mix)


def draw_vtypes(trips: list[Trip], mix: tuple[tuple[str, float], ...], vtypes: Collection[str], seed: int,
                stream: str, source: str, element: str) -> list[Trip]:
    """``trips`` with their vehicle types drawn by the weights of ``mix`` (one type: unchanged)."""
    for k, _w in mix:
        if k not in vtypes:
            raise InputError(f"unknown vehicle type '{k}' in vtype", source=source, element=element,
                             fix=f"define [[vtypes]] id = \"{k}\", or use one of {sorted(vtypes)}")
    if len(mix) == 1 or not trips:
        return trips
    w = np.array([x[1] for x in mix])
    pick = rng_for(seed, f"vtype:{stream}").choice(len(mix), size=len(trips), p=w / w.sum())
    return [dataclasses.replace(t, vtype=mix[int(k)][0]) for t, k in zip(trips, pick, strict=True)]


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
            _vtype_mix(full, source, element)  # checked here; drawn per trip in load_demand
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
        where = f"[[demand.od]] #{i + 1}"
        mix = _vtype_mix(table, source, where)
        new = read_od({**table, "vtype": mix[0][0]}, i, base, checker, seed, source, files, warnings)
        add(draw_vtypes(new, mix, vtypes, seed, f"od:{i}:{table['id_prefix']}", source, where), where)
    for table in cfg["flows"]:
        where = f"[[demand.flows]] '{table['id']}'"
        mix = _vtype_mix(table, source, where)
        new = read_flow({**table, "vtype": mix[0][0]}, checker, seed, source)
        add(draw_vtypes(new, mix, vtypes, seed, f"flow:{table['id']}", source, where), where)
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
