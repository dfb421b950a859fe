"""Import SUMO demand (``.rou.xml``, ``.rou.xml.gz``) as mobsim vehicle types and trips.

sumolib (the ``sumo`` extra) parses the files (gzip is detected by sumolib itself); this module
maps SUMO's demand model onto mobsim's (SUMO edge ids are the mobsim link ids). Units: s, m, m/s,
m/s², veh/h.

* ``<vType>``: ``accel``, ``decel``, ``emergencyDecel``, ``tau``, ``minGap``, ``length``,
  ``maxSpeed``, ``speedFactor`` (a number, or ``norm(mean,dev)`` / ``normc(mean,dev,min,max)``:
  mean and deviation are taken, the bounds are not), ``speedDev`` and IDM's ``delta`` (on the
  vType or in a nested ``<carFollowing-IDM .../>``, whose attributes override the vType's). Given
  attributes override the defaults of :class:`~mobsim.vtypes.VehicleType`; absent ones keep
  mobsim's defaults (not SUMO's). Exception: without ``emergencyDecel``, a ``decel`` above mobsim's
  default emergency deceleration raises it to ``decel``. mobsim drives IDM: a vType of another
  ``carFollowModel`` (or none, SUMO's Krauss) is imported with the same parameters and a warning.
  Types whose ``vClass`` is not a passenger car (:data:`CAR_CLASSES`) are skipped together with
  their vehicles, counted in a warning.
* ``<route id edges>``: named routes for vehicles and flows (``repeat`` is not supported).
* ``<vehicle>`` with ``route="id"`` or a nested ``<route edges>``; ``<trip>`` with ``from``/``to``
  (routed by mobsim's shortest-path router; ``via`` is ignored with a warning); ``<flow>`` with a
  route or ``from``/``to`` and exactly one of ``period`` (s; ``exp(rate)`` gives exponential gaps
  with ``rate`` in veh/s), ``vehsPerHour``, ``probability`` (per 1 s step, seeded draws) or
  ``number`` (spread evenly: period ``(end - begin)/number``). Flow vehicles are ``<flow id>.<k>``;
  as in SUMO, a flow without ``end`` ends at the simulation end (``end``), without ``begin``
  starts at ``begin``.
* Times: seconds or ``h:m:s`` / ``d:h:m:s``; ``depart="now"`` (or ``"begin"``) is ``begin``.
* ``departLane``: ``best`` (and ``best_prob``), ``first``, a lane index (of the mobsim link);
  ``random``, ``free``, ``allowed`` run as ``best`` (warning). ``departSpeed``: a number (m/s);
  ``max``, ``desired``, ``speedLimit`` run as mobsim's ``max``; ``random``, ``avg``, ``last`` too
  (warning). Absent attributes take SUMO's defaults (since SUMO 1.2x ``best_prob`` and ``avg``),
  which run as ``best`` and ``max`` without a warning. ``departPos`` other than ``base``/``0`` is
  ignored (warning): mobsim inserts at the start of the edge. ``arrival*`` attributes and
  ``<stop>`` elements are ignored (warning).
* Vehicles departing outside ``[begin, end)`` are dropped, counted in a warning. Persons and
  containers are skipped (warning); ``routeDistribution``/``vTypeDistribution`` are errors.

Every problem in a file is an :class:`~mobsim.errors.InputError` naming the file and the element.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import numpy as np

from .demand import flow_departures, rng_for
from .errors import InputError
from .settings import suggest
from .trips import Trip
from .vtypes import VehicleType

#: SUMO's type for vehicles without ``type``.
SUMO_DEFAULT_VTYPE = "DEFAULT_VEHTYPE"
#: vClasses that drive like passenger cars (SUMO: the ordinary private car and its variants).
CAR_CLASSES = ("passenger", "private", "taxi", "hov", "evehicle")
#: SUMO vType attribute -> :class:`VehicleType` field.
VTYPE_ATTRS = {"accel": "accel", "decel": "decel", "emergencyDecel": "emergency_decel", "tau": "tau",
               "minGap": "min_gap", "length": "length", "maxSpeed": "max_speed",
               "speedFactor": "speed_factor", "speedDev": "speed_dev", "delta": "delta"}
FLOW_RATES = ("period", "vehsPerHour", "probability", "number")
DEMAND_TAGS = ("vehicle", "trip", "flow")
SKIPPED_TAGS = ("person", "personFlow", "container", "containerFlow")
UNSUPPORTED_TAGS = ("routeDistribution", "vTypeDistribution")
_VEHICLE_ATTRS = ("id", "type", "depart", "route", "from", "to", "via", "departLane", "departSpeed",
                  "departPos", "arrivalLane", "arrivalPos", "arrivalSpeed", "begin", "end", *FLOW_RATES,
                  "fromTaz", "toTaz", "fromJunction", "toJunction", "fromXY", "toXY", "fromLonLat",
                  "toLonLat")
#: SUMO's car-following models (nested ``<carFollowing-MODEL>`` elements of a vType).
CF_MODELS = ("Krauss", "KraussOrig1", "KraussPS", "KraussX", "SmartSK", "Daniel1", "IDM", "IDMM", "EIDM",
             "PWagner2009", "PWagner2013", "BKerner", "Wiedemann", "W99", "Rail", "ACC", "CACC", "CC")
#: The attributes read, per element. sumolib then builds one record type per element name
#: (heterogeneous=False), four times faster than a new type per element; an element name not
#: listed here would keep only the attributes of its first occurrence, so only ids are used.
_READ_ATTRS: dict[str, tuple[str, ...]] = {
    **{tag: _VEHICLE_ATTRS for tag in DEMAND_TAGS},
    "route": ("id", "edges", "repeat"),
    "vType": ("id", "vClass", "carFollowModel", *VTYPE_ATTRS),
    **{f"carFollowing-{m}": tuple(VTYPE_ATTRS) for m in CF_MODELS},
    **{tag: ("id",) for tag in (*SKIPPED_TAGS, *UNSUPPORTED_TAGS)},
}
_DISTRIBUTION = re.compile(r"^\s*normc?\(([^)]*)\)\s*$")
_EXP = re.compile(r"^\s*exp\(([^)]*)\)\s*$")


def sumo_default_vtype() -> VehicleType:
    """SUMO's ``DEFAULT_VEHTYPE`` (passenger defaults) as a mobsim :class:`VehicleType`."""
    return VehicleType(id=SUMO_DEFAULT_VTYPE, length=5.0, min_gap=2.5, accel=2.6, decel=4.5,
                       emergency_decel=9.0, tau=1.0, max_speed=55.56, speed_factor=1.0, speed_dev=0.1,
                       delta=4.0)


