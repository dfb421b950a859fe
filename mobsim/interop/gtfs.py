"""GTFS in: one service day of a GTFS feed as the tables of a scenario's ``[transit]`` section.

Scenario file (units: m, s)::

    [transit.gtfs]
    feed = "feed.zip"          # a GTFS feed: a zip file or a folder of .txt files
    date = "20240506"          # the service day (YYYYMMDD): trips that calendar.txt and
                               # calendar_dates.txt say run that day
    max_distance = 50          # a stop farther than this from every bus link is left out (m)
    # origin = [11.42, 48.76]  # native networks: the lon/lat of the network's point (0, 0)
    # vehicle = "citybus"      # a [[transit.vehicles]] id for every line, or one per route_type:
    # vehicle = { 3 = "citybus", 0 = "tram" }
    # routes = ["12", "R7"]    # keep only these routes (route_id or route_short_name)
    # begin = 25200            # keep the trips whose first departure is in [begin, end)
    # end = 32400              #   (s after midnight of the service day; > 86400 allowed)

:func:`expand_transit` turns it into ``stops``, ``vehicles`` and ``lines`` tables of the shape a
scenario file gives (:mod:`mobsim.demand.transit` checks them like hand-written ones), merged
with the stops, vehicles and lines written by hand (ids must not clash). Passengers are given as
usual (``[[transit.passengers]]``), naming GTFS ``stop_id`` values.

What is mapped:

* **Stops** (``stops.txt``, the stops that the day's trips call at) are placed on the nearest
  link that buses may use (``Network.no_bus_links``: SUMO's lane permissions; every link of a
  native network), within ``max_distance`` m of its centre line: the stop's position on the link
  is the projection of the stop's point onto the link's shape (a SUMO link begins with the
  junction area, which its shape leaves out, :func:`junction_areas`); a stop area of
  :data:`STOP_LENGTH` m ends there, so links shorter than that get no stop. Where both
  directions of a road share one centre line (generated grids, SUMO's two-way roads), a stop on
  the left of a link counts :data:`SIDE_PENALTY` m farther: it goes to the direction whose
  right-hand side it is on (right-hand traffic). Coordinates: lon/lat go through
  the network's geo-reference (``Network.geo``, a SUMO network's ``<location>``), or, for
  networks without one, through an azimuthal equidistant projection centred on ``origin``.
  Stops not placed are named in a warning, and trips call only at the placed ones.
* **Lines**: the day's trips grouped by route, direction, the placed stops in order and the
  schedule relative to the first of them (arrival and departure at every stop): each group is a
  line with id ``route_short_name`` (else ``route_id``), ``#2``, ``#3``, ... for a route's
  further groups. Its departures are the trips' departures from their first placed stop
  (``frequencies.txt`` trips: every headway in their windows); its time points are the
  departures of the stops marked ``timepoint = 1`` (all stops with a time when the column is
  missing), relative to the first: a vehicle early there holds until then. A trip with fewer
  than two placed stops, and a line whose stops cannot be reached in order by road, are left out
  (warnings). Times missing between timed stops are interpolated along the stop order.
* **Vehicles**: one transit vehicle per GTFS ``route_type`` of the kept routes,
  ``gtfs_<kind>`` (:data:`DEFAULT_VEHICLES`; a ``[[transit.vehicles]]`` table with that id
  replaces it), driven by the road vehicle type ``bus`` (:data:`BUS_VTYPE`, unless ``[[vtypes]]``
  defines one). Route types that are not road modes (rail, subway, ferry, cable cars; tram
  unless ``vehicle`` names one for it) are left out with a warning.

Left out: shapes (vehicles take the shortest road route between stops), transfers.txt (the
transfer rules of ``[transit.transfers]`` apply),
pathways, fares, block_id (each trip is a vehicle of its own), pickup/drop-off types, and the
feed's time zone (times are the service day's clock, which is the run's: set ``sim.begin`` and
``sim.end`` to the hours to simulate).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.config_tables import table_keys, table_list, table_number
from mobsim.demand.vtypes import VehicleType
from mobsim.errors import InputError
from mobsim.net.network import GeoReference, Network

#: The keys of ``[transit.gtfs]``.
GTFS_KEYS = ("feed", "date", "max_distance", "origin", "vehicle", "routes", "begin", "end")
#: Default search radius (m) around a stop for a link.
MAX_DISTANCE = 50.0
#: The stop area (m) that a placed stop gets, ending at its position: a 12 m bus fits in.
STOP_LENGTH = 20.0
#: How much farther (m) a stop on the left of a link counts (right-hand traffic).
SIDE_PENALTY = 1.0
#: The road vehicle type of the GTFS vehicles unless the scenario defines ``bus``: SUMO's
#: defaults of vClass ``bus`` (12 m, accel 1.2, decel 4 m/s², 85 km/h).
BUS_VTYPE = VehicleType(id="bus", length=12.0, min_gap=2.5, tau=1.0, accel=1.2, decel=4.0,
                        emergency_decel=7.0, max_speed=23.61)
#: A transit vehicle per kind of road route (its ``[[transit.vehicles]]`` values; capacity as
#: SUMO's personCapacity of a bus, 85, and a coach, 70).
DEFAULT_VEHICLES: dict[str, dict[str, Any]] = {
    "bus": {"seats": 35, "standing": 50, "doors": 2, "door_time": 4.0, "board_time": 2.0,
            "alight_time": 1.5},
    "trolleybus": {"seats": 35, "standing": 50, "doors": 2, "door_time": 4.0, "board_time": 2.0,
                   "alight_time": 1.5},
    "coach": {"seats": 50, "standing": 20, "doors": 1, "door_time": 5.0, "board_time": 3.0,
              "alight_time": 2.0},
}
#: GTFS basic route types by name (others: the extended types' ranges, :func:`route_kind`).
ROUTE_TYPES = {0: "tram", 1: "subway", 2: "rail", 3: "bus", 4: "ferry", 5: "cable_tram", 6: "aerial_lift",
               7: "funicular", 11: "trolleybus", 12: "monorail"}
#: The kinds that run on roads without being named in ``vehicle``.
ROAD_KINDS = ("bus", "trolleybus", "coach")
#: Ids listed in a warning at most.
_LISTED = 20


def route_kind(route_type: int) -> str:
    """The kind of vehicle of a GTFS ``route_type`` (basic or extended): ``bus``, ``trolleybus``,
    ``coach``, ``tram``, ... (``type<N>`` for a type GTFS does not define)."""
    if route_type in ROUTE_TYPES:
        return ROUTE_TYPES[route_type]
    for lo, hi, kind in ((100, 199, "rail"), (200, 299, "coach"), (400, 499, "subway"), (700, 799, "bus"),
                         (800, 899, "trolleybus"), (900, 999, "tram"), (1000, 1099, "ferry")):
        if lo <= route_type <= hi:
            return kind
    return f"type{route_type}"


def vehicle_id(route_type: int) -> str:
    """The id of the default transit vehicle of ``route_type``: ``gtfs_bus`` for 3,
    ``gtfs_bus_700`` for an extended type."""
    kind = route_kind(route_type)
    return f"gtfs_{kind}" if route_type in ROUTE_TYPES else f"gtfs_{kind}_{route_type}"


# ----------------------------------------------------------------------------- the scenario hook
def expand_transit(transit: dict, network: Network, base_dir: Path, source: str, files: list[Path],
                   warnings: list[str]) -> dict:
    """The ``[transit]`` tables with ``[transit.gtfs]`` expanded into stops, vehicles and lines
    and merged with those written by hand (``transit`` itself when it has no ``gtfs``). The feed's
    files join ``files``; what is left out goes to ``warnings``."""
    if "gtfs" not in transit:
        return transit
    out = {k: v for k, v in transit.items() if k != "gtfs"}
    hand_vehicles = table_list(out, "vehicles", source, "transit")
    hand_lines = table_list(out, "lines", source, "transit")
    imported = gtfs_tables(transit["gtfs"], network, base_dir, source, files, warnings,
                           vehicle_ids=[str(v.get("id")) for v in hand_vehicles])
    out["stops"] = _merge(table_list(out, "stops", source, "transit"), imported["stops"], "stop", source)
    out["lines"] = _merge(hand_lines, imported["lines"], "line", source)
    if not hand_vehicles and hand_lines:
        # Lines written by hand without a vehicle keep the default they had without the feed.
        hand_vehicles = [{"id": "shuttle"}]
    out["vehicles"] = hand_vehicles + imported["vehicles"]
    return out


def resolved_config(transit: dict) -> dict:
    """``[transit]`` as the resolved configuration keeps it: the ``gtfs`` table, not what it
    expands to (loading it again imports the feed again), with a TOML date as ``"YYYYMMDD"``."""
    gtfs = transit.get("gtfs")
    if not isinstance(gtfs, dict) or not isinstance(gtfs.get("date"), _dt.date):
        return transit
    return {**transit, "gtfs": {**gtfs, "date": gtfs["date"].strftime("%Y%m%d")}}


def builtin_vtypes(transit: dict, vtype_ids: Collection[str]) -> list[VehicleType]:
    """The built-in road vehicle types that expanded ``[transit]`` tables use and the scenario does
    not define (:data:`BUS_VTYPE`)."""
    used = {v.get("vtype") for v in transit.get("vehicles", []) if isinstance(v, dict)}
    return [BUS_VTYPE] if BUS_VTYPE.id in used and BUS_VTYPE.id not in vtype_ids else []


def _merge(hand: list, imported: list[dict], what: str, source: str) -> list:
    """Hand-written tables followed by imported ones; an id in both is an error."""
    ids = {t.get("id") for t in hand}
    clash = [t["id"] for t in imported if t["id"] in ids]
    if clash:
        raise InputError(f"{what} id '{clash[0]}' is both in [[transit.{what}s]] and in the GTFS feed",
                         source=source, element=f"transit.{what}s",
                         fix=f"rename the {what} written by hand (the feed's ids are kept as they are)")
    return hand + imported


# ----------------------------------------------------------------------------- the import
@dataclass(frozen=True)
class _Options:
    """The checked ``[transit.gtfs]`` table."""

    feed: Path
    date: str
    max_distance: float
    origin: tuple[float, float] | None
    vehicle: str | dict[int, str] | None
    routes: tuple[str, ...]
    begin: float
    end: float


def gtfs_tables(cfg: Any, network: Network, base_dir: Path, source: str, files: list[Path],
                warnings: list[str], vehicle_ids: Collection[str] = ()) -> dict[str, list[dict]]:
    """``{"stops": [...], "vehicles": [...], "lines": [...]}``: the ``[transit]`` tables of the
    ``[transit.gtfs]`` table ``cfg`` (see the module docstring) on ``network``. ``vehicle_ids``:
    the ``[[transit.vehicles]]`` written by hand (``vehicle`` may name them; one named like a
    default vehicle replaces it)."""
    opt = _options(cfg, base_dir, source, vehicle_ids)
    el = "transit.gtfs"
    geo = _geo(network, opt.origin, source)
    feed = _read_feed(opt.feed, source, files)
    trips = _day_trips(feed, opt, source, warnings)
    times = _stop_times(feed, trips, str(opt.feed))
    stops = _feed_stops(feed, times["stop_id"].unique(), str(opt.feed))
    xy = project(geo, stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    placed = match_stops(network, list(stops["stop_id"]), xy, opt.max_distance)
    _warn_unplaced(stops["stop_id"], placed, opt, source, warnings)
    groups = _group_trips(trips, times, placed, _frequencies(feed, trips, str(opt.feed)), opt, source,
                          warnings)
    lines, kinds = _lines(groups, network, placed, opt, source, warnings)
    if not lines:
        what = (f"no stop of them lies within max_distance = {opt.max_distance:g} m of a link buses may use"
                if not placed else "none of them calls at two placed stops in the begin/end window"
                if not groups else "the roads join the stops of none of them in order")
        raise InputError(f"the GTFS feed gives no line on this network: {len(trips)} trip(s) run on "
                         f"{opt.date}, but {what}", source=source, element=el,
                         fix="check the geo-reference (origin = [lon, lat] of the network's (0, 0)), "
                             "max_distance, routes and the begin/end window")
    used = list(dict.fromkeys(s for ln in lines for s in ln["stops"]))
    stop_rows = [{"id": s, "link": placed[s][0], "pos": placed[s][1], "length": STOP_LENGTH} for s in used]
    vehicles = [{"id": vid, "vtype": BUS_VTYPE.id, **DEFAULT_VEHICLES.get(kind, DEFAULT_VEHICLES["bus"])}
                for vid, kind in kinds.items() if vid not in vehicle_ids]
    return {"stops": stop_rows, "vehicles": vehicles, "lines": lines}


def _options(cfg: Any, base_dir: Path, source: str, vehicle_ids: Collection[str]) -> _Options:
    """Check the ``[transit.gtfs]`` table."""
    el = "transit.gtfs"
    table_keys(cfg, GTFS_KEYS, source, el)
    feed = cfg.get("feed")
    if not isinstance(feed, str) or not feed:
        raise InputError("needs feed = the GTFS zip file or folder", source=source, element=f"{el}.feed",
                         fix='give feed = "gtfs.zip" (relative to the scenario file)')
    path = (base_dir / feed).resolve()
    if not path.exists():
        raise InputError(f"the GTFS feed {path} does not exist", source=source, element=f"{el}.feed",
                         fix="give the path of a GTFS zip file or folder, relative to the scenario file")
    origin = cfg.get("origin")
    if origin is not None:
        if (not isinstance(origin, list) or len(origin) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in origin)
                or not (-180 <= origin[0] <= 180 and -90 <= origin[1] <= 90)):
            raise InputError(f"origin = {origin!r} is not [lon, lat]", source=source, element=f"{el}.origin",
                             fix="give origin = [lon, lat] in degrees (WGS84) of the network's point (0, 0)")
        origin = (float(origin[0]), float(origin[1]))
    routes = cfg.get("routes", [])
    if not isinstance(routes, list) or not all(isinstance(r, (str, int)) and not isinstance(r, bool)
                                               for r in routes):
        raise InputError(f"routes = {routes!r} is not a list of route ids", source=source,
                         element=f"{el}.routes",
                         fix='give routes = ["12", "R7"] (route_id or route_short_name values)')
    begin = table_number(cfg, "begin", 0.0, source, el, minimum=0.0)
    end = table_number(cfg, "end", math.inf, source, el) if "end" in cfg else math.inf
    if end <= begin:
        raise InputError(f"end = {end:g} s is not after begin = {begin:g} s", source=source,
                         element=f"{el}.end", fix="give end > begin (s after midnight of the service day)")
    return _Options(feed=path, date=_date(cfg.get("date"), source),
                    max_distance=table_number(cfg, "max_distance", MAX_DISTANCE, source, el, positive=True),
                    origin=origin, vehicle=_vehicle_option(cfg.get("vehicle"), source, vehicle_ids),
                    routes=tuple(str(r) for r in routes), begin=begin, end=end)


def _date(v: Any, source: str) -> str:
    """The service day as YYYYMMDD (a TOML date, or a string or number of 8 digits)."""
    if isinstance(v, _dt.date):
        return v.strftime("%Y%m%d")
    text = str(v) if isinstance(v, (str, int)) and not isinstance(v, bool) else ""
    try:
        if not re.fullmatch(r"\d{8}", text):
            raise ValueError(text)
        _dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        raise InputError(f"date = {v!r} is not a day as YYYYMMDD", source=source, element="transit.gtfs.date",
                         fix='give the service day, e.g. date = "20240506"') from None
    return text


def _vehicle_option(v: Any, source: str, vehicle_ids: Collection[str]) -> str | dict[int, str] | None:
    """``vehicle``: None, one vehicle id, or route_type -> vehicle id; ids of ``vehicle_ids``."""
    el = "transit.gtfs.vehicle"
    if v is None:
        return None
    if not isinstance(v, (str, dict)) or not v:
        raise InputError(f"vehicle = {v!r} is neither a vehicle id nor a table", source=source, element=el,
                         fix='give vehicle = "citybus" or vehicle = { 3 = "citybus" } '
                             "([[transit.vehicles]] ids)")
    for vid in [v] if isinstance(v, str) else v.values():
        if vid not in vehicle_ids:
            raise InputError(f"vehicle {vid!r} is not defined", source=source, element=el,
                             fix=f'add [[transit.vehicles]] id = "{vid}"'
                                 + (f", or use one of {sorted(vehicle_ids)}" if vehicle_ids else ""))
    if isinstance(v, str):
        return v
    out: dict[int, str] = {}
    for key, vid in v.items():
        try:
            out[int(key)] = str(vid)
        except ValueError:
            raise InputError(f"'{key}' is not a GTFS route_type", source=source, element=f"{el}.{key}",
                             fix='key the table by route_type numbers, e.g. { 3 = "citybus" }') from None
    return out


# ----------------------------------------------------------------------------- reading the feed
_REQUIRED = ("stops", "routes", "trips", "stop_times")


def _read_feed(path: Path, source: str, files: list[Path]) -> Any:
    """The feed (a ``gtfs_kit.Feed``) of a zip file or folder; its files join ``files``."""
    try:
        import gtfs_kit as gk
    except ImportError:
        raise InputError("reading GTFS needs the gtfs-kit package", source=source, element="transit.gtfs",
                         fix="pip install 'mobsim[gtfs]' (or pip install gtfs-kit)") from None
    try:
        # dist_units given: gtfs_kit would otherwise infer them from shapes, which a feed may lack.
        feed = gk.read_feed(path, dist_units="km")
    except Exception as exc:  # noqa: BLE001 - zipfile, pandas and gtfs_kit raise many kinds
        raise InputError(f"not a readable GTFS feed ({type(exc).__name__}: {exc})", source=str(path),
                         fix="give a GTFS zip file, or a folder of its .txt files") from None
    missing = [f"{t}.txt" for t in _REQUIRED if getattr(feed, t, None) is None]
    if getattr(feed, "calendar", None) is None and getattr(feed, "calendar_dates", None) is None:
        missing.append("calendar.txt or calendar_dates.txt")
    if missing:
        raise InputError(f"the feed has no {', '.join(missing)}", source=str(path),
                         fix="give a complete GTFS feed (stops, routes, trips, stop_times and a calendar)")
    files.extend(sorted(path.glob("*.txt")) if path.is_dir() else [path])
    return feed


def _day_trips(feed: Any, opt: _Options, source: str, warnings: list[str]) -> Any:
    """The trips (with their route's short name and type) of the routes kept that run on the
    service day."""
    trips = feed.get_trips(date=opt.date)
    if trips is None or trips.empty:
        dates = feed.get_dates()
        span = f"the feed runs from {dates[0]} to {dates[-1]}" if dates else "the feed has no service days"
        raise InputError(f"no trip runs on {opt.date}", source=str(opt.feed), element="calendar",
                         fix=f"choose a date with service ({span})")
    routes = feed.routes.copy()
    if "route_short_name" not in routes.columns:
        routes["route_short_name"] = ""
    routes["route_short_name"] = routes["route_short_name"].fillna("").astype(str)
    if opt.routes:
        by_id, by_name = set(routes["route_id"]), set(routes["route_short_name"])
        unknown = [r for r in opt.routes if r not in by_id and r not in by_name]
        if unknown:
            raise InputError(f"route '{unknown[0]}' is not in the feed", source=source,
                             element="transit.gtfs.routes", fix="give route_id or route_short_name values "
                                                               "of routes.txt")
        keep = routes["route_id"].isin(opt.routes) | routes["route_short_name"].isin(opt.routes)
        routes = routes[keep]
    routes = routes.assign(route_order=np.arange(len(routes)))
    trips = trips.merge(routes[["route_id", "route_short_name", "route_type", "route_order"]], on="route_id")
    if "direction_id" not in trips.columns:
        trips["direction_id"] = 0
    trips["direction_id"] = trips["direction_id"].fillna(0).astype(int)
    trips["route_type"] = trips["route_type"].fillna(3).astype(int)
    road = trips["route_type"].map(lambda t: _runs_on_road(int(t), opt.vehicle))
    if not road.all():
        off = trips[~road]
        kinds = ", ".join(f"{route_kind(int(t))} ({int(t)})" for t in sorted(off["route_type"].unique()))
        warnings.append(f"{source}: GTFS: {len(off)} trip(s) of {off['route_id'].nunique()} route(s) of "
                        f"route_type {kinds} left out: they do not run on roads (vehicle = {{ <route_type> "
                        "= \"id\" }} runs them as road vehicles)")
    if not road.any():
        raise InputError(f"no road route (bus, trolleybus, coach) runs on {opt.date}", source=source,
                         element="transit.gtfs",
                         fix="choose other routes or another date, or name a vehicle for the route types: "
                             'vehicle = { 0 = "tram" }')
    return trips[road].reset_index(drop=True)


def _runs_on_road(route_type: int, vehicle: str | dict[int, str] | None) -> bool:
    """Whether trips of ``route_type`` are imported: road kinds, and any kind the user gave a
    vehicle for."""
    if isinstance(vehicle, str) or (isinstance(vehicle, dict) and route_type in vehicle):
        return True
    return route_kind(route_type) in ROAD_KINDS


_TIME = re.compile(r"(\d+):(\d{1,2}):(\d{1,2})")


def _seconds(col: Any, path: str, element: str) -> np.ndarray:
    """GTFS times ``H:MM:SS`` (hours may pass 24) as s after midnight; NaN where empty (``element``:
    the file and column, for errors)."""
    import pandas as pd

    codes, uniq = pd.factorize(col.astype("string").str.strip())  # a feed repeats its times a lot
    sec = np.full(len(uniq) + 1, np.nan)  # the last: missing values (code -1)
    for k, text in enumerate(uniq):
        m = _TIME.fullmatch(text)
        if m is None and text:
            raise InputError(f"{text!r} is not a time H:MM:SS", source=path, element=element,
                             fix="write times as HH:MM:SS (hours may pass 24)")
        if m is not None:
            sec[k] = int(m[1]) * 3600.0 + int(m[2]) * 60.0 + int(m[3])
    return sec[codes]


def _stop_times(feed: Any, trips: Any, path: str) -> Any:
    """The stop times of ``trips`` in order: trip_id, stop_id, arrival and departure (s, gaps
    interpolated along the stop order) and whether a stop is a time point (``timed``)."""
    st = feed.stop_times
    st = st[st["trip_id"].isin(set(trips["trip_id"]))].sort_values(["trip_id", "stop_sequence"])
    st = st.reset_index(drop=True)
    arr = _seconds(st["arrival_time"], path, "stop_times.txt arrival_time")
    dep = _seconds(st["departure_time"], path, "stop_times.txt departure_time")
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    given = ~np.isnan(dep)
    if "timepoint" in st.columns:
        tp = st["timepoint"].astype("Float64").fillna(1.0).to_numpy(float)  # empty: exact (GTFS)
        timed = given & (tp != 0.0)
    else:
        timed = given
    out = st[["trip_id", "stop_id"]].assign(arrival=arr, departure=dep, timed=timed)
    if not given.all():  # times of untimed stops between timed ones: linear along the stop order
        for c in ("arrival", "departure"):
            out[c] = out.groupby("trip_id")[c].transform(lambda s: s.interpolate(limit_area="inside"))
    return out


def _feed_stops(feed: Any, ids: Iterable[str], path: str) -> Any:
    """stop_id, stop_lon, stop_lat of the stops ``ids`` (a stop without coordinates at NaN: not
    placed)."""
    stops = feed.stops
    found = stops[stops["stop_id"].isin(set(ids))][["stop_id", "stop_lon", "stop_lat"]]
    missing = sorted(set(ids) - set(found["stop_id"]))
    if missing:
        raise InputError(f"stop_times.txt calls at stop '{missing[0]}', which stops.txt does not list",
                         source=path, element=f"stop '{missing[0]}'", fix="add the stop to stops.txt")
    return found.reset_index(drop=True)


def _frequencies(feed: Any, trips: Any, path: str) -> dict[str, list[float]]:
    """trip_id -> the start times (s) of the trips that ``frequencies.txt`` runs from it as a
    template (every ``headway_secs`` in each window); trips it does not name are absent."""
    freq = getattr(feed, "frequencies", None)
    if freq is None or freq.empty:
        return {}
    freq = freq[freq["trip_id"].isin(set(trips["trip_id"]))]
    start = _seconds(freq["start_time"], path, "frequencies.txt start_time")
    end = _seconds(freq["end_time"], path, "frequencies.txt end_time")
    out: dict[str, list[float]] = {}
    for tid, a, b, h in zip(freq["trip_id"], start, end, freq["headway_secs"].astype(float), strict=False):
        if h > 0:
            out.setdefault(str(tid), []).extend(np.arange(a, b, h).tolist())
    return out


# ----------------------------------------------------------------------------- placing stops
def _geo(network: Network, origin: tuple[float, float] | None, source: str) -> GeoReference:
    """The frame that lon/lat go through: the network's own, or one centred on ``origin``."""
    if network.geo is not None and origin is not None:
        raise InputError("origin given for a network with its own geo-reference", source=source,
                         element="transit.gtfs.origin",
                         fix=f"drop origin: {network.source} places its coordinates itself (<location>)")
    if network.geo is not None:
        return network.geo
    if origin is None:
        raise InputError(f"the network ({network.source}) has no geo-reference, so GTFS stops (lon/lat) "
                         "cannot be placed on it", source=source, element="transit.gtfs",
                         fix="give origin = [lon, lat] of the network's point (0, 0) in [transit.gtfs], or "
                             "use a SUMO network with a projection (<location projParameter=...>)")
    return origin_frame(*origin)


def origin_frame(lon: float, lat: float) -> GeoReference:
    """A local metric frame whose (0, 0) is (``lon``, ``lat``): x east, y north, m (azimuthal
    equidistant: distances from the origin exact, others within 0.01 % up to 100 km away)."""
    return GeoReference(proj=f"+proj=aeqd +lat_0={lat!r} +lon_0={lon!r} +datum=WGS84 +units=m +no_defs")


def project(geo: GeoReference, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Network coordinates (n x 2, m) of points given in lon/lat (degrees, WGS84)."""
    import pyproj

    x, y = pyproj.Proj(geo.proj)(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([np.asarray(x, float) + geo.offset[0], np.asarray(y, float) + geo.offset[1]])


def link_lines(network: Network) -> tuple[list[str], list[Any]]:
    """(link ids, shapely LineStrings) of the links a bus stop may lie on: not closed to buses
    and at least :data:`STOP_LENGTH` long; a link's line is its shape, else its nodes'."""
    import shapely

    nodes = {n.id: (n.x, n.y) for n in network.nodes}
    ids, lines = [], []
    for lk in network.links:
        if lk.id in network.no_bus_links or lk.length < STOP_LENGTH:
            continue
        pts = lk.shape if len(lk.shape) >= 2 else (nodes[lk.from_node], nodes[lk.to_node])
        line = shapely.LineString(pts)
        if line.length > 0:
            ids.append(lk.id)
            lines.append(line)
    return ids, lines


def match_stops(network: Network, stop_ids: list[str], xy: np.ndarray, max_distance: float
                ) -> dict[str, tuple[str, float, float]]:
    """stop id -> (link, position m, distance m) of the stops (network coordinates ``xy``) within
    ``max_distance`` of a link a bus stop may lie on (:func:`link_lines`): the nearest, a link
    with the stop on its left counting :data:`SIDE_PENALTY` farther; ties: the first link."""
    import shapely

    ids, lines = link_lines(network)
    ok = np.isfinite(xy).all(axis=1)
    if not ids or not ok.any():
        return {}
    arr = np.array(lines, dtype=object)
    pts = shapely.points(np.where(ok[:, None], xy, 0.0))
    pi, li = shapely.STRtree(arr).query(pts, predicate="dwithin", distance=max_distance)
    keep = ok[pi]
    pi, li = pi[keep], li[keep]
    if pi.size == 0:
        return {}
    cand = arr[li]
    dist = shapely.distance(pts[pi], cand)
    along = shapely.line_locate_point(cand, pts[pi])
    score = dist + SIDE_PENALTY * _on_left(cand, along, xy[pi])
    order = np.lexsort((li, score, pi))  # per stop: the best score, then the first link
    first = np.ones(order.size, bool)
    first[1:] = pi[order][1:] != pi[order][:-1]
    length = {lk.id: lk.length for lk in network.links}
    area = junction_areas(network)
    out: dict[str, tuple[str, float, float]] = {}
    for k in order[first]:
        link = ids[li[k]]
        # The shape stands for the part after the junction area, scaled to its length (a SUMO
        # edge's shape may be shorter or longer than its lanes).
        rest = length[link] - area.get(link, 0.0)
        pos = area.get(link, 0.0) + rest * float(along[k]) / float(shapely.length(cand[k]))
        pos = min(max(pos, STOP_LENGTH), length[link])
        out[stop_ids[pi[k]]] = (link, round(pos, 2), float(dist[k]))
    return out


def junction_areas(network: Network) -> dict[str, float]:
    """link id -> the metres of junction area its length begins with: the mean length of the
    movements into it (an imported SUMO link is lengthened so, :mod:`mobsim.interop.sumo_net`,
    and a converted one keeps it); absent where that is 0 (generated networks)."""
    into: dict[str, list[float]] = {}
    for m in network.movements:
        into.setdefault(m.to_link, []).append(m.length)
    return {lk: sum(v) / len(v) for lk, v in into.items() if sum(v) > 0}


def _on_left(lines: np.ndarray, along: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """1.0 where the point lies to the left of the line's direction at ``along`` m, else 0.0."""
    import shapely

    total = shapely.length(lines)
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(along - 0.5, 0.0, total)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(along + 0.5, 0.0, total)))
    cross = (b[:, 0] - a[:, 0]) * (xy[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (xy[:, 0] - a[:, 0])
    return (cross > 1e-9).astype(float)


def _warn_unplaced(stop_ids: Any, placed: dict, opt: _Options, source: str, warnings: list[str]) -> None:
    left = [s for s in stop_ids if s not in placed]
    if left:
        shown = ", ".join(left[:_LISTED]) + (", ..." if len(left) > _LISTED else "")
        warnings.append(f"{source}: GTFS: {len(left)} of {len(stop_ids)} stop(s) lie farther than "
                        f"max_distance = {opt.max_distance:g} m from every link a bus may use (or have no "
                        f"coordinates) and are left out: {shown}")


# ----------------------------------------------------------------------------- lines
@dataclass
class _Group:
    """Trips of one route and direction with the same placed stops and relative schedule."""

    route: str
    direction: int
    route_type: int
    name: str
    order: int
    stops: tuple[str, ...]
    timepoints: dict[str, float]
    departures: list[float]


def _group_trips(trips: Any, times: Any, placed: dict, freq: dict[str, list[float]], opt: _Options,
                 source: str, warnings: list[str]) -> list[_Group]:
    """The day's trips, cut to their placed stops, grouped by route, direction, stops and schedule;
    departures from the first placed stop in [begin, end)."""
    info = {t: row for t, *row in zip(trips["trip_id"], trips["route_id"], trips["direction_id"],
                                      trips["route_type"], trips["route_short_name"], trips["route_order"],
                                      strict=True)}
    tid = times["trip_id"].to_numpy(object)
    # frequencies.txt shifts a template trip by its start time from the trip's first departure.
    first = {tid[a]: float(times["departure"].iat[a]) for a, _b in _runs(tid)}
    on = times["stop_id"].isin(set(placed)).to_numpy(bool)
    tid, stop = tid[on], times["stop_id"].to_numpy(object)[on]
    arr, dep, timed = (times[c].to_numpy()[on] for c in ("arrival", "departure", "timed"))
    groups: dict[tuple, _Group] = {}
    seen = set(tid.tolist())
    short = [t for t in info if t not in seen]  # no placed stop at all
    for a, b in _runs(tid):
        t0 = dep[a]
        if b - a < 2 or not np.isfinite(t0):  # (no time at its first placed stop: outside the timed ones)
            short.append(tid[a])
            continue
        stops = tuple(stop[a:b])
        rel = tuple(zip(np.round(arr[a:b] - t0, 1).tolist(), np.round(dep[a:b] - t0, 1).tolist(),
                        strict=True))
        route, direction, rtype, name, order = info[tid[a]]
        key = (route, direction, stops, rel)
        if key not in groups:
            tps: dict[str, float] = {}
            for s_, d, is_tp in zip(stops, rel, timed[a:b], strict=True):
                if is_tp and s_ not in tps:  # a stop called twice keeps its first time
                    tps[s_] = d[1]
            groups[key] = _Group(str(route), int(direction), int(rtype), str(name) or str(route), int(order),
                                 stops, tps, [])
        shift = float(t0) - first[tid[a]]
        starts = [t + shift for t in freq.get(str(tid[a]), [first[tid[a]]])]
        groups[key].departures += [t for t in starts if opt.begin <= t < opt.end]
    if short:
        shown = ", ".join(map(str, short[:_LISTED])) + (", ..." if len(short) > _LISTED else "")
        warnings.append(f"{source}: GTFS: {len(short)} trip(s) call at fewer than two placed stops and are "
                        f"left out: {shown}")
    kept = [g for g in groups.values() if g.departures]
    return sorted(kept, key=lambda g: (g.order, g.direction, min(g.departures), g.stops))


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the runs of equal values in ``keys`` (a sorted table's trip ids)."""
    if keys.size == 0:
        return []
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return list(zip(np.r_[0, cut].tolist(), np.r_[cut, keys.size].tolist(), strict=True))


def _lines(groups: list[_Group], network: Network, placed: dict, opt: _Options, source: str,
           warnings: list[str]) -> tuple[list[dict], dict[str, str]]:
    """The ``[[transit.lines]]`` tables of the groups whose stops a vehicle can reach in order, and
    the vehicles they use (id -> kind of the route type)."""
    reach = unreachable_legs(network, [[(placed[s][0], placed[s][1]) for s in g.stops] for g in groups])
    lines: list[dict] = []
    kinds: dict[str, str] = {}
    count: dict[str, int] = {}
    dropped = []
    for g, bad in zip(groups, reach, strict=True):
        count[g.name] = count.get(g.name, 0) + 1
        lid = g.name if count[g.name] == 1 else f"{g.name}#{count[g.name]}"
        if bad is not None:
            dropped.append(f"'{lid}' (route {g.route}: stop '{g.stops[bad + 1]}' after '{g.stops[bad]}')")
            continue
        vid = _vehicle_of(g.route_type, opt.vehicle)
        kinds.setdefault(vid, route_kind(g.route_type))
        lines.append({"id": lid, "stops": list(g.stops), "vehicle": vid, "departures": sorted(g.departures),
                      "timepoints": dict(g.timepoints), "loop": False})
    if dropped:
        shown = ", ".join(dropped[:_LISTED]) + (", ..." if len(dropped) > _LISTED else "")
        warnings.append(f"{source}: GTFS: {len(dropped)} line(s) left out: a stop cannot be reached by road "
                        f"from the one before: {shown}")
    return lines, kinds


def unreachable_legs(network: Network, sequences: list[list[tuple[str, float]]]) -> list[int | None]:
    """For each sequence of stops (link, position m): the index of the first stop from which the
    next cannot be reached by road, or None; as the route service routes a line's services
    (:func:`mobsim.demand.transit.service_trips`): on along the link, else from a link that
    follows the stop's link."""
    from mobsim.net.compile import compile_network
    from mobsim.net.reachability import reachable

    cn = compile_network(network)
    a = cn.arrays
    start, nxt = np.asarray(a.link_next_start), np.asarray(a.link_next)
    pairs: dict[tuple[int, int], list[int]] = {}  # (link, next stop's link) -> query rows
    orig: list[int] = []
    dest: list[int] = []
    for seq in sequences:
        for (la, pa), (lb, pb) in zip(seq, seq[1:], strict=False):
            ia, ib = cn.link_index[la], cn.link_index[lb]
            if (ia == ib and pb > pa) or (ia, ib) in pairs:
                continue
            succ = nxt[start[ia]:start[ia + 1]].tolist()
            pairs[(ia, ib)] = list(range(len(orig), len(orig) + len(succ)))
            orig += succ
            dest += [ib] * len(succ)
    ok = reachable(cn, np.array(orig, np.int64), np.array(dest, np.int64)) if orig else np.zeros(0, bool)
    out: list[int | None] = []
    for seq in sequences:
        bad = None
        for k, ((la, pa), (lb, pb)) in enumerate(zip(seq, seq[1:], strict=False)):
            ia, ib = cn.link_index[la], cn.link_index[lb]
            if not (ia == ib and pb > pa) and not any(ok[r] for r in pairs[(ia, ib)]):
                bad = k
                break
        out.append(bad)
    return out


def _vehicle_of(route_type: int, vehicle: str | dict[int, str] | None) -> str:
    if isinstance(vehicle, str):
        return vehicle
    if isinstance(vehicle, dict) and route_type in vehicle:
        return vehicle[route_type]
    return vehicle_id(route_type)
