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
  SUMO's default) and ``IDM`` map 1:1; the other SUMO models run as the closest mobsim model
  (:data:`CF_MODEL_MAP`: ``IDMM``/``EIDM`` as IDM, the Krauss variants and all others as Krauss),
  named in one warning. ``sigma`` (Krauss dawdling, in [0, 1]) defaults to SUMO's 0.5 (0 for rail
  and ships) for Krauss types; IDM ignores it (0 when absent).
* ``speedFactor``: a number (the mean; the deviation is then ``speedDev`` or the vClass default), or
  ``norm(mean,dev)`` / ``normc(mean,dev,min,max)``. SUMO's deviation is absolute, mobsim's
  ``speed_dev`` is relative to the mean (the kernels draw ``mean·(1 + speed_dev·z)``), so
  ``speed_dev = dev / mean``. SUMO's ``min``/``max`` bounds are **not** carried over: mobsim keeps
  the factor within SUMO's default bounds [0.2, 2] (``kernels/insertion.py``, ``SF_MIN``/``SF_MAX``)
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
  :func:`mobsim.demand.sources.rng_for` ``(seed, "vtype:<element id>")``: deterministic for a seed, and
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
  (warnings). ``arrival*`` attributes, a vehicle's own ``speedFactor`` and ``<stop>`` elements are
  ignored (warning); a vehicle whose route is given only by its stops (no route, no from/to: e.g. a
  DRT taxi) is skipped (warning).
* Vehicles departing outside ``[begin, end)`` are dropped, counted in a warning. Persons and
  containers are skipped (warning).
