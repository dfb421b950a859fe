"""Import SUMO demand (``.rou.xml``, ``.rou.xml.gz``, and the demand in additional files) as mobsim
vehicle types and trips.

The files (plain or gzip) are read in one expat pass (:func:`_read_file`); this module maps
SUMO's demand model onto mobsim's (SUMO edge ids are the mobsim link ids). Units: s, m, m/s,
m/s², veh/h.

* ``<vType>``: ``accel``, ``decel``, ``emergencyDecel``, ``tau``, ``minGap``, ``length``,
  ``maxSpeed``, ``sigma``, ``speedFactor``, ``speedDev`` and IDM's ``delta`` (on the vType or in a
  nested ``<carFollowing-MODEL .../>``, whose attributes override the vType's). **Absent attributes
  take SUMO's default for the vType's vClass** (:data:`VCLASS_DEFAULTS`, from SUMO's
  ``SUMOVTypeParameter::VClassDefaultValues``, ``getDefaultAccel``/``Decel``/``EmergencyDecel``/
  ``Imperfection`` and ``getDefaultVehicleLength``; absent ``vClass`` is ``passenger``), never
  mobsim's own defaults. ``emergencyDecel`` defaults to ``max(decel, class default)`` as in SUMO.
* ``carFollowModel`` (or the nested element's name) -> ``cf_model``: ``Krauss`` (also when absent:
  SUMO's default), ``IDM``, ``ACC`` and ``CACC`` (with SUMO's gain attributes,
  ``speedControlGain`` ... ``collisionAvoidanceOverride``, ``speedControlGainCACC`` ...
  ``speedControlMinGap``) map 1:1; the other SUMO models run as the closest mobsim model
  (:data:`CF_MODEL_MAP`: ``IDMM``/``EIDM`` as IDM, the Krauss variants and all others as
  Krauss), named in one warning. ``sigma`` (Krauss dawdling, in [0, 1]) defaults to
  SUMO's 0.5 (0 for rail and ships) for Krauss types; IDM and ACC ignore it (0 when absent).
* ``speedFactor``: a number (the mean; the deviation is then ``speedDev`` or the vClass default), or
  ``norm(mean,dev)`` / ``normc(mean,dev,min,max)``. SUMO's deviation is absolute, mobsim's
  ``speed_dev`` is relative to the mean (the kernels draw ``mean·(1 + speed_dev·z)``), so
  ``speed_dev = dev / mean``. SUMO's ``min``/``max`` bounds are **not** carried over: mobsim keeps
  the factor within SUMO's default bounds [0.2, 2] (``kernels/road/insertion.py``, ``SF_MIN``/``SF_MAX``)
  whatever the file says.
* ``vClass``: vehicles of every class that may use car lanes are kept with their own dimensions
  and dynamics (:data:`DRIVEN_VCLASSES`: passenger, truck, bus, delivery, motorcycle, emergency,
  ...). mobsim keeps only the lanes of one class when it imports a network (``network.vclass``,
  default passenger), so non-passenger types drive on those lanes (one warning); pedestrians,
  bicycles, rail and ships (:data:`SKIPPED_VCLASSES`) are skipped with their vehicles (warning).
* ``<vTypeDistribution id>`` with nested ``<vType probability>`` children (each also a vType of its
  own), ``<vType refId probability>`` children, or ``vTypes="a b"`` with optional
  ``probabilities`` (else each type's own ``probability``; default 1). A vehicle's ``type`` may
  name a distribution (``DEFAULT_VEHTYPE`` too: then vehicles without ``type`` draw from it) or a
  comma-separated list of types/distributions (mobsim picks an entry with equal weights, then
  draws within a distribution). Every vehicle draws its own type from
  :func:`mobsim.demand.streams.rng_for` ``(seed, "vtype:<element id>")``: deterministic for a seed, and
  independent of file order. Probabilities need not sum to 1 (they are normalised).
* ``<route id edges>``: named routes (``repeat`` is not supported). ``<routeDistribution>`` at the
  top level (named; vehicles and flows name it in ``route``) or nested in a vehicle/flow, with
  ``<route edges probability>`` or ``<route refId probability>`` children or ``routes="r1 r2"``
  with ``probabilities``; each vehicle draws its route from ``rng_for(seed, "route:<element id>")``.
* Route check: every edge is an edge of the network, and every consecutive pair is joined by a
  connection (``successors``: link -> next links, from the network's movements; as SUMO checks).
  Without a successor map the links' ``to_node``/``from_node`` are compared instead.
* ``<vehicle>`` with ``route="id"`` or a nested ``<route edges>``; ``<trip>`` with ``from``/``to``
  (routed by mobsim's shortest-path router; ``via`` is ignored with a warning); ``<flow>`` with a
  route or ``from``/``to`` and exactly one of ``period`` (s; ``exp(rate)`` gives exponential gaps
  with ``rate`` in veh/s), ``vehsPerHour``, ``probability`` (per 1 s step, seeded draws) or
  ``number`` (spread evenly: period ``(end - begin)/number``). Flow vehicles are ``<flow id>.<k>``;
  as in SUMO, a flow without ``begin`` starts at ``begin``, one without ``end`` ends at the
  simulation end, or (no simulation end) 24 h after its begin (SUMO's default, with a warning).
* Times: seconds or ``h:m:s`` / ``d:h:m:s``; ``depart="now"`` (or ``"begin"``) is ``begin``.
* ``departLane``: ``best`` (and ``best_prob``), ``first``, a lane index (of the mobsim link),
  ``random`` (a uniform lane, drawn per vehicle from a seeded stream of the element), ``free`` and
  ``allowed`` (the lane with the most room, whether or not it suits the route). ``departSpeed``: a
  number (m/s); ``max``, ``desired``, ``speedLimit`` run as mobsim's ``max``; ``random``, ``avg``,
  ``last`` too (warning). Absent attributes take SUMO's defaults (since SUMO 1.2x ``best_prob`` and
  ``avg``), which run as ``best`` and ``max`` without a warning. ``departPos``: a position (m,
  negative from the edge's end), ``random`` (uniform along the edge, drawn per vehicle) or ``last``
  (behind the last vehicle of the lane with a safe gap, at the lane's end when it is empty, as
  SUMO's ``lastInsertion``); ``free`` runs as ``base`` (the edge's start when there is room; SUMO
  also looks for a gap further along), ``random_free`` as ``random``, the others as ``base``
  (warnings). ``arrival*`` attributes and a vehicle's own ``speedFactor`` are ignored (warning);
  a vehicle whose route is given only by its stops (no route, no from/to: e.g. a DRT taxi) is
  skipped (warning). ``<stop>`` elements become the trip's scheduled stops, bus stops, lines and
  persons riding them a transit plan (:mod:`.sumo_pt`).
* Vehicles with SUMO's taxi device are no trips: they and the persons who ride a taxi are an
  on-demand fleet and its requests (:mod:`.sumo_taxi`).
* Vehicles departing outside ``[begin, end)`` are dropped, counted in a warning. Containers are
  skipped (warning).
* ``route_errors="drop"`` (SUMO's ``--ignore-route-errors``): a vehicle whose route names an
  unknown edge or route, or has two consecutive edges without a connection, is dropped and counted
  in a warning instead of aborting the import.

Every other problem in a file is an :class:`~mobsim.errors.InputError` naming the file and the
element.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import numpy as np

from mobsim.demand.streams import rng_for
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.errors import InputError
from mobsim.interop.sumo_departures import FLOW_RATES, DepartureReader
from mobsim.interop.sumo_pt import STOP_TAGS, PTFound, PTReader
from mobsim.interop.sumo_routes import RouteChoice, RouteError, RouteReader
from mobsim.interop.sumo_taxi import TAXI_WARNINGS, TaxiFound, TaxiReader
from mobsim.interop.sumo_vtypes import (
    ACC_ATTRS,
    CACC_ATTRS,
    CAR_CLASSES,
    CF_MODEL_MAP,
    CF_MODELS,
    DRIVEN_VCLASSES,
    SKIPPED_VCLASSES,
    SUMO_DEFAULT_VTYPE,
    VCLASS_DEFAULTS,
    VTYPE_ATTRS,
    VTypeReader,
    sumo_default_vtype,
    vclass_defaults,
)
from mobsim.interop.sumo_xml import Elem, draw_members, parse_time

__all__ = ["CAR_CLASSES", "CF_MODEL_MAP", "DRIVEN_VCLASSES", "SKIPPED_VCLASSES", "SUMO_DEFAULT_VTYPE",
           "VCLASS_DEFAULTS", "file_has_demand", "parse_time", "read_sumo_demand", "sumo_default_vtype",
           "vclass_defaults"]

DEMAND_TAGS = ("vehicle", "trip", "flow")
SKIPPED_TAGS = ("container", "containerFlow")
PERSON_TAGS = ("person", "personFlow")
#: Top-level elements read as demand (an additional file holding any of them is demand too).
DEMAND_ELEMENTS = ("vType", "vTypeDistribution", "route", "routeDistribution", *DEMAND_TAGS, "person",
                   "personFlow", *STOP_TAGS)
_VEHICLE_ATTRS = ("id", "type", "depart", "route", "from", "to", "via", "departLane", "departSpeed",
                  "departPos", "arrivalLane", "arrivalPos", "arrivalSpeed", "begin", "end", *FLOW_RATES,
                  "fromTaz", "toTaz", "fromJunction", "toJunction", "fromXY", "toXY", "fromLonLat",
                  "toLonLat", "speedFactor", "line")
#: The attributes read, per element (:func:`_read_file`); an element name not listed here keeps
#: only its ``id``.
_READ_ATTRS: dict[str, tuple[str, ...]] = {
    **{tag: _VEHICLE_ATTRS for tag in DEMAND_TAGS},
    "route": ("id", "edges", "repeat", "probability", "refId"),
    "routeDistribution": ("id", "routes", "probabilities"),
    "vType": ("id", "vClass", "carFollowModel", "probability", "refId", *VTYPE_ATTRS, *ACC_ATTRS,
              *CACC_ATTRS, "personCapacity", "boardingDuration"),
    "vTypeDistribution": ("id", "vTypes", "probabilities"),
    **{f"carFollowing-{m}": (*VTYPE_ATTRS, *ACC_ATTRS, *CACC_ATTRS) for m in CF_MODELS},
    **{tag: ("id",) for tag in SKIPPED_TAGS},
    **{tag: ("id", "lane", "startPos", "endPos", "friendlyPos") for tag in STOP_TAGS},
    "stop": ("busStop", "trainStop", "lane", "edge", "endPos", "startPos", "duration", "until", "parking",
             "triggered", "containerTriggered", "containerStop", "chargingStation", "parkingArea"),
    **{tag: ("id", "depart", "departPos", "begin", "end", "period", "personsPerHour", "probability", "number",
             "type") for tag in PERSON_TAGS},
    "ride": ("from", "to", "busStop", "lines", "group", "arrivalPos"),
    "walk": ("from", "to", "edges", "busStop", "arrivalPos", "duration", "speed"),
    "personTrip": ("from", "to", "busStop", "modes", "group", "arrivalPos"),
    "param": ("key", "value"),
}
#: vType attributes that do not change how a vehicle drives (drawing, containers): read as SUMO
#: does, without a warning. Every other attribute of a vType that mobsim does not read (the
#: lane-change model's ``lc*``, the junction model's ``jm*``, ``actionStepLength``, sublane and
#: emission attributes, ...) is named in the ``vtype_attrs`` warning.
_VTYPE_SILENT = frozenset(("color", "guiShape", "imgFile", "osgFile", "width", "height", "containerCapacity",
                           "loadingDuration", "parkingBadges"))
#: The same for vehicles, trips and flows (the ``veh_attrs`` warning names the others, e.g.
#: ``departPosLat``, ``departEdge``, ``insertionChecks``, ``reroute``, ``personNumber``).
_VEHICLE_SILENT = frozenset(("color",))


def _ignored_attrs(tag: str, attrs: dict[str, str], keep: tuple[str, ...]) -> tuple[str, ...]:
    """The attributes of a vType (or its nested ``carFollowing-*``), vehicle, trip or flow that
    mobsim does not model."""
    if tag in DEMAND_TAGS:
        return tuple(k for k in attrs if k not in keep and k not in _VEHICLE_SILENT)
    if tag != "vType" and not tag.startswith("carFollowing-"):
        return ()
    out = tuple(k for k in attrs if k not in keep and k not in _VTYPE_SILENT)
    if attrs.get("laneChangeModel") in ("LC2013", "default"):
        out = tuple(k for k in out if k != "laneChangeModel")  # mobsim's lane changes follow LC2013
    return out


def _read_file(path: Path) -> list[Elem]:
    """The top-level elements of one SUMO XML file (plain or gzip), each with its subtree.

    Read in one expat pass, keeping per element name only the attributes mobsim reads
    (:data:`_READ_ATTRS`; other elements keep their ``id``): what ``sumolib.xml.parse`` gives
    with those ``element_attrs`` (``tests/test_sumo_demand.py`` compares the two on SUMO's
    shipped route files) in an eighth of the time (10,000 trips: 0.69 s against 0.08 s), as the
    network scan does (:mod:`mobsim.interop.sumo_net`)."""
    import gzip
    import xml.parsers.expat

    source = str(path)
    if not path.is_file():
        raise InputError("file not found", source=source, fix="check the path of the SUMO route file")
    top: list[Elem] = []
    stack: list[Elem] = []
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth == 1:
            return  # the root (routes, additional, ...)
        tag = name.rsplit(":", 1)[-1]
        keep = _READ_ATTRS.get(tag, ("id",))
        el = Elem(tag, {k: attrs[k] for k in keep if k in attrs}, [], source,
                  _ignored_attrs(tag, attrs, keep))
        (stack[-1].children if stack else top).append(el)
        stack.append(el)

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        if depth >= 1:
            stack.pop()

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with path.open("rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gz else path.open("rb")) as f:
            parser.ParseFile(f)
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(f"not well-formed XML ({exc})", source=source,
                         fix="give a SUMO route file (.rou.xml or .rou.xml.gz)") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file ({exc})", source=source,
                         fix="give a readable SUMO route file (.rou.xml or .rou.xml.gz)") from None
    return top


@dataclass
class _Warn:
    """Counts of approximations, reported once per file and kind."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, source: str, kind: str, example: str = "", n: int = 1) -> None:
        key = (source, kind)
        self.counts[key] = self.counts.get(key, 0) + n
        ex = self.examples.setdefault(key, [])
        if example and len(ex) < 3 and example not in ex:
            ex.append(example)

    def messages(self) -> list[str]:
        out = []
        for (source, kind), n in self.counts.items():
            ex = self.examples[(source, kind)]
            eg = f" (e.g. {', '.join(ex)})" if ex else ""
            where = f"{source}: " if source else "SUMO demand: "  # "": counted over all files
            out.append(f"{where}{_WARNINGS[kind].format(n=n)}{eg}")
        return out


