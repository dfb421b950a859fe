"""Key performance indicators of a run, from its result file (:class:`mobsim.analysis.results.Results`).

Definitions (units in the key names; :data:`UNITS` has them all):

* Trip statistics follow SUMO's tripinfo summary: ``mean_travel_time_s``, ``p95_travel_time_s``,
  ``mean_time_loss_s``, ``mean_waiting_time_s`` and ``mean_stops_per_trip`` are over **completed**
  (arrived) trips; ``mean_insertion_delay_s`` over **inserted** trips (depart - planned depart).
* ``trips_loaded`` = rows of ``/trips`` whose planned departure is not after the end of the run
  (``begin`` + simulated time; :func:`loaded_trips`): ``trips_completed`` (arrived),
  ``trips_unfinished`` (waiting or running at the end) and ``removed`` (by the gridlock policy)
  add up to it. Rows planned later are counted as ``trips_not_loaded`` and left out of every
  trip statistic.
* ``vkt_km`` = Σ edge-data ``distance`` / 1000: every vehicle-metre driven, including the
  partial distances of unfinished and removed trips. ``vkt_trips_km`` = Σ trip ``route_length``
  / 1000 is the same quantity from the trip table (design invariant: they agree); ``vkt_km``
  falls back to it when the run has no edge-data interval.
* ``vht_h`` = Σ edge-data ``sampled_seconds`` / 3600; ``mean_speed_kmh`` = vkt / vht.
* ``throughput_veh_per_h`` = completed trips / simulated hours (``completed_steps`` × ``dt``).
* ``teleports``, ``collisions``, ``emergency_brakings`` count ``/events`` rows of that kind.
* ``junctions``: vehicle-weighted mean delay over signal and priority nodes and the worst level of
  service; :func:`junction_delays` gives the per-node table.

An empty run gives 0 counts and NaN means; nothing here raises on empty tables. The dict holds
only Python scalars, strings, None and nested dicts; :func:`to_json` writes it (NaN -> null).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobsim.analysis import extensions
from mobsim.analysis.results import as_results
from mobsim.output import schema

__all__ = ["HCM_PRIORITY", "HCM_SIGNAL", "UNITS", "compute", "format_table", "junction_delays",
           "level_of_service", "loaded_trips", "simulated_time_s", "to_json"]

#: HCM level-of-service delay thresholds (s/veh) for A|B, B|C, C|D, D|E, E|F.
HCM_SIGNAL = (10.0, 20.0, 35.0, 55.0, 80.0)
HCM_PRIORITY = (10.0, 15.0, 25.0, 35.0, 50.0)
LOS_LETTERS = "ABCDEF"

_ARRIVED = next(k for k, v in schema.TRIP_STATUS.items() if v == "arrived")
_REMOVED = next(k for k, v in schema.TRIP_STATUS.items() if v == "removed")
_KIND = {v: k for k, v in schema.EVENT_KINDS.items()}

#: Units of every KPI key ("1" = count or ratio).
UNITS: dict[str, str] = {
    "simulated_time_s": "s",
    "trips_loaded": "trips",
    "trips_not_loaded": "trips",
    "trips_inserted": "trips",
    "trips_completed": "trips",
    "trips_unfinished": "trips",
    "removed": "trips",
    "mean_travel_time_s": "s",
    "p95_travel_time_s": "s",
    "mean_time_loss_s": "s",
    "mean_waiting_time_s": "s",
    "mean_stops_per_trip": "1",
    "mean_insertion_delay_s": "s",
    "throughput_veh_per_h": "veh/h",
    "vkt_km": "veh·km",
    "vkt_trips_km": "veh·km",
    "vht_h": "veh·h",
    "mean_speed_kmh": "km/h",
    "teleports": "1",
    "collisions": "1",
    "emergency_brakings": "1",
    "vehicle_updates_per_s": "1/s",
    "real_time_factor": "1",
    "wall_time_s": "s",
    "mean_delay_s": "s",
    "worst_los": "",
    "worst_node": "",
    "nodes": "1",
}


# ------------------------------------------------------------------------------- helpers
def _num(x: Any) -> float:
    """A Python float (NaN for None or an empty reduction)."""
    if x is None:
        return math.nan
    return float(x)


def _mean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else math.nan


def _quantile(values: np.ndarray, q: float) -> float:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(np.quantile(values, q)) if len(values) else math.nan


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b and not math.isnan(b) and not math.isnan(a) else math.nan


def simulated_time_s(results: Any) -> float:
    """Simulated duration, s: ``completed_steps`` × ``dt`` from the root attributes; for a partial
    file (no completed steps) the last summary time minus ``begin`` (0 if absent)."""
    steps = results.attrs.get("completed_steps") or 0
    dt = _num(results.attrs.get("dt"))
    if steps and not math.isnan(dt):
        return float(steps) * dt
    times = results.summary["time"].to_numpy(dtype=float) if len(results.summary) else np.array([])
    if len(times):
        return float(np.nanmax(times) - float(results.attrs.get("begin", 0.0) or 0.0))
    return math.nan


def loaded_trips(results: Any, sim_s: float | None = None) -> pd.DataFrame:
    """The rows of ``/trips`` loaded by the end of the run: planned departure <= ``begin`` +
    simulated time (all rows when that end is unknown). A result file may list trips planned
    after the end of the run; they are not part of its KPIs."""
    trips = results.trips
    sim_s = simulated_time_s(results) if sim_s is None else sim_s
    if math.isnan(sim_s) or not len(trips):
        return trips
    end = float(results.attrs.get("begin", 0.0) or 0.0) + sim_s
    return trips[trips["depart_planned"].to_numpy(dtype=float) <= end + 1e-9]


def _trip_kpis(trips: pd.DataFrame, hours: float) -> dict[str, Any]:
    """The trip-table KPIs of a set of trips (used for the whole run and for each group)."""
    status = trips["status"].to_numpy()
    done = trips[status == _ARRIVED]
    inserted = ~np.isnan(trips["depart"].to_numpy(dtype=float))
    n_done = len(done)
    removed = int((status == _REMOVED).sum())
    return {
        "trips_loaded": len(trips),
        "trips_inserted": int(inserted.sum()),
        "trips_completed": n_done,
        "trips_unfinished": len(trips) - n_done - removed,
        "removed": removed,
        "mean_travel_time_s": _mean(done["duration"].to_numpy()),
        "p95_travel_time_s": _quantile(done["duration"].to_numpy(), 0.95),
        "mean_time_loss_s": _mean(done["time_loss"].to_numpy()),
        "mean_waiting_time_s": _mean(done["waiting_time"].to_numpy()),
        "mean_stops_per_trip": _mean(done["stops"].to_numpy()),
        "mean_insertion_delay_s": _mean(trips["insertion_delay"].to_numpy()[inserted]),
        "vkt_trips_km": float(np.nansum(trips["route_length"].to_numpy(dtype=float))) / 1000.0,
        "throughput_veh_per_h": _ratio(n_done, hours),
    }


# ------------------------------------------------------------------------------- LOS
def _check_thresholds(t: tuple[float, ...], name: str) -> tuple[float, ...]:
    t = tuple(float(v) for v in t)
    if len(t) != 5 or any(b <= a for a, b in zip(t, t[1:], strict=False)) or t[0] < 0:
        raise ValueError(f"{name} must be 5 increasing delays in s (limits of A..E), got {t}")
    return t


def level_of_service(delay_s: float, thresholds: tuple[float, ...] = HCM_SIGNAL) -> str | None:
    """HCM-style level of service for a mean control delay (s/veh): ``delay <= t[0]`` -> A,
    ``<= t[1]`` -> B, ... ``<= t[4]`` -> E, above -> F. None for NaN (no vehicles)."""
    t = _check_thresholds(tuple(thresholds), "LOS thresholds")
    if delay_s is None or math.isnan(delay_s):
        return None
    for letter, limit in zip(LOS_LETTERS, t, strict=False):
        if delay_s <= limit:
            return letter
    return "F"


def junction_delays(results: Any, los_signal: tuple[float, ...] = HCM_SIGNAL,
                    los_priority: tuple[float, ...] = HCM_PRIORITY) -> pd.DataFrame:
    """Per-node delay and level of service, from edge data of the node's incoming links.

    Columns: ``node`` (index), ``node_id``, ``control``, ``approach_links``, ``vehicles`` (Σ
    ``left`` of incoming links over all intervals; includes vehicles that arrive on those links),
    ``total_delay_s`` (Σ their ``time_loss``, vehicle-seconds), ``delay_s`` (mean s/veh, NaN
    without vehicles), ``los`` (A-F from ``los_signal`` at signal nodes, ``los_priority`` at every
    other node; None without vehicles).
    """
    results = as_results(results)
    sig = _check_thresholds(tuple(los_signal), "los_signal")
    pri = _check_thresholds(tuple(los_priority), "los_priority")
    nodes, links = results.nodes, results.links
    n_nodes = len(nodes)
    to_node = links["to_node"].to_numpy(dtype=np.int64)
    left = results.edgedata_array("left")
    loss = results.edgedata_array("time_loss")
    per_link_left = left.sum(axis=0) if left.size else np.zeros(len(links))
    per_link_loss = np.nansum(loss, axis=0) if loss.size else np.zeros(len(links))
    ok = (to_node >= 0) & (to_node < n_nodes)
    vehicles = np.bincount(to_node[ok], weights=per_link_left[ok], minlength=n_nodes)[:n_nodes]
    total = np.bincount(to_node[ok], weights=per_link_loss[ok], minlength=n_nodes)[:n_nodes]
    n_links = np.bincount(to_node[ok], minlength=n_nodes)[:n_nodes]
    with np.errstate(invalid="ignore", divide="ignore"):
        delay = np.where(vehicles > 0, total / np.where(vehicles > 0, vehicles, 1), np.nan)
    control = nodes["control"].astype(str).to_numpy() if n_nodes else np.array([], dtype=object)
    los = [level_of_service(d, sig if c == "signal" else pri) for d, c in zip(delay, control, strict=True)]
    df = pd.DataFrame({
        "node_id": nodes["id"].to_numpy(dtype=object) if n_nodes else np.array([], dtype=object),
        "control": control,
        "approach_links": n_links.astype(np.int64),
        "vehicles": vehicles.astype(np.int64),
        "total_delay_s": total,
        "delay_s": delay,
        "los": pd.Series(los, dtype=object),
    })
    df.index.name = "node"
    return df


def _junction_summary(jd: pd.DataFrame) -> dict[str, Any]:
    ctl = jd[jd["control"].isin(["signal", "priority"]) & (jd["vehicles"] > 0)]
    rated = ctl[ctl["los"].notna()]
    worst = rated.sort_values(["los", "delay_s"]).iloc[-1] if len(rated) else None
    return {
        "nodes": len(ctl),
        "mean_delay_s": _ratio(ctl["total_delay_s"].sum(), ctl["vehicles"].sum()),
        "worst_los": None if worst is None else str(worst["los"]),
        "worst_node": None if worst is None else str(worst["node_id"]),
    }


# ------------------------------------------------------------------------------- compute
def compute(results: Any, group_by: str | None = None, interval: float = 900.0,
            los_signal: tuple[float, ...] = HCM_SIGNAL,
            los_priority: tuple[float, ...] = HCM_PRIORITY) -> dict[str, Any]:
    """Compute the KPIs of a run (a :class:`~mobsim.analysis.results.Results` or a path to a result file).

    ``group_by``: None, ``"vtype"`` (adds ``"by_vtype"``: vtype id -> trip KPIs) or
    ``"depart_interval"`` (adds ``"by_depart_interval"``: ``"<begin>-<end>"`` in s -> trip KPIs
    of the trips whose *planned* departure falls in that interval of ``interval`` s; their
    ``throughput_veh_per_h`` is completed trips / interval hours). Group KPIs come from the
    loaded trips of the trip table only (``vkt_trips_km``); edge-based ones are not split.
    ``los_signal``, ``los_priority``: level-of-service thresholds, s (see :func:`level_of_service`).
    """
    results = as_results(results)
    if group_by not in (None, "vtype", "depart_interval"):
        raise ValueError(f"group_by must be None, 'vtype' or 'depart_interval', got {group_by!r}")
    if not interval > 0:
        raise ValueError(f"interval must be > 0 s, got {interval}")
    sim_s = simulated_time_s(results)
    hours = sim_s / 3600.0
    trips = loaded_trips(results, sim_s)
    out: dict[str, Any] = {"simulated_time_s": sim_s}
    out.update(_trip_kpis(trips, hours))
    out["trips_not_loaded"] = len(results.trips) - len(trips)

    dist = results.edgedata_array("distance")
    sampled = results.edgedata_array("sampled_seconds")
    if dist.shape[0]:
        vkt = float(np.nansum(dist)) / 1000.0
    else:
        vkt = out["vkt_trips_km"]
    vht = float(np.nansum(sampled)) / 3600.0 if sampled.shape[0] else math.nan
    out["vkt_km"] = vkt
    out["vht_h"] = vht
    out["mean_speed_kmh"] = _ratio(vkt, vht)

    kinds = results.events["kind"].to_numpy()
    out["teleports"] = int((kinds == _KIND["teleport"]).sum())
    out["collisions"] = int((kinds == _KIND["collision"]).sum())
    out["emergency_brakings"] = int((kinds == _KIND["emergency_braking"]).sum())
    health = results.health
    out["vehicle_updates_per_s"] = _num(health.get("vehicle_updates_per_s"))
    out["real_time_factor"] = _num(health.get("real_time_factor"))
    out["wall_time_s"] = _num(health.get("wall_time_s"))
    out["junctions"] = _junction_summary(junction_delays(results, los_signal, los_priority))

    order = [k for k in UNITS if k in out]
    out = {**{k: out[k] for k in order}, **{k: v for k, v in out.items() if k not in order}}
    out.update(extensions.mode_kpis(results))  # the modes' KPIs (drones: none without drones)

    if group_by == "vtype":
        ids = results.vtypes["id"].astype(str).tolist()
        codes = trips["vtype"].to_numpy()
        out["by_vtype"] = {vid: _trip_kpis(trips[codes == k], hours) for k, vid in enumerate(ids)}
    elif group_by == "depart_interval":
        planned = trips["depart_planned"].to_numpy(dtype=float)
        groups: dict[str, Any] = {}
        if len(planned) and np.isfinite(planned).any():
            first = math.floor(np.nanmin(planned) / interval)
            last = math.floor(np.nanmax(planned) / interval)
            bins = np.floor(planned / interval)
            for b in range(first, last + 1):
                key = f"{b * interval:g}-{(b + 1) * interval:g}"
                groups[key] = _trip_kpis(trips[bins == b], interval / 3600.0)
        out["by_depart_interval"] = groups
    return out


# ------------------------------------------------------------------------------- output
def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def to_json(kpis: dict[str, Any], indent: int | None = 2) -> str:
    """KPIs as JSON text: numpy scalars become Python numbers, NaN and infinities become null."""
    return json.dumps(_jsonable(kpis), indent=indent, allow_nan=False)


def _unit(key: str) -> str:
    unit = extensions.mode_unit(key)
    return UNITS.get(key, "") if unit is None else unit


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "n/a"
        if v != 0 and (abs(v) >= 1e7 or abs(v) < 1e-3):
            return f"{v:.4g}"
        return f"{v:,.3f}"
    return str(value)


def format_table(kpis: dict[str, Any]) -> str:
    """An aligned text table of the KPIs: name, value (right-aligned), unit. Nested dicts
    (``junctions``, ``by_vtype``, ``by_depart_interval``) become titled sections."""
    rows: list[tuple[str, str, str]] = []
    sections: list[tuple[str, dict[str, Any]]] = []
    for key, value in kpis.items():
        if isinstance(value, dict):
            sections.append((key, value))
        else:
            rows.append((key, _fmt(value), _unit(key)))

    def add_section(title: str, d: dict[str, Any], indent: str) -> None:
        if not all(isinstance(v, dict) for v in d.values()):
            rows.append(("", "", ""))
            rows.append((f"{indent}[{title}]", "", ""))
        for k, v in d.items():
            if isinstance(v, dict):
                add_section(f"{title}: {k}", v, indent)
            else:
                rows.append((f"{indent}  {k}", _fmt(v), _unit(k)))

    for title, d in sections:
        if d:
            add_section(title, d, "")
    header = ("kpi", "value", "unit")
    w0 = max(len(r[0]) for r in [*rows, header])
    w1 = max(len(r[1]) for r in [*rows, header])
    lines = [f"{header[0]:<{w0}}  {header[1]:>{w1}}  {header[2]}", f"{'-' * w0}  {'-' * w1}  ----"]
    for name, val, unit in rows:
        lines.append(f"{name:<{w0}}  {val:>{w1}}  {unit}".rstrip() if name or val else "")
    return "\n".join(lines)
