"""The gridlock policy (teleport or remove), in two passes.

Pass 1 (:func:`flag_one`, one call per running vehicle) decides the gridlock action: the front
vehicle of a lane standing for ``sim.gridlock_time`` seconds is removed (policy ``remove``, or at
the end of its route), or claims a lane with room on the first link further along its route that has
one (policy ``teleport``, as SUMO: the next link is often part of the same jam); the lowest trip
number wins a lane (an atomic minimum). Pass 2 (:func:`gridlock_apply`) carries out removals and the
winning teleports; losers try again next step. Pass 1 reads positions that no one writes in that
pass, so the passes give the same result on any number of threads.
"""

from __future__ import annotations

from numba import njit

from .atomics import atomic_add, atomic_min
from .lanes import add_event, lane_serves
from .layout import (
    C_REMOVED,
    C_TELE,
    E_REMOVAL,
    E_TELEPORT,
    P_DT,
    P_GRID_MODE,
    P_GRID_TIME,
    T_LEN,
    T_S0,
)
from .routes import route_link

#: How many links along its route a teleported vehicle may skip.
MAX_TELEPORT_LINKS = 32
#: Gridlock decision codes (``tp_lane``, kept in ``V.lane_aux``) besides a lane index.
TP_NONE = -1
TP_REMOVE = -2


@njit(cache=True)
def flags_range(V, N, L, W, vt, par, a, b, stride, t):
    """Pass 1 for sorted indices ``a, a + stride, ... < b`` (see :func:`flag_one`)."""
    order = W.order
    tp_lane = V.lane_aux  # the lane-change request is spent: the planning has read it
    standstill = V.standstill
    lane_start = L.lane_start
    grid_on = par[P_GRID_MODE] > 0
    grid_steps = par[P_GRID_TIME] / par[P_DT] - 1e-9
    for k in range(a, b, stride):
        i = order[k]
        tp_lane[i] = TP_NONE
        if grid_on and standstill[i] >= grid_steps:
            front = k == lane_start[V.lane[i] + 1] - 1
            flag_one(V, N, L, W, vt, par, i, t, front)


@njit(cache=True)
def gridlock_range(V, N, L, W, vt, par, a, b, stride, t):
    """Pass 2 for sorted indices ``a, a + stride, ... < b`` (see :func:`gridlock_apply`)."""
    order = W.order
    tp_lane = V.lane_aux
    for k in range(a, b, stride):
        i = order[k]
        if tp_lane[i] != TP_NONE:
            gridlock_apply(V, N, L, W, vt, par, i, t)


@njit(cache=True)
def flag_one(V, N, L, W, vt, par, i, t, front):
    """Pass 1 for vehicle ``i``: the gridlock decision in ``tp_lane``.

    Only the front vehicle of a lane (``front``) is removed or teleported, as in SUMO: the one
    waiting at the junction. A vehicle further back in a standing queue moves up when the front
    one has gone; teleporting it out of the middle of the queue would leave a gap that the
    insertion at the lane start cannot see (it looks at the lane's rearmost vehicle)."""
    V.lane_aux[i] = TP_NONE
    mode = par[P_GRID_MODE]
    if mode == 0 or not front or V.status[i] != 1 or V.standstill[i] < par[P_GRID_TIME] / par[P_DT] - 1e-9:
        return
    if mode == 2 or V.route_pos[i] + 1 >= V.route_end[i]:
        V.lane_aux[i] = TP_REMOVE
        return
    # Teleport, as SUMO does, to the start of the first link further along the route that has a
    # lane with room (the next link is often part of the same jam).
    length = vt[V.vtype[i], T_LEN]
    need = length + vt[V.vtype[i], T_S0]
    q_end = V.route_end[i]
    if q_end > V.route_pos[i] + 1 + MAX_TELEPORT_LINKS:
        q_end = V.route_pos[i] + 1 + MAX_TELEPORT_LINKS
    nl = N.lane_link[V.lane[i]]
    for q_rp in range(V.route_pos[i] + 1, q_end):
        nl = route_link(N, W, nl, q_rp, V.route_end[i])
        after = route_link(N, W, nl, q_rp + 1, V.route_end[i])
        first = N.link_first_lane[nl]
        for q in range(N.link_nlanes[nl]):
            tl = first + q
            if after >= 0 and not lane_serves(N, tl, after) and q < N.link_nlanes[nl] - 1:
                continue
            r = L.lane_rear[tl]
            room = N.lane_len[tl]
            if r >= 0 and V.status[r] == 1 and V.lane[r] == tl:
                room = V.pos[r] - vt[V.vtype[r], T_LEN]
            if room >= need:
                V.lane_aux[i] = tl
                atomic_min(L.lane_claim, tl, V.trip[i])  # lowest trip wins: slot-independent
                return
    if q_end == V.route_end[i]:
        # No room anywhere on the rest of the route: SUMO's teleport would carry the vehicle to
        # its destination; here it leaves the network (a removal), freeing the junction.
        V.lane_aux[i] = TP_REMOVE


@njit(cache=True)
def gridlock_apply(V, N, L, W, vt, par, i, t):
    """Pass 2 for vehicle ``i``: carry out its removal or winning teleport."""
    tl = V.lane_aux[i]
    if tl == TP_NONE:
        return
    lane = V.lane[i]
    link = N.lane_link[lane]
    if tl == TP_REMOVE:
        V.status[i] = 3
        atomic_add(W.cnt, C_REMOVED, 1)
        add_event(W, t, E_REMOVAL, i, link, V.standstill[i] * par[P_DT])
        return
    if L.lane_claim[tl] != V.trip[i]:
        return  # a lower trip took the lane this step
    length = vt[V.vtype[i], T_LEN]
    atomic_add(L.a_left, lane, 1)
    L.a_ent[tl] += 1
    # The route position of the target link: the first occurrence after the current one, as in
    # flag_one's search (a route may pass a link twice).
    target = N.lane_link[tl]
    rp = V.route_pos[i] + 1
    at = route_link(N, W, link, rp, V.route_end[i])
    while rp < V.route_end[i] - 1 and at != target:
        rp += 1
        at = route_link(N, W, at, rp, V.route_end[i])
    newpos = length if length < N.lane_len[tl] else N.lane_len[tl]
    V.dist0[i] += V.pos[i] - newpos  # a teleport covers no distance
    V.lane[i] = tl
    V.pos[i] = newpos
    V.speed[i] = 0.0
    V.route_pos[i] = rp
    V.need_mask[i] = -1
    V.standstill[i] = 0
    V.teleports[i] += 1
    L.lane_rear[tl] = i
    atomic_add(W.cnt, C_TELE, 1)
    add_event(W, t, E_TELEPORT, i, link, par[P_GRID_TIME])
