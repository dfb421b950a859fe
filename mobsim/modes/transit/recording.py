"""The transit tables of a finished run (:mod:`.schema`), from the mode's arrays (pulled to the
host) and the road's trips: stops, lines and their stop patterns, one stop event per scheduled
call of every service, one row per passenger."""

from __future__ import annotations

from typing import Any

import numpy as np


def _visit_distance(road: Any, visits: np.ndarray) -> np.ndarray:
    """Route distance (m) of each stop visit from the start of its trip's first link."""
    W = road.W
    link_len = road.cn.arrays.link_len
    out = np.zeros(visits.shape[0])
    for n, v in enumerate(visits):
        rp = int(W.visit_rp[v])
        # the route entries before the visit's link, of the trip whose route holds rp
        k = int(np.searchsorted(road.route_start, rp, side="right") - 1)
        before = road.route_links[road.route_start[k]:rp]
        out[n] = float(link_len[before].sum()) + float(W.visit_pos[v])
    return out


def transit_tables(mode: Any) -> dict[str, dict[str, np.ndarray]]:
    """Group -> column -> array of every transit table."""
    plan, s, road = mode.plan, mode.state, mode.road
    lines = plan.lines
    sidx = plan.stop_index()
    tables: dict[str, dict[str, np.ndarray]] = {}
    tables["transit/stops"] = {
        "id": np.array([x.id for x in plan.stops], dtype=object),
        "link": np.array([x.link for x in plan.stops], dtype=object),
        "pos": np.array([x.pos for x in plan.stops]), "length": np.array([x.length for x in plan.stops]),
        "bay": np.array([int(x.bay) for x in plan.stops], np.int8)}
    tables["transit/lines"] = {
        "id": np.array([ln.id for ln in lines], dtype=object),
        "loop": np.array([int(ln.loop) for ln in lines], np.int8),
        "vehicle": np.array([ln.vehicle for ln in lines], dtype=object),
        "capacity": np.array([plan.vehicle(ln).capacity for ln in lines], np.int32),
        "stops": np.array([ln.pattern for ln in lines], np.int32),
        "rounds": np.array([ln.rounds for ln in lines], np.int32),
        "services": np.array([len(ln.departures) for ln in lines], np.int32)}
    # stop events: every visit of every service, in (line, service, visit) order
    ev: dict[str, list[Any]] = {c: [] for c in ("trip", "line", "service", "visit", "stop", "v")}
    first_dist: dict[int, np.ndarray] = {}
    for j in range(mode.trips.shape[0]):
        li = int(mode.veh_line[j])
        ln = lines[li]
        nv = ln.visits()
        v0 = int(s.veh_visit0[j])
        for q in range(nv):
            ev["trip"].append(int(mode.trips[j]))
            ev["line"].append(li)
            ev["service"].append(int(mode.veh_service[j]))
            ev["visit"].append(q)
            ev["stop"].append(sidx[ln.stops[q % ln.pattern]])
            ev["v"].append(v0 + q)
        if li not in first_dist:
            d = _visit_distance(road, np.arange(v0, v0 + nv))
            first_dist[li] = d - d[0]
    v = np.array(ev["v"], np.int64)
    until = np.asarray(road.W.visit_until)[v] if v.size else np.zeros(0)
    dist = np.array([first_dist[li][q] for li, q in zip(ev["line"], ev["visit"], strict=True)])
    tables["transit/stop_events"] = {
        "trip": np.array(ev["trip"], np.int32), "line": np.array(ev["line"], np.int32),
        "service": np.array(ev["service"], np.int32), "visit": np.array(ev["visit"], np.int32),
        "stop": np.array(ev["stop"], np.int32),
        "scheduled": np.where(np.isfinite(until), until, np.nan),
        "arrival": s.ev_arr[v], "departure": s.ev_dep[v], "boardings": s.ev_board[v].astype(np.int32),
        "alightings": s.ev_alight[v].astype(np.int32), "load": s.ev_load[v].astype(np.int32),
        "distance": dist}
    rows = [ln.pattern for ln in lines]
    tables["transit/line_stops"] = {
        "line": np.repeat(np.arange(len(lines), dtype=np.int32), rows),
        "seq": np.concatenate([np.arange(r, dtype=np.int32) for r in rows]),
        "stop": np.array([sidx[x] for ln in lines for x in ln.stops], np.int32),
        "distance": np.concatenate([first_dist.get(li, np.full(ln.pattern, np.nan))[:ln.pattern]
                                    for li, ln in enumerate(lines)])}
    # passengers: alighting at the first call at or after the stop they were bound to
    board_v = s.p_visit.astype(np.int64)
    boarded = board_v >= 0
    trip = np.where(boarded, mode.trips[np.where(boarded, s.p_veh, 0)], -1).astype(np.int32)
    dep = np.where(boarded, s.ev_dep[np.where(boarded, board_v, 0)], np.nan)
    alight = np.full(board_v.shape[0], np.nan)
    for p in np.nonzero(boarded)[0]:
        j = int(s.p_veh[p])
        last = int(s.veh_visit0[j]) + int(s.veh_nvis[j])
        for w in range(int(board_v[p]) + int(s.p_ride[p]), last):
            if np.isfinite(s.ev_arr[w]):
                alight[p] = s.ev_arr[w]
                break
    tables["transit/passengers"] = {
        "origin": mode.p_orig, "destination": mode.p_dest, "line": mode.p_line, "arrival": s.p_arr,
        "boarding": s.p_board, "departure": dep, "alighting": alight, "trip": trip,
        "denied": s.p_denied.astype(np.int32)}
    return tables
