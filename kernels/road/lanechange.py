"""Lane changes: mandatory (towards the lanes that suit the next two route links, with cooperative
gap opening and lane swaps) and discretionary (MOBIL); decided in parallel, left on even steps
and right on odd steps, then applied.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..physics.idm import STOP_LINE_CLEARANCE, idm_accel, idm_free
from ..physics.mobil import mobil_incentive, mobil_safe
from ..runtime.layout import (
    FLAG_INSIDE,
    N_CHUNKS,
    P_DT,
    P_LC_COOLDOWN,
    STOP_DWELL,
    T_ACC,
    T_DEC,
    T_DELTA,
    T_LCSAFE,
    T_LCTHR,
    T_LEN,
    T_POLITE,
    T_S0,
    T_TAU,
)
from .lanes import (
    choose_movement_a,
    find_neighbours,
    find_neighbours_a,
    follow_accel_a,
    lane_slot_a,
    lc_accel,
    mask_direction,
    next_link,
    route_lanes_mask,
    straddler_a,
    v0_of,
)
from .routes import route_step


@njit(cache=True)
def needed_lane(V, N, W, i):
    """The adjacent lane vehicle ``i`` must move to for its route, or -1 (pure: no state written)."""
    N_lane_index = N.lane_index
    N_lane_left = N.lane_left
    N_lane_link = N.lane_link
    N_lane_right = N.lane_right
    V_lane = V.lane
    lane = V_lane[i]
    nl = next_link(V, N, W, i, 1)
    if nl < 0:
        return -1
    mask = route_lanes_mask(N, W, N_lane_link[lane], V.route_pos[i], V.route_end[i])
    d = mask_direction(N_lane_index, lane, mask)
    if d == 0:
        return -1
    return N_lane_left[lane] if d > 0 else N_lane_right[lane]


@njit(cache=True)
def nearest_on_lane(V, L, W, lane, pos):
    """The vehicle on ``lane`` whose front is nearest to ``pos`` (ties: lower trip); -1 if empty."""
    lead, fol = find_neighbours(V, L, W, lane, pos)
    if lead < 0:
        return fol
    if fol < 0:
        return lead
    dl = V.pos[lead] - pos
    df = pos - V.pos[fol]
    if dl < df or (dl == df and V.trip[lead] < V.trip[fol]):
        return lead
    return fol


@njit(cache=True)
def swap_partner(V, N, L, W, vt, i):
    """A vehicle ``j`` alongside ``i`` such that ``i`` and ``j`` must swap lanes, or -1.

    Two slow vehicles side by side, each needing the other's lane, block each other for good: no
    gap can open. They exchange lanes in one step when each is the other's nearest vehicle on the
    needed lane and both fit between the other lane's remaining neighbours. The test is symmetric
    in ``i`` and ``j`` and reads only state that no one writes during the decision pass, so both
    vehicles reach the same verdict on their own.
    """
    V_lane = V.lane
    V_pos = V.pos
    V_speed = V.speed
    if V_speed[i] > 1.0:
        return -1
    want = needed_lane(V, N, W, i)
    if want < 0:
        return -1
    j = nearest_on_lane(V, L, W, want, V_pos[i])
    if j < 0 or V_speed[j] > 1.0 or V.stop_state[j] == STOP_DWELL or needed_lane(V, N, W, j) != V_lane[i]:
        # (one dwelling at a stop keeps its lane: i alone would move in beside it, onto it)
        return -1
    if nearest_on_lane(V, L, W, V_lane[i], V_pos[j]) != i:
        return -1
    if not fits_instead(V, L, W, vt, i, j) or not fits_instead(V, L, W, vt, j, i):
        return -1
    return j


@njit(cache=True)
def rear_at_risk(V, N, L, W, vt, tl, overhang):
    """True if the front vehicle of a lane leading into lane ``tl`` could not stop behind a rear
    that reaches ``overhang`` m back over ``tl``'s start (braking at most at its safe
    lane-change deceleration, 0.5 m margin)."""
    lane_in_start = N.lane_in_start
    lane_in_mv = N.lane_in_mv
    mv_from_lane = N.mv_from_lane
    lane_len = N.lane_len
    lane_start = L.lane_start
    order = W.order
    for q in range(lane_in_start[tl], lane_in_start[tl + 1]):
        fl = mv_from_lane[lane_in_mv[q]]
        b = lane_start[fl + 1]
        if b <= lane_start[fl]:
            continue
        j = order[b - 1]
        if V.status[j] != 1:
            continue
        v = V.speed[j]
        room = lane_len[fl] - overhang - V.pos[j] - 0.5
        if room < v * v / (2.0 * vt[V.vtype[j], T_LCSAFE]):
            return True
    return False


@njit(cache=True)
def beyond_blocks(V, N, L, W, vt, i, tl, p):
    """True if vehicle ``i`` (front at ``p`` m), changed into the empty-ahead lane ``tl``, would
    have to brake harder than its safe lane-change deceleration for the last vehicle of the lane
    ``tl`` leads to along its route (SUMO looks for the target lane's leader on the lanes
    beyond). On a 10 m OSM link a vehicle changed twice at 13 m/s into a lane whose
    continuation stood queued from its start, and ran into the queue."""
    order = W.order
    lane_start = L.lane_start
    rp = V.route_pos[i]
    link = N.lane_link[tl]
    nl = route_step(N.link_next_start, N.link_next, W.route_codes, link, rp + 1)
    after = -1
    if rp + 2 < V.route_end[i]:
        after = route_step(N.link_next_start, N.link_next, W.route_codes, nl, rp + 2)
    m = choose_movement_a(N.lane_mv_start, N.mv_to_link, N.mv_to_lane, tl, nl, after)
    if m < 0:
        return False
    t2 = N.mv_to_lane[m]
    if lane_start[t2 + 1] <= lane_start[t2]:
        return False
    r = order[lane_start[t2]]
    if V.status[r] != 1 or V.lane[r] != t2:
        return False
    ty = V.vtype[i]
    gap = N.lane_len[tl] - p + V.pos[r] - vt[V.vtype[r], T_LEN]
    v0 = v0_of(N.lane_speed, V.sfac, vt, i, tl, ty)
    a = idm_accel(V.speed[i], v0, gap, V.speed[r], vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0], vt[ty, T_TAU],
                  vt[ty, T_DELTA])
    return a < -vt[ty, T_LCSAFE]


@njit(cache=True)
def fits_instead(V, L, W, vt, i, j):
    """True if ``i`` fits on ``j``'s lane at its own position once ``j`` has left it."""
    L_lane_start = L.lane_start
    V_lane = V.lane
    V_pos = V.pos
    V_vtype = V.vtype
    W_order = W.order
    lane = V_lane[j]
    a = L_lane_start[lane]
    b = L_lane_start[lane + 1]
    k = a
    while k < b and W_order[k] != j:
        k += 1
    if k == b:
        return False
    front = V_pos[i]
    rear = front - vt[V_vtype[i], T_LEN]
    if k + 1 < b:
        q = W_order[k + 1]
        if V_pos[q] - vt[V_vtype[q], T_LEN] < front + 0.5:
            return False
    if k - 1 >= a:
        q = W_order[k - 1]
        if V_pos[q] > rear - 0.5:
            return False
    return True


