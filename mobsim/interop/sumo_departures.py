"""When and how SUMO demand departs, as mobsim reads it: departure times, lanes, speeds and
positions, and the departure times of flows (the part of the demand importer in
:mod:`mobsim.interop.sumo_demand` that reads them). Units: s, m, m/s, veh/h."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from mobsim.demand.sources import flow_departures
from mobsim.demand.streams import rng_for
from mobsim.errors import InputError
from mobsim.interop.sumo_xml import Elem, number, parse_time

FLOW_RATES = ("period", "vehsPerHour", "probability", "number")
#: SUMO's flow end when neither the flow nor the simulation has one (24 h after the flow's begin).
FLOW_DEFAULT_DURATION = 86400.0
_EXP = re.compile(r"^\s*exp\(([^)]*)\)\s*$")


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


class DepartureReader:
    """The departure part of the SUMO demand importer (a mixin of its importer class, which holds
    the simulated interval, the seed and the warnings)."""

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
            if dp in ("free", "random", "random_free"):
                # SUMO's free insertion (the lane's start, else the first safe gap ahead of a
                # vehicle), random positions drawn at every attempt, or ten of them and then free
                pos = dp
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

    def flow_times(self, el: Elem) -> np.ndarray:
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
            lam = number(exp.group(1), "period exp(rate)", source, label)
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
            q = number(value, rate, source, label)
            if not 0.0 < q <= 1.0:
                raise InputError(f"probability={value} is not in (0, 1]", source=source, element=label,
                                 fix="give the probability of a departure per second, at most 1")
            table["probability"] = q
        else:
            v = (parse_time(value, rate, source, label) if rate == "period"
                 else number(value, rate, source, label))
            if v <= 0:
                raise InputError(f"{rate}={value} must be > 0", source=source, element=label,
                                 fix=f"give a positive {rate}")
            table["period" if rate == "period" else "vehs_per_hour"] = v
        # The same expansion as mobsim's own [[demand.flows]] (and the same random stream per
        # flow id): period/vehsPerHour from begin while < end, number spread evenly, probability
        # drawn once per 1 s step.
        return flow_departures(table, self.seed)
