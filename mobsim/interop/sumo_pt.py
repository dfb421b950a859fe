"""SUMO public transport in: bus stops, the stops of vehicles, lines and the persons who ride them.

Read in the same pass as the rest of the demand (:mod:`.sumo_demand`, which mixes
:class:`PTReader` into its importer), then turned into a :class:`mobsim.demand.transit.TransitPlan`
by :func:`transit_plan`:

* ``<busStop>`` / ``<trainStop>`` (``lane``, ``startPos``, ``endPos``; negative positions count
  from the lane's end, as SUMO's) -> a transit stop on the lane's link, halting position
  ``endPos``, area ``endPos - startPos``.
* A vehicle's ``<stop>`` (``busStop``, or ``lane``/``edge`` with ``endPos``; ``duration``,
  ``until``) -> a scheduled stop of its trip (:class:`mobsim.demand.trips.Stop`; flows shift
  ``until`` by each vehicle's offset from the flow's begin, as SUMO). ``parking``, ``triggered``
  and the other stop kinds (container stops, charging stations, parking areas) run as plain
  stops in the lane (warnings).
* A vehicle or flow with a ``line`` and bus stops is a service of that line; services of one line
  with the same stop sequence form one mobsim line (several sequences: ``<line>#2``, ...); a
  sequence that repeats a pattern is a loop driven that many rounds.
  Capacity and boarding time come from the vType (``personCapacity``, ``boardingDuration``; SUMO's
  defaults otherwise), the dwell is SUMO's (``dwell = "max"``: at least the stop's duration,
  longer while people board or alight).
* ``<person>`` / ``<personFlow>`` (``depart``; ``begin``/``end`` with ``period``,
  ``personsPerHour``, ``probability`` or ``number``) whose plan starts at a bus stop (a ``<stop
  busStop>``, whose duration delays the ride, or a ``<walk busStop>``, whose walking time is not
  simulated) and then rides (``<ride busStop lines>``; ``lines="ANY"``: any line): a passenger
  from that stop to the ride's stop on any vehicle of the lines in ``lines`` that serve both.
  A person who rides on from stop to stop (transfers) becomes one journey from the first stop to
  the last, planned by mobsim on any lines. Persons with other plans (walks only,
  ``personTrip``, rides to an edge) are skipped or cut after their first ride (warnings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mobsim.demand.trips import Stop
from mobsim.errors import InputError
from mobsim.interop.sumo_xml import Elem, number, parse_time

#: SUMO's defaults of a vType's personCapacity by vClass (``SUMOVTypeParameter``), and of
#: boardingDuration (s per person).
PERSON_CAPACITY = {"bus": 85, "coach": 70, "tram": 120, "rail_urban": 300, "rail": 300, "passenger": 4}
BOARDING_DURATION = 0.5
STOP_TAGS = ("busStop", "trainStop")


@dataclass
class PTFound:
    """What the files hold of public transport (filled by :class:`PTReader`)."""

    #: stop id -> (link, halting position m, area length m, bay (False), lane index on the link)
    stops: dict[str, tuple[str, float, float, bool, int]] = field(default_factory=dict)
    #: (trip id, line, stop ids in order, vType id) of every service vehicle
    services: list[tuple[str, str, list[str], str]] = field(default_factory=list)
    #: (origin stop, destination stop, arrival at the origin s, lines) of every passenger
    persons: list[tuple[str, str, float, str]] = field(default_factory=list)
    #: vType id -> (personCapacity, boardingDuration s)
    capacity: dict[str, tuple[int, float]] = field(default_factory=dict)
    #: stops on edges the network import left out
    dropped: set[str] = field(default_factory=set)


class PTReader:
    """The public-transport part of the SUMO demand importer (a mixin: it uses the importer's
    ``links``, ``lane_map``, ``warn``, ``flow_times``, ``depart``, ``begin`` and ``end``)."""

    pt: PTFound

    def bus_stop(self, el: Elem) -> None:
        a, source, label = el.attrs, el.source, el.label
        sid = a.get("id", "")
        lane = a.get("lane", "")
        edge = lane.rpartition("_")[0]
        if not sid or not edge:
            raise InputError(f"{el.tag} without id or lane", source=source, element=label,
                             fix="give id and lane = <edge>_<index>")
        if edge not in self.links:  # type: ignore[attr-defined]
            # a lane of an edge the import left out (no lane for the vehicle class mobsim runs)
            self.pt.dropped.add(sid)
            self.warn.add(source, "stop_dropped", label)  # type: ignore[attr-defined]
            return
        length = float(getattr(self.links[edge], "length", 0.0))  # type: ignore[attr-defined]
        start = number(a.get("startPos", "0"), "startPos", source, label)
        end = number(a.get("endPos", repr(length)), "endPos", source, label)
        start = start + length if start < 0 else start
        end = end + length if end < 0 else end
        if not 0.0 <= start < end <= length + 1e-6:
            if a.get("friendlyPos", "false") not in ("true", "1"):
                raise InputError(f"startPos {start:g} / endPos {end:g} do not lie on the {length:g} m lane",
                                 source=source, element=label,
                                 fix="give 0 <= startPos < endPos <= the lane length (or friendlyPos)")
            end = min(max(end, 0.2), length)
            start = min(max(start, 0.0), end - 0.1)
        self.pt.stops[sid] = (edge, end, end - start, False, self._lane_index(lane))

    def vtype_capacity(self, el: Elem) -> None:
        a = el.attrs
        cls = a.get("vClass", "passenger")
        cap = int(float(a.get("personCapacity", PERSON_CAPACITY.get(cls, 4))))
        self.pt.capacity[a.get("id", "")] = (cap, float(a.get("boardingDuration", BOARDING_DURATION)))

    def trip_stops(self, el: Elem, offset: float) -> tuple[tuple[Stop, ...], list[str]]:
        """A vehicle's ``<stop>`` elements as scheduled stops (``offset``: the vehicle's depart less
        its flow's begin, added to ``until``), and the bus stops among them in order."""
        out, ids = [], []
        for s in el.kids("stop"):
            a, source, label = s.attrs, s.source, f"a stop of {el.label}"
            for kind in ("parking", "triggered", "containerTriggered"):
                if a.get(kind, "false") not in ("false", "0"):
                    self.warn.add(source, "stop_kind", f"{kind} ({label})")  # type: ignore[attr-defined]
            where = next((k for k in ("busStop", "trainStop") if k in a), None)
            if where is not None and a[where] in self.pt.dropped:
                self.warn.add(source, "stop_dropped_use", label)  # type: ignore[attr-defined]
                continue
            if where is not None:
                sid = a[where]
                if sid not in self.pt.stops:
                    raise InputError(f"unknown {where} '{sid}'", source=source, element=label,
                                     fix="define it in an additional file of the configuration")
                link, pos, length, _bay, lane = self.pt.stops[sid]
                ids.append(sid)
            elif "lane" in a or "edge" in a:
                link = a["lane"].rpartition("_")[0] if "lane" in a else a["edge"]
                if link not in self.links:  # type: ignore[attr-defined]
                    raise InputError(f"stop on unknown edge {link!r}", source=source, element=label,
                                     fix="give a lane or edge of the network")
                full = float(getattr(self.links[link], "length", 0.0))  # type: ignore[attr-defined]
                pos = number(a.get("endPos", repr(full)), "endPos", source, label)
                pos = pos + full if pos < 0 else pos
                length = 0.0
                lane = self._lane_index(a["lane"]) if "lane" in a else -1
            else:
                self.warn.add(source, "stop_kind", f"stop at a {', '.join(a) or 'place'} ({label})")  # type: ignore[attr-defined]
                continue
            dur = parse_time(a["duration"], "duration", source, label) if "duration" in a else 0.0
            until = parse_time(a["until"], "until", source, label) + offset if "until" in a else -float("inf")
            out.append(Stop(link, pos, length, dur, until, lane))
        return tuple(out), ids

    def _lane_index(self, lane_id: str) -> int:
        """mobsim's index of SUMO lane ``<edge>_<k>`` on its link (the import may have left some of
        the edge's lanes out), or -1 (any lane) if that lane is not kept."""
        edge, _, k = lane_id.rpartition("_")
        try:
            sumo = int(k)
        except ValueError:
            return -1
        kept = self.lane_map.get(edge)  # type: ignore[attr-defined]
        if not kept:
            return sumo
        kept = tuple(kept)
        return kept.index(sumo) if sumo in kept else -1

    def person(self, el: Elem) -> None:
        source, label, a = el.source, el.label, el.attrs
        stages = [c for c in el.children if c.tag in ("stop", "walk", "ride", "personTrip", "transport",
                                                      "tranship")]
        origin, wait = None, 0.0
        ride = None
        for k, st in enumerate(stages):
            if st.tag == "ride":
                ride = st
                if origin is None and "from" in st.attrs:
                    origin = self._stop_at(st.attrs["from"], a.get("departPos"))
                more = stages[k + 1:]
                if more and all(x.tag == "ride" and "busStop" in x.attrs and "from" not in x.attrs
                                for x in more):
                    # rides on from stop to stop: one journey, planned again with transfers
                    ride = Elem("ride", {"busStop": more[-1].attrs["busStop"], "lines": "ANY"}, [], source)
                    self.warn.add(source, "person_rides", label)  # type: ignore[attr-defined]
                elif more:
                    self.warn.add(source, "person_plan_cut", label)  # type: ignore[attr-defined]
                break
            if st.tag == "stop" and "busStop" in st.attrs:
                origin = st.attrs["busStop"]
                if "duration" in st.attrs:
                    wait += parse_time(st.attrs["duration"], "duration", source, label)
            elif st.tag == "walk" and "busStop" in st.attrs:
                origin = st.attrs["busStop"]
                self.warn.add(source, "person_walk", label)  # type: ignore[attr-defined]
        if ride is None or origin is None or "busStop" not in ride.attrs:
            self.warn.add(source, "person_plan", label)  # type: ignore[attr-defined]
            return
        dest, lines = ride.attrs["busStop"], ride.attrs.get("lines", "ANY")
        if origin in self.pt.dropped or dest in self.pt.dropped:
            self.warn.add(source, "stop_dropped_use", label)  # type: ignore[attr-defined]
            return
        for sid in (origin, dest):
            if sid not in self.pt.stops:
                raise InputError(f"unknown busStop '{sid}'", source=source, element=label,
                                 fix="define it in an additional file of the configuration")
        if el.tag == "personFlow":
            attrs = dict(a)
            if "personsPerHour" in attrs:
                attrs["vehsPerHour"] = attrs.pop("personsPerHour")
            times = list(self.flow_times(Elem("flow", attrs, [], source)))  # type: ignore[attr-defined]
        else:
            if "depart" not in a:
                raise InputError("person without depart", source=source, element=label,
                                 fix='give the departure time in s: depart="0"')
            times = [self.depart(a["depart"], source, label)]  # type: ignore[attr-defined]
        for t in times:
            if t < self.begin or (self.end is not None and t >= self.end):  # type: ignore[attr-defined]
                continue
            self.pt.persons.append((origin, dest, float(t) + wait, lines))

    def _stop_at(self, edge: str, depart_pos: str | None) -> str | None:
        """The bus stop on ``edge`` around ``depart_pos`` (m; the edge's start when absent)."""
        pos = float(depart_pos) if depart_pos not in (None, "", "random", "free", "base") else 0.0
        for sid, (link, end, length, _bay, _lane) in self.pt.stops.items():
            if link == edge and end - length - 1.0 <= pos <= end + 1.0:
                return sid
        return None


