"""The on-demand tables of a finished run (:mod:`.schema`), from the mode's host arrays."""

from __future__ import annotations

from typing import Any

import numpy as np


def drt_tables(mode: Any, t_end: float) -> dict[str, dict[str, np.ndarray]]:
    """Group -> column -> array of every ``/drt`` table of ``mode`` (a
    :class:`mobsim.modes.drt.sim.DrtMode`) at the end of the run (``t_end``, s)."""
    from mobsim.modes.drt.schema import EV_DROPOFF, EV_PICKUP

    rq = mode.plan.requests
    ev = np.array(mode.events, np.float64).reshape(-1, 6)
    kind = ev[:, 2].astype(np.int8)
    veh = ev[:, 1].astype(np.int64)
    nv = len(mode.veh_ids)
    pick = np.bincount(veh[kind == EV_PICKUP], minlength=nv).astype(np.int32)
    drop = np.bincount(veh[kind == EV_DROPOFF], minlength=nv).astype(np.int32)
    dist = np.where(np.isnan(mode.km_final), mode.odo_now, mode.km_final)
    # what was driven after the last load change: occupied if someone is still on board
    tail = dist - mode.odo_last
    occ = mode.occ_m + np.where(mode.fleet.load > 0, tail, 0.0)
    pm = mode.pm + tail * mode.fleet.load
    with np.errstate(invalid="ignore"):
        wait = mode.r_pick - mode.r_early
        ride = mode.r_drop - mode.r_pick
    return {
        "drt/requests": {
            "id": np.asarray(rq.id, dtype=object), "time": mode.r_time, "earliest": mode.r_early,
            "origin": np.asarray(rq.origin, dtype=object), "origin_pos": mode.r_opos,
            "destination": np.asarray(rq.destination, dtype=object), "destination_pos": mode.r_dpos,
            "group": mode.r_group.astype(np.int32), "status": mode.r_status.astype(np.int8),
            "vehicle": mode.r_veh.astype(np.int32), "assigned": mode.r_assigned, "pickup": mode.r_pick,
            "dropoff": mode.r_drop, "direct": mode.r_direct, "wait": wait, "ride": ride,
            "latest_pickup": mode.r_pick_due, "latest_dropoff": mode.r_drop_due,
            "planned_pickup": mode.r_plan_pick, "planned_dropoff": mode.r_plan_drop},
        "drt/vehicles": {
            "id": np.array(mode.veh_ids, dtype=object), "trip": mode.veh_trip.astype(np.int32),
            "depot": np.array([v.depot for v in mode.plan.vehicles], dtype=object),
            "capacity": mode.cap.astype(np.int32), "start": mode.svc_start, "end": mode.svc_end,
            "distance": dist, "occupied_distance": occ, "person_distance": pm, "pickups": pick,
            "dropoffs": drop},
        "drt/events": {
            "time": ev[:, 0], "vehicle": veh.astype(np.int32), "kind": kind,
            "request": ev[:, 3].astype(np.int32), "link": ev[:, 4].astype(np.int32),
            "load": ev[:, 5].astype(np.int32)},
        "drt/dispatch": {"dispatch_calls": np.array([mode.dispatch_calls], np.int64),
                         "dispatch_wall": np.array([mode.dispatch_wall], np.float64),
                         "missed_stops": np.array([mode.missed], np.int64)},
    }