_WARNINGS = {
    "veh_attrs": "{n} vehicle/trip/flow element(s) set attributes mobsim does not model, which are ignored",
    "vtype_attrs": "{n} vType(s) set parameters mobsim does not model, which are ignored (the lane-change "
                   "model's lc*, the junction model's jm*, actionStepLength, lateral and emission "
                   "attributes, ...): those vehicles drive with mobsim's own lane changes and junction "
                   "rules",
    "cfmodel": "{n} vType(s) use a car-following model mobsim does not have; each runs as the closest "
               "mobsim model (IDM for the IDM variants, Krauss for the others) with its "
               "accel, decel, tau, minGap, sigma and speed parameters",
    "vclass": "{n} vType(s) of a vClass mobsim does not drive (pedestrians, bicycles, rail, ships) were "
              "skipped with their vehicles",
    "vclass_veh": "{n} vehicle(s) of skipped vTypes (pedestrians, bicycles, rail, ships) were skipped",
    "vclass_lanes": "{n} vType(s) of a vClass other than passenger drive with their own dimensions and "
                    "dynamics on the lanes imported for the network's vehicle class (network.vclass); "
                    "their own lane permissions are not checked",
    "speed": "departSpeed random/avg/last on {n} element(s) is approximated by max",
    "pos": "departPos (stop, ...) on {n} element(s) runs as base: mobsim inserts at the "
           "start of the edge unless departPos is a position in m, last, free, random or random_free",
    "arrival": "arrivalLane/arrivalPos/arrivalSpeed on {n} element(s) are ignored: vehicles leave at "
               "the end of their last edge",
    "vspeed": "speedFactor on {n} vehicle/trip/flow element(s) is ignored: the vType's speed factor "
              "distribution applies",
    "stop_kind": "{n} stop(s) run as plain stops in the lane (mobsim has no parking, triggered or "
                 "container stops)",
    "stop_dropped": "{n} bus stop(s) on lanes of edges the network import left out (no lane for the "
                    "vehicle class mobsim runs) are left out",
    "stop_dropped_use": "{n} stop(s) of vehicles or persons at those bus stops are left out",
    "person_rides": "{n} person(s) ride more than once: each rides from its first stop to its last, "
                    "on any lines, with the transfers mobsim plans (the fewest)",
    "person_plan_cut": "{n} person(s) do more after their first ride than ride on: only the first ride "
                       "is simulated",
    "person_walk": "{n} person(s) walk to their stop: the walk takes no time in mobsim",
    "person_plan": "{n} person(s) whose plan is not a ride from a bus stop to a bus stop were skipped "
                   "(mobsim simulates no walking)",
    "stops_only": "{n} vehicle(s) whose route is given only by their <stop> elements (bus stops, "
                  "parking areas, ...) were skipped: mobsim has no stops",
    "via": "via on {n} trip/flow element(s) is ignored: mobsim routes trips by shortest travel time",
    "window": "{n} vehicle(s) departing outside the simulated interval [begin, end) were dropped",
    "persons": "{n} container element(s) were skipped (mobsim simulates no containers)",
    "ignored": "{n} element(s) that are not demand were ignored",
    "empty": "the file has no vTypes, routes, vehicles, trips or flows",
    "flow_end": "{n} flow(s) without end, in a run without end, end 24 h after their begin (SUMO's "
                "default)",
    "route_error": "{n} vehicle(s) with a broken route (unknown edge or route, or consecutive edges "
                   "without a connection) were dropped (ignore-route-errors)",
    **TAXI_WARNINGS,
}


