"""Moving: advance per lane (ballistic for IDM types, Euler for Krauss,
:func:`.carfollow.cf_advance`) with a hard no-overlap bound and the lane statistics.

Junction crossings and arrivals are in :mod:`.junction`, the gridlock policy in :mod:`.gridlock`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..physics.carfollow import cf_advance
from ..runtime.atomics import atomic_add_mt
from ..runtime.layout import (
    C_COLL,
    C_EMERG,
    E_COLLISION,
    E_EMERGENCY,
    FLAG_HALTING,
    FLAG_INSIDE,
    HALT_SPEED,
    M_RED,
    N_CHUNKS,
    P_DT,
    P_GRID_MODE,
    P_GRID_TIME,
    STOP_DWELL,
    T_CF,
    T_EDEC,
    T_LEN,
    T_S0,
)
from ..runtime.precision import f32_down
from .lanes import add_event_mt, choose_movement, movement_state_a, next_link, v0_of
from .order import lane_split
from .record import clock
from .routes import route_link
from .signals import detect


@njit(cache=True)
def next_movement(V, N, W, i):
    """The movement vehicle ``i`` takes at the end of its lane (-1: none, or its last link)."""
    nl = next_link(V, N, W, i, 1)
    if nl < 0:
        return -1
    return choose_movement(N, V.lane[i], nl, route_link(N, W, nl, V.route_pos[i] + 2, V.route_end[i]))


@njit(cache=True)
def join_inside(V, N, L, W, vt, l, k, b):
    """Vehicle ``W.order[k]`` on lane ``l`` (whose vehicles end at sorted index ``b``) joins the
    vehicles waiting inside the junction ahead of it (``FLAG_INSIDE``), as SUMO's vehicles queue
    on the internal lane before an internal junction: while its movement is not red (SUMO's
    ``cont`` link is open then), close behind its leader, for the same movement, and only where
    the internal lane has room for it behind those inside (``N.mv_wait`` m from the line to the
    waiting position: the vehicle's front must be past the line). mobsim's junctions are points,
    so it waits on the lane, but it clears on yellow and red as they do. With only the first
    vehicle inside, a 16 m internal lane of an OSM cluster junction let one left turner through
    at the end of each green where SUMO let two or three, and the queue spilled back."""
    W_order = W.order
    i = W_order[k]
    j = W_order[k + 1]
    m = next_movement(V, N, W, i)
    if m < 0 or N.mv_wait[m] <= 0.0 or next_movement(V, N, W, j) != m:
        return
    if movement_state_a(N.mv_sig, N.mv_kind, W.sig_state, m) == M_RED:
        return
    s0 = vt[V.vtype[i], T_S0]
    if V.pos[j] - vt[V.vtype[j], T_LEN] - V.pos[i] > s0 + 1.0:
        return  # not (yet) queued right behind it
    used = 0.0
    for q in range(k + 1, b):
        used += vt[V.vtype[W_order[q]], T_LEN] + s0
    # SUMO enters a junction only with room beyond it for the vehicles inside and itself
    # (MSVehicle::checkRewindLinkLanes); the exit's room as the last junction pass left it
    # (another lane's vehicles may be moving right now).
    if used <= N.mv_wait[m] and L.lane_room[N.mv_to_lane[m]] >= used + vt[V.vtype[i], T_LEN] + s0:
        V.flags[i] |= FLAG_INSIDE

#: the per-vehicle halt count is int16 and stops counting here (a trip with 32,767 halts is broken)
STOPS_MAX = 32767


@njit(cache=True)
def advance_lanes(V, N, L, W, vt, l0, l1, stride, dt, grid_on, grid_time, t_end):
    """Move the vehicles of lanes ``l0, l0 + stride, ... < l1``, each lane front to back; returns how
    many reached the gridlock time. Collisions and emergency stops are recorded as events at the
    step's end time ``t_end`` (s). Writes only the lanes' own vehicles and
    accumulators; shared by the CPU and CUDA drivers. State arrays are hoisted into locals once:
    a StructRef field read in the loop costs an atomic refcount pair per read."""
    L_a_dist = L.a_dist
    L_a_occ = L.a_occ
    L_a_samp = L.a_samp
    L_a_tloss = L.a_tloss
    L_a_wait = L.a_wait
    L_lane_halt = L.lane_halt
    L_lane_start = L.lane_start
    L_lane_vsum = L.lane_vsum
    N_lane_len = N.lane_len
    N_lane_speed = N.lane_speed
    V_acc = V.acc
    W_acc_k = W.acc_k
    W_stop_k = W.stop_k
    V_flags = V.flags
    V_pos = V.pos
    V_moved = V.moved
    V_sfac = V.sfac
    V_speed = V.speed
    V_standstill = V.standstill
    V_stop_state = V.stop_state
    V_stops = V.stops
    V_time_loss = V.time_loss
    V_vtype = V.vtype
    V_wait_steps = V.wait_steps
    W_order = W.order
    lane_det = N.lane_det
    det_pos = N.det_pos
    det_last = W.det_last
    lane_dz = N.lane_dz
    V_det_loss = V.det_loss
    V_det_lane = V.det_lane
    grid_steps = grid_time / dt - 1e-9  # the standstill counter is in steps
    total = 0
    for l in range(l0, l1, stride):
        a = L_lane_start[l]
        b = L_lane_start[l + 1]
        L_lane_halt[l] = 0
        L_lane_vsum[l] = 0.0
        flagged = 0
        bound = 1e300
        bound_v = 0.0
        halt = 0
        vsum = 0.0
        dsum = 0.0
        tsum = 0.0
        osum = 0.0
        d = lane_det[l]
        dz = lane_dz[l]
        for k in range(b - 1, a - 1, -1):
            i = W_order[k]
            ty = V_vtype[i]
            length = vt[ty, T_LEN]
            v = V_speed[i]
            pos = V_pos[i]
            model = int(vt[ty, T_CF])
            dx, vn = cf_advance(model, v, W_acc_k[k], dt)
            pn = pos + dx
            if k == b - 1 and W_stop_k[k] == 1 and pn > N_lane_len[l]:
                pn = N_lane_len[l]
                vn = 0.0
                dmin, _ = cf_advance(model, v, -vt[ty, T_EDEC], dt)
                if pos + dmin > pn + 1e-6:
                    # emitted here, not flagged for a later pass: events are rare, and the
                    # vehicle stays on lane l (stopped at the line), so the record is the same
                    add_event_mt(W, t_end, E_EMERGENCY, i, N.lane_link[l], v / dt)
                    atomic_add_mt(W.cnt, C_EMERG, 1)
            if pn > bound:
                dmin, _ = cf_advance(model, v, -vt[ty, T_EDEC], dt)
                if pos + dmin > bound + 1e-6:
                    add_event_mt(W, t_end, E_COLLISION, i, N.lane_link[l], pos + dmin - bound)
                    atomic_add_mt(W.cnt, C_COLL, 1)
                pn = max(bound, pos)
                if vn > bound_v:
                    vn = bound_v
            V_pos[i] = pn
            if d >= 0:
                detect(det_last, d, det_pos[d], pos, pn, length, t_end - dt, dt)
            vn = f32_down(vn)  # stored as float32, never above the bounds it was clamped to
            V_speed[i] = vn
            V_acc[i] = (vn - v) / dt
            bound = pn - length
            bound_v = vn
            dx = pn - pos
            V_moved[i] = dx
            v0 = v0_of(N_lane_speed, V_sfac, vt, i, l, ty)
            tl = dt - dx / v0
            dwell = V_stop_state[i] == STOP_DWELL
            if tl < 0.0 or dwell:
                tl = 0.0  # SUMO: scheduled stops count as neither time loss nor waiting
            V_time_loss[i] += tl
            if pn >= dz:
                # In a delay-based controller's detector zone: its time loss there. SUMO's
                # lane-area detector counts only the part of the step after the front crossed
                # the zone's start (MSE2Collector::calculateTimeLossAndTimeOnDetector): the
                # share (pn - dz) / dx of this step's loss in the step of entry.
                if V_det_lane[i] != l:
                    V_det_lane[i] = l
                    V_det_loss[i] = 0.0
                if pos < dz and dx > 0.0:
                    V_det_loss[i] += tl * ((pn - dz) / dx)
                else:
                    V_det_loss[i] += tl
            dsum += dx
            tsum += tl
            osum += length * dt
            vsum += vn
            if k < b - 1 and V_flags[i] & FLAG_INSIDE == 0 and V_flags[W_order[k + 1]] & FLAG_INSIDE != 0:
                join_inside(V, N, L, W, vt, l, k, b)
            if dwell:
                V_standstill[i] = 0  # a dwelling vehicle is not stuck (no teleport)
            elif vn < HALT_SPEED:
                halt += 1
                V_wait_steps[i] += 1
                V_standstill[i] += 1
                if V_flags[i] & FLAG_HALTING == 0:
                    if V_stops[i] < STOPS_MAX:
                        V_stops[i] += 1
                    V_flags[i] |= 1
                if grid_on and V_standstill[i] >= grid_steps:
                    flagged += 1
            else:
                V_standstill[i] = 0
                V_flags[i] &= ~np.int8(1)
        L_lane_halt[l] = halt
        L_lane_vsum[l] = vsum
        L_a_samp[l] += b - a
        L_a_dist[l] += dsum
        L_a_wait[l] += halt
        L_a_tloss[l] += tsum
        L_a_occ[l] += osum
        total += flagged
    return total


@njit(cache=True)
def advance_serial(V, N, L, W, vt, par):
    step, t = clock(W, par)
    return advance_lanes(V, N, L, W, vt, 0, L.lane_start.shape[0] - 1, 1, par[P_DT], par[P_GRID_MODE] > 0,
                         par[P_GRID_TIME], t + par[P_DT])


@njit(parallel=True, cache=True)
def advance(V, N, L, W, vt, par):
    """Move every lane's vehicles (by their models' updates), front to back, no-overlap bound; statistics.

    Returns the number of vehicles that reached the gridlock time.
    """
    dt = par[P_DT]
    step, t = clock(W, par)
    grid_time = par[P_GRID_TIME]
    grid_on = par[P_GRID_MODE] > 0
    lane_start = L.lane_start
    flagged = 0
    for c in prange(N_CHUNKS):
        flagged += advance_lanes(V, N, L, W, vt, lane_split(lane_start, c, N_CHUNKS),
                                 lane_split(lane_start, c + 1, N_CHUNKS), 1, dt, grid_on, grid_time, t + dt)
    return flagged