@dataclass
class _Elem:
    """One XML element as read by sumolib: tag, attributes (SUMO names) and child elements."""

    tag: str
    attrs: dict[str, str]
    children: list[_Elem]
    source: str

    def kids(self, tag: str) -> list[_Elem]:
        return [c for c in self.children if c.tag == tag]

    @property
    def label(self) -> str:
        return f"{self.tag} '{self.attrs['id']}'" if "id" in self.attrs else self.tag


def _convert(obj: Any, source: str) -> _Elem:
    # sumolib renames attributes that clash with Python keywords (from -> attr_from); its
    # _original_fields keep the XML names in the order of getAttributes().
    values = [v for _, v in obj.getAttributes()]
    attrs = {k: v for k, v in zip(obj._original_fields, values, strict=True) if v is not None}
    return _Elem(obj.name, attrs, [_convert(c, source) for c in obj.getChildList()], source)


def _read_file(path: Path) -> list[_Elem]:
    """The top-level elements of one SUMO XML file (plain or gzip)."""
    try:
        import sumolib  # the optional ``sumo`` extra
    except ImportError as exc:
        raise InputError("reading SUMO files needs sumolib, which is not installed", source=str(path),
                         fix="pip install -e '.[sumo]' (sumolib and eclipse-sumo)") from exc

    source = str(path)
    if not path.is_file():
        raise InputError("file not found", source=source, fix="check the path of the SUMO route file")
    try:
        # outputLevel=1: every child of the root with its subtree, so a vehicle keeps its nested
        # route (asking for element names would also yield, and then clear, the nested one).
        return [_convert(obj, source)
                for obj in sumolib.xml.parse(source, None, element_attrs=_READ_ATTRS, heterogeneous=False,
                                             ignoreXmlns=True, outputLevel=1)]
    except ParseError as exc:
        raise InputError(f"not well-formed XML ({exc})", source=source,
                         fix="give a SUMO route file (.rou.xml or .rou.xml.gz)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file ({exc})", source=source,
                         fix="give a readable SUMO route file (.rou.xml or .rou.xml.gz)") from None


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
            out.append(f"{source}: {_WARNINGS[kind].format(n=n)}{eg}")
        return out


