"""Vehicles in transit after a teleport, as SUMO's vehicle transfer moves them.

A teleported vehicle (:mod:`.gridlock`) leaves the network at once and is *in transit* (status
``S_TRANSIT``): it sits virtually at the start of the next link of its route and, every step,
tries to re-enter there on a lane that leads on along its route, where the gap to that lane's
rearmost vehicle admits its model's insertion speed (the test of a departure, :mod:`.insertion`).
When the time to pass the link has gone by (its length over the mean speed of the vehicles on it,
or its speed limit when it is empty; at least 1 m/s, SUMO's ``getCurrentTravelTime``), it moves on
to the following link; past the last link of its route it arrives. Until it is back on a lane it
drives no distance and accumulates no waiting or time loss.

A vehicle re-enters from the step after its teleport on (SUMO tries in the same step). One
serial pass per step, after the gridlock passes and before the departures (SUMO re-inserts
teleported vehicles before it inserts new ones). The list is sorted by trip number first: the
gridlock pass appends to it through an atomic counter, in an order that depends on the threads,
and the vehicles in transit compete for lanes in that sorted order, so the result does not.
"""

from __future__ import annotations

import math

from numba import njit

from ..physics.carfollow import cf_insert_speed
from ..runtime.atomics import atomic_add
from ..runtime.layout import (
    C_ARRIVED,
    C_NRUN,
    C_NTP,
    C_STEP,
    P_DT,
    S_ARRIVED,
    S_RUNNING,
    T_ACC,
    T_CF,
    T_DEC,
    T_LEN,
    T_S0,
    T_TAU,
)
from ..runtime.precision import f32_down
from .insertion import gap_from_start, upstream_can_stop
from .lanes import lane_score, top_lane_score, v0_of
from .routes import route_link

#: Lowest speed (m/s) at which a vehicle in transit passes a link (SUMO's ``TeleportMinSpeed``).
TRANSIT_MIN_SPEED = 1.0


@njit(cache=True)
def transit_steps(N, L, link, dt):
    """Steps a vehicle in transit takes to pass ``link``: its length over the mean speed of the
    vehicles on it at this step's sort (``lane_vsum`` of the move over ``lane_start`` counts), or
    over its speed limit when it is empty, but at least :data:`TRANSIT_MIN_SPEED`."""
    first = N.link_first_lane[link]
    vsum = 0.0
    nveh = 0
    for lane in range(first, first + N.link_nlanes[link]):
        vsum += L.lane_vsum[lane]
        nveh += L.lane_start[lane + 1] - L.lane_start[lane]
    v = vsum / nveh if nveh > 0 else N.lane_speed[first]
    if v < TRANSIT_MIN_SPEED:
        v = TRANSIT_MIN_SPEED
    return int(math.ceil(N.lane_len[first] / v / dt - 1e-9))


@njit(cache=True)
def try_reenter(V, N, L, W, vt, par, i, step):
    """Put vehicle ``i`` (in transit) back at the start of its current route link if a lane that
    leads on along its route has room for its insertion speed; True on success."""
    ty = V.vtype[i]
    rp = V.route_pos[i]
    link = N.lane_link[V.lane[i]]
    nl = route_link(N, W, link, rp + 1, V.route_end[i])
    after = route_link(N, W, nl, rp + 2, V.route_end[i]) if nl >= 0 else -1
    first = N.link_first_lane[link]
    length = vt[ty, T_LEN]
    top = top_lane_score(N, link, nl, after)
    best = -1
    best_gap = -1.0
    best_v = 0.0
    for lane in range(first, first + N.link_nlanes[link]):
        if nl >= 0 and lane_score(N, lane, nl, after) < top:
            continue
        if L.lane_used[lane] == step:
            continue
        pos = length if length < N.lane_len[lane] else N.lane_len[lane]
        gap, vl = gap_from_start(V, N, L, W, vt, lane, pos, nl, after, vt[ty, T_S0])
        v0 = v0_of(N.lane_speed, V.sfac, vt, i, lane, ty)
        v = cf_insert_speed(int(vt[ty, T_CF]), gap, v0, vl, vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0],
                            vt[ty, T_TAU], par[P_DT])
        if v < 0.0 or not upstream_can_stop(V, N, L, W, vt, lane, pos - length, v):
            continue
        if gap > best_gap:
            best = lane
            best_gap = gap
            best_v = v
    if best < 0:
        return False
    pos = length if length < N.lane_len[best] else N.lane_len[best]
    V.status[i] = S_RUNNING
    V.lane[i] = best
    V.pos[i] = pos
    V.dist0[i] -= pos
    V.moved[i] = 0.0
    V.speed[i] = f32_down(best_v)
    V.acc[i] = 0.0
    V.lc_step[i] = step
    V.standstill[i] = 0
    V.need_mask[i] = -1
    L.lane_used[best] = step
    L.lane_rear[best] = i
    L.a_ent[best] += 1
    W.order[atomic_add(W.cnt, C_NRUN, 1)] = i
    return True


@njit(cache=True)
def transfer_pass(V, N, L, W, vt, par):
    """Advance every vehicle in transit by one step (see the module docstring); ``W.tp_list``
    keeps the ones still in transit, in trip order."""
    n = W.cnt[C_NTP]
    if n == 0:
        return
    tp = W.tp_list
    trip = V.trip
    for k in range(1, n):  # insertion sort by trip: the list is short and nearly sorted
        i = tp[k]
        q = k - 1
        while q >= 0 and trip[tp[q]] > trip[i]:
            tp[q + 1] = tp[q]
            q -= 1
        tp[q + 1] = i
    step = W.cnt[C_STEP]
    dt = par[P_DT]
    keep = 0
    for k in range(n):
        i = tp[k]
        # Not in the step of its teleport: the sorted order still holds the vehicle until the
        # next sort drops it, and a second entry would make it two vehicles there.
        if V.lc_step[i] != step and try_reenter(V, N, L, W, vt, par, i, step):
            continue
        if step >= V.tp_step[i]:
            if V.route_pos[i] + 1 >= V.route_end[i]:
                # Past the last link of its route: the trip ends (SUMO's "teleports beyond
                # arrival edge", an arrival).
                V.status[i] = S_ARRIVED
                V.travel[i] = (step - V.dep_step[i] + 1) * dt
                atomic_add(W.cnt, C_ARRIVED, 1)
                continue
            link = N.lane_link[V.lane[i]]
            V.route_pos[i] += 1
            nl = route_link(N, W, link, V.route_pos[i], V.route_end[i])
            V.lane[i] = N.link_first_lane[nl]
            V.tp_step[i] = step + transit_steps(N, L, nl, dt)
        tp[keep] = i
        keep += 1
    for k in range(keep, n):
        tp[k] = -1
    W.cnt[C_NTP] = keep
