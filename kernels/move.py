"""Moving: ballistic advance per lane with a hard no-overlap bound, arrivals, junction crossing
with deterministic arbitration, and the gridlock policy.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .idm import ballistic
from .lanes import add_event, choose_movement, lane_serves, v0_of
from .layout import (
    C_ARRIVED,
    C_BLOCKED,
    C_COLL,
    C_EMERG,
    C_REMOVED,
    C_TELE,
    E_BLOCKED,
    E_COLLISION,
    E_EMERGENCY,
    E_REMOVAL,
    E_TELEPORT,
    FLAG_COMMITTED,
    HALT_SPEED,
    N_CHUNKS,
    P_DT,
    P_GRID_MODE,
    P_GRID_TIME,
    T_EDEC,
    T_LEN,
    T_S0,
)


@njit(cache=True)
def advance_lanes(V, N, L, W, vt, l0, l1, dt, grid_on, grid_time):
    """Move the vehicles of lanes ``l0..l1-1``, each lane front to back; returns how many
    flagged an event or reached the gridlock time. State arrays are hoisted into locals once:
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
    W_mv_k = W.mv_k
    V_next_mv = V.next_mv
    V_dist = V.dist
    V_evt = V.evt
    V_evt_val = V.evt_val
    V_flags = V.flags
    V_pos = V.pos
    V_pos_old = V.pos_old
    V_sfac = V.sfac
    V_speed = V.speed
    V_standstill = V.standstill
    V_stops = V.stops
    V_time_loss = V.time_loss
    V_vtype = V.vtype
    V_wait_time = V.wait_time
    W_order = W.order
    total = 0
    for l in range(l0, l1):
        a = L_lane_start[l]
        b = L_lane_start[l + 1]
        L_lane_halt[l] = 0
        L_lane_vsum[l] = 0.0
        flagged = 0
        bound = 1e300
        bound_v = 0.0
        halt = 0
        vsum = 0.0
        samp = 0.0
        dsum = 0.0
        wsum = 0.0
        tsum = 0.0
        osum = 0.0
        for k in range(b - 1, a - 1, -1):
            i = W_order[k]
            ty = V_vtype[i]
            length = vt[ty, T_LEN]
            v = V_speed[i]
            pos = V_pos[i]
            dx, vn = ballistic(v, W_acc_k[k], dt)
            V_next_mv[i] = W_mv_k[k]
            pn = pos + dx
            if k == b - 1 and W_stop_k[k] == 1 and pn > N_lane_len[l]:
                pn = N_lane_len[l]
                vn = 0.0
                dmin, _ = ballistic(v, -vt[ty, T_EDEC], dt)
                if pos + dmin > pn + 1e-6:
                    V_evt[i] = E_EMERGENCY + 1
                    V_evt_val[i] = v / dt
            if pn > bound:
                dmin, _ = ballistic(v, -vt[ty, T_EDEC], dt)
                if pos + dmin > bound + 1e-6:
                    V_evt[i] = E_COLLISION + 1
                    V_evt_val[i] = pos + dmin - bound
                pn = max(bound, pos)
                if vn > bound_v:
                    vn = bound_v
            V_pos_old[i] = pos
            V_pos[i] = pn
            V_speed[i] = vn
            V_acc[i] = (vn - v) / dt
            bound = pn - length
            bound_v = vn
            dx = pn - pos
            V_dist[i] += dx
            v0 = v0_of(N_lane_speed, V_sfac, vt, i, l, ty)
            tl = dt - dx / v0
            if tl < 0.0:
                tl = 0.0
            V_time_loss[i] += tl
            samp += dt
            dsum += dx
            tsum += tl
            osum += length * dt
            vsum += vn
            if vn < HALT_SPEED:
                halt += 1
                V_wait_time[i] += dt
                wsum += dt
                V_standstill[i] += dt
                if V_flags[i] & 1 == 0:
                    V_stops[i] += 1
                    V_flags[i] |= 1
                if grid_on and V_standstill[i] >= grid_time:
                    flagged += 1
            else:
                V_standstill[i] = 0.0
                V_flags[i] &= ~np.int8(1)
            if V_evt[i] != 0:
                flagged += 1
        L_lane_halt[l] = halt
        L_lane_vsum[l] = vsum
        L_a_samp[l] += samp
        L_a_dist[l] += dsum
        L_a_wait[l] += wsum
        L_a_tloss[l] += tsum
        L_a_occ[l] += osum
        total += flagged
    return total


