"""The trip: one vehicle's planned journey (SUMO: a ``<trip>`` or ``<vehicle>`` with a route).

Readers of trip tables, OD matrices and flows (:mod:`mobsim.demand.sources`) all produce lists of
:class:`Trip`; the engine compiles them into arrays. Units: s, m, m/s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The words ``Trip.depart_pos`` takes besides a position in m (SUMO's ``departPos`` values).
DEPART_POS_WORDS = ("base", "last", "free", "random", "random_free")


@dataclass(frozen=True)
class Stop:
    """A scheduled stop of a trip: the vehicle halts with its front at ``pos`` (m from the start of
    link ``link``), inside a stop area ``length`` m long that ends there, for at least ``duration``
    s and not before ``until`` (s; -inf: no earliest departure), on lane ``lane`` of the link
    (0: the rightmost; the vehicle changes to it on the stop's link; -1: in the lane it drives
    on). The kernels hold it while it dwells (:mod:`mobsim.kernels.road.stops`); a mode may
    lengthen the dwell (boardings)."""

    link: str
    pos: float
    length: float = 0.0
    duration: float = 0.0
    until: float = -math.inf
    lane: int = -1


@dataclass(frozen=True)
class Trip:
    """One planned trip.

    ``origin`` and ``destination`` are link ids: the vehicle is inserted at the start of
    ``origin`` and arrives at the end of ``destination``. ``route`` optionally fixes the link
    sequence (it must start at ``origin`` and end at ``destination``); empty means "route by
    shortest free-flow travel time". ``depart_lane`` is ``"best"`` (the free lane with the most room
    among those that serve the next movement), ``"free"`` (the lane with the most room of all),
    ``"first"`` (rightmost), or a lane index as a string. ``depart_speed`` is ``"max"`` (the highest
    safe speed, capped by the desired speed), ``"0"``, or a number in m/s as a string.
    ``depart_pos`` is ``"base"`` (the vehicle's rear at the start of the lane), ``"last"`` (behind
    the lane's last vehicle with a safe gap, or at the lane's end when it is empty: SUMO's
    ``departPos="last"``), ``"free"`` (the lane's start when that is safe, else the first safe
    gap ahead of a vehicle, rearmost first), ``"random"`` (a uniform position, drawn anew at every
    attempt), ``"random_free"`` (ten uniform positions per attempt, then as free) or the position
    of its front in m along the origin link, as a string (SUMO's ``departPos``; at least the
    vehicle length). ``stops`` are scheduled stops along the
    route, in order (:class:`Stop`; a transit line's stops, SUMO's ``<stop>``).
    """

    id: str
    origin: str
    destination: str
    depart: float
    vtype: str = "car"
    route: tuple[str, ...] = ()
    depart_lane: str = "best"
    depart_speed: str = "max"
    depart_pos: str = "base"
    stops: tuple[Stop, ...] = ()
