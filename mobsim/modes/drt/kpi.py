"""Key performance indicators of an on-demand service, from its result file (``/drt/*``).

Definitions (units in the key names; :data:`DRT_UNITS` has them all):

* ``drt_requests``: rows of ``/drt/requests`` made during the run; ``drt_served``: those dropped
  off; ``drt_rejection_rate``: rejected over made, 1.
* ``drt_mean_wait_s``, ``drt_p95_wait_s``: mean and 95th percentile of ``pickup - earliest``
  (from the earliest pick-up to the vehicle's halt there), s, over the requests picked up.
* ``drt_mean_ride_s``: mean ``dropoff - pickup`` (the pick-up's dwell included), s, over the
  requests served.
* ``drt_mean_detour_factor``: mean ``ride / direct`` over the requests served (``direct``: the
  direct route's time on the dispatcher's travel times when the request was made), 1.
* ``drt_vkm``: Σ ``distance`` of ``/drt/vehicles``, km; ``drt_empty_km_share``: the share of it
  driven with nobody on board, 1; ``drt_occupancy_pkm_per_vkm``: person-km over vehicle-km, 1.
* ``drt_rides_per_vehicle_hour``: requests served per vehicle and hour of service (each
  vehicle's hours from the start of its service to its end or the end of the run), 1/h.
* ``drt_dispatch_ms_per_request``: wall time of the dispatch (``/drt/dispatch``) per request made,
  ms: a measure of the run, not of the service.

A run without ``/drt/requests`` gives ``{}``. Empty reductions give NaN, counts 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mobsim.analysis.results import as_results

__all__ = ["DRT_UNITS", "drt_kpis"]

#: Units of every on-demand KPI key, in the order :func:`drt_kpis` returns them.
DRT_UNITS: dict[str, str] = {
    "drt_requests": "1",
    "drt_served": "1",
    "drt_rejection_rate": "1",
    "drt_mean_wait_s": "s",
    "drt_p95_wait_s": "s",
    "drt_mean_ride_s": "s",
    "drt_mean_detour_factor": "1",
    "drt_vkm": "km",
    "drt_empty_km_share": "1",
    "drt_occupancy_pkm_per_vkm": "1",
    "drt_rides_per_vehicle_hour": "1/h",
    "drt_dispatch_ms_per_request": "ms",
}


def _mean(a: np.ndarray) -> float:
    return float(a.mean()) if len(a) else math.nan


def drt_kpis(results: Any) -> dict[str, float | int]:
    """The on-demand KPIs of a run (a :class:`~mobsim.analysis.results.Results` or a path); ``{}``
    without on-demand tables. Keys and definitions: module docstring."""
    results = as_results(results)
    if not results.has("drt/requests"):
        return {}
    rq = results.table("drt/requests")
    veh = results.table("drt/vehicles")
    status = rq["status"].to_numpy(int)
    made = status > 0
    n = int(made.sum())
    wait = rq["wait"].to_numpy(float)
    wait = wait[np.isfinite(wait)]
    ride = rq["ride"].to_numpy(float)
    direct = rq["direct"].to_numpy(float)
    ok = np.isfinite(ride) & (direct > 0)
    vkm = float(veh["distance"].sum()) / 1000.0
    occ = float(veh["occupied_distance"].sum()) / 1000.0
    pkm = float(veh["person_distance"].sum()) / 1000.0
    a = results.attrs
    t_end = float(a.get("begin", 0.0) or 0.0) + float(a.get("completed_steps") or 0) * float(
        a.get("dt") or 0.0)
    hours = float(np.clip(np.minimum(veh["end"].to_numpy(float), t_end) - veh["start"].to_numpy(float),
                          0.0, None).sum()) / 3600.0
    served = int((status == 4).sum())
    calls = results.table("drt/dispatch") if results.has("drt/dispatch") else None
    wall = float(calls["dispatch_wall"].sum()) if calls is not None else math.nan
    return {
        "drt_requests": n,
        "drt_served": served,
        "drt_rejection_rate": float((status == 5).sum()) / n if n else math.nan,
        "drt_mean_wait_s": _mean(wait),
        "drt_p95_wait_s": float(np.percentile(wait, 95)) if len(wait) else math.nan,
        "drt_mean_ride_s": _mean(ride[np.isfinite(ride)]),
        "drt_mean_detour_factor": _mean(ride[ok] / direct[ok]),
        "drt_vkm": vkm,
        "drt_empty_km_share": (vkm - occ) / vkm if vkm > 0 else math.nan,
        "drt_occupancy_pkm_per_vkm": pkm / vkm if vkm > 0 else math.nan,
        "drt_rides_per_vehicle_hour": served / hours if hours > 0 else math.nan,
        "drt_dispatch_ms_per_request": 1000.0 * wall / n if n else math.nan,
    }