@njit(cache=True)
def advance_serial(V, N, L, W, vt, par):
    return advance_lanes(V, N, L, W, vt, 0, L.lane_start.shape[0] - 1, par[P_DT], par[P_GRID_MODE] > 0,
                         par[P_GRID_TIME])


@njit(parallel=True, cache=True)
def advance(V, N, L, W, vt, par):
    """Ballistic move of every lane's vehicles, front to back, with the no-overlap bound; statistics.

    Returns the number of vehicles that flagged an event or reached the gridlock time.
    """
    dt = par[P_DT]
    grid_time = par[P_GRID_TIME]
    grid_on = par[P_GRID_MODE] > 0
    n_lanes = L.lane_start.shape[0] - 1
    flagged = 0
    for c in prange(N_CHUNKS):
        flagged += advance_lanes(V, N, L, W, vt, c * n_lanes // N_CHUNKS, (c + 1) * n_lanes // N_CHUNKS,
                                 dt, grid_on, grid_time)
    return flagged


@njit(cache=True)
def reclamp_behind(V, W, vt, a, k, bound, bound_v, dt):
    """After vehicle ``order[k]`` was held back, keep the vehicles behind it (down to ``a``) behind it."""
    for q in range(k - 1, a - 1, -1):
        j = W.order[q]
        if V.status[j] != 1 or V.pos[j] <= bound:
            break
        V.dist[j] -= V.pos[j] - bound
        V.pos[j] = bound
        if V.speed[j] > bound_v:
            V.speed[j] = bound_v
        bound = V.pos[j] - vt[V.vtype[j], T_LEN]
        bound_v = V.speed[j]


@njit(cache=True)
def arrive(V, N, L, W, i, lane, t, dt):
    over = V.pos[i] - N.lane_len[lane]
    moved = V.pos[i] - V.pos_old[i]
    frac = 1.0
    if moved > 0.0:
        frac = (moved - over) / moved
    V.arrival[i] = t + frac * dt
    V.dist[i] -= over
    L.a_dist[lane] -= over
    L.a_left[lane] += 1
    V.pos[i] = N.lane_len[lane]
    V.status[i] = 2
    W.cnt[C_ARRIVED] += 1


@njit(cache=True)
def cross_junctions(V, N, L, W, vt, par, t):
    """Arrivals, then junction crossings in order of stop-line time (ties: lower id); sequential."""
    dt = par[P_DT]
    n_lanes = L.lane_start.shape[0] - 1
    nc = 0
    for l in range(n_lanes):
        a = L.lane_start[l]
        b = L.lane_start[l + 1]
        L.lane_rear[l] = W.order[a] if b > a else -1
        last_key = -1.0
        for k in range(b - 1, a - 1, -1):
            i = W.order[k]
            if V.pos[i] <= N.lane_len[l]:
                break
            if V.route_pos[i] + 1 >= V.route_end[i]:
                arrive(V, N, L, W, i, l, t, dt)
                continue
            moved = V.pos[i] - V.pos_old[i]
            key = (N.lane_len[l] - V.pos_old[i]) / moved if moved > 0.0 else 0.0
            if key < last_key:
                key = last_key  # keep the lane's FIFO order
            last_key = key
            W.cand[nc] = i
            W.cand_key[nc] = key + 0.0
            nc += 1
    if nc == 0:
        return
    perm = np.argsort(W.cand_key[:nc], kind="mergesort")
    for q in range(nc):
        i = W.cand[perm[q]]
        l = V.lane[i]
        if V.status[i] != 1 or V.pos[i] <= N.lane_len[l]:
            continue
        ty = V.vtype[i]
        length = vt[ty, T_LEN]
        over = V.pos[i] - N.lane_len[l]
        nl = W.route_links[V.route_pos[i] + 1]
        m = V.next_mv[i]
        if m < 0 or N.mv_to_link[m] != nl or N.mv_from_lane[m] != l:
            after = W.route_links[V.route_pos[i] + 2] if V.route_pos[i] + 2 < V.route_end[i] else -1
            m = choose_movement(N, l, nl, after)
        newpos = -1.0
        tl = -1
        if m >= 0:
            tl = N.mv_to_lane[m]
            room = N.lane_len[tl] - 1e-3
            r = L.lane_rear[tl]
            rv = 1e300
            if r >= 0 and V.status[r] == 1 and V.lane[r] == tl:
                room = min(room, V.pos[r] - vt[V.vtype[r], T_LEN])
                rv = V.speed[r]
            newpos = over if over < room else room
            if newpos < over and V.speed[i] > rv:
                V.speed[i] = rv
        a = L.lane_start[l]
        k = a
        while W.order[k] != i:
            k += 1
        if newpos < 0.0:
            # No room (or no movement): held at the stop line.
            V.dist[i] -= over
            L.a_dist[l] -= over
            V.pos[i] = N.lane_len[l]
            V.speed[i] = 0.0
            W.cnt[C_BLOCKED] += 1
            add_event(W, t + dt, E_BLOCKED, i, N.lane_link[l], over)
            reclamp_behind(V, W, vt, a, k, N.lane_len[l] - length, 0.0, dt)
            continue
        V.dist[i] += newpos - over
        L.a_dist[l] -= over
        L.a_dist[tl] += newpos
        L.a_left[l] += 1
        L.a_ent[tl] += 1
        V.lane[i] = tl
        V.pos[i] = newpos
        V.route_pos[i] += 1
        V.flags[i] &= ~np.int8(FLAG_COMMITTED)
        L.lane_rear[tl] = i
        L.lane_last_exit[l] = i
        if newpos < over:
            reclamp_behind(V, W, vt, a, k, N.lane_len[l] + newpos - length, V.speed[i], dt)


