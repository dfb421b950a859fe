"""SUMO taxis in: vehicles with SUMO's taxi device and the persons who ride them, as a ``[drt]``
configuration (the dict :func:`mobsim.modes.drt.plan.load_drt` checks). Units: s, m.

Read in the same pass as the rest of the demand (:mod:`.sumo_demand` mixes :class:`TaxiReader`
into its importer); :func:`drt_config` then turns what was found into the ``[drt]`` dict. The
semantics are SUMO's (``src/microsim/devices/MSDevice_Taxi.cpp``, ``MSDispatch.cpp``,
``MSDispatch_Greedy.cpp``, ``MSDevice.cpp``, ``MSStageDriving.cpp``, ``MSRouteHandler.cpp``):

* **Taxis.** A vehicle has the device as SUMO equips it (``MSDevice::equippedByDefaultAssignmentOptions``):
  named in option ``device.taxi.explicit``; else by its ``<param key="has.taxi.device">``, or its
  vType's; else with option ``device.taxi.probability`` (1: every vehicle; between 0 and 1 a
  seeded draw per vehicle, not SUMO's random stream: warning). A taxi is no ordinary trip: it
  becomes one fleet of one vehicle (fleet id the SUMO vehicle id, so the vehicle is
  ``<id>.0``), its depot the edge it departs from, its service from its ``depart`` to its
  ``device.taxi.end`` parameter (default: open; with ``idle-algorithm randomCircling`` SUMO's
  default end is ``depart + 8 h``), its seats the vType's ``personCapacity`` (SUMO's default by
  vClass, 4 for taxi and passenger) and its vehicle type the vType. A taxi with no seats is
  left out (SUMO warns that it is not usable).
* **Requests.** A person whose plan has a ``<ride lines="taxi">`` (one line, ``taxi`` or
  ``taxi:<fleet>``: ``MSDevice_Taxi::isReservation``) or a ``<personTrip modes="... taxi ...">``
  reserves a taxi when that stage starts: at ``depart`` plus the stages before it (a ``<stop>``'s
  ``duration``, or its ``until``; a ``<walk>``'s ``duration``, else its listed ``edges``' length
  at the walking speed, ``speed`` or SUMO's 5 km/h, else nothing: approximated, with a
  warning). The pick-up is on the ride's ``from`` edge (else where the previous stage ended) at
  the person's position there (``departPos``, default 0 m; a walk's ``arrivalPos``, default the
  middle of the edge; a bus stop's end), the drop-off on its ``to`` edge (or bus stop) at
  ``arrivalPos`` (default: the end of the edge, as SUMO's rides; the middle for a personTrip).
  mobsim's ``from_pos``/``to_pos`` are where the vehicle halts with its front: SUMO's stop end,
  ``max(pos, min(vehicle length, edge length))`` (``MSDevice_Taxi::prepareStop``), with the
  fleet's longest vType. Persons with the same ``group`` and the same pick-up and drop-off
  share one reservation (``MSDispatch::addReservation``), split at the largest taxi's seats:
  one request of that many persons, made when the first of them is ready, picked up not before
  the last (``earliest``). Stages after the taxi ride are not simulated (warning); a plan with
  another ride or a transport before the taxi ride is skipped (warning). ``personFlow`` is read
  like a flow.
* **Rules.** ``device.taxi.dispatch-algorithm`` (default ``greedy``) -> ``dispatch = "greedy"``
  (:class:`mobsim.modes.drt.dispatch.GreedyDispatcher`: the reservations in time order, each to
  the idle taxi that reaches it first, no pooling). ``greedyClosest``, ``greedyShared``,
  ``routeExtension`` and ``traci`` run as greedy too, with a warning (mobsim's greedy dispatcher
  pools no rides; ``[drt] dispatch = "insertion"`` pools them with MATSim's deadlines).
  ``device.taxi.dispatch-period`` (default 60 s) -> ``period``. SUMO's taxis have no deadlines
  (a reservation waits until a taxi is free): ``max_wait = beta = inf``. ``pickup_time`` is
  SUMO's pick-up halt, ``max(device.taxi.pickUpDuration, boardingDuration)`` (defaults 0 s and
  the vType's 0.5 s per person; the largest over the fleet): a pick-up stop is triggered and
  ends when the person has boarded. ``dropoff_time`` is ``device.taxi.dropOffDuration`` (default
  60 s): SUMO's rider leaves the taxi at the end of that halt (its ride's ``arrival`` in the
  tripinfo output is the halt's start plus about 60 s, measured with ``--stop-output``), and the
  taxi is idle from then on (``MSDevice_Taxi::customerArrived``). ``device.taxi.idle-algorithm``
  ``stop`` (default: an idle taxi parks where it is) -> ``rebalancing = "none"``;
  ``randomCircling`` and ``taxistand`` run as ``none`` (warning).
* Options and parameters mobsim does not model are named in warnings:
  ``device.taxi.dispatch-algorithm.params``, ``dispatch-keep-unreachable``, ``vclasses``, a taxi's
  ``device.taxi.parking = false``, several fleets (``taxi:<fleet>`` lines: any taxi serves any
  ride), persons who ride a taxi when no vehicle is one (skipped). The ``*.output`` options are
  SUMO's own files and ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mobsim.demand.streams import rng_for
from mobsim.errors import InputError
from mobsim.interop.sumo_pt import BOARDING_DURATION, PERSON_CAPACITY
from mobsim.interop.sumo_xml import Elem, number, parse_time

#: Prefix of SUMO's taxi options.
TAXI_PREFIX = "device.taxi."
#: SUMO's defaults (MSDevice_Taxi.cpp): the dispatcher, the period between dispatch calls (s), the
#: halt at a pick-up (s) and at a drop-off (s), and the idle behaviour.
DISPATCH_ALGORITHM = "greedy"
DISPATCH_PERIOD = 60.0
PICKUP_DURATION = 0.0
DROPOFF_DURATION = 60.0
IDLE_ALGORITHM = "stop"
#: SUMO's default service end of a taxi that circles while idle: depart + 8 h (s).
CIRCLING_SERVICE = 8 * 3600.0
#: SUMO's walking speed of a person without a vType of its own, m/s (DEFAULT_PEDESTRIAN_SPEED).
WALK_SPEED = 5.0 / 3.6
#: SUMO's taxi dispatch algorithms; all run as mobsim's greedy dispatcher.
SUMO_DISPATCHERS = ("greedy", "greedyClosest", "greedyShared", "routeExtension", "traci")
#: Options read (the equipment, the rules); outputs are SUMO's own files.
_USED_OPTIONS = ("probability", "explicit", "deterministic", "dispatch-algorithm", "dispatch-period",
                 "idle-algorithm")
_OUTPUT_OPTIONS = ("dispatch-algorithm.output", "idle-algorithm.output")
_TRUE = ("true", "1", "yes", "on", "x")
_STAGES = ("stop", "walk", "ride", "personTrip", "transport", "tranship")

#: Warnings of the reader (one line per file and kind; ``{n}`` the count).
TAXI_WARNINGS = {
    "taxi_walk": "{n} person(s) walk before their taxi ride: the walk is not simulated, it delays the "
                 "reservation by its duration, else its listed edges' length at the walking speed, "
                 "else not at all",
    "taxi_plan": "{n} person(s) ride or are transported otherwise before their taxi ride: skipped",
    "taxi_plan_cut": "{n} person(s) do more after their taxi ride: only the taxi ride is simulated",
    "taxi_trip": "{n} personTrip(s) with mode taxi run as one taxi ride from their from edge to their "
                 "to edge (SUMO's intermodal router may walk parts of them)",
    "taxi_edge": "{n} taxi ride(s) from or to an edge the network import left out: skipped",
    "taxi_depart": "{n} person(s) with a triggered departure ride no taxi in mobsim: skipped",
    "taxi_pos": "{n} person(s) depart at a random position: the taxi halts in the middle of the edge",
    "taxi_capacity": "{n} taxi(s) with personCapacity < 1 are not usable as taxis (as SUMO warns): left "
                     "out",
    "taxi_probability": "{n} vehicle(s) drew the taxi device with device.taxi.probability from mobsim's "
                        "seeded stream, not SUMO's: which vehicles are taxis differs from SUMO's run",
}


@dataclass
class TaxiVehicle:
    """A vehicle with the taxi device: id, depot edge, depart (s), vType id, seats, boarding time
    per person (s), length (m), ``line`` and its taxi parameters (the vType's, then its own)."""

    id: str
    depot: str
    depart: float
    vtype: str
    capacity: int
    boarding: float
    length: float
    line: str
    params: dict[str, str]


@dataclass
class TaxiRide:
    """A person's taxi reservation: the person id, when the ride stage starts (s), pick-up and
    drop-off edges with the person's positions there (m) and the edges' lengths (m), the
    ``group`` ("" for none) and the line asked for."""

    id: str
    time: float
    origin: str
    origin_pos: float
    origin_length: float
    destination: str
    destination_pos: float
    destination_length: float
    group: str
    line: str


@dataclass
class TaxiFound:
    """What the files hold of taxis (filled by :class:`TaxiReader`), and the SUMO options."""

    vehicles: list[TaxiVehicle] = field(default_factory=list)
    rides: list[TaxiRide] = field(default_factory=list)
    #: vType id -> its ``<param>`` key -> value
    vtype_params: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.vehicles or self.rides)