@njit(cache=True)
def decide_range(V, N, L, W, vt, a, b, stride, step, direction, cooldown, dt):
    """Lane-change decisions of the vehicles at sorted indices ``a, a + stride, ... < b`` into ``W.dir_k``:
    +1 left, -1 right, 0 stay.

    Mandatory: the vehicle's lane does not suit the next two links of its route; it asks the
    followers on the lane it needs to open a gap (``lc_req``/``lane_req``, see :func:`cooperate`)
    and changes when the gap is safe (or swaps with a stopped neighbour, see :func:`swap_partner`).
    Discretionary: MOBIL, only for vehicles held back by their leader, never into a lane that does
    not suit the route near the lane's end.

    Shared by the CPU (a chunk of sorted indices, stride 1) and CUDA (one index per thread)
    drivers. Writes only the vehicle's own entries (and sets ``lane_req`` flags to 1, an
    idempotent write). State arrays are hoisted into locals: on the CPU a StructRef field read
    costs an atomic refcount pair, so reads inside the loop would dominate.
    """
    order = W.order
    codes = W.route_codes
    link_next_start = N.link_next_start
    link_next = N.link_next
    lane_exit_rp = L.lane_exit_rp
    lane_start = L.lane_start
    lane_req = L.lane_req
    lane_last_exit = L.lane_last_exit
    status = V.status
    vlane = V.lane
    pos = V.pos
    speed = V.speed
    vtype = V.vtype
    sfac = V.sfac
    lc_dir = W.dir_k
    lc_req = V.lane_aux  # written for every running vehicle before the planning reads it
    lc_step = V.lc_step
    route_pos = V.route_pos
    route_end = V.route_end
    need_mask = V.need_mask
    lane_speed = N.lane_speed
    lane_len = N.lane_len
    lane_index = N.lane_index
    lane_left = N.lane_left
    lane_right = N.lane_right
    lane_link = N.lane_link
    stop_state = V.stop_state
    stop_next = V.stop_next
    visit_rp = W.visit_rp
    visit_pos = W.visit_pos
    visit_lane = W.visit_lane
    for k in range(a, b, stride):
        i = order[k]
        lane = vlane[i]
        ty = vtype[i]
        length = vt[ty, T_LEN]
        lc_dir[k] = 0
        if stop_state[i] == STOP_DWELL:
            continue  # dwelling at a stop: it leaves from the lane it stopped in
        req = -1
        rp = route_pos[i]
        mandatory = False
        own_ok = True
        mask = np.int64(-1)
        sn = stop_next[i]
        if sn >= 0 and visit_rp[sn] == rp and visit_lane[sn] >= 0 and pos[i] < visit_pos[sn]:
            # A stop ahead on this link: its lane first (a bus to the kerb), the route after it.
            mask = np.int64(1) << visit_lane[sn]
        elif rp + 1 < route_end[i]:
            if need_mask[i] < 0:
                # Which lanes of this link suit the route: computed once per link of the route.
                need_mask[i] = route_lanes_mask(N, W, lane_link[lane], rp, route_end[i])
            mask = np.int64(need_mask[i])
        if mask >= 0:
            need = mask_direction(lane_index, lane, mask)
            own_ok = need == 0
            if need != 0:
                want = lane_left[lane] if need > 0 else lane_right[lane]
                req = want
                if lane_req[want] == 0:
                    lane_req[want] = 1
                if lc_req[i] != req:
                    lc_req[i] = req
                if direction > 0 and swap_partner(V, N, L, W, vt, i) >= 0:
                    lc_dir[k] = need  # both change on the same (even) step
                    continue
                if need != direction:
                    continue
                mandatory = True
        if lc_req[i] != req:
            lc_req[i] = req  # written only when it changes: a shared cache line costs both threads
        if not mandatory and step - lc_step[i] < cooldown:
            continue
        tl = lane_left[lane] if direction > 0 else lane_right[lane]
        if tl < 0:
            continue
        p = pos[i]
        if p < length:
            # The rear still reaches back over the stop line: no change, except at the end of a
            # link shorter than the vehicle (where that is always so; OSM networks have 2-5 m
            # links) when nothing coming into the target lane could run into the rear. "At the
            # end" is where a vehicle stops, STOP_LINE_CLEARANCE before the line, less a margin:
            # its stop position lies an ulp either side of that (a 4.6 m link of the DRT city
            # kept a vehicle at 3.599 m, 1e-15 short of the old bound, until it was teleported).
            if not mandatory or p < lane_len[lane] - STOP_LINE_CLEARANCE - 0.1:
                continue
            if rear_at_risk(V, N, L, W, vt, tl, length - p):
                continue
        if not mandatory and own_ok and mask >= 0 and (mask >> lane_index[tl]) & 1 == 0:
            # Leave a lane that suits the route only far from its end, the queues on both lanes
            # not counted as room (SUMO LC2013 counts the lanes' occupation: a through vehicle
            # that swerved into the queue of a jammed motorway exit 150 m before its end was
            # trapped there, and the through lane behind the exit traffic stood for good).
            lwg = length + vt[ty, T_S0]
            jam = (lane_start[lane + 1] - k - 1) * lwg
            if jam >= 0.5 * (lane_len[lane] - p):
                # Queued to the line: the queue goes on on the lane beyond (SUMO counts the
                # occupation of the lanes along the route).
                nl = route_step(link_next_start, link_next, codes, lane_link[lane], rp + 1)
                after = -1
                if rp + 2 < route_end[i]:
                    after = route_step(link_next_start, link_next, codes, nl, rp + 2)
                m = choose_movement_a(N.lane_mv_start, N.mv_to_link, N.mv_to_lane, lane, nl, after)
                if m >= 0:
                    nxt = N.mv_to_lane[m]
                    jam += (lane_start[nxt + 1] - lane_start[nxt]) * lwg
            _, kt = lane_slot_a(pos, order, lane_start, tl, p)
            jt = (lane_start[tl + 1] - kt) * lwg
            if jt > jam:
                jam = jt
            if lane_len[lane] - p - jam < 100.0 + 10.0 * speed[i]:
                continue
        lead = order[k + 1] if k + 1 < lane_start[lane + 1] else -1
        ac_old = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, i, lead)
        if not mandatory:
            # Nothing to gain where the leader does not hold us back: skip the neighbour search.
            if lead < 0:
                continue
            free = idm_free(speed[i], v0_of(lane_speed, sfac, vt, i, lane, ty), vt[ty, T_ACC],
                            vt[ty, T_DELTA])
            if ac_old > free - vt[ty, T_LCTHR]:
                continue
        old_fol = order[k - 1] if k - 1 >= lane_start[lane] else -1
        new_lead, new_fol = find_neighbours_a(pos, order, lane_start, tl, p)
        if new_lead >= 0 and pos[new_lead] - vt[vtype[new_lead], T_LEN] - p < 0.5:
            continue
        if new_fol >= 0 and p - length - pos[new_fol] < 0.5:
            continue
        if new_fol < 0 and rear_at_risk(V, N, L, W, vt, tl, length - p):
            # Nobody behind on the target lane of this link, but someone about to enter it from
            # upstream could not stop behind us (ramp: a car changing lanes at the start of the
            # merge section was hit by one crossing the junction at 25 m/s).
            continue
        if new_lead < 0:
            x = straddler_a(lane_last_exit, lane_exit_rp, status, route_pos, pos, vtype, vt, tl)
            if x >= 0 and lane_len[tl] - p + pos[x] - vt[vtype[x], T_LEN] < 0.5:
                continue
            if rp + 1 < route_end[i] and beyond_blocks(V, N, L, W, vt, i, tl, p):
                continue
        # Accelerations as if i were on the target lane (same link: same speed limit). The two
        # safety tests first: in dense traffic they fail often, and the other four are not needed.
        b_safe = vt[ty, T_LCSAFE]
        if mandatory:
            # A change the route needs is safe when neither i nor its new follower must brake
            # harder than b_safe by their own car-following models (SUMO LC2013 asks for the
            # secure gaps of the vehicles' own models). The followers' cooperation
            # (follow.cooperate_a) opens gaps by the same measure: opened by Krauss but judged
            # by IDM, a gap never looked safe enough.
            if new_fol >= 0 and (lc_accel(vtype, vlane, pos, speed, sfac, lane_speed, vt, new_fol, i, dt)
                                 < -b_safe):
                continue
            if lc_accel(vtype, vlane, pos, speed, sfac, lane_speed, vt, i, new_lead, dt) < -b_safe:
                continue
            lc_dir[k] = direction
            continue
        an_new = 0.0
        if new_fol >= 0:
            an_new = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, new_fol, i)
            if not mobil_safe(an_new, b_safe):
                continue
        ac_new = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, i, new_lead)
        if ac_new < -b_safe:
            continue
        an_old = 0.0
        if new_fol >= 0:
            an_old = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, new_fol, new_lead)
        ao_old = 0.0
        ao_new = 0.0
        if old_fol >= 0:
            ao_old = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, old_fol, i)
            ao_new = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, old_fol, lead)
        gain = mobil_incentive(ac_new, ac_old, an_new, an_old, ao_new, ao_old, vt[ty, T_POLITE])
        if gain > vt[ty, T_LCTHR]:
            lc_dir[k] = direction