_WARNINGS = {
    "cfmodel": "{n} vType(s) use a car-following model other than IDM (Krauss if none is given); "
               "mobsim drives IDM with their accel, decel, tau, minGap and speed parameters",
    "vclass": "{n} vType(s) of a vClass that is not a passenger car were skipped with their vehicles "
              "(mobsim simulates passenger cars only)",
    "vclass_veh": "{n} vehicle/trip/flow element(s) of skipped non-car vTypes were skipped",
    "lane": "departLane random/free/allowed on {n} element(s) is approximated by best",
    "speed": "departSpeed random/avg/last on {n} element(s) is approximated by max",
    "pos": "departPos (random, free, last, ...) on {n} element(s) runs as base: mobsim inserts at the "
           "start of the edge unless departPos is a position in m",
    "arrival": "arrivalLane/arrivalPos/arrivalSpeed on {n} element(s) are ignored: vehicles leave at "
               "the end of their last edge",
    "stop": "{n} <stop> element(s) are ignored (mobsim has no stops for cars)",
    "via": "via on {n} trip/flow element(s) is ignored: mobsim routes trips by shortest travel time",
    "window": "{n} vehicle(s) departing outside the simulated interval [begin, end) were dropped",
    "persons": "{n} person/container element(s) were skipped (mobsim simulates vehicles only)",
    "ignored": "{n} element(s) that are not demand were ignored",
    "empty": "the file has no vTypes, routes, vehicles, trips or flows",
}


