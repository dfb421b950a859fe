"""A scenario's transit lines as SUMO public transport: bus stops (an additional file), the
services as vehicles with ``line`` and ``<stop busStop= duration= until=>``, and the passengers as
persons who wait at their stop and ride the line (``<stop busStop=/>`` then ``<ride busStop=
lines=/>``, as SUMO's own ride files do), so that SUMO runs the same lines with the same
passengers (``bench.transit_vs_sumo``).

SUMO's dwell is not mobsim's law: a SUMO bus stays at least its stop's ``duration`` and boards or
lets out one person every ``boardingDuration`` s; the export gives the stop ``duration =
door_time`` and the vehicle type ``boardingDuration = board_time / doors``, and
:func:`sumo_dwell_law` says how SUMO's dwell compares.
"""

from __future__ import annotations

import math
from typing import Any

from mobsim.interop.sumo_xml import xml_attrs as _a

#: SUMO's default boardingDuration (s per person), for reference.
SUMO_BOARDING_DURATION = 0.5


def bus_stops(plan: Any) -> list[str]:
    """``<busStop>`` lines: on the stop's lane (lane 0 for a stop of any lane), from ``pos -
    length`` to ``pos``."""
    out = []
    for s in plan.stops:
        start = max(0.0, s.pos - s.length)
        end = max(s.pos, start + 0.2)
        attrs = _a(id=s.id, lane=f"{s.link}_{max(s.lane, 0)}", startPos=float(start), endPos=float(end))
        out.append(f"  <busStop {attrs}/>")
    return out


def vtype_extra(plan: Any, vtype_id: str) -> str:
    """Attributes a SUMO vType that drives transit vehicles needs (capacity, boarding time)."""
    for v in plan.vehicles:
        if v.vtype == vtype_id:
            return _a(personCapacity=v.capacity, boardingDuration=float(v.board_time / v.doors))
    return ""


def service_elements(plan: Any, trip: Any) -> tuple[str, list[str]]:
    """The ``line`` attribute and the ``<stop>`` lines of service trip ``trip`` (id
    ``"<line>.<k>"``)."""
    line_id = trip.id.rsplit(".", 1)[0]
    ln = next(x for x in plan.lines if x.id == line_id)
    seq = list(ln.stops) * ln.rounds + ([ln.stops[0]] if ln.loop else [])
    veh = plan.vehicle(ln)
    stops = []
    for sid, st in zip(seq, trip.stops, strict=True):
        # SUMO's duration is the least dwell: the door time, or the layover where it is longer
        attrs = _a(busStop=sid, duration=float(max(veh.door_time, ln.layover.get(sid, 0.0))))
        if math.isfinite(st.until):
            attrs += " " + _a(until=float(st.until))
        stops.append(f"    <stop {attrs}/>")
    return _a(line=line_id), stops


def persons(plan: Any, rows: list[tuple[int, int, float, tuple[int, ...]]]) -> list[str]:
    """``<person>`` lines of passenger rows (origin stop, destination stop, arrival s, the lines
    taken: ``()`` any), in order of arrival (SUMO wants them sorted by depart). A passenger of any
    line rides the legs of its journey (:class:`mobsim.demand.transit.Journeys`), each on ``ANY``
    line."""
    from mobsim.demand.transit import Journeys

    journeys = Journeys(plan)
    out = []
    order = sorted(range(len(rows)), key=lambda k: (rows[k][2], k))
    for n, k in enumerate(order):
        o, d, t, lines = rows[k]
        out.append(f"  <person {_a(id=f'p{n}', depart=float(t))}>")
        out.append(f"    <stop {_a(busStop=plan.stops[o].id, duration=0.0)}/>")
        a, b = plan.stops[o].id, plan.stops[d].id
        if lines:
            out.append(f"    <ride {_a(busStop=b, lines=' '.join(plan.lines[x].id for x in lines))}/>")
        else:
            for _x, to in journeys.legs(a, b) or [(a, b)]:
                out.append(f"    <ride {_a(busStop=to, lines='ANY')}/>")
        out.append("  </person>")
    return out