def _params(el: Elem) -> dict[str, str]:
    return {p.attrs["key"]: p.attrs.get("value", "") for p in el.kids("param") if "key" in p.attrs}


def is_taxi_stage(st: Elem) -> bool:
    """Whether a person's stage reserves a taxi: a ride on the one line ``taxi`` or ``taxi:<fleet>``,
    or a personTrip whose modes include ``taxi``."""
    if st.tag == "ride":
        lines = st.attrs.get("lines", "").split()
        return len(lines) == 1 and (lines[0] == "taxi" or lines[0].startswith("taxi:"))
    return st.tag == "personTrip" and "taxi" in st.attrs.get("modes", "").split()


class TaxiReader:
    """The taxi part of the SUMO demand importer (a mixin: it uses the importer's ``options``,
    ``seed``, ``links``, ``vtypes``, ``pt`` (bus stops, capacities), ``warn``, ``depart``,
    ``flow_times``, ``begin`` and ``end``)."""

    taxi: TaxiFound

    def taxi_vtype(self, el: Elem) -> None:
        params = _params(el)
        if params:
            self.taxi.vtype_params[el.attrs.get("id", "")] = params

    def is_taxi(self, el: Elem, vid: str, vtype: str) -> bool:
        """Whether vehicle ``vid`` (of element ``el``, type ``vtype``) has the taxi device."""
        opts = self.taxi.options
        if vid in opts.get(TAXI_PREFIX + "explicit", "").replace(",", " ").split():
            return True
        key = "has.taxi.device"
        for params in (_params(el), self.taxi.vtype_params.get(vtype, {})):
            if key in params:
                return params[key].strip().lower() in _TRUE
        prob = opts.get(TAXI_PREFIX + "probability")
        if prob is None:
            return False
        p = number(prob, TAXI_PREFIX + "probability", el.source, "the SUMO options")
        if p < 0 or p >= 1:
            return p >= 1  # SUMO: < 0 (the default, -1) means not given
        self.warn.add(el.source, "taxi_probability", vid)  # type: ignore[attr-defined]
        return bool(rng_for(self.seed, f"taxi:{vid}").random() < p)  # type: ignore[attr-defined]

    def add_taxi(self, el: Elem, vid: str, depot: str, depart: float, vtype: str) -> None:
        params = {**self.taxi.vtype_params.get(vtype, {}), **_params(el)}
        cap, board = self.pt.capacity.get(vtype, (PERSON_CAPACITY["passenger"], BOARDING_DURATION))  # type: ignore[attr-defined]
        if cap < 1:
            self.warn.add(el.source, "taxi_capacity", vid)  # type: ignore[attr-defined]
            return
        vt = self.vtypes.get(vtype)  # type: ignore[attr-defined]
        length = float(vt.length) if vt is not None else 5.0
        self.taxi.vehicles.append(TaxiVehicle(vid, depot, depart, vtype, int(cap), float(board), length,
                                              el.attrs.get("line", ""), params))

    def taxi_person(self, el: Elem) -> bool:
        """Read a person (or personFlow) whose plan reserves a taxi; False if it does not."""
        source, label, a = el.source, el.label, el.attrs
        stages = [c for c in el.children if c.tag in _STAGES]
        k = next((i for i, st in enumerate(stages) if is_taxi_stage(st)), None)
        if k is None:
            return False
        warn = self.warn.add  # type: ignore[attr-defined]
        if a.get("depart", "") in ("triggered", "containerTriggered"):
            warn(source, "taxi_depart", label)
            return True
        links = self.links  # type: ignore[attr-defined]
        edge: str | None = None
        pos = self._depart_pos(a.get("departPos"), label, source)
        steps: list[tuple[float, float]] = []  # (duration s, until s) of the stages before the ride
        for st in stages[:k]:
            if st.tag == "walk":
                edge, pos, dur = self._walk(st, edge, pos, label)
                steps.append((dur, -math.inf))
                warn(source, "taxi_walk", label)
            elif st.tag == "stop":
                edge, pos, dur, until = self._person_stop(st, edge, pos, label)
                steps.append((dur, until))
            else:
                warn(source, "taxi_plan", label)
                return True
        ride = stages[k]
        r = ride.attrs
        origin = r.get("from")
        if origin is not None and edge is not None and origin != edge:
            pos = 0.0  # SUMO: a transfer at a junction waits at the start of the edge
        elif origin is None:
            origin = edge
        if origin is None:
            raise InputError("a taxi ride without a from edge as the first stage", source=source,
                             element=label, fix="give the ride a from edge")
        to, to_pos = self._ride_end(ride, label)
        if ride.tag == "personTrip":
            warn(source, "taxi_trip", label)
        if k + 1 < len(stages):
            warn(source, "taxi_plan_cut", label)
        if origin not in links or to not in links:
            warn(source, "taxi_edge", label)
            return True
        o_len, d_len = float(links[origin].length), float(links[to].length)
        pos = o_len / 2.0 if math.isnan(pos) else min(max(pos, 0.0), o_len)
        to_pos = min(max(to_pos, 0.0), d_len)
        line = r.get("lines", "taxi").split()[0] if ride.tag == "ride" else "taxi"
        group = r.get("group", "")
        if el.tag == "personFlow":
            attrs = dict(a)
            if "personsPerHour" in attrs:
                attrs["vehsPerHour"] = attrs.pop("personsPerHour")
            times = [float(t) for t in self.flow_times(Elem("flow", attrs, [], source))]  # type: ignore[attr-defined]
            ids = [f"{a['id']}.{n}" for n in range(len(times))]
        else:
            if "depart" not in a:
                raise InputError("person without depart", source=source, element=label,
                                 fix='give the departure time in s: depart="0"')
            times = [self.depart(a["depart"], source, label)]  # type: ignore[attr-defined]
            ids = [a.get("id", "")]
        for pid, t in zip(ids, times, strict=True):
            if t < self.begin or (self.end is not None and t >= self.end):  # type: ignore[attr-defined]
                continue
            ready = float(t)
            for dur, until in steps:  # a stop lasts its duration, and at least until its until
                ready = max(ready + dur, until)
            self.taxi.rides.append(TaxiRide(pid, ready, origin, pos, o_len, to, to_pos, d_len, group, line))
        return True

    # ---------------------------------------------------------------- the stages before the ride

    def _depart_pos(self, value: str | None, label: str, source: str) -> float:
        """A person's ``departPos`` (m; negative from the edge's end, NaN: not known yet)."""
        if value in (None, "", "base"):
            return 0.0
        if value == "random":
            self.warn.add(source, "taxi_pos", label)  # type: ignore[attr-defined]
            return math.nan
        return number(value, "departPos", source, label)

    def _stop_place(self, sid: str, source: str, label: str) -> tuple[str, float]:
        stops = self.pt.stops  # type: ignore[attr-defined]
        if sid not in stops:
            raise InputError(f"unknown busStop '{sid}'", source=source, element=label,
                             fix="define it in an additional file of the configuration")
        return stops[sid][0], float(stops[sid][1])

    def _walk(self, st: Elem, edge: str | None, pos: float, label: str) -> tuple[str | None, float, float]:
        """Where a walk ends (edge, m) and how long it takes (s; see the module docstring)."""
        a, source, links = st.attrs, st.source, self.links  # type: ignore[attr-defined]
        edges = a.get("edges", "").split()
        start = a.get("from", edges[0] if edges else edge)
        if "busStop" in a:
            dest, end = self._stop_place(a["busStop"], source, label)
        else:
            dest = a.get("to", edges[-1] if edges else None)
            if dest is None:
                raise InputError("a walk without a destination", source=source, element=label,
                                 fix="give to, edges or busStop")
            length = float(links[dest].length) if dest in links else math.nan
            end = length / 2.0  # SUMO: a walk ends in the middle of its edge by default
            if "arrivalPos" in a:
                end = number(a["arrivalPos"], "arrivalPos", source, label)
                end = end + length if end < 0 else end
        if "duration" in a:
            return dest, end, parse_time(a["duration"], "duration", source, label)
        speed = number(a["speed"], "speed", source, label) if "speed" in a else WALK_SPEED
        if edges and speed > 0:
            dist = sum(float(links[e].length) for e in edges if e in links)
        elif start == dest and not math.isnan(pos) and speed > 0:
            dist = abs(end - pos)
        else:
            dist = 0.0
        return dest, end, dist / speed if speed > 0 else 0.0

    def _person_stop(self, st: Elem, edge: str | None, pos: float, label: str
                     ) -> tuple[str | None, float, float, float]:
        """Where a person's stop is (edge, m), its duration and its until (s)."""
        a, source = st.attrs, st.source
        if "busStop" in a or "trainStop" in a:
            edge, pos = self._stop_place(a.get("busStop", a.get("trainStop", "")), source, label)
        elif "lane" in a or "edge" in a:
            edge = a["lane"].rpartition("_")[0] if "lane" in a else a["edge"]
            length = float(self.links[edge].length) if edge in self.links else math.nan  # type: ignore[attr-defined]
            pos = number(a["endPos"], "endPos", source, label) if "endPos" in a else length
            pos = pos + length if pos < 0 else pos
        dur = parse_time(a["duration"], "duration", source, label) if "duration" in a else 0.0
        until = parse_time(a["until"], "until", source, label) if "until" in a else -math.inf
        return edge, pos, dur, until

    def _ride_end(self, ride: Elem, label: str) -> tuple[str, float]:
        """The drop-off edge and the person's position there (m)."""
        a, source = ride.attrs, ride.source
        if "busStop" in a and "to" not in a:
            return self._stop_place(a["busStop"], source, label)
        if "to" not in a:
            raise InputError(f"a taxi {ride.tag} without a to edge", source=source, element=label,
                             fix="give to (or busStop)")
        to = a["to"]
        length = float(self.links[to].length) if to in self.links else 0.0  # type: ignore[attr-defined]
        # SUMO: a ride ends at the end of its edge by default, a personTrip in the middle
        pos = length if ride.tag == "ride" else length / 2.0
        if "arrivalPos" in a:
            pos = number(a["arrivalPos"], "arrivalPos", source, label)
            pos = pos + length if pos < 0 else pos
        return to, pos