def transit_plan(found: PTFound, trips: list[Any], warnings: list[str], source: str) -> Any:
    """The :class:`mobsim.demand.transit.TransitPlan` of what a SUMO import found, or None without
    services. ``trips``: the imported trips (the services among them keep their routes and stops)."""
    from mobsim.demand.transit import (
        Journeys,
        Line,
        PassengerSource,
        TransitPlan,
        TransitStop,
        TransitVehicle,
        periodic,
        ride_on,
    )

    if not found.services:
        if found.persons:
            warnings.append(f"{source}: {len(found.persons)} person(s) ride lines that no vehicle serves; "
                            "they are skipped")
        return None
    kept = {t.id: t for t in trips}
    services = [s for s in found.services if s[0] in kept]
    used = sorted({sid for s in services for sid in s[2]})
    stops = [TransitStop(sid, *found.stops[sid]) for sid in used]
    vehicles: dict[str, TransitVehicle] = {}
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    vtype_of: dict[tuple[str, tuple[str, ...]], str] = {}
    for tid, line, seq, vtype in services:
        key = (line, tuple(seq))
        groups.setdefault(key, []).append(tid)
        vtype_of.setdefault(key, vtype)
        if vtype not in vehicles:
            cap, board = found.capacity.get(vtype, (PERSON_CAPACITY["bus"], BOARDING_DURATION))
            vehicles[vtype] = TransitVehicle(f"sumo:{vtype}", vtype, max(cap, 1), 0, 1, 0.0, board, board,
                                             "max")
    lines, explicit, sumo_line = [], {}, {}
    per_line: dict[str, int] = {}
    for (line, seq), ids in groups.items():
        per_line[line] = per_line.get(line, 0) + 1
        lid = line if per_line[line] == 1 else f"{line}#{per_line[line]}"
        deps = tuple(sorted(kept[i].depart for i in ids))
        veh = vehicles[vtype_of[(line, seq)]].id
        loop = periodic(seq)
        if loop is not None:  # a loop driven several rounds: one queue per stop of the pattern
            lines.append(Line(lid, loop[0], veh, deps, loop=True, rounds=loop[1], closed=loop[2]))
        else:
            lines.append(Line(lid, seq, veh, deps))
        explicit[lid] = sorted(ids, key=lambda i: (kept[i].depart, i))
        sumo_line[lid] = line
    plan = TransitPlan(stops, list(vehicles.values()), lines, [], [], config={"sumo": source},
                       explicit=explicit)
    journeys = Journeys(plan)
    rows, missed = [], 0
    for o, d, t, wanted in found.persons:
        names = wanted.split()
        if "ANY" in names:
            ok = journeys.legs(o, d) is not None
            choice = ""
        else:  # the mobsim lines of the SUMO lines named, that serve both stops in this order
            choice = " ".join(ln.id for ln in lines if sumo_line[ln.id] in names and ride_on(ln, o, d))
            ok = bool(choice)
        if not ok:
            missed += 1
            continue
        rows.append((o, d, t, choice))
    if missed:
        warnings.append(f"{source}: {missed} person(s) ride between stops that no vehicle of their lines "
                        "serves in that order; they are skipped")
    plan.sources = [PassengerSource(file="(SUMO persons)")] if rows else []
    plan.table_rows = rows
    return plan

