"""Key performance indicators of the drone part of a run, from its result file (``/drones/*``).

Definitions (units in the key names; :data:`DRONE_UNITS` has them all). "Completed" means
``status`` 2 (done) in ``/drones/flights`` (:data:`mobsim.modes.drones.schema.DRONE_STATUS`).

* ``drone_flights_requested``: rows of ``/drones/flights`` (one per request), flights.
* ``drone_flights_completed``, ``drone_flights_refused``, ``drone_battery_depleted``: flights
  with status 2 (done), 3 (refused by planning) and 4 (battery depleted in flight).
* ``drone_mean_delivery_time_s``, ``drone_p95_delivery_time_s``: mean and 95th percentile
  (linear interpolation) of ``t_delivery - t_request``, s, over the flights with a finite
  ``t_delivery`` (whatever their status: a drone may deliver and then deplete on the way back).
* ``drone_mean_departure_delay_s``: mean ``departure_delay`` (the wait for a pad), s, over the
  flights that took off (finite ``t_takeoff``).
* ``drone_route_efficiency``: Σ ``direct_distance`` / Σ ``distance`` over completed flights, 1
  (1 = every completed flight flew its straight legs; below 1 = detours).
* ``drone_energy_wh_per_flight``: mean battery ``energy`` of the completed flights, Wh.
* ``drone_flight_hours``: Σ (``time_climb`` + ``time_cruise`` + ``time_descent`` +
  ``time_hover``) / 3600 over all flights, h.
* ``drone_conflicts_per_flight_hour``, ``drone_los_per_flight_hour``: ``/drones/events`` rows of
  kind conflict (0) and loss of separation (1) per flight hour, 1/h. An event is one episode of
  one pair of drones (its ``drone`` is the lower row of the pair); NaN without flight hours.
* ``drone_min_separation_m``: smallest ``min_separation`` (3-D distance to another airborne
  drone at a detection) of any flight, m; NaN when no flight ever had a neighbour.
* ``drone_geofence_violations``: ``/drones/events`` rows of kind geofence (2).

A run without ``/drones/flights`` gives ``{}``. Empty reductions give NaN, counts 0; nothing here
raises on empty tables. Values are Python ``int`` and ``float``; :func:`mobsim.analysis.kpi.to_json`
writes the dict (NaN -> null). :func:`drone_tables` gives the tables as DataFrames.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mobsim.analysis.results import as_results
from mobsim.modes.drones.schema import DRONE_EVENT_KINDS, DRONE_STATUS

__all__ = ["DRONE_UNITS", "drone_kpis", "drone_tables"]

_STATUS = {v: k for k, v in DRONE_STATUS.items()}
_KIND = {v: k for k, v in DRONE_EVENT_KINDS.items()}
_DONE, _REFUSED, _DEPLETED = _STATUS["done"], _STATUS["refused"], _STATUS["battery_depleted"]
_CONFLICT, _LOS, _GEOFENCE = _KIND["conflict"], _KIND["los"], _KIND["geofence"]
_TIME_COLUMNS = ("time_climb", "time_cruise", "time_descent", "time_hover")

#: Units of every drone KPI key, in the order :func:`drone_kpis` returns them.
DRONE_UNITS: dict[str, str] = {
    "drone_flights_requested": "flights",
    "drone_flights_completed": "flights",
    "drone_flights_refused": "flights",
    "drone_battery_depleted": "flights",
    "drone_mean_delivery_time_s": "s",
    "drone_p95_delivery_time_s": "s",
    "drone_mean_departure_delay_s": "s",
    "drone_route_efficiency": "1",
    "drone_energy_wh_per_flight": "Wh",
    "drone_flight_hours": "h",
    "drone_conflicts_per_flight_hour": "1/h",
    "drone_los_per_flight_hour": "1/h",
    "drone_min_separation_m": "m",
    "drone_geofence_violations": "1",
}


def _finite(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[~np.isnan(values)]


def _mean(values: Any) -> float:
    v = _finite(values)
    return float(v.mean()) if len(v) else math.nan


def _ratio(a: float, b: float) -> float:
    a, b = float(a), float(b)
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    return df[name].to_numpy(dtype=float)


def drone_kpis(results: Any) -> dict[str, float | int]:
    """The drone KPIs of a run (a :class:`~mobsim.analysis.results.Results` or a path to a result file);
    ``{}`` when the file has no ``/drones/flights``. Keys and definitions: module docstring."""
    results = as_results(results)
    if not results.has("drones/flights"):
        return {}
    fl = results._frame("drones/flights")
    ev = results._frame("drones/events")  # empty (no rows) when the run had no events
    status = fl["status"].to_numpy(dtype=float)  # float: a ragged partial file may pad with NaN
    done = status == _DONE

    t_req, t_deliv = _col(fl, "t_request"), _col(fl, "t_delivery")
    delivered = np.isfinite(t_deliv)
    delivery = (t_deliv - t_req)[delivered]
    took_off = np.isfinite(_col(fl, "t_takeoff"))

    seconds = float(sum(np.nansum(_col(fl, c)) for c in _TIME_COLUMNS)) if len(fl) else 0.0
    hours = seconds / 3600.0
    kinds = ev["kind"].to_numpy(dtype=float)
    min_sep = _finite(_col(fl, "min_separation"))
    d95 = _finite(delivery)

    out: dict[str, float | int] = {
        "drone_flights_requested": len(fl),
        "drone_flights_completed": int(done.sum()),
        "drone_flights_refused": int((status == _REFUSED).sum()),
        "drone_battery_depleted": int((status == _DEPLETED).sum()),
        "drone_mean_delivery_time_s": _mean(delivery),
        "drone_p95_delivery_time_s": float(np.quantile(d95, 0.95)) if len(d95) else math.nan,
        "drone_mean_departure_delay_s": _mean(_col(fl, "departure_delay")[took_off]),
        "drone_route_efficiency": (_ratio(np.nansum(_col(fl, "direct_distance")[done]),
                                          np.nansum(_col(fl, "distance")[done])) if done.any() else math.nan),
        "drone_energy_wh_per_flight": _mean(_col(fl, "energy")[done]),
        "drone_flight_hours": hours,
        "drone_conflicts_per_flight_hour": _ratio(int((kinds == _CONFLICT).sum()), hours),
        "drone_los_per_flight_hour": _ratio(int((kinds == _LOS).sum()), hours),
        "drone_min_separation_m": float(min_sep.min()) if len(min_sep) else math.nan,
        "drone_geofence_violations": int((kinds == _GEOFENCE).sum()),
    }
    return out


def _names(codes: Any, names: dict[int, str]) -> pd.Categorical:
    """Integer codes as a categorical of names (codes outside the table become missing)."""
    codes = np.asarray(codes)
    cats = [names.get(k, str(k)) for k in range(max(names) + 1)]
    if codes.dtype.kind == "f":  # padded partial column
        codes = np.where(np.isfinite(codes), codes, -1)
    codes = codes.astype(np.int64)
    codes = np.where((codes >= 0) & (codes < len(cats)), codes, -1)
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object))


def _ids(rows: Any, ids: np.ndarray) -> np.ndarray:
    """Row references as string ids (None where the row is -1 or out of range)."""
    rows = np.asarray(rows)
    if rows.dtype.kind == "f":
        rows = np.where(np.isfinite(rows), rows, -1)
    rows = rows.astype(np.int64)
    ok = (rows >= 0) & (rows < len(ids))
    out = np.full(len(rows), None, dtype=object)
    out[ok] = np.asarray(ids, dtype=object)[rows[ok]]
    return out


def drone_tables(results: Any) -> dict[str, pd.DataFrame]:
    """The drone tables of a run as DataFrames, for notebooks (empty frames with the schema's
    columns for tables the file lacks). The index of ``flights`` is the flight row that
    ``drone`` columns refer to; units are the schema's (s, m, Wh).

    * ``flights`` plus ``status_name`` (:data:`~mobsim.modes.drones.schema.DRONE_STATUS`);
    * ``events`` plus ``kind_name`` (:data:`~mobsim.modes.drones.schema.DRONE_EVENT_KINDS`) and ``flight_id``;
    * ``summary``; ``pad_queue`` plus ``vertiport_id``; ``tracks`` plus ``flight_id``;
    * ``vertiports``, ``types``, ``geofences`` and ``geofence_vertices`` as written.
    """
    results = as_results(results)
    t = {name: results._frame(f"drones/{name}") for name in
         ("flights", "events", "summary", "pad_queue", "tracks", "vertiports", "types", "geofences",
          "geofence_vertices")}
    flight_ids = t["flights"]["id"].to_numpy(dtype=object)
    vp_ids = t["vertiports"]["id"].to_numpy(dtype=object)
    t["flights"]["status_name"] = _names(t["flights"]["status"].to_numpy(), DRONE_STATUS)
    t["events"]["kind_name"] = _names(t["events"]["kind"].to_numpy(), DRONE_EVENT_KINDS)
    t["events"]["flight_id"] = _ids(t["events"]["drone"].to_numpy(), flight_ids)
    t["pad_queue"]["vertiport_id"] = _ids(t["pad_queue"]["vertiport"].to_numpy(), vp_ids)
    t["tracks"]["flight_id"] = _ids(t["tracks"]["drone"].to_numpy(), flight_ids)
    return t
