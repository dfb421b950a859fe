"""Key performance indicators of the transit lines of a run, from its result file (``/transit/*``).

Definitions (units in the key names; :data:`TRANSIT_UNITS` has them all):

* ``transit_passengers``: rows of ``/transit/passengers`` (journeys); ``transit_boarded``: those
  who boarded (a first vehicle).
* ``transit_mean_wait_s``, ``transit_p95_wait_s``: mean and 95th percentile of ``boarding -
  arrival`` of the rides (``/transit/legs``; the wait until the passenger is on board: the
  vehicle's arrival, or the passenger's own arrival while the doors are open; a transfer's wait
  starts at its arrival at the shared stop), s, over the rides boarded.
* ``transit_mean_wait_to_departure_s``: mean ``departure - arrival`` of the rides: SUMO's waiting
  time, which ends when the vehicle leaves the stop.
* ``transit_mean_in_vehicle_s``: mean ``alighting - departure`` of the rides (from leaving the
  stop to the halt at the ride's end), s, over the rides completed.
* ``transit_denied_boardings``: Σ ``denied`` (each full vehicle that left a passenger behind).
* ``transit_transfers``: rides boarded after the first of a journey.
* ``transit_mean_journey_s``: mean ``alighting - arrival`` of ``/transit/passengers`` (from the
  arrival at the first stop to the arrival at the destination, transfers included), s, over the
  journeys completed.
* ``transit_mean_load``: mean ``load`` of the stop events at which a vehicle left, passengers.
* ``transit_occupancy_pkm_per_vkm``: passenger-km over vehicle-km between calls (each leg from a
  stop to the next call carries the load with which it left), 1.
* ``transit_headway_cv``: mean, over (line, stop) with at least three departures, of the
  coefficient of variation of the time between departures (0: regular; bunching raises it).
* ``transit_on_time_share``: share of the departures with a scheduled time (first stops and time
  points) that left between 60 s early and 300 s late.
* ``transit_vkm``: Σ ``route_length`` of the services' road trips, km.
* ``transit_commercial_speed_kmh``: Σ route distance from the first to the last call over Σ time
  from the first departure to the last arrival, of the services that made their last call, km/h.
* ``transit_car_time_loss_s``: mean time loss of the other road trips (cars), s: the cars'
  side of running the lines, to compare between runs with and without them.
* ``transit_line_links_time_loss_s``: time loss per vehicle that left a link of a line's route
  (``/transit/line_links``), from ``/edgedata`` (Σ time_loss / Σ left over those links and every
  interval; all road vehicles, a dwelling shuttle loses none), s: the traffic on the lines'
  streets; NaN without edge data.

A run without ``/transit/passengers`` gives ``{}``. Empty reductions give NaN, counts 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mobsim.analysis.results import as_results

__all__ = ["TRANSIT_UNITS", "transit_kpis", "transit_tables"]

#: Units of every transit KPI key, in the order :func:`transit_kpis` returns them.
TRANSIT_UNITS: dict[str, str] = {
    "transit_passengers": "1",
    "transit_boarded": "1",
    "transit_mean_wait_s": "s",
    "transit_p95_wait_s": "s",
    "transit_mean_wait_to_departure_s": "s",
    "transit_mean_in_vehicle_s": "s",
    "transit_denied_boardings": "1",
    "transit_transfers": "1",
    "transit_mean_journey_s": "s",
    "transit_mean_load": "1",
    "transit_occupancy_pkm_per_vkm": "1",
    "transit_headway_cv": "1",
    "transit_on_time_share": "1",
    "transit_vkm": "km",
    "transit_commercial_speed_kmh": "km/h",
    "transit_car_time_loss_s": "s",
    "transit_line_links_time_loss_s": "s",
}
#: Departures within this window around their scheduled time (s) are on time.
ON_TIME_EARLY = 60.0
ON_TIME_LATE = 300.0
_GROUPS = ("stops", "lines", "line_stops", "line_links", "stop_events", "passengers", "legs")


def _mean(v: np.ndarray) -> float:
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan


def transit_tables(results: Any) -> dict[str, pd.DataFrame]:
    """The ``/transit`` tables of a run as DataFrames, by name (stops, lines, line_stops,
    stop_events, passengers)."""
    results = as_results(results)
    return {g: results.table(f"transit/{g}") for g in _GROUPS if results.has(f"transit/{g}")}


def headway_cv(ev: pd.DataFrame) -> float:
    """Mean coefficient of variation of the departure headways per (line, stop) (see the module
    docstring); NaN without a (line, stop) of three departures."""
    cvs = []
    dep = ev[np.isfinite(ev["departure"].to_numpy(float))]
    for _, g in dep.groupby(["line", "stop"]):
        t = np.sort(g["departure"].to_numpy(float))
        if t.size >= 3:
            h = np.diff(t)
            if h.mean() > 0:
                cvs.append(float(h.std() / h.mean()))
    return float(np.mean(cvs)) if cvs else math.nan


def transit_kpis(results: Any) -> dict[str, float | int]:
    """The transit KPIs of a run (a :class:`~mobsim.analysis.results.Results` or a path); ``{}``
    without transit tables. Keys and definitions: module docstring."""
    results = as_results(results)
    if not results.has("transit/passengers"):
        return {}
    t = transit_tables(results)
    pax, ev = t["passengers"], t["stop_events"]
    legs = t.get("legs", pax)
    arr, board = legs["arrival"].to_numpy(float), legs["boarding"].to_numpy(float)
    dep, alight = legs["departure"].to_numpy(float), legs["alighting"].to_numpy(float)
    on = np.isfinite(board)
    wait = (board - arr)[on]
    left = np.isfinite(ev["departure"].to_numpy(float))
    load = ev["load"].to_numpy(float)
    # per service: legs from each departure to the next call (passenger- and vehicle-km), and the
    # run from the first departure to the last call (commercial speed)
    pkm = vkm_legs = speeds_d = speeds_t = 0.0
    for _, g in ev.groupby("trip"):
        g = g.sort_values("visit")
        d = g["distance"].to_numpy(float)
        gdep = g["departure"].to_numpy(float)
        ok = np.isfinite(gdep)[:-1]
        leg = np.diff(d)[ok]
        pkm += float((leg * g["load"].to_numpy(float)[:-1][ok]).sum())
        vkm_legs += float(leg.sum())
        a_last = float(g["arrival"].iloc[-1])
        if math.isfinite(a_last) and math.isfinite(gdep[0]) and a_last > gdep[0]:
            speeds_d += float(d[-1] - d[0])
            speeds_t += a_last - gdep[0]
    sched = ev["scheduled"].to_numpy(float)
    has = np.isfinite(sched) & left
    late = ev["departure"].to_numpy(float)[has] - sched[has]
    trips = results.trips
    service_rows = np.unique(ev["trip"].to_numpy(int))
    is_service = np.zeros(len(trips), bool)
    is_service[service_rows] = True
    car_tl = trips["time_loss"].to_numpy(float)[~is_service & (trips["status"].to_numpy(int) == 2)]
    w95 = wait[np.isfinite(wait)]
    first = legs["leg"].to_numpy(int) == 0 if "leg" in legs else np.ones(len(legs), bool)
    journey = pax["alighting"].to_numpy(float) - pax["arrival"].to_numpy(float)
    return {
        "transit_passengers": len(pax),
        "transit_boarded": int((on & first).sum()),
        "transit_mean_wait_s": _mean(wait),
        "transit_p95_wait_s": float(np.quantile(w95, 0.95)) if w95.size else math.nan,
        "transit_mean_wait_to_departure_s": _mean((dep - arr)[on]),
        "transit_mean_in_vehicle_s": _mean(alight - dep),
        "transit_denied_boardings": int(legs["denied"].to_numpy(int).sum()),
        "transit_transfers": int((on & ~first).sum()),
        "transit_mean_journey_s": _mean(journey),
        "transit_mean_load": _mean(load[left]),
        "transit_occupancy_pkm_per_vkm": pkm / vkm_legs if vkm_legs > 0 else math.nan,
        "transit_headway_cv": headway_cv(ev),
        "transit_on_time_share": (float(((late >= -ON_TIME_EARLY) & (late <= ON_TIME_LATE)).mean())
                                  if late.size else math.nan),
        "transit_vkm": float(np.nansum(trips["route_length"].to_numpy(float)[is_service])) / 1000.0,
        "transit_commercial_speed_kmh": speeds_d / speeds_t * 3.6 if speeds_t > 0 else math.nan,
        "transit_car_time_loss_s": _mean(car_tl),
        "transit_line_links_time_loss_s": line_links_time_loss(results, t.get("line_links")),
    }


def line_links_time_loss(results: Any, line_links: pd.DataFrame | None) -> float:
    """Time loss per vehicle that left a link of a line's route (module docstring), s."""
    if line_links is None or not len(line_links):
        return math.nan
    links = np.unique(line_links["link"].to_numpy(int))
    loss = results.edgedata_array("time_loss")
    left = results.edgedata_array("left")
    if loss.size == 0 or left.size == 0:
        return math.nan
    n = float(np.nansum(left[:, links]))
    return float(np.nansum(loss[:, links])) / n if n > 0 else math.nan