* ``route_errors="drop"`` (SUMO's ``--ignore-route-errors``): a vehicle whose route names an
  unknown edge or route, or has two consecutive edges without a connection, is dropped and counted
  in a warning instead of aborting the import.

Every other problem in a file is an :class:`~mobsim.errors.InputError` naming the file and the
element.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import numpy as np

from mobsim.demand.sources import flow_departures, rng_for
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.errors import InputError
from mobsim.settings import suggest

#: SUMO's type for vehicles without ``type``.
SUMO_DEFAULT_VTYPE = "DEFAULT_VEHTYPE"
#: vClasses that drive like passenger cars (SUMO: the ordinary private car and its variants).
CAR_CLASSES = ("passenger", "private", "taxi", "hov", "evehicle", "vip", "custom1", "custom2")
#: vClasses mobsim drives as road vehicles (on the lanes imported for the network's class).
DRIVEN_VCLASSES = (*CAR_CLASSES, "emergency", "authority", "army", "delivery", "truck", "trailer",
                   "bus", "coach", "motorcycle", "moped", "ignoring")
#: vClasses whose vehicles are skipped (mobsim has no sidewalks, bicycle lanes, rails or waterways).
SKIPPED_VCLASSES = ("pedestrian", "wheelchair", "bicycle", "scooter", "tram", "rail_urban", "subway",
                    "rail", "rail_electric", "rail_fast", "cable_car", "ship", "container", "drone",
                    "aircraft")

_KMH = 1.0 / 3.6
#: SUMO's defaults per vClass (``src/utils/vehicle/SUMOVTypeParameter.cpp``, SUMO 1.2x), for the
#: parameters mobsim has: length and min_gap (m), accel, decel, emergency_decel (m/s²), max_speed
#: (m/s), speed_dev (SUMO's deviation of the speed factor) and sigma (Krauss). Classes not listed
#: take ``_BASE``. tau is 1 s for every class, IDM's delta 4.
_BASE = {"length": 5.0, "min_gap": 2.5, "accel": 2.6, "decel": 4.5, "emergency_decel": 9.0,
         "max_speed": 200.0 * _KMH, "speed_dev": 0.0, "sigma": 0.5}
_HEAVY = {"decel": 4.0, "emergency_decel": 7.0}
VCLASS_DEFAULTS: dict[str, dict[str, float]] = {
    **{c: {**_BASE, "speed_dev": 0.1} for c in ("passenger", "private", "vip", "hov", "custom1", "custom2",
                                                 "evehicle")},
    "taxi": {**_BASE, "speed_dev": 0.05},
    "emergency": {**_BASE, "length": 6.5},
    "delivery": {**_BASE, "length": 6.5, "speed_dev": 0.05},
    "truck": {**_BASE, **_HEAVY, "length": 7.1, "accel": 1.3, "max_speed": 130.0 * _KMH, "speed_dev": 0.05},
    "trailer": {**_BASE, **_HEAVY, "length": 16.5, "accel": 1.1, "max_speed": 130.0 * _KMH,
                "speed_dev": 0.05},
    "bus": {**_BASE, **_HEAVY, "length": 12.0, "accel": 1.2, "max_speed": 100.0 * _KMH},
    "coach": {**_BASE, **_HEAVY, "length": 14.0, "accel": 2.0, "max_speed": 100.0 * _KMH, "speed_dev": 0.05},
    "motorcycle": {**_BASE, "length": 2.2, "accel": 6.0, "decel": 10.0, "emergency_decel": 10.0,
                   "speed_dev": 0.1},
    "moped": {**_BASE, "length": 2.1, "accel": 1.1, "decel": 7.0, "emergency_decel": 10.0,
              "max_speed": 60.0 * _KMH, "speed_dev": 0.1},
}

#: SUMO car-following model -> the mobsim model (:data:`mobsim.demand.vtypes.CF_MODELS`) that is closest:
#: the IDM variants run as IDM, the safe-speed (Krauss-like) models and all others as Krauss.
CF_MODEL_MAP = {"Krauss": "Krauss", "IDM": "IDM", "IDMM": "IDM", "EIDM": "IDM", "KraussOrig1": "Krauss",
                "KraussPS": "Krauss", "KraussX": "Krauss", "SmartSK": "Krauss", "Daniel1": "Krauss",
                "PWagner2009": "Krauss", "PWagner2013": "Krauss", "BKerner": "Krauss",
                "Wiedemann": "Krauss", "W99": "Krauss", "Rail": "Krauss", "ACC": "Krauss",
                "CACC": "Krauss", "CC": "Krauss"}
#: SUMO's car-following models (nested ``<carFollowing-MODEL>`` elements of a vType).
CF_MODELS = tuple(CF_MODEL_MAP)
#: SUMO vType attribute -> :class:`VehicleType` field.
VTYPE_ATTRS = {"accel": "accel", "decel": "decel", "emergencyDecel": "emergency_decel", "tau": "tau",
               "minGap": "min_gap", "length": "length", "maxSpeed": "max_speed",
               "speedFactor": "speed_factor", "speedDev": "speed_dev", "delta": "delta", "sigma": "sigma"}
FLOW_RATES = ("period", "vehsPerHour", "probability", "number")
DEMAND_TAGS = ("vehicle", "trip", "flow")
SKIPPED_TAGS = ("person", "personFlow", "container", "containerFlow")
#: Top-level elements read as demand (an additional file holding any of them is demand too).
DEMAND_ELEMENTS = ("vType", "vTypeDistribution", "route", "routeDistribution", *DEMAND_TAGS)
#: SUMO's flow end when neither the flow nor the simulation has one (24 h after the flow's begin).
FLOW_DEFAULT_DURATION = 86400.0
_VEHICLE_ATTRS = ("id", "type", "depart", "route", "from", "to", "via", "departLane", "departSpeed",
                  "departPos", "arrivalLane", "arrivalPos", "arrivalSpeed", "begin", "end", *FLOW_RATES,
                  "fromTaz", "toTaz", "fromJunction", "toJunction", "fromXY", "toXY", "fromLonLat",
                  "toLonLat", "speedFactor")
#: The attributes read, per element (:func:`_read_file`); an element name not listed here keeps
#: only its ``id``.
_READ_ATTRS: dict[str, tuple[str, ...]] = {
    **{tag: _VEHICLE_ATTRS for tag in DEMAND_TAGS},
    "route": ("id", "edges", "repeat", "probability", "refId"),
    "routeDistribution": ("id", "routes", "probabilities"),
    "vType": ("id", "vClass", "carFollowModel", "probability", "refId", *VTYPE_ATTRS),
    "vTypeDistribution": ("id", "vTypes", "probabilities"),
    **{f"carFollowing-{m}": tuple(VTYPE_ATTRS) for m in CF_MODELS},
    **{tag: ("id",) for tag in SKIPPED_TAGS},
}
_DISTRIBUTION = re.compile(r"^\s*normc?\(([^)]*)\)\s*$")
_EXP = re.compile(r"^\s*exp\(([^)]*)\)\s*$")


def vclass_defaults(vclass: str) -> dict[str, float]:
    """SUMO's defaults of one vClass for the parameters mobsim has (see :data:`VCLASS_DEFAULTS`)."""
    return dict(VCLASS_DEFAULTS.get(vclass, _BASE))


def sumo_default_vtype() -> VehicleType:
    """SUMO's ``DEFAULT_VEHTYPE`` (passenger defaults, Krauss with sigma 0.5) as a :class:`VehicleType`."""
    d = vclass_defaults("passenger")
    return VehicleType(id=SUMO_DEFAULT_VTYPE, length=d["length"], min_gap=d["min_gap"], accel=d["accel"],
                       decel=d["decel"], emergency_decel=d["emergency_decel"], tau=1.0,
                       max_speed=d["max_speed"], speed_factor=1.0, speed_dev=d["speed_dev"], delta=4.0,
                       cf_model="Krauss", sigma=d["sigma"])


class _RouteError(InputError):
    """A broken route (unknown edge or route, edges without a connection): dropped, not fatal, with
    ``route_errors="drop"`` (SUMO's ``--ignore-route-errors``)."""


@dataclass
class _Elem:
    """One XML element as read: tag, attributes (SUMO names) and child elements."""

    tag: str
    attrs: dict[str, str]
    children: list[_Elem]
    source: str

    def kids(self, tag: str) -> list[_Elem]:
        return [c for c in self.children if c.tag == tag]

    @property
    def label(self) -> str:
        return f"{self.tag} '{self.attrs['id']}'" if "id" in self.attrs else self.tag


def _read_file(path: Path) -> list[_Elem]:
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
    top: list[_Elem] = []
    stack: list[_Elem] = []
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth == 1:
            return  # the root (routes, additional, ...)
        tag = name.rsplit(":", 1)[-1]
        keep = _READ_ATTRS.get(tag, ("id",))
        el = _Elem(tag, {k: attrs[k] for k in keep if k in attrs}, [], source)
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


def _number(value: str, name: str, source: str, element: str) -> float:
    try:
        v = float(value)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise InputError(f"{name}={value!r} is not a number", source=source, element=element,
                         fix=f"give {name} as a finite number")
    return v


def parse_time(value: str, name: str, source: str, element: str) -> float:
    """A SUMO time (``"12.5"``, ``"h:m:s"`` or ``"d:h:m:s"``) in s; negative times are errors."""
    parts = value.strip().split(":")
    try:
        if len(parts) == 1:
            t = float(parts[0])
        elif len(parts) in (3, 4):
            nums = [float(p) for p in parts]
            if any(x < 0 for x in nums):
                raise ValueError
            t = math.fsum(x * u for x, u in zip(nums, (86400.0, 3600.0, 60.0, 1.0)[-len(nums):],
                                                 strict=True))
        else:
            raise ValueError
    except ValueError:
        t = math.nan
    if not math.isfinite(t) or t < 0:
        raise InputError(f"{name}={value!r} is not a time >= 0", source=source, element=element,
                         fix=f"give {name} in seconds (e.g. 3600) or as h:m:s (e.g. 1:00:00)")
    return t


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
    "cfmodel": "{n} vType(s) use a car-following model mobsim does not have; each runs as the closest "
               "mobsim model (IDM for the IDM variants, Krauss for the others) with its accel, decel, "
               "tau, minGap, sigma and speed parameters",
    "vclass": "{n} vType(s) of a vClass mobsim does not drive (pedestrians, bicycles, rail, ships) were "
              "skipped with their vehicles",
    "vclass_veh": "{n} vehicle(s) of skipped vTypes (pedestrians, bicycles, rail, ships) were skipped",
    "vclass_lanes": "{n} vType(s) of a vClass other than passenger drive with their own dimensions and "
                    "dynamics on the lanes imported for the network's vehicle class (network.vclass); "
                    "their own lane permissions are not checked",
    "speed": "departSpeed random/avg/last on {n} element(s) is approximated by max",
    "pos": "departPos (stop, ...) on {n} element(s) runs as base: mobsim inserts at the "
           "start of the edge unless departPos is a position in m or random",
    "pos_free": "departPos free on {n} element(s) runs as base: mobsim inserts at the start of the "
                "edge when there is room there (SUMO also looks for a gap further along)",
    "pos_random_free": "departPos random_free on {n} element(s) runs as random (a uniform position "
                       "along the edge, drawn per vehicle)",
    "arrival": "arrivalLane/arrivalPos/arrivalSpeed on {n} element(s) are ignored: vehicles leave at "
               "the end of their last edge",
    "vspeed": "speedFactor on {n} vehicle/trip/flow element(s) is ignored: the vType's speed factor "
              "distribution applies",
    "stop": "{n} <stop> element(s) are ignored (mobsim has no stops for cars)",
    "stops_only": "{n} vehicle(s) whose route is given only by their <stop> elements (bus stops, "
                  "parking areas, ...) were skipped: mobsim has no stops",
    "via": "via on {n} trip/flow element(s) is ignored: mobsim routes trips by shortest travel time",
    "window": "{n} vehicle(s) departing outside the simulated interval [begin, end) were dropped",
    "persons": "{n} person/container element(s) were skipped (mobsim simulates vehicles only)",
    "ignored": "{n} element(s) that are not demand were ignored",
    "empty": "the file has no vTypes, routes, vehicles, trips or flows",
    "flow_end": "{n} flow(s) without end, in a run without end, end 24 h after their begin (SUMO's "
                "default)",
    "route_error": "{n} vehicle(s) with a broken route (unknown edge or route, or consecutive edges "
                   "without a connection) were dropped (ignore-route-errors)",
}