class _Importer:
    """State of one import: the network's edges, vTypes, routes, ids seen and warnings."""

    def __init__(self, links: Mapping[str, Any], begin: float, end: float | None, seed: int,
                 lane_map: Mapping[str, Any] | None = None) -> None:
        self.links = links
        self.lane_map = lane_map or {}
        self.begin = begin
        self.end = end
        self.seed = seed
        self.vtypes: dict[str, VehicleType] = {}
        self.vtype_source: dict[str, str] = {}
        self.skipped_vtypes: set[str] = set()
        self.routes: dict[str, tuple[str, ...]] = {}
        self.route_source: dict[str, str] = {}
        self.ids: dict[str, str] = {}  # vehicle id -> "element in file", for duplicate errors
        self.warn = _Warn()
        self.uses_default = False
        self.trips: list[Trip] = []

    # ---------------------------------------------------------------- vehicle types

    def vtype(self, el: _Elem) -> None:
        source, label = el.source, el.label
        vid = el.attrs.get("id", "")
        if not vid:
            raise InputError("vType without id", source=source, element="vType",
                             fix="give every vType an id")
        if vid in self.vtypes or vid in self.skipped_vtypes:
            raise InputError(f"duplicate vType id '{vid}' (first in {self.vtype_source[vid]})",
                             source=source, element=label, fix="make vType ids unique")
        self.vtype_source[vid] = source
        if el.attrs.get("vClass", "passenger") not in CAR_CLASSES:
            self.skipped_vtypes.add(vid)
            self.warn.add(source, "vclass", f"'{vid}' ({el.attrs['vClass']})")
            return
        attrs = dict(el.attrs)
        model = attrs.get("carFollowModel", "")
        for child in el.children:
            if child.tag.startswith("carFollowing-"):
                # SUMO's nested form: the element names the model, its attributes are CF parameters.
                model = child.tag.split("-", 1)[1]
                attrs.update(child.attrs)
        if model != "IDM":
            self.warn.add(source, "cfmodel", f"'{vid}' ({model or 'Krauss'})")
        kw: dict[str, float] = {}
        for sumo_name, name in VTYPE_ATTRS.items():
            if sumo_name not in attrs:
                continue
            m = _DISTRIBUTION.match(attrs[sumo_name]) if sumo_name == "speedFactor" else None
            if m:
                # norm(mean,dev) / normc(mean,dev,min,max): mobsim draws speed factors from
                # mean and dev (its own bounds); SUMO's min/max are not carried over.
                args = m.group(1).split(",")
                if len(args) not in (2, 4):
                    raise InputError(f"speedFactor={attrs[sumo_name]!r} is not norm(mean,dev) or "
                                     "normc(mean,dev,min,max)", source=source, element=label,
                                     fix="give speedFactor as a number or a norm/normc distribution")
                kw["speed_factor"] = _number(args[0], "speedFactor mean", source, label)
                kw["speed_dev"] = _number(args[1], "speedFactor deviation", source, label)
                continue
            if name == "speed_dev" and "speedFactor" in attrs and _DISTRIBUTION.match(attrs["speedFactor"]):
                continue  # the distribution's own deviation wins, as in SUMO
            kw[name] = _number(attrs[sumo_name], sumo_name, source, label)
        default = VehicleType()
        if "emergency_decel" not in kw and kw.get("decel", 0.0) > default.emergency_decel:
            # mobsim's default emergency braking must not be weaker than the given comfortable one
            kw["emergency_decel"] = kw["decel"]
        if kw.get("emergency_decel", math.inf) < default.lc_safe_decel:
            # MOBIL's safe braking is not a SUMO attribute: keep it within the physical limit
            kw["lc_safe_decel"] = kw["emergency_decel"]
        vt = VehicleType(id=vid, **kw)
        # dt=0: the step-dependent check (tau >= dt) runs when the scenario is built with its dt.
        vt.validate(0.0, source=source)
        self.vtypes[vid] = vt

    # ---------------------------------------------------------------- routes and edges

    def edge(self, edge: str, source: str, element: str, attr: str) -> str:
        if edge not in self.links:
            raise InputError(f"{attr}: unknown edge '{edge}'{suggest(edge, self.links)}", source=source,
                             element=element, fix="use an edge id of the imported network")
        return edge

    def edges(self, text: str | None, source: str, element: str) -> tuple[str, ...]:
        """The edge list of a route, each edge in the network and each following the one before."""
        route = tuple((text or "").split())
        if not route:
            raise InputError("route without edges", source=source, element=element,
                             fix='list the route\'s edges: edges="e1 e2 ..."')
        for e in route:
            self.edge(e, source, element, "route")
        for a, b in zip(route, route[1:], strict=False):
            # Links of a mobsim network know their nodes; only check where both do.
            to_node = getattr(self.links[a], "to_node", None)
            from_node = getattr(self.links[b], "from_node", None)
            if to_node is not None and from_node is not None and to_node != from_node:
                raise InputError(f"route is not contiguous: edge '{a}' ends at '{to_node}', edge '{b}' "
                                 f"starts at '{from_node}'", source=source, element=element,
                                 fix="list every edge of the route in driving order")
        return route

    def route(self, el: _Elem) -> None:
        rid = el.attrs.get("id", "")
        if not rid:
            raise InputError("route without id outside a vehicle", source=el.source, element="route",
                             fix="give the route an id, or nest it in its vehicle")
        if rid in self.routes:
            raise InputError(f"duplicate route id '{rid}' (first in {self.route_source[rid]})",
                             source=el.source, element=el.label, fix="make route ids unique")
        if _number(el.attrs.get("repeat", "0"), "repeat", el.source, el.label) > 0:
            raise InputError("repeated routes (repeat) are not supported", source=el.source,
                             element=el.label, fix="write the repeated edges out, or use a flow")
        self.routes[rid] = self.edges(el.attrs.get("edges"), el.source, el.label)
        self.route_source[rid] = el.source

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
        vtype = a.get("type", SUMO_DEFAULT_VTYPE)
        if vtype in self.skipped_vtypes:
            self.warn.add(source, "vclass_veh", label)
            return
        if vtype not in self.vtypes and vtype != SUMO_DEFAULT_VTYPE:
            raise InputError(f"unknown vType '{vtype}'{suggest(vtype, self.vtypes)}", source=source,
                             element=label, fix="define the vType (<vType id=...>) in a route file")
        origin, destination, route = self.path(el)
        lane = self.depart_lane(a.get("departLane"), origin, source, label)
        speed = self.depart_speed(a.get("departSpeed"), source, label)
        pos = "base"
        dp = a.get("departPos", "base")
        if dp != "base":
            try:
                x = float(dp)
            except ValueError:
                x = float("nan")
            if x != x:  # random, free, last, ...: not a position
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
        if any(k in a for k in ("arrivalLane", "arrivalPos", "arrivalSpeed")):
            self.warn.add(source, "arrival", label)
        if el.kids("stop"):
            self.warn.add(source, "stop", label, len(el.kids("stop")))
        if tag == "flow":
            times = self.flow_times(el)
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
        if vtype == SUMO_DEFAULT_VTYPE:
            self.uses_default = True
        for tid, t in zip(ids, times, strict=True):
            if t < self.begin or (self.end is not None and t >= self.end):
                self.warn.add(source, "window")
                continue
            self.trips.append(Trip(tid, origin, destination, float(t), vtype, route, lane, speed, pos))

    def depart(self, value: str, source: str, element: str, name: str = "depart") -> float:
        if value in ("now", "begin"):
            return self.begin
        if value in ("triggered", "containerTriggered", "split"):
            raise InputError(f"{name}={value!r} is not supported (mobsim has no persons or containers "
                             "to trigger a departure)", source=source, element=element,
                             fix="give the departure time in s")
        return parse_time(value, name, source, element)

    def path(self, el: _Elem) -> tuple[str, str, tuple[str, ...]]:
        """``(origin, destination, route)`` of a vehicle, trip or flow; ``route=()``: mobsim routes."""
        source, label, a = el.source, el.label, el.attrs
        nested = el.kids("route")
        if el.kids("routeDistribution"):
            raise InputError("nested routeDistribution is not supported", source=source, element=label,
                             fix="give one route per vehicle")
        if nested and "route" in a:
            raise InputError("both a route attribute and a nested <route>", source=source, element=label,
                             fix="keep one of them")
        if len(nested) > 1:
            raise InputError("more than one nested <route>", source=source, element=label,
                             fix="give one route per vehicle")
        if nested:
            route = self.edges(nested[0].attrs.get("edges"), source, label)
        elif "route" in a:
            rid = a["route"]
            if rid not in self.routes:
                raise InputError(f"unknown route '{rid}'{suggest(rid, self.routes)}", source=source,
                                 element=label, fix="define the route (<route id=... edges=...>)")
            route = self.routes[rid]
        elif "from" in a or "to" in a:
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
            return origin, destination, ()
        else:
            other = [k for k in ("fromTaz", "toTaz", "fromJunction", "toJunction", "fromXY", "toXY",
                                 "fromLonLat", "toLonLat") if k in a]
            what = (f"{', '.join(other)} is not supported" if other
                    else "neither a route nor from/to edges")
            raise InputError(what, source=source, element=label,
                             fix='give route="id", a nested <route edges=...>, or from/to edges')
        return route[0], route[-1], route

    def depart_lane(self, value: str | None, origin: str, source: str, element: str) -> str:
        if value == "first":
            return "first"
        if value in (None, "best", "best_prob"):
            return "best"  # absent: SUMO's default best_prob (sumo --default.departlane)
        if value in ("random", "free", "allowed"):
            self.warn.add(source, "lane", element)
            return "best"
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
            raise InputError("a flow without end, and no simulation end to run it to", source=source,
                             element=label, fix="give the flow an end in s, or pass the simulation end")
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


