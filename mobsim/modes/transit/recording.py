"""The transit tables of a finished run (:mod:`.schema`), from the mode's arrays (pulled to the
host) and the road's trips: stops, lines and their stop patterns, one stop event per scheduled
call of every service, one row per passenger (journey) and one per ride of a journey (leg)."""

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
    nv = s.veh_nvis.astype(np.int64)
    v0 = s.veh_visit0.astype(np.int64)
    start = np.concatenate([[0], np.cumsum(nv)])[:-1]
    visit = np.arange(int(nv.sum()), dtype=np.int64) - np.repeat(start, nv)
    line = np.repeat(mode.veh_line.astype(np.int64), nv)
    v = np.repeat(v0, nv) + visit
    pattern = np.array([ln.pattern for ln in lines], np.int64)
    pat_stop = np.array([sidx[x] for ln in lines for x in ln.stops], np.int32)
    # route distance of each call of a line from its first stop, and the links it drives (the
    # same for all its services: its first service's)
    first_dist, ll_line, ll_link = [], [], []
    for li, ln in enumerate(lines):
        own = np.nonzero(mode.veh_line == li)[0]
        if own.size:
            d = _visit_distance(road, np.arange(v0[own[0]], v0[own[0]] + ln.visits()))
            first_dist.append(d - d[0])
            k = int(mode.trips[own[0]])
            links = road.route_links[int(road.route_start[k]):int(road.route_end[k])]
            ll_link.append(np.asarray(links, np.int32))
            ll_line.append(np.full(len(links), li, np.int32))
        else:
            first_dist.append(np.full(ln.visits(), np.nan))
    dist_off = np.concatenate([[0], np.cumsum([len(d) for d in first_dist])])[:-1].astype(np.int64)
    flat_dist = np.concatenate(first_dist) if first_dist else np.zeros(0)
    until = np.asarray(road.W.visit_until)[v] if v.size else np.zeros(0)
    tables["transit/stop_events"] = {
        "trip": np.repeat(mode.trips, nv).astype(np.int32), "line": line.astype(np.int32),
        "service": np.repeat(mode.veh_service, nv).astype(np.int32), "visit": visit.astype(np.int32),
        "stop": s.visit_stop[v].astype(np.int32),
        "scheduled": np.where(np.isfinite(until), until, np.nan),
        "arrival": s.ev_arr[v], "departure": s.ev_dep[v], "boardings": s.ev_board[v].astype(np.int32),
        "alightings": s.ev_alight[v].astype(np.int32), "load": s.ev_load[v].astype(np.int32),
        "distance": flat_dist[dist_off[line] + visit]}
    tables["transit/line_links"] = {
        "line": np.concatenate(ll_line) if ll_line else np.zeros(0, np.int32),
        "link": np.concatenate(ll_link) if ll_link else np.zeros(0, np.int32)}
    tables["transit/line_stops"] = {
        "line": np.repeat(np.arange(len(lines), dtype=np.int32), pattern),
        "seq": np.concatenate([np.arange(r, dtype=np.int32) for r in pattern]),
        "stop": pat_stop,
        "distance": np.concatenate([d[:ln.pattern] for d, ln in zip(first_dist, lines, strict=True)])}
    # legs: alighting at the first call at or after the stop they were bound to (a stop the
    # vehicle skipped lets them out at its next call)
    lg = mode.legs
    board_v = s.p_visit.astype(np.int64)
    boarded = board_v >= 0
    veh = np.where(boarded, s.p_veh, 0).astype(np.int64)
    trip = np.where(boarded, mode.trips[veh] if veh.size and mode.trips.size else 0, -1).astype(np.int32)
    ridden = np.where(boarded, mode.veh_line[veh] if veh.size and mode.trips.size else 0, -1).astype(np.int32)
    dep = np.where(boarded, s.ev_dep[np.where(boarded, board_v, 0)], np.nan)
    n_v = s.ev_arr.shape[0]
    called = np.where(np.isfinite(s.ev_arr), np.arange(n_v), n_v)
    next_call = np.minimum.accumulate(called[::-1])[::-1]
    target = np.where(boarded, s.p_off, 0)
    nxt = next_call[target] if target.size else np.zeros(0, np.int64)
    ends = v0[veh] + nv[veh] if veh.size and v0.size else np.zeros(veh.shape[0], np.int64)
    alight = np.where(boarded & (nxt < ends), s.ev_arr[np.minimum(nxt, n_v - 1)], np.nan)
    tables["transit/legs"] = {
        "passenger": lg["person"].astype(np.int32), "leg": lg["leg"].astype(np.int32),
        "origin": lg["origin"].astype(np.int32), "destination": lg["destination"].astype(np.int32),
        "line": ridden, "arrival": s.p_arr, "boarding": s.p_board, "departure": dep, "alighting": alight,
        "trip": trip, "denied": s.p_denied.astype(np.int32)}
    # passengers: their journeys, from the legs (first leg: boarding; last leg: alighting)
    n_p = lg["person_arrival"].shape[0]
    by = np.lexsort((lg["leg"], lg["person"]))  # each person's legs together, in order
    first = by[np.searchsorted(lg["person"][by], np.arange(n_p))]
    last = by[np.searchsorted(lg["person"][by], np.arange(n_p), side="right") - 1]
    rides = np.bincount(lg["person"][boarded], minlength=n_p) if n_p else np.zeros(0, np.int64)
    tables["transit/passengers"] = {
        "origin": lg["person_origin"].astype(np.int32),
        "destination": lg["person_destination"].astype(np.int32), "line": ridden[first],
        "arrival": lg["person_arrival"], "boarding": s.p_board[first],
        "departure": dep[first], "alighting": alight[last], "trip": trip[first],
        "denied": np.bincount(lg["person"], weights=s.p_denied, minlength=n_p).astype(np.int32)
        if n_p else np.zeros(0, np.int32),
        "legs": lg["person_legs"].astype(np.int32), "rides": rides.astype(np.int32)}
    return tables