def _weights(values: list[str], source: str, element: str) -> np.ndarray:
    """Probabilities (any non-negative numbers with a positive sum), normalised to sum 1."""
    w = np.array([_number(v, "probability", source, element) for v in values], dtype=np.float64)
    if len(w) == 0 or (w < 0).any() or w.sum() <= 0:
        raise InputError(f"probabilities {values} must be >= 0 with a positive sum", source=source,
                         element=element, fix="give every member a probability >= 0, not all 0")
    return w / w.sum()


def _draw(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` member indices drawn with ``weights`` (no draw at all for a single member)."""
    if len(weights) == 1:
        return np.zeros(n, dtype=np.int64)
    return rng.choice(len(weights), size=n, p=weights)


#: One route choice of a vehicle: (origin, destination, route edges; () = routed by mobsim), or the
#: error of a broken route (``route_errors="drop"``: vehicles that draw it are dropped).
_Path = tuple[str, str, tuple[str, ...]] | _RouteError


class _Importer:
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
        self.routes: dict[str, tuple[str, ...] | _RouteError] = {}
        self.route_source: dict[str, str] = {}
        self.route_prob: dict[str, str] = {}
        self.route_dists: dict[str, tuple[list[_Path], np.ndarray]] = {}
        self.ids: dict[str, str] = {}  # vehicle id -> "element in file", for duplicate errors
        self.warn = _Warn()
        self.uses_default = False
        self.trips: list[Trip] = []

    # ---------------------------------------------------------------- vehicle types

    def new_type_id(self, el: _Elem) -> str:
        vid = el.attrs.get("id", "")
        if not vid:
            raise InputError(f"{el.tag} without id", source=el.source, element=el.tag,
                             fix=f"give every {el.tag} an id")
        if vid in self.vtype_source:
            raise InputError(f"duplicate vType (or vTypeDistribution) id '{vid}' (first in "
                             f"{self.vtype_source[vid]})", source=el.source, element=el.label,
                             fix="make vType and vTypeDistribution ids unique")
        self.vtype_source[vid] = el.source
        return vid

    def vtype(self, el: _Elem) -> None:
        source, label = el.source, el.label
        vid = self.new_type_id(el)
        self.vtype_prob[vid] = el.attrs.get("probability", "1")
        vclass = el.attrs.get("vClass", "passenger")
        if vclass in SKIPPED_VCLASSES:
            self.skipped_vtypes.add(vid)
            self.warn.add(source, "vclass", f"'{vid}' ({vclass})")
            return
        if vclass not in DRIVEN_VCLASSES:
            hint = suggest(vclass, DRIVEN_VCLASSES + SKIPPED_VCLASSES)
            raise InputError(f"unknown vClass '{vclass}'{hint}", source=source, element=label,
                             fix="use one of SUMO's vehicle classes")
        if vclass not in CAR_CLASSES:
            self.warn.add("", "vclass_lanes", f"'{vid}' ({vclass})")
        attrs = dict(el.attrs)
        model = attrs.get("carFollowModel", self.default_model)  # SUMO's default: Krauss
        for child in el.children:
            if child.tag.startswith("carFollowing-"):
                # SUMO's nested form: the element names the model, its attributes are CF parameters.
                model = child.tag.split("-", 1)[1]
                attrs.update(child.attrs)
        if model not in CF_MODEL_MAP:
            raise InputError(f"unknown carFollowModel '{model}'{suggest(model, CF_MODELS)}", source=source,
                             element=label, fix=f"use one of SUMO's models: {', '.join(CF_MODELS)}")
        cf_model = CF_MODEL_MAP[model]
        if model != cf_model:
            self.warn.add(source, "cfmodel", f"'{vid}' ({model} as {cf_model})")
        d = vclass_defaults(vclass)
        kw: dict[str, Any] = {"length": d["length"], "min_gap": d["min_gap"], "accel": d["accel"],
                              "decel": d["decel"], "tau": 1.0, "max_speed": d["max_speed"],
                              "speed_factor": 1.0, "delta": 4.0, "cf_model": cf_model,
                              "sigma": d["sigma"] if cf_model == "Krauss" else 0.0}
        # SUMO's absolute deviation of the speed factor (--default.speeddev < 0: the class default)
        dev = d["speed_dev"] if self.default_speed_dev < 0 else self.default_speed_dev
        for sumo_name, name in VTYPE_ATTRS.items():
            if sumo_name not in attrs:
                continue
            m = _DISTRIBUTION.match(attrs[sumo_name]) if sumo_name == "speedFactor" else None
            if m:
                args = m.group(1).split(",")
                if len(args) not in (2, 4):
                    raise InputError(f"speedFactor={attrs[sumo_name]!r} is not norm(mean,dev) or "
                                     "normc(mean,dev,min,max)", source=source, element=label,
                                     fix="give speedFactor as a number or a norm/normc distribution")
                kw["speed_factor"] = _number(args[0], "speedFactor mean", source, label)
                dev = _number(args[1], "speedFactor deviation", source, label)
            elif name == "speed_dev":
                if not ("speedFactor" in attrs and _DISTRIBUTION.match(attrs["speedFactor"])):
                    dev = _number(attrs[sumo_name], sumo_name, source, label)
                # else: the distribution's own deviation wins, as in SUMO
            else:
                kw[name] = _number(attrs[sumo_name], sumo_name, source, label)
        if kw["speed_factor"] > 0:
            kw["speed_dev"] = dev / kw["speed_factor"]  # SUMO's absolute deviation -> mobsim's relative
        if "emergency_decel" not in kw:
            kw["emergency_decel"] = max(kw["decel"], d["emergency_decel"])  # SUMO's default rule
        if kw["emergency_decel"] < VehicleType().lc_safe_decel:
            # MOBIL's safe braking is not a SUMO attribute: keep it within the physical limit
            kw["lc_safe_decel"] = kw["emergency_decel"]
        vt = VehicleType(id=vid, **kw)
        # dt=0: the step-dependent check (tau >= dt) runs when the scenario is built with its dt.
        vt.validate(0.0, source=source)
        self.vtypes[vid] = vt

    def vtype_dist(self, el: _Elem) -> None:
        """A ``<vTypeDistribution>`` (its nested vTypes were defined by :meth:`vtype` already)."""
        source, label = el.source, el.label
        did = el.attrs["id"]
        members: list[str] = []
        probs: list[str] = []
        for child in el.kids("vType"):
            ref = child.attrs.get("refId", child.attrs.get("id", ""))
            self.type_ref(ref, source, label)
            members.append(ref)
            probs.append(child.attrs.get("probability", self.vtype_prob.get(ref, "1")))
        if "vTypes" in el.attrs:
            names, given = _listed(el.attrs, "vTypes", source, label)
            for k, ref in enumerate(names):
                self.type_ref(ref, source, label)
                members.append(ref)
                probs.append(given[k] if given else self.vtype_prob.get(ref, "1"))
        if not members:
            raise InputError("vTypeDistribution without vTypes", source=source, element=label,
                             fix='nest <vType ... probability="..."/> elements or give vTypes="a b"')
        self.vtype_dists[did] = (members, _weights(probs, source, label))

    def type_ref(self, ref: str, source: str, element: str) -> None:
        if ref not in self.vtypes and ref not in self.skipped_vtypes:
            known = [*self.vtypes, *self.skipped_vtypes]
            raise InputError(f"unknown vType '{ref}'{suggest(ref, known)}", source=source, element=element,
                             fix="define the vType (<vType id=...>) before referring to it")

    def draw_types(self, el: _Elem, n: int) -> list[str]:
        """The type of each of the element's ``n`` vehicles (drawn where it names a distribution)."""
        source, label = el.source, el.label
        entries = [t.strip() for t in el.attrs.get("type", SUMO_DEFAULT_VTYPE).split(",") if t.strip()]
        if not entries:
            raise InputError("empty type", source=source, element=label, fix="give a vType id")
        for t in entries:
            if (t not in self.vtypes and t not in self.skipped_vtypes and t not in self.vtype_dists
                    and t != SUMO_DEFAULT_VTYPE):
                known = [*self.vtypes, *self.vtype_dists]
                raise InputError(f"unknown vType '{t}'{suggest(t, known)}", source=source, element=label,
                                 fix="define the vType (<vType id=...>) in a route or additional file")
        if len(entries) == 1 and entries[0] not in self.vtype_dists:
            return [entries[0]] * n
        rng = rng_for(self.seed, f"vtype:{el.attrs['id']}")
        which = _draw(rng, np.full(len(entries), 1.0 / len(entries)), n)
        out = [""] * n
        for k, t in enumerate(entries):
            idx = np.flatnonzero(which == k)
            if t in self.vtype_dists:
                members, w = self.vtype_dists[t]
                for i, m in zip(idx, _draw(rng, w, len(idx)), strict=True):
                    out[i] = members[m]
            else:
                for i in idx:
                    out[i] = t
        return out

    # ---------------------------------------------------------------- routes and edges

    def edge(self, edge: str, source: str, element: str, attr: str) -> str:
        if edge not in self.links:
            raise _RouteError(f"{attr}: unknown edge '{edge}'{suggest(edge, self.links)}", source=source,
                              element=element, fix="use an edge id of the imported network")
        return edge

    def edges(self, text: str | None, source: str, element: str) -> tuple[str, ...]:
        """The edge list of a route, each edge in the network and connected to the one before."""
        route = tuple((text or "").split())
        if not route:
            raise InputError("route without edges", source=source, element=element,
                             fix='list the route\'s edges: edges="e1 e2 ..."')
        for e in route:
            self.edge(e, source, element, "route")
        for a, b in zip(route, route[1:], strict=False):
            if self.successors is not None:
                # As SUMO: consecutive edges must be joined by a connection (a movement).
                if b not in self.successors.get(a, ()):
                    raise _RouteError(f"route is not connected: no connection from edge '{a}' to edge "
                                      f"'{b}'", source=source, element=element,
                                      fix="list every edge of the route in driving order, each one "
                                          "reachable from the one before by a connection")
                continue
            # No connections given: links of a mobsim network know their nodes; check where both do.
            to_node = getattr(self.links[a], "to_node", None)
            from_node = getattr(self.links[b], "from_node", None)
            if to_node is not None and from_node is not None and to_node != from_node:
                raise _RouteError(f"route is not contiguous: edge '{a}' ends at '{to_node}', edge '{b}' "
                                  f"starts at '{from_node}'", source=source, element=element,
                                  fix="list every edge of the route in driving order")
        return route

    def checked_edges(self, text: str | None, source: str, element: str) -> tuple[str, ...] | _RouteError:
        """:meth:`edges`, or (``route_errors="drop"``) the error of a broken route."""
        try:
            return self.edges(text, source, element)
        except _RouteError as exc:
            if not self.drop_route_errors:
                raise
            return exc

    def route(self, el: _Elem) -> None:
        rid = el.attrs.get("id", "")
        if not rid:
            raise InputError("route without id outside a vehicle", source=el.source, element="route",
                             fix="give the route an id, or nest it in its vehicle")
        if rid in self.routes or rid in self.route_dists:
            first = self.route_source[rid]
            raise InputError(f"duplicate route (or routeDistribution) id '{rid}' (first in {first})",
                             source=el.source, element=el.label, fix="make route ids unique")
        if _number(el.attrs.get("repeat", "0"), "repeat", el.source, el.label) > 0:
            raise InputError("repeated routes (repeat) are not supported", source=el.source,
                             element=el.label, fix="write the repeated edges out, or use a flow")
        self.route_source[rid] = el.source
        self.route_prob[rid] = el.attrs.get("probability", "1")
        self.routes[rid] = self.checked_edges(el.attrs.get("edges"), el.source, el.label)

    def route_ref(self, rid: str, source: str, element: str) -> _Path:
        if rid not in self.routes:
            raise _RouteError(f"unknown route '{rid}'{suggest(rid, [*self.routes, *self.route_dists])}",
                              source=source, element=element,
                              fix="define the route (<route id=... edges=...>)")
        r = self.routes[rid]
        return r if isinstance(r, _RouteError) else (r[0], r[-1], r)

    def route_dist(self, el: _Elem, source: str, element: str) -> tuple[list[_Path], np.ndarray]:
        """The routes and probabilities of a ``<routeDistribution>`` (top-level or nested)."""
        paths: list[_Path] = []
        probs: list[str] = []
        for child in el.kids("route"):
            if "refId" in child.attrs:
                ref = child.attrs["refId"]
                paths.append(self.route_ref(ref, source, element))
                probs.append(child.attrs.get("probability", self.route_prob.get(ref, "1")))
            elif "id" in child.attrs and child.attrs["id"] in self.routes:
                # a named route of a top-level distribution, defined by route() already
                paths.append(self.route_ref(child.attrs["id"], source, element))
                probs.append(child.attrs.get("probability", "1"))
            else:
                r = self.checked_edges(child.attrs.get("edges"), source, element)
                paths.append(r if isinstance(r, _RouteError) else (r[0], r[-1], r))
                probs.append(child.attrs.get("probability", "1"))
        if "routes" in el.attrs:
            names, given = _listed(el.attrs, "routes", source, element)
            for k, ref in enumerate(names):
                paths.append(self.route_ref(ref, source, element))
                probs.append(given[k] if given else self.route_prob.get(ref, "1"))
        if not paths:
            raise InputError("routeDistribution without routes", source=source, element=element,
                             fix='nest <route edges="..." probability="..."/> elements or give routes="a b"')
        return paths, _weights(probs, source, element)

    def top_route_dist(self, el: _Elem) -> None:
        did = el.attrs.get("id", "")
        if not did:
            raise InputError("routeDistribution without id outside a vehicle", source=el.source,
                             element="routeDistribution", fix="give the routeDistribution an id")
        if did in self.routes or did in self.route_dists:
            raise InputError(f"duplicate route (or routeDistribution) id '{did}' (first in "
                             f"{self.route_source[did]})", source=el.source, element=el.label,
                             fix="make route ids unique")
        self.route_source[did] = el.source
        self.route_dists[did] = self.route_dist(el, el.source, el.label)

    # ---------------------------------------------------------------- vehicles, trips, flows

    def register(self, vid: str, where: str, source: str, element: str) -> None:
        if vid in self.ids:
            raise InputError(f"duplicate vehicle id '{vid}' (first: {self.ids[vid]})", source=source,
                             element=element, fix="make vehicle, trip and flow ids unique")
        self.ids[vid] = where

    def demand(self, el: _Elem) -> None:
        source, tag, a = el.source, el.tag, el.attrs
        vid = a.get("id", "")
        if not vid:
            raise InputError(f"{tag} without id", source=source, element=tag,
                             fix=f"give every {tag} an id")
        label = el.label
        self.register(vid, f"{label} in {source}", source, label)
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
        except _RouteError as exc:
            if not self.drop_route_errors:
                raise
            self.warn.add(source, "route_error", f"{label}: {exc.what}", n)
            return
        which = _draw(rng_for(self.seed, f"route:{vid}"), weights, n) if len(paths) > 1 else [0] * n
        if any(k in a for k in ("arrivalLane", "arrivalPos", "arrivalSpeed")):
            self.warn.add(source, "arrival", label)
        if "speedFactor" in a:
            self.warn.add(source, "vspeed", label)
        if el.kids("stop"):
            self.warn.add(source, "stop", label, len(el.kids("stop")))
        specs: dict[str, tuple[str, str, str]] = {}  # origin -> (lane, speed, pos)
        rng = None  # the element's stream for departLane/departPos="random" (drawn per vehicle)
        for tid, t, vtype, k in zip(ids, times, types, which, strict=True):
            if t < self.begin or (self.end is not None and t >= self.end):
                self.warn.add(source, "window")
                continue
            if vtype in self.skipped_vtypes:
                self.warn.add(source, "vclass_veh", label)
                continue
            path = paths[k]
            if isinstance(path, _RouteError):  # only with route_errors="drop"
                self.warn.add(source, "route_error", f"{label}: {path.what}")
                continue
            origin, destination, route = path
            if origin not in specs:
                specs[origin] = self.depart_spec(a, origin, source, label)
            lane, speed, pos = specs[origin]
            if "random" in (lane, pos):
                if rng is None:
                    rng = rng_for(self.seed, f"depart:{vid}")
                link = self.links[origin]
                if lane == "random":
                    lane = str(int(rng.integers(int(link.lanes))))
                if pos == "random":
                    pos = repr(float(rng.uniform(0.0, float(getattr(link, "length", 0.0)))))
            if vtype == SUMO_DEFAULT_VTYPE:
                self.uses_default = True
            self.trips.append(Trip(tid, origin, destination, float(t), vtype, route, lane, speed, pos))

    def depart_spec(self, a: Mapping[str, str], origin: str, source: str, label: str) -> tuple[str, str, str]:
        """``(depart_lane, depart_speed, depart_pos)`` of a vehicle that starts on ``origin``."""
        lane = self.depart_lane(a.get("departLane"), origin, source, label)
        speed = self.depart_speed(a.get("departSpeed"), source, label)
        pos = "base"
        dp = a.get("departPos", "base")
        if dp != "base":
            try:
                x = float(dp)
            except ValueError:
                x = float("nan")
            if dp == "free":
                # SUMO's freeInsertion: at the lane's start when that is safe, else in the first
                # gap further along that is; mobsim inserts at the start (base) and the vehicle
                # waits while the start is not free (warning)
                self.warn.add(source, "pos_free", label)
            elif dp in ("random", "random_free"):
                # SUMO: a uniform position along the edge, drawn per vehicle; "random_free"
                # (ten random tries, then free) runs as random (warning)
                pos = "random"
                if dp != "random":
                    self.warn.add(source, "pos_random_free", label)
            elif dp == "last":
                pos = "last"  # behind the last vehicle of the lane, or at the lane's end
            elif x != x:  # stop, ...: not a position
                self.warn.add(source, "pos", label)
            elif x != 0.0:
                link = self.links.get(origin)
                length = float(getattr(link, "length", abs(x)))
                if x < 0:
                    x += length  # SUMO counts negative positions from the end of the edge
                if x < 0 or x > length + 1e-9:
                    raise InputError(f"departPos {dp} is outside edge {origin} ({length:g} m)", source=source,
                                     element=label, fix="give a position along the first edge of the route")
                pos = repr(x)
        return lane, speed, pos

    def depart(self, value: str, source: str, element: str, name: str = "depart") -> float:
        if value in ("now", "begin"):
            return self.begin
        if value in ("triggered", "containerTriggered", "split"):
            raise InputError(f"{name}={value!r} is not supported (mobsim has no persons or containers "
                             "to trigger a departure)", source=source, element=element,
                             fix="give the departure time in s")
        return parse_time(value, name, source, element)

    def paths(self, el: _Elem) -> tuple[list[_Path], np.ndarray]:
        """The route choices of a vehicle, trip or flow and their probabilities; a route ``()``:
        mobsim routes from origin to destination."""
        source, label, a = el.source, el.label, el.attrs
        nested = el.kids("route")
        nested_dist = el.kids("routeDistribution")
        if len(nested) + len(nested_dist) + ("route" in a) > 1:
            raise InputError("more than one of a route attribute, a nested <route> and a nested "
                             "<routeDistribution>", source=source, element=label,
                             fix="give one route (or one routeDistribution) per vehicle")
        one = np.ones(1)
        if nested:
            r = self.edges(nested[0].attrs.get("edges"), source, label)
            return [(r[0], r[-1], r)], one
        if nested_dist:
            return self.route_dist(nested_dist[0], source, label)
        if "route" in a:
            rid = a["route"]
            if rid in self.route_dists:
                return self.route_dists[rid]
            path = self.route_ref(rid, source, label)
            if isinstance(path, _RouteError):
                raise path
            return [path], one
        if "from" in a or "to" in a:
            if "from" not in a or "to" not in a:
                missing = "to" if "from" in a else "from"
                raise InputError(f"'{missing}' is missing", source=source, element=label,
                                 fix="give both from and to edges (or a route)")
            origin = self.edge(a["from"], source, label, "from")
            destination = self.edge(a["to"], source, label, "to")
            if a.get("via", "").split():
                for e in a["via"].split():
                    self.edge(e, source, label, "via")
                self.warn.add(source, "via", label)
            return [(origin, destination, ())], one
        other = [k for k in ("fromTaz", "toTaz", "fromJunction", "toJunction", "fromXY", "toXY",
                             "fromLonLat", "toLonLat") if k in a]
        what = (f"{', '.join(other)} is not supported" if other
                else "neither a route nor from/to edges")
        raise InputError(what, source=source, element=label,
                         fix='give route="id", a nested <route edges=...>, or from/to edges')

    def depart_lane(self, value: str | None, origin: str, source: str, element: str) -> str:
        if value == "first":
            return "first"
        if value in (None, "best", "best_prob"):
            return "best"  # absent: SUMO's default best_prob (sumo --default.departlane)
        if value == "random":
            return "random"  # a uniform lane of the edge, drawn per vehicle
        if value in ("free", "allowed"):
            # the lane with the most room among all (car) lanes of the edge, whether or not it
            # leads on along the route (mobsim keeps only lanes cars may use: allowed = free)
            return "free"
        lanes = int(self.links[origin].lanes)
        if not value.isdigit():
            raise InputError(f"departLane={value!r} is not best, first, random, free, allowed or a lane "
                             "index", source=source, element=element, fix="use best, first or 0, 1, ...")
        kept = self.lane_map.get(origin)
        if kept is not None:
            # SUMO's lane index; the imported link keeps only the car lanes, renumbered from 0.
            if int(value) not in kept:
                raise InputError(f"departLane={value}: lane {value} of edge '{origin}' is not a lane that "
                                 "cars may use", source=source, element=element,
                                 fix=f"use one of SUMO's lanes {list(kept)} or best")
            return str(list(kept).index(int(value)))
        if int(value) >= lanes:
            raise InputError(f"departLane={value} does not exist: edge '{origin}' has {lanes} lane(s)",
                             source=source, element=element, fix=f"use a lane index below {lanes}")
        return str(int(value))

    def depart_speed(self, value: str | None, source: str, element: str) -> str:
        if value in (None, "max", "desired", "speedLimit"):
            # absent: SUMO's default avg (sumo --default.departspeed), the lane's mean speed or its
            # limit when empty; mobsim's max (highest safe speed up to the desired one) is the same
            # on an empty lane, so no warning for the default.
            return "max"
        if value in ("random", "avg", "last"):
            self.warn.add(source, "speed", element)
            return "max"
        try:
            v = float(value)
        except ValueError:
            v = math.nan
        if not math.isfinite(v) or v < 0:
            raise InputError(f"departSpeed={value!r} is not max, desired, speedLimit or a speed >= 0 in "
                             "m/s", source=source, element=element, fix="use max or a number of m/s")
        return str(v)

    def flow_times(self, el: _Elem) -> np.ndarray:
        """Departure times (s) of a flow, in the flow's own ``[begin, end)``."""
        source, label, a = el.source, el.label, el.attrs
        rates = [k for k in FLOW_RATES if k in a]
        if len(rates) != 1:
            raise InputError(f"a flow needs exactly one of {', '.join(FLOW_RATES)}; got "
                             f"{', '.join(rates) or 'none'}", source=source, element=label,
                             fix="keep exactly one rate attribute")
        rate = rates[0]
        begin = self.depart(a["begin"], source, label, "begin") if "begin" in a else self.begin
        if "end" in a:
            end = parse_time(a["end"], "end", source, label)
        elif self.end is not None:
            end = self.end  # SUMO: a flow without end runs until the simulation ends
        else:
            # SUMO (SUMOVehicleParserHelper::parseFlowAttributes): no end anywhere -> 24 h
            end = begin + FLOW_DEFAULT_DURATION
            self.warn.add(source, "flow_end", label)
        if end < begin:
            raise InputError(f"end={end} s is before begin={begin} s", source=source, element=label,
                             fix="give an end after the begin")
        table: dict[str, Any] = {"id": a["id"], "begin": begin, "end": end, "period": None,
                                 "vehs_per_hour": None, "probability": None, "number": None}
        value = a[rate]
        exp = _EXP.match(value) if rate == "period" else None
        if exp:
            lam = _number(exp.group(1), "period exp(rate)", source, label)
            if lam <= 0:
                raise InputError(f"period={value!r}: the rate must be > 0 veh/s", source=source,
                                 element=label, fix="give exp(rate) with a positive rate in veh/s")
            return _poisson(begin, end, lam, rng_for(self.seed, f"flow:{a['id']}"))
        if rate == "number":
            n = int(value) if value.strip().isdigit() else -1
            if n < 0:
                raise InputError(f"number={value!r} is not a count >= 0", source=source, element=label,
                                 fix="give the number of vehicles as a whole number")
            if n and end == begin:
                raise InputError("number of vehicles over an empty interval (end = begin)", source=source,
                                 element=label, fix="give an end after the begin")
            table["number"] = n
        elif rate == "probability":
            q = _number(value, rate, source, label)
            if not 0.0 < q <= 1.0:
                raise InputError(f"probability={value} is not in (0, 1]", source=source, element=label,
                                 fix="give the probability of a departure per second, at most 1")
            table["probability"] = q
        else:
            v = (parse_time(value, rate, source, label) if rate == "period"
                 else _number(value, rate, source, label))
            if v <= 0:
                raise InputError(f"{rate}={value} must be > 0", source=source, element=label,
                                 fix=f"give a positive {rate}")
            table["period" if rate == "period" else "vehs_per_hour"] = v
        # The same expansion as mobsim's own [[demand.flows]] (and the same random stream per
        # flow id): period/vehsPerHour from begin while < end, number spread evenly, probability
        # drawn once per 1 s step.
        return flow_departures(table, self.seed)



def _listed(attrs: Mapping[str, str], key: str, source: str, element: str) -> tuple[list[str], list[str]]:
    """The ids of a distribution's ``vTypes``/``routes`` attribute and its ``probabilities`` (as
    given: empty, or one per id)."""
    names = attrs[key].split()
    given = attrs.get("probabilities", "").replace(",", " ").split()
    if given and len(given) != len(names):
        what = key[:-1]
        raise InputError(f"{len(names)} {key} but {len(given)} probabilities", source=source,
                         element=element, fix=f"give one probability per {what}")
    return names, given


def _poisson(begin: float, end: float, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Departures of a Poisson process of ``rate`` veh/s in ``[begin, end)`` (SUMO ``period="exp(rate)"``)."""
    times: list[float] = []
    t = begin
    chunk = max(16, int((end - begin) * rate * 1.2) + 16)
    while True:
        gaps = rng.exponential(1.0 / rate, chunk)
        ts = t + np.cumsum(gaps)
        inside = ts[ts < end]
        times.extend(inside.tolist())
        if len(inside) < chunk:
            return np.array(times, dtype=np.float64)
        t = float(ts[-1])


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
                     options: Mapping[str, str] | None = None) -> tuple[list[VehicleType], list[Trip]]:
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
    options: SUMO options that change the vType defaults: ``carfollow.model`` (the model of types
        without one) and ``default.speeddev`` (the speed factor deviation of types without one;
        < 0: the vClass default), as ``{name: value}`` strings.

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
    by_tag: dict[str, list[_Elem]] = {t: [] for t in ("vType", "vTypeDistribution", "route",
                                                      "routeDistribution", "demand")}
    for path, elems in files:
        source = str(path)
        known = 0
        for el in elems:
            known += 1
            if el.tag in by_tag:
                by_tag[el.tag].append(el)
            elif el.tag in DEMAND_TAGS:
                by_tag["demand"].append(el)
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
    for el in by_tag["vType"]:
        imp.vtype(el)
    for el in by_tag["vTypeDistribution"]:
        imp.new_type_id(el)
        for child in el.kids("vType"):
            if "refId" not in child.attrs:
                imp.vtype(child)
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
    if imp.uses_default and SUMO_DEFAULT_VTYPE not in imp.vtypes:
        # SUMO's own default type, with the options' defaults
        imp.vtype(_Elem("vType", {"id": SUMO_DEFAULT_VTYPE}, [], "SUMO's defaults"))
    vtypes = list(imp.vtypes.values())
    if warnings is not None:
        warnings.extend(imp.warn.messages())
    if vtype_sources is not None:
        vtype_sources.update({v.id: imp.vtype_source.get(v.id, "SUMO's defaults") for v in vtypes})
    return vtypes, sorted(imp.trips, key=lambda t: (t.depart, t.id))