class _Importer(VTypeReader, RouteReader, DepartureReader, PTReader, TaxiReader):
    """State of one import: the network's edges, vTypes, routes, ids seen and warnings."""

    def __init__(self, links: Mapping[str, Any], begin: float, end: float | None, seed: int,
                 lane_map: Mapping[str, Any] | None = None,
                 successors: Mapping[str, Collection[str]] | None = None,
                 route_errors: str = "error", options: Mapping[str, str] | None = None) -> None:
        self.links = links
        opts = dict(options or {})
        # sumo --carfollow.model and --default.speeddev change the defaults of every vType.
        self.default_model = opts.get("carfollow.model", "Krauss")
        self.default_speed_dev = float(opts["default.speeddev"]) if "default.speeddev" in opts else -1.0
        self.lane_map = lane_map or {}
        self.successors = successors
        self.drop_route_errors = route_errors == "drop"
        self.begin = begin
        self.end = end
        self.seed = seed
        self.vtypes: dict[str, VehicleType] = {}
        self.vtype_source: dict[str, str] = {}  # every vType and distribution id -> its file
        self.vtype_prob: dict[str, str] = {}  # a vType's own probability attribute
        self.skipped_vtypes: set[str] = set()
        self.vtype_dists: dict[str, tuple[list[str], np.ndarray]] = {}
        self.routes: dict[str, tuple[str, ...] | RouteError] = {}
        self.route_source: dict[str, str] = {}
        self.route_prob: dict[str, str] = {}
        self.route_dists: dict[str, tuple[list[RouteChoice], np.ndarray]] = {}
        self.ids: dict[str, str] = {}  # vehicle id -> "element in file", for duplicate errors
        self.warn = _Warn()
        self.uses_default = False
        self.trips: list[Trip] = []
        self.pt = PTFound()
        self.taxi = TaxiFound(options={k: v for k, v in opts.items() if k.startswith("device.taxi.")})

    # ---------------------------------------------------------------- vehicle types

    def register(self, vid: str, where: str, source: str, element: str) -> None:
        if vid in self.ids:
            raise InputError(f"duplicate vehicle id '{vid}' (first: {self.ids[vid]})", source=source,
                             element=element, fix="make vehicle, trip and flow ids unique")
        self.ids[vid] = where

    def demand(self, el: Elem) -> None:
        source, tag, a = el.source, el.tag, el.attrs
        vid = a.get("id", "")
        if not vid:
            raise InputError(f"{tag} without id", source=source, element=tag,
                             fix=f"give every {tag} an id")
        label = el.label
        self.register(vid, f"{label} in {source}", source, label)
        if el.ignored and a.get("type") not in self.skipped_vtypes:  # (skipped ones have their warning)
            self.warn.add(source, "veh_attrs", f"{label}: {'/'.join(el.ignored)}")
        if tag == "flow":
            times = list(self.flow_times(el))
            ids = [f"{vid}.{k}" for k in range(len(times))]
            where = f"a vehicle of {label} in {source}"
            for i in ids:
                self.register(i, where, source, label)
        else:
            if "depart" not in a:
                raise InputError(f"{tag} without depart", source=source, element=label,
                                 fix='give the departure time in s: depart="0"')
            times = [self.depart(a["depart"], source, label)]
            ids = [vid]
        n = len(times)
        types = self.draw_types(el, n)
        if el.kids("stop") and not (el.kids("route") or el.kids("routeDistribution")
                                    or any(k in a for k in ("route", "from", "to"))):
            # e.g. a DRT taxi that only has stops at bus stops (SUMO routes it between them)
            self.warn.add(source, "stops_only", label, n)
            return
        try:
            paths, weights = self.paths(el)
        except RouteError as exc:
            if not self.drop_route_errors:
                raise
            self.warn.add(source, "route_error", f"{label}: {exc.what}", n)
            return
        which = draw_members(rng_for(self.seed, f"route:{vid}"), weights, n) if len(paths) > 1 else [0] * n
        if any(k in a for k in ("arrivalLane", "arrivalPos", "arrivalSpeed")):
            self.warn.add(source, "arrival", label)
        if "speedFactor" in a:
            self.warn.add(source, "vspeed", label)
        flow_begin = float(times[0]) if tag == "flow" and n else 0.0
        if tag == "flow" and "begin" in a:
            flow_begin = self.depart(a["begin"], source, label, "begin")
        specs: dict[str, tuple[str, str, str]] = {}  # origin -> (lane, speed, pos)
        rng = None  # the element's stream for departLane="random" (drawn per vehicle)
        for tid, t, vtype, k in zip(ids, times, types, which, strict=True):
            if t < self.begin or (self.end is not None and t >= self.end):
                self.warn.add(source, "window")
                continue
            if vtype in self.skipped_vtypes:
                self.warn.add(source, "vclass_veh", label)
                continue
            path = paths[k]
            if isinstance(path, RouteError):  # only with route_errors="drop"
                self.warn.add(source, "route_error", f"{label}: {path.what}")
                continue
            origin, destination, route = path
            if self.is_taxi(el, tid, vtype):  # an on-demand vehicle (sumo_taxi), not a trip
                self.add_taxi(el, tid, origin, float(t), vtype)
                continue
            if origin not in specs:
                specs[origin] = self.depart_spec(a, origin, source, label)
            lane, speed, pos = specs[origin]
            if lane == "random":
                if rng is None:
                    rng = rng_for(self.seed, f"depart:{vid}")
                lane = str(int(rng.integers(int(self.links[origin].lanes))))
            if vtype == SUMO_DEFAULT_VTYPE:
                self.uses_default = True
            stops: tuple = ()
            if el.kids("stop"):
                stops, at = self.trip_stops(el, float(t) - flow_begin if tag == "flow" else 0.0)
                if "line" in a and at and len(at) == len(stops):
                    self.pt.services.append((tid, a["line"], at, vtype))
            self.trips.append(Trip(tid, origin, destination, float(t), vtype, route, lane, speed, pos, stops))