def _halt(pos: float, edge_length: float, vehicle_length: float) -> float:
    """Where SUMO's taxi halts with its front for a person at ``pos`` (m): the stop's end,
    ``max(pos, min(vehicle length, edge length))`` (``MSDevice_Taxi::prepareStop``)."""
    return min(edge_length, max(pos, min(vehicle_length, edge_length)))


def drt_config(found: TaxiFound, warnings: list[str], source: str) -> dict[str, Any] | None:
    """The ``[drt]`` configuration of the taxis and taxi rides found (module docstring), or None
    when there is no taxi (warnings then say what was left out)."""
    opts = found.options
    given = {k[len(TAXI_PREFIX):]: v for k, v in opts.items() if k.startswith(TAXI_PREFIX)}
    if not found.vehicles:
        if found.rides:
            warnings.append(f"{source}: {len(found.rides)} person(s) ride a taxi but no vehicle has the taxi "
                            "device: they are skipped")
        rules = sorted(k for k in given if k not in _OUTPUT_OPTIONS)
        if rules:
            warnings.append(f"{source}: no vehicle has the taxi device; the options "
                            f"{', '.join(TAXI_PREFIX + k for k in rules)} are not used")
        return None
    algo = given.get("dispatch-algorithm", DISPATCH_ALGORITHM)
    if algo not in SUMO_DISPATCHERS:
        raise InputError(f"dispatch algorithm '{algo}' is not known", source=source,
                         element=TAXI_PREFIX + "dispatch-algorithm",
                         fix=f"use one of {', '.join(SUMO_DISPATCHERS)}")
    if algo != "greedy":
        what = {"greedyClosest": "the closest reservation for each idle taxi",
                "greedyShared": "shared rides within absLossThreshold/relLossThreshold",
                "routeExtension": "pick-ups along a taxi's route",
                "traci": "dispatch by a TraCI client"}[algo]
        warnings.append(f"{source}: {TAXI_PREFIX}dispatch-algorithm {algo} ({what}) runs as greedy: "
                        "mobsim's greedy dispatcher has no pooling mode (dispatch = \"insertion\" in [drt] "
                        "pools rides, with deadlines)")
    period = DISPATCH_PERIOD
    if "dispatch-period" in given:
        period = parse_time(given["dispatch-period"], TAXI_PREFIX + "dispatch-period", source,
                            "the SUMO options")
    idle = given.get("idle-algorithm", IDLE_ALGORITHM)
    ignored = [TAXI_PREFIX + k for k in sorted(given)
               if k not in _USED_OPTIONS and k not in _OUTPUT_OPTIONS]
    if ignored:
        warnings.append(f"{source}: taxi options mobsim does not model, ignored: {', '.join(ignored)}")
    fleets, stop_times, drop_times, circling, parked, lines = [], set(), set(), 0, 0, set()
    for v in found.vehicles:
        p = v.params
        own_idle = p.get(TAXI_PREFIX + "idle-algorithm", idle)
        circling += own_idle != "stop"
        end = math.inf
        if TAXI_PREFIX + "end" in p:
            end = parse_time(p[TAXI_PREFIX + "end"], TAXI_PREFIX + "end", source, f"vehicle '{v.id}'")
        elif own_idle == "randomCircling":
            end = v.depart + CIRCLING_SERVICE
        if not end > v.depart:
            warnings.append(f"{source}: taxi '{v.id}' ends its service ({end:g} s) before it departs: "
                            "left out")
            continue
        pick = PICKUP_DURATION
        if TAXI_PREFIX + "pickUpDuration" in p:
            pick = number(p[TAXI_PREFIX + "pickUpDuration"], "pickUpDuration", source, f"vehicle '{v.id}'")
        stop_times.add(max(pick, v.boarding))
        drop = DROPOFF_DURATION
        if TAXI_PREFIX + "dropOffDuration" in p:
            drop = number(p[TAXI_PREFIX + "dropOffDuration"], "dropOffDuration", source, f"vehicle '{v.id}'")
        drop_times.add(max(drop, v.boarding))
        parked += p.get(TAXI_PREFIX + "parking", "true").strip().lower() not in _TRUE
        lines.add(v.line or "taxi")
        row: dict[str, Any] = {"id": v.id, "vehicles": 1, "depot": v.depot, "capacity": v.capacity,
                               "vtype": v.vtype, "start": v.depart}
        if math.isfinite(end):
            row["end"] = end
        fleets.append(row)
    if not fleets:
        return None
    if circling:
        warnings.append(f"{source}: {circling} taxi(s) with idle-algorithm other than stop (randomCircling, "
                        "taxistand) park where they are when idle in mobsim")
    if parked:
        warnings.append(f"{source}: {parked} taxi(s) with device.taxi.parking = false: the parameter is "
                        "ignored")
    lines |= {r.line for r in found.rides}
    if len(lines) > 1:
        warnings.append(f"{source}: several taxi fleets ({', '.join(sorted(lines))}) are one fleet in "
                        "mobsim: any taxi serves any ride")
    if len(stop_times) > 1:
        halts = ", ".join(f"{s:g}" for s in sorted(stop_times))
        warnings.append(f"{source}: the taxis' pick-up halts differ ({halts} s); every vehicle halts the "
                        "longest")
    length = max(v.length for v in found.vehicles)
    seats = max(v.capacity for v in found.vehicles)
    cfg: dict[str, Any] = {"dispatch": "greedy", "period": period, "max_wait": math.inf, "beta": math.inf,
                           "stop_time": max(stop_times), "pickup_time": max(stop_times),
                           "dropoff_time": max(drop_times), "rebalancing": "none", "fleets": fleets,
                           "requests": _requests(found.rides, length, seats)}
    return cfg