@njit(cache=True)
def cooldown_steps(par):
    """The lane-change cooldown (``par[P_LC_COOLDOWN]``, s) in whole steps: a discretionary change
    waits until at least that much time has passed since the last change or the insertion."""
    return int(math.ceil(par[P_LC_COOLDOWN] / par[P_DT] - 1e-9))


@njit(cache=True)
def decide_lane_changes_serial(V, N, L, W, vt, par, n, step):
    direction = 1 - 2 * (step % 2)
    decide_range(V, N, L, W, vt, 0, n, 1, step, direction, cooldown_steps(par), par[P_DT])


@njit(parallel=True, cache=True)
def decide_lane_changes(V, N, L, W, vt, par, n, step):
    """MOBIL and mandatory lane-change decisions into ``W.dir_k`` (parallel over chunks)."""
    direction = 1 - 2 * (step % 2)  # arithmetic, not a branch: numba parfors mishandle branch-defined values
    cooldown = cooldown_steps(par)
    dt = par[P_DT]
    for c in prange(N_CHUNKS):
        decide_range(V, N, L, W, vt, c * n // N_CHUNKS, (c + 1) * n // N_CHUNKS, 1, step, direction,
                     cooldown, dt)


@njit(cache=True)
def apply_range(V, N, W, a, b, stride, step):
    """Carry out the lane changes decided for sorted indices ``a, a + stride, ... < b``; returns how many."""
    order = W.order
    lc_dir = W.dir_k
    lane = V.lane
    lc_step = V.lc_step
    lane_left = N.lane_left
    lane_right = N.lane_right
    changed = 0
    for k in range(a, b, stride):
        i = order[k]
        d = lc_dir[k]
        if d != 0:
            lane[i] = lane_left[lane[i]] if d > 0 else lane_right[lane[i]]
            lc_step[i] = step
            V.flags[i] &= ~np.int8(FLAG_INSIDE)
            changed += 1
    return changed


@njit(cache=True)
def apply_lane_changes_serial(V, N, W, n, step):
    return apply_range(V, N, W, 0, n, 1, step)