def file_has_demand(path: str | Path) -> bool:
    """Whether a SUMO XML file (plain or gzip; e.g. an additional file) holds demand elements
    (:data:`DEMAND_ELEMENTS`). An incremental parse that stops at the first one (so commented-out
    elements do not count); a file that cannot be parsed has none."""
    import gzip
    from xml.etree.ElementTree import iterparse

    path = Path(path)
    try:
        with path.open("rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gz else path.open("rb")) as f:
            for _, el in iterparse(f, events=("start",)):
                if el.tag.rsplit("}", 1)[-1] in DEMAND_ELEMENTS:
                    return True
    except (OSError, ParseError, EOFError):
        return False
    return False


def read_sumo_demand(paths: Iterable[str | Path] | str | Path, network_links: Mapping[str, Any], *,
                     begin: float = 0.0, end: float | None = None, seed: int = 1,
                     warnings: list[str] | None = None,
                     lane_map: Mapping[str, Any] | None = None,
                     successors: Mapping[str, Collection[str]] | None = None,
                     route_errors: str = "error",
                     vtype_sources: dict[str, str] | None = None,
                     options: Mapping[str, str] | None = None,
                     transit: list[PTFound] | None = None,
                     taxi: list[TaxiFound] | None = None) -> tuple[list[VehicleType], list[Trip]]:
    """Vehicle types and trips of SUMO route files (see the module docstring for the mapping).

    Parameters
    ----------
    paths: SUMO route files (``.rou.xml``, ``.rou.xml.gz``, or additional files with demand);
        vTypes, distributions and routes of one file may be used by vehicles of another.
    network_links: link id -> link (with at least ``lanes``) of the imported network; every edge
        reference is checked against it.
    begin, end: the simulated interval, s; vehicles departing outside ``[begin, end)`` are dropped
        (``end=None``: no limit). ``depart="now"`` and flows without ``begin`` start at ``begin``,
        flows without ``end`` end at ``end`` (``end=None``: 24 h after their begin, as SUMO).
    seed: seed of the ``probability`` and ``exp()`` flows (one stream per flow id) and of the
        type and route draws from distributions (one stream per vehicle/flow id).
    warnings: if given, approximations and skipped elements are appended, one line per file and kind.
    lane_map: edge id -> SUMO indices of the lanes the imported link kept (``Network.sumo_lanes``
        of :func:`mobsim.interop.sumo_net.read_sumo_network`): a numeric ``departLane`` is SUMO's index and
        becomes the link's lane index through it.
    successors: link id -> the link ids a connection leads to (from the network's movements):
        consecutive route edges must be joined by one, as in SUMO. None: compare the links'
        ``to_node``/``from_node`` where they have them.
    route_errors: ``"error"`` (SUMO's default: a broken route aborts the import) or ``"drop"``
        (``--ignore-route-errors``: the vehicle is dropped, counted in a warning).
    vtype_sources: if given, filled with vType id -> the file that defines it.
    transit: if given, the public transport found (:class:`mobsim.interop.sumo_pt.PTFound`: bus
        stops, service vehicles, persons) is appended to it.
    taxi: if given, the taxis and taxi rides found (:class:`mobsim.interop.sumo_taxi.TaxiFound`, with
        the ``device.taxi.*`` options) are appended to it. Vehicles with SUMO's taxi device are
        never trips (without ``taxi`` they are skipped, with a warning).
    options: SUMO options that change the vType defaults: ``carfollow.model`` (the model of types
        without one) and ``default.speeddev`` (the speed factor deviation of types without one;
        < 0: the vClass default), and the taxi device's ``device.taxi.*`` (which vehicles are
        taxis, the dispatch rules: :mod:`mobsim.interop.sumo_taxi`), as ``{name: value}`` strings.

    Returns
    -------
    ``(vtypes, trips)``: the imported vTypes of the classes mobsim drives (plus SUMO's
    ``DEFAULT_VEHTYPE`` when a vehicle has no ``type`` and the files do not define it), and the
    trips sorted by ``(depart, id)``. Trip ``vtype`` is the SUMO type id (drawn from a
    distribution where the vehicle names one). Raises :class:`InputError` naming the file and the
    element.
    """
    if route_errors not in ("error", "drop"):
        raise ValueError(f"route_errors must be 'error' or 'drop', got {route_errors!r}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    imp = _Importer(network_links, float(begin), None if end is None else float(end), seed, lane_map,
                    successors, route_errors, options)
    files = [(Path(p), _read_file(Path(p))) for p in paths]
    by_tag: dict[str, list[Elem]] = {t: [] for t in ("vType", "vTypeDistribution", "route",
                                                      "routeDistribution", "demand", "busStop", "person")}
    for path, elems in files:
        source = str(path)
        known = 0
        for el in elems:
            known += 1
            if el.tag in by_tag:
                by_tag[el.tag].append(el)
            elif el.tag in DEMAND_TAGS:
                by_tag["demand"].append(el)
            elif el.tag in STOP_TAGS:
                by_tag["busStop"].append(el)
            elif el.tag in PERSON_TAGS:
                by_tag["person"].append(el)
            elif el.tag in SKIPPED_TAGS:
                imp.warn.add(source, "persons", el.label)
            else:
                known -= 1
                imp.warn.add(source, "ignored", el.tag)
        if not known:
            if elems:  # e.g. a .net.xml given as demand
                raise InputError("no SUMO demand elements (vType, route, vehicle, trip, flow) found",
                                 source=source, fix="give a SUMO route file (.rou.xml)")
            imp.warn.add(source, "empty")
    # Definitions first, so that definition order across files does not matter: vTypes (also
    # those nested in distributions, which are types of their own), then the distributions over
    # them; named routes (also those nested in top-level distributions), then route distributions.
    for el in by_tag["busStop"]:
        imp.bus_stop(el)
    for el in by_tag["vType"]:
        imp.vtype(el)
        imp.vtype_capacity(el)
        imp.taxi_vtype(el)
    for el in by_tag["vTypeDistribution"]:
        imp.new_type_id(el)
        for child in el.kids("vType"):
            if "refId" not in child.attrs:
                imp.vtype(child)
                imp.vtype_capacity(child)
                imp.taxi_vtype(child)
    for el in by_tag["vTypeDistribution"]:
        imp.vtype_dist(el)
    for el in by_tag["route"]:
        imp.route(el)
    for el in by_tag["routeDistribution"]:
        for child in el.kids("route"):
            if "id" in child.attrs and "refId" not in child.attrs:
                imp.route(child)
    for el in by_tag["routeDistribution"]:
        imp.top_route_dist(el)
    for el in by_tag["demand"]:
        imp.demand(el)
    for el in by_tag["person"]:
        if not imp.taxi_person(el):
            imp.person(el)
    if transit is not None:
        transit.append(imp.pt)
    if taxi is not None:
        taxi.append(imp.taxi)
    elif imp.taxi and warnings is not None:
        warnings.append(f"SUMO demand: {len(imp.taxi.vehicles)} taxi(s) and {len(imp.taxi.rides)} taxi "
                        "ride(s) were skipped")
    if imp.uses_default and SUMO_DEFAULT_VTYPE not in imp.vtypes:
        # SUMO's own default type, with the options' defaults
        imp.vtype(Elem("vType", {"id": SUMO_DEFAULT_VTYPE}, [], "SUMO's defaults"))
    vtypes = list(imp.vtypes.values())
    if warnings is not None:
        warnings.extend(imp.warn.messages())
    if vtype_sources is not None:
        vtype_sources.update({v.id: imp.vtype_source.get(v.id, "SUMO's defaults") for v in vtypes})
    return vtypes, sorted(imp.trips, key=lambda t: (t.depart, t.id))
