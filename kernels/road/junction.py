"""Junction crossing and arrivals, in two passes that run in parallel with deterministic results.

1. :func:`junction_source`, one call per lane (the lane it owns): vehicles past the end of their
   route arrive; the front vehicle past the stop line becomes the lane's *candidate* for the next
   lane of its route, with a key = the fraction of the step at which it reached the line. At most
   one vehicle leaves a lane per step: a second one past the line in the same step (a headway
   below one step, which IDM with ``tau >= dt`` only reaches in transients) is held at the line.
   The lane's *room* is recorded: how far back the rear of its last vehicle is, assuming every
   vehicle on the lane may be pushed back to the line (a blocked candidate does that), so the
   second pass never reads a position that another thread may change.
2. :func:`junction_target`, one call per lane: the candidates whose movement ends on this lane
   enter it in order of their key (ties: lower trip number), each behind the previous one, while
   there is room; a candidate without room is held at its stop line (counted, and an event).

Each pass writes only state owned by its lane (its vehicles, its accumulators) or by the one
candidate it handles, and every integer counter goes through :func:`~.atomics.atomic_add`, so
the passes run on any number of CPU threads or CUDA threads with identical results. The
former sequential crossing (one global loop in key order) gave the same entries except where two
vehicles left one lane in one step or a lane's rear moved during the loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..runtime.atomics import atomic_add
from ..runtime.layout import C_ARRIVED, C_BLOCKED, C_STEP, E_BLOCKED, FLAG_COMMITTED, FLAG_INSIDE, P_DT, T_LEN
from .lanes import add_event, choose_movement
from .routes import route_link, route_step


@njit(cache=True)
def reclamp_behind(V, W, vt, a, k, bound, bound_v):
    """After vehicle ``order[k]`` was held back, keep the vehicles behind it (down to ``a``) behind it."""
    for q in range(k - 1, a - 1, -1):
        j = W.order[q]
        if V.status[j] != 1 or V.pos[j] <= bound:
            break
        V.pos[j] = bound
        if V.speed[j] > bound_v:
            V.speed[j] = bound_v
        bound = V.pos[j] - vt[V.vtype[j], T_LEN]
        bound_v = V.speed[j]


@njit(cache=True)
def arrive(V, N, L, W, i, lane, t, dt):
    """Vehicle ``i`` reached the end of its route on ``lane`` during the step ending at ``t + dt``."""
    over = V.pos[i] - N.lane_len[lane]
    moved = V.moved[i]
    frac = 1.0
    if moved > 0.0:
        frac = (moved - over) / moved
    V.travel[i] = ((W.cnt[C_STEP] - V.dep_step[i]) + frac) * dt  # t = begin + C_STEP * dt
    L.a_dist[lane] -= over
    L.a_left[lane] += 1
    V.pos[i] = N.lane_len[lane]
    V.status[i] = 2
    atomic_add(W.cnt, C_ARRIVED, 1)


@njit(cache=True)
def hold_at_line(V, N, L, W, vt, l, i, k, t, dt):
    """Candidate ``i`` (sorted index ``k``) cannot enter the next lane: it stops at the line."""
    over = V.pos[i] - N.lane_len[l]
    V.pos[i] = N.lane_len[l]
    V.speed[i] = 0.0
    atomic_add(W.cnt, C_BLOCKED, 1)
    add_event(W, t + dt, E_BLOCKED, i, N.lane_link[l], over)
    reclamp_behind(V, W, vt, L.lane_start[l], k, N.lane_len[l] - vt[V.vtype[i], T_LEN], 0.0)


@njit(cache=True)
def junction_sources(V, N, L, W, vt, par, l0, l1, stride, t):
    """Pass 1 for lanes ``l0, l0 + stride, ... < l1``: arrivals, each lane's crossing candidate and
    its room snapshot (see the module docstring)."""
    dt = par[P_DT]
    order = W.order
    lane_start = L.lane_start
    lane_cand = L.lane_cand
    lane_rear = L.lane_rear
    lane_room = L.lane_room
    lane_room_v = L.lane_room_v
    n_lane_len = N.lane_len
    vpos = V.pos
    vtype = V.vtype
    status = V.status
    speed = V.speed
    for l in range(l0, l1, stride):
        a = lane_start[l]
        b = lane_start[l + 1]
        lane_len = n_lane_len[l]
        lane_cand[l] = -1
        if b == a:
            lane_rear[l] = -1
            lane_room[l] = lane_len - 1e-3
            lane_room_v[l] = np.inf
            continue
        if vpos[order[b - 1]] > lane_len:
            lane_candidate(V, N, L, W, vt, l, t, dt)
        # Room at the lane start for vehicles entering this step.
        r = order[a]
        lane_rear[l] = r
        room = lane_len - 1e-3
        rv = np.inf
        if status[r] == 1:
            p = vpos[r] if vpos[r] < lane_len else lane_len
            room = min(room, p - vt[vtype[r], T_LEN])
            rv = speed[r]
            if lane_cand[l] >= 0:
                # A blocked candidate pushes the lane's vehicles back towards the line.
                packed = lane_len
                for k in range(b - 1, a - 1, -1):
                    packed -= vt[vtype[order[k]], T_LEN]
                room = min(room, packed)
        lane_room[l] = room
        lane_room_v[l] = rv


@njit(cache=True)
def crossing_key(V, N, i, l):
    """The fraction of the step at which vehicle ``i`` reached the end of lane ``l`` (0: it stood
    at the line). The second pass recomputes it from the candidate's own fields instead of a
    per-lane copy: no other pass writes them in between."""
    moved = V.moved[i]
    if moved > 0.0:
        return (moved - (V.pos[i] - N.lane_len[l])) / moved + 0.0  # (+ 0.0: no -0.0)
    return 0.0


@njit(cache=True)
def lane_candidate(V, N, L, W, vt, l, t, dt):
    """Arrivals on lane ``l`` and its crossing candidate (vehicles past the stop line only)."""
    order = W.order
    a = L.lane_start[l]
    b = L.lane_start[l + 1]
    lane_len = N.lane_len[l]
    cand = -1
    for k in range(b - 1, a - 1, -1):
        i = order[k]
        if V.pos[i] <= lane_len:
            break
        if V.route_pos[i] + 1 >= V.route_end[i]:
            arrive(V, N, L, W, i, l, t, dt)
            continue
        over = V.pos[i] - lane_len
        L.a_dist[l] -= over
        if cand >= 0:
            # A second vehicle past the line this step: it waits at the line for the next step.
            V.pos[i] = lane_len
            reclamp_behind(V, W, vt, a, k, lane_len - vt[V.vtype[i], T_LEN], V.speed[i])
            continue
        cand = i
        rp = V.route_pos[i]
        nl = route_step(N.link_next_start, N.link_next, W.route_codes, N.lane_link[l], rp + 1)
        m = W.mv_k[k]  # planned this step; the order has not changed since
        if m < 0 or N.mv_to_link[m] != nl or N.mv_from_lane[m] != l:
            after = route_link(N, W, nl, rp + 2, V.route_end[i])
            m = choose_movement(N, l, nl, after)
        if m < 0:
            hold_at_line(V, N, L, W, vt, l, i, k, t, dt)  # no movement serves the route here
            continue
        L.lane_cand[l] = i
        L.lane_cand_mv[l] = m
        L.lane_cand_k[l] = k


@njit(cache=True)
def junction_targets(V, N, L, W, vt, par, l0, l1, stride, t):
    """Pass 2 for lanes ``l0, l0 + stride, ... < l1``: each admits the candidates heading for it."""
    dt = par[P_DT]
    lane_in_start = N.lane_in_start
    lane_in_mv = N.lane_in_mv
    mv_from_lane = N.mv_from_lane
    lane_cand = L.lane_cand
    for tl in range(l0, l1, stride):
        # Most lanes have no candidate coming in: a quick look before the ordered admission.
        q0 = lane_in_start[tl]
        q1 = lane_in_start[tl + 1]
        for q in range(q0, q1):
            if lane_cand[mv_from_lane[lane_in_mv[q]]] >= 0:
                admit(V, N, L, W, vt, tl, t, dt)
                break


@njit(cache=True)
def admit(V, N, L, W, vt, tl, t, dt):
    """Admit the candidates heading for lane ``tl`` in (key, id) order while there is room."""
    room = L.lane_room[tl]
    rv = L.lane_room_v[tl]
    last_key = -np.inf
    last_id = -1
    q0 = N.lane_in_start[tl]
    q1 = N.lane_in_start[tl + 1]
    while True:
        best = -1
        best_trip = -1
        bkey = np.inf
        bl = -1
        for q in range(q0, q1):
            m = N.lane_in_mv[q]
            fl = N.mv_from_lane[m]
            c = L.lane_cand[fl]
            if c < 0 or L.lane_cand_mv[fl] != m:
                continue
            key = crossing_key(V, N, c, fl)
            tc = V.trip[c]  # ties by trip, never by slot (see mobsim.state.slots)
            after_last = key > last_key or (key == last_key and tc > last_id)
            if after_last and (key < bkey or (key == bkey and tc < best_trip)):
                best = c
                best_trip = tc
                bkey = key
                bl = fl
        if best < 0:
            return
        last_key = bkey
        last_id = best_trip
        i = best
        l = bl
        # Consumed: its key changes once it moves (or is held), so it must not be seen again.
        # Only this lane's thread writes this entry (the candidate's movement ends here); the
        # others compare it with their own movements, which neither value matches.
        L.lane_cand_mv[l] = -1
        over = V.pos[i] - N.lane_len[l]
        newpos = over if over < room else room
        if newpos < over and V.speed[i] > rv:
            V.speed[i] = rv
        k = L.lane_cand_k[l]
        if newpos < 0.0:
            hold_at_line(V, N, L, W, vt, l, i, k, t, dt)
            continue
        length = vt[V.vtype[i], T_LEN]
        V.dist0[i] += N.lane_len[l]
        L.a_dist[tl] += newpos
        L.a_left[l] += 1
        L.a_ent[tl] += 1
        V.lane[i] = tl
        V.pos[i] = newpos
        V.route_pos[i] += 1
        V.need_mask[i] = -1  # every write of route_pos resets the lane mask (kernels.road.lanechange)
        V.flags[i] &= ~np.int8(FLAG_COMMITTED | FLAG_INSIDE)
        L.lane_rear[tl] = i
        L.lane_last_exit[l] = i
        L.lane_exit_rp[l] = V.route_pos[i]
        room = newpos - length
        rv = V.speed[i]
        if newpos < over:
            reclamp_behind(V, W, vt, L.lane_start[l], k, N.lane_len[l] + newpos - length, V.speed[i])