@njit(cache=True)
def handle_flags(V, N, L, W, vt, par, n, t):
    """Collect events flagged by the parallel passes; apply the gridlock policy."""
    mode = par[P_GRID_MODE]
    grid_time = par[P_GRID_TIME]
    for k in range(n):
        i = W.order[k]
        if V.evt[i] != 0:
            kind = V.evt[i] - 1
            add_event(W, t, kind, i, N.lane_link[V.lane[i]], V.evt_val[i])
            if kind == E_COLLISION:
                W.cnt[C_COLL] += 1
            elif kind == E_EMERGENCY:
                W.cnt[C_EMERG] += 1
            V.evt[i] = 0
        if mode == 0 or V.status[i] != 1 or V.standstill[i] < grid_time:
            continue
        lane = V.lane[i]
        link = N.lane_link[lane]
        if mode == 2:
            V.status[i] = 3
            W.cnt[C_REMOVED] += 1
            add_event(W, t, E_REMOVAL, i, link, V.standstill[i])
            continue
        # Teleport to the start of the next link of the route, where there is room.
        if V.route_pos[i] + 1 >= V.route_end[i]:
            V.status[i] = 3
            W.cnt[C_REMOVED] += 1
            add_event(W, t, E_REMOVAL, i, link, V.standstill[i])
            continue
        nl = W.route_links[V.route_pos[i] + 1]
        after = W.route_links[V.route_pos[i] + 2] if V.route_pos[i] + 2 < V.route_end[i] else -1
        length = vt[V.vtype[i], T_LEN]
        first = N.link_first_lane[nl]
        for q in range(N.link_nlanes[nl]):
            tl = first + q
            if after >= 0 and not lane_serves(N, tl, after) and q < N.link_nlanes[nl] - 1:
                continue
            r = L.lane_rear[tl]
            room = N.lane_len[tl]
            if r >= 0 and V.status[r] == 1 and V.lane[r] == tl:
                room = V.pos[r] - vt[V.vtype[r], T_LEN]
            if room >= length + vt[V.vtype[i], T_S0]:
                L.a_left[lane] += 1
                L.a_ent[tl] += 1
                V.lane[i] = tl
                V.pos[i] = length if length < N.lane_len[tl] else N.lane_len[tl]
                V.speed[i] = 0.0
                V.route_pos[i] += 1
                V.standstill[i] = 0.0
                V.teleports[i] += 1
                L.lane_rear[tl] = i
                W.cnt[C_TELE] += 1
                add_event(W, t, E_TELEPORT, i, link, grid_time)
                break