def _requests(rides: list[TaxiRide], vehicle_length: float, seats: int) -> list[dict[str, Any]]:
    """One request per reservation: persons alone, or a group's persons with the same pick-up and
    drop-off in chunks of ``seats`` (SUMO splits a group at the largest taxi's capacity)."""
    out: list[dict[str, Any]] = []
    groups: dict[tuple[str, str, float, str, float], list[TaxiRide]] = {}
    for r in sorted(rides, key=lambda r: (r.time, r.id)):
        if r.group:
            key = (r.group, r.origin, r.origin_pos, r.destination, r.destination_pos)
            groups.setdefault(key, []).append(r)
        else:
            out.append(_request([r], vehicle_length))
    for members in groups.values():
        for k in range(0, len(members), seats):
            out.append(_request(members[k:k + seats], vehicle_length))
    out.sort(key=lambda q: (q["time"], q["id"]))
    return out


def _request(members: list[TaxiRide], vehicle_length: float) -> dict[str, Any]:
    first, last = members[0], members[-1]
    row: dict[str, Any] = {"id": first.id, "time": first.time, "from": first.origin,
                           "to": first.destination,
                           "from_pos": _halt(first.origin_pos, first.origin_length, vehicle_length),
                           "to_pos": _halt(first.destination_pos, first.destination_length, vehicle_length)}
    if len(members) > 1:
        row["group"] = len(members)
    if last.time > first.time:
        row["earliest"] = last.time
    return row
