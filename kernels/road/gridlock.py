"""The gridlock policy (teleport or remove), in two passes.

Pass 1 (:func:`flag_one`, one call per running vehicle) decides the gridlock action for the front
vehicle of a lane that has stood for ``sim.gridlock_time`` seconds: removal (policy ``remove``), or
a teleport as SUMO does it (policy ``teleport``): the vehicle leaves the network at once, freeing
its lane, and moves on along its route out of the network until a lane further on takes it
(:mod:`.transfer`); on the last link of its route it arrives instead. Pass 2
(:func:`gridlock_apply`) carries the decisions out. Pass 1 reads positions that no one writes in
that pass, and pass 2 writes only the vehicle's own state, its lane's counters and, through
atomics, the counters and the transit list (which :mod:`.transfer` sorts by trip), so the passes
give the same result on any number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..runtime.atomics import atomic_add
from ..runtime.layout import (
    C_ARRIVED,
    C_NTP,
    C_REMOVED,
    C_STEP,
    C_TELE,
    E_REMOVAL,
    E_TELEPORT,
    FLAG_INSIDE,
    P_DT,
    P_GRID_MODE,
    P_GRID_TIME,
    S_ARRIVED,
    S_REMOVED,
    S_RUNNING,
    S_TRANSIT,
)
from .lanes import add_event
from .routes import route_link
from .transfer import transit_steps

#: Gridlock decision codes (``tp_lane``, kept in ``V.lane_aux``).
TP_NONE = -1
TP_REMOVE = -2
TP_ARRIVE = -3    # teleport on the last link of the route: the trip ends there (SUMO's "teleports
                  # beyond arrival edge": an arrival)
TP_TRANSIT = -4   # teleport: off the network, on along the route (kernels.road.transfer)


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
    if mode == 0 or not front or V.status[i] != S_RUNNING:
        return
    if V.standstill[i] < par[P_GRID_TIME] / par[P_DT] - 1e-9:
        return
    if mode == 2:
        V.lane_aux[i] = TP_REMOVE
    elif V.route_pos[i] + 1 >= V.route_end[i]:
        V.lane_aux[i] = TP_ARRIVE
    else:
        V.lane_aux[i] = TP_TRANSIT


@njit(cache=True)
def gridlock_apply(V, N, L, W, vt, par, i, t):
    """Pass 2 for vehicle ``i``: carry out its removal or teleport (at ``t``, the step's end)."""
    tp = V.lane_aux[i]
    if tp == TP_NONE:
        return
    lane = V.lane[i]
    link = N.lane_link[lane]
    waited = V.standstill[i] * par[P_DT]
    if tp == TP_REMOVE:
        V.status[i] = S_REMOVED
        atomic_add(W.cnt, C_REMOVED, 1)
        add_event(W, t, E_REMOVAL, i, link, waited)
        return
    atomic_add(L.a_left, lane, 1)
    V.teleports[i] += 1
    V.speed[i] = 0.0
    V.standstill[i] = 0
    atomic_add(W.cnt, C_TELE, 1)
    add_event(W, t, E_TELEPORT, i, link, waited)
    if tp == TP_ARRIVE:
        V.travel[i] = (W.cnt[C_STEP] - V.dep_step[i] + 1) * par[P_DT]
        V.status[i] = S_ARRIVED
        atomic_add(W.cnt, C_ARRIVED, 1)
        return
    # In transit: the distance driven so far is kept in dist0 (pos is 0 until it is back).
    V.dist0[i] += V.pos[i]
    V.pos[i] = 0.0
    V.status[i] = S_TRANSIT
    V.route_pos[i] += 1
    nl = route_link(N, W, link, V.route_pos[i], V.route_end[i])
    V.lane[i] = N.link_first_lane[nl]
    V.need_mask[i] = -1
    V.flags[i] &= ~np.int8(FLAG_INSIDE)
    V.lc_step[i] = W.cnt[C_STEP]  # no re-entry in this step (kernels.road.transfer)
    V.tp_step[i] = W.cnt[C_STEP] + transit_steps(N, L, nl, par[P_DT])
    W.tp_list[atomic_add(W.cnt, C_NTP, 1)] = i