def read_sumo_demand(paths: Iterable[str | Path] | str | Path, network_links: Mapping[str, Any], *,
                     begin: float = 0.0, end: float | None = None, seed: int = 1,
                     warnings: list[str] | None = None,
                     lane_map: Mapping[str, Any] | None = None) -> tuple[list[VehicleType], list[Trip]]:
    """Vehicle types and trips of SUMO route files (see the module docstring for the mapping).

    Parameters
    ----------
    paths: SUMO route files (``.rou.xml``, ``.rou.xml.gz``); vTypes and routes of one file may be
        used by vehicles of another.
    network_links: link id -> link (with at least ``lanes``) of the imported network; every edge
        reference is checked against it (and route contiguity, where links have ``from_node`` and
        ``to_node``).
    begin, end: the simulated interval, s; vehicles departing outside ``[begin, end)`` are dropped
        (``end=None``: no limit). ``depart="now"`` and flows without ``begin`` start at ``begin``,
        flows without ``end`` end at ``end`` (an error when ``end`` is None).
    seed: seed of the ``probability`` and ``exp()`` flows (one stream per flow id).
    warnings: if given, approximations and skipped elements are appended, one line per file and kind.
    lane_map: edge id -> SUMO indices of the lanes the imported link kept (``Network.sumo_lanes``
        of :func:`mobsim.sumo_net.read_sumo_network`): a numeric ``departLane`` is SUMO's index and
        becomes the link's lane index through it.

    Returns
    -------
    ``(vtypes, trips)``: the imported passenger-car vTypes (plus SUMO's ``DEFAULT_VEHTYPE`` when a
    vehicle has no ``type`` and the files do not define it), and the trips sorted by ``(depart, id)``.
    Trip ``vtype`` is the SUMO type id. Raises :class:`InputError` naming the file and the element.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    imp = _Importer(network_links, float(begin), None if end is None else float(end), seed, lane_map)
    files = [(Path(p), _read_file(Path(p))) for p in paths]
    by_tag: dict[str, list[_Elem]] = {"vType": [], "route": [], "demand": []}
    for path, elems in files:
        source = str(path)
        known = 0
        for el in elems:
            if el.tag in UNSUPPORTED_TAGS:
                raise InputError(f"<{el.tag}> is not supported", source=source, element=el.label,
                                 fix="define the vTypes and routes one by one and assign them to vehicles")
            known += 1
            if el.tag in ("vType", "route"):
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
    # vTypes and routes first, so that definition order across files does not matter.
    for el in by_tag["vType"]:
        imp.vtype(el)
    for el in by_tag["route"]:
        imp.route(el)
    for el in by_tag["demand"]:
        imp.demand(el)
    vtypes = list(imp.vtypes.values())
    if imp.uses_default and SUMO_DEFAULT_VTYPE not in imp.vtypes:
        vtypes.append(sumo_default_vtype())
    if warnings is not None:
        warnings.extend(imp.warn.messages())
    return vtypes, sorted(imp.trips, key=lambda t: (t.depart, t.id))
