"""The best insertion of a ride request into an on-demand vehicle's schedule, one item per
(vehicle, request) pair: the batched evaluation behind every insertion dispatcher.

A vehicle ``v`` is free at node ``veh_node[v]`` from time ``veh_time[v]`` (s) with
``veh_load[v]`` persons on board and room for ``veh_cap[v]``; it then serves its ``stop_n[v]``
stops in order, row ``v`` of the ``(vehicles, max stops)`` stop arrays. A stop is a node, a load
change (persons boarding > 0, alighting < 0), an earliest service time (a pick-up waits for it)
and a latest one (its deadline). Serving a pick-up takes ``dwell`` s, a drop-off ``dwell_drop`` s.

A request ``r`` goes from node ``req_o[r]`` to ``req_d[r]`` with ``req_g[r]`` persons; it may be
picked up from ``req_early[r]`` and must be picked up by ``req_pick_due[r]`` and dropped off by
``req_drop_due[r]`` (MATSim DRT's latest start and latest arrival: the request time plus the
maximum wait, and plus ``alpha`` times the direct travel time plus ``beta``).

An insertion ``(i, j)`` puts the pick-up before old stop ``i`` and the drop-off before old stop
``j`` (``0 <= i <= j <= n``; ``j == i``: the drop-off right after the pick-up). It is feasible
when every stop of the new schedule, the two new ones included, is served by its deadline and the
load never exceeds the capacity; its cost is the operating time it adds (the end of the new
schedule less the end of the old one, s). The item for pair ``p = v * n_req + r`` writes the
cheapest feasible insertion (ties: the smallest ``i``, then ``j``) to ``out_cost[p]``,
``out_i[p]``, ``out_j[p]``, or ``inf``, -1, -1 if there is none: every item writes only its own
pair, so the result is the same on any number of threads and on the GPU.

Travel times between nodes come from the matrix ``tt`` (s, ``tt[a, b]``), which the dispatcher
fills from the route service (current link travel times): shortest times, so that no detour
reaches a pick-up sooner than the direct way (a pair whose vehicle cannot reach the pick-up by its
deadline even directly is skipped at once). Nodes are links and a stop has a position on its link
(m; the vehicle its own): from one stop to the next on the same link behind it the vehicle goes
once round the block, ``loop[node]`` (s; 0 where positions do not matter, e.g. stops at nodes
of a graph). The schedule is simulated for every
``(i, j)`` (``O(n^3)`` per pair for ``n`` stops; schedules hold a few stops).
"""

from __future__ import annotations

import math

from numba.extending import register_jitable


@register_jitable
def _stop_at(k, i, j):
    """Which stop comes ``k``-th in the schedule with the pick-up before old stop ``i`` and the
    drop-off before old stop ``j``: an old stop's index (``>= 0``), -1 the pick-up, -2 the
    drop-off."""
    if k < i:
        return k
    if k == i:
        return -1
    if k <= j:
        return k - 1
    if k == j + 1:
        return -2
    return k - 2


@register_jitable
def schedule_end(v, r, i, j, tt, loop, veh_node, veh_pos, veh_time, veh_load, veh_cap, stop_n, stop_node,
                 stop_pos, stop_delta, stop_early, stop_due, req_o, req_opos, req_d, req_dpos, req_g,
                 req_early, req_pick_due, req_drop_due, dwell, dwell_drop):
    """End time (s) of vehicle ``v``'s schedule with request ``r`` inserted at ``(i, j)``, or
    ``inf`` where a deadline or the capacity is broken; ``r < 0`` (and any ``i``, ``j``): the
    schedule as it is."""
    n = stop_n[v]
    total = n + 2 if r >= 0 else n
    node = veh_node[v]
    pos = veh_pos[v]
    t = veh_time[v]
    load = veh_load[v]
    for k in range(total):
        s = _stop_at(k, i, j) if r >= 0 else k
        if s >= 0:
            nxt, npos, delta = stop_node[v, s], stop_pos[v, s], stop_delta[v, s]
            early, due = stop_early[v, s], stop_due[v, s]
        elif s == -1:
            nxt, npos, delta, early, due = req_o[r], req_opos[r], req_g[r], req_early[r], req_pick_due[r]
        else:
            nxt, npos, delta, early, due = req_d[r], req_dpos[r], -req_g[r], -math.inf, req_drop_due[r]
        if nxt == node and npos < pos:
            t += loop[node]  # behind on the same link: once round the block
        else:
            t += tt[node, nxt]
        if t < early:
            t = early  # a pick-up waits for its earliest time
        if t > due + 1e-9:
            return math.inf
        load += delta
        if load > veh_cap[v]:
            return math.inf
        t += dwell if delta > 0 else dwell_drop
        node = nxt
        pos = npos
    return t


@register_jitable
def best_insertion(p, n_req, tt, loop, veh_node, veh_pos, veh_time, veh_load, veh_cap, stop_n, stop_node,
                   stop_pos, stop_delta, stop_early, stop_due, req_o, req_opos, req_d, req_dpos, req_g,
                   req_early, req_pick_due, req_drop_due, dwell, dwell_drop, out_cost, out_i, out_j):
    """The cheapest feasible insertion for pair ``p = v * n_req + r`` (module docstring)."""
    v = p // n_req
    r = p - v * n_req
    out_cost[p] = math.inf
    out_i[p] = -1
    out_j[p] = -1
    if veh_time[v] + tt[veh_node[v], req_o[r]] > req_pick_due[r] + 1e-9 or req_g[r] > veh_cap[v]:
        return  # cannot reach the pick-up in time even directly (tt holds shortest times)
    base = schedule_end(v, -1, 0, 0, tt, loop, veh_node, veh_pos, veh_time, veh_load, veh_cap, stop_n,
                        stop_node, stop_pos, stop_delta, stop_early, stop_due, req_o, req_opos, req_d,
                        req_dpos, req_g, req_early, req_pick_due, req_drop_due, dwell, dwell_drop)
    n = stop_n[v]
    best = math.inf
    bi = -1
    bj = -1
    if base < math.inf:
        for i in range(n + 1):
            for j in range(i, n + 1):
                end = schedule_end(v, r, i, j, tt, loop, veh_node, veh_pos, veh_time, veh_load, veh_cap,
                                   stop_n, stop_node, stop_pos, stop_delta, stop_early, stop_due, req_o,
                                   req_opos, req_d, req_dpos, req_g, req_early, req_pick_due, req_drop_due,
                                   dwell, dwell_drop)
                if end - base < best:
                    best = end - base
                    bi = i
                    bj = j
    out_cost[p] = best
    out_i[p] = bi
    out_j[p] = bj
