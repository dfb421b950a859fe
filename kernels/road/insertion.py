"""Insertion of departures where a lane of the first link has a safe gap.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..physics.carfollow import brake_gap_euler, cf_insert_speed, euler
from ..physics.idm import STOP_LINE_CLEARANCE
from ..physics.rng import STREAM_DEPART_POS, STREAM_SPEED_FACTOR, normal01, u01
from ..runtime.atomics import atomic_add
from ..runtime.layout import (
    C_INSERTED,
    C_NRUN,
    C_STEP,
    DP_BASE,
    DP_FREE,
    DP_LAST,
    DP_RANDOM,
    DP_RANDOM_FREE,
    E_INSDELAY,
    FLAG_DELAY_EVENT,
    M_GO,
    M_RED,
    P_BEGIN,
    P_DT,
    P_INS_DELAY,
    P_SEED,
    T_ACC,
    T_CF,
    T_DEC,
    T_LEN,
    T_S0,
    T_SDEV,
    T_SF,
    T_TAU,
    T_VMAX,
)
from ..runtime.precision import f32_down
from .lanes import (
    add_event,
    choose_movement,
    find_neighbours_a,
    front_on_lane,
    lane_score,
    movement_state,
    straddler_a,
    top_lane_score,
)
from .routes import route_link

#: Bounds of a drawn speed factor: SUMO's default ``normc(1, dev, 0.2, 2)`` (SUMO redraws a value
#: outside them; a clamp differs only beyond eight deviations of its usual 0.1).
SF_MIN = 0.2
SF_MAX = 2.0


@njit(cache=True)
def step_at(par, t):
    """The step index whose start time is ``t`` (s): t = begin + step * dt."""
    return int(math.floor((t - par[P_BEGIN]) / par[P_DT] + 0.5))


@njit(cache=True)
def insert_position(V, N, W, vt, i, lane):
    """Front position (m) of vehicle ``i`` when inserted on ``lane``: its ``departPos`` (at least
    its length, at most the lane length), or its length (``base``: the rear at the lane start)."""
    length = vt[V.vtype[i], T_LEN]
    dpos = W.dep_pos[V.dspec[i]]
    p = dpos if dpos > length else length
    return p if p < N.lane_len[lane] else N.lane_len[lane]


@njit(cache=True)
def follower_safe(V, N, vt, f, rear, lane, dt):
    """True if follower ``f`` can stay behind a vehicle inserted with its rear at ``rear`` (m) on
    ``lane`` at standstill-safe distance: a gap of at least its jam distance, and a speed it
    could drive behind a stopped vehicle there (its model's insertion speed,
    :func:`.carfollow.cf_insert_speed`, with the inserted vehicle as leader at speed 0; ``dt`` s)."""
    tf = V.vtype[f]
    gap = rear - V.pos[f]
    if gap < vt[tf, T_S0]:
        return False
    v0 = N.lane_speed[lane] * V.sfac[f]
    vsafe = cf_insert_speed(int(vt[tf, T_CF]), gap, v0, 0.0, vt[tf, T_ACC], vt[tf, T_DEC], vt[tf, T_S0],
                            vt[tf, T_TAU], dt)
    return vsafe >= V.speed[f]


@njit(cache=True)
def gap_beyond_lane(V, N, L, W, vt, lane, pos, nl, after, s0):
    """(gap m, leader speed m/s) for a vehicle (jam distance ``s0`` m) inserted at ``pos`` on the
    empty ``lane``: what lies past the lane's end on the way to link ``nl``
    (:func:`beyond_lane` without its kind)."""
    gap, vl, _ = beyond_lane(V, N, L, W, vt, lane, pos, nl, after, s0)
    return gap, vl


@njit(cache=True)
def beyond_lane(V, N, L, W, vt, lane, pos, nl, after, s0):
    """(gap m, leader speed m/s, True if the leader is a stop line) for a vehicle (jam distance
    ``s0`` m) inserted at ``pos`` on the empty ``lane``: what lies past the lane's end on the way
    to link ``nl``. A stop line that is not green now, or the end of a lane with no movement to
    ``nl``, is a standing leader where ``idm_stop`` puts it (``s0 - STOP_LINE_CLEARANCE`` beyond the
    line); else the rear of the vehicle that just left
    the lane (it may still reach back over the line), or the rearmost vehicle of the next lane.
    Without this a vehicle inserted at full speed on a short lane could not stop for the queue
    just beyond it."""
    gap = 1e9
    vl = 1e3
    d_line = N.lane_len[lane] - pos
    x = straddler_a(L.lane_last_exit, L.lane_exit_rp, V.status, V.route_pos, V.pos, V.vtype, vt, lane)
    if x >= 0:
        gap = d_line + V.pos[x] - vt[V.vtype[x], T_LEN]
        vl = V.speed[x]
    if nl < 0:
        return gap, vl, False
    m = choose_movement(N, lane, nl, after)
    if m < 0 or movement_state(N, W, m) != M_GO:
        # A lane with no movement to the route's next link ends in a wall until a lane change
        # succeeds: the insertion speed must allow a stop before it, as SUMO checks along the
        # best lanes' continuation (A10KW: a departure put at the end of the wrong lane at 29 m/s
        # stopped dead there, and the car that had changed in behind it ran into it).
        # A stop line is no vehicle: the inserted vehicle need only stop where idm_stop brings it
        # to rest, STOP_LINE_CLEARANCE m before the line, or at the line on a lane too short for
        # that (it then starts standing). Taken as a standing rear, the line kept every vehicle
        # off a link shorter than its length plus its jam distance (OSM networks have 5 m links).
        g = s0 + max(d_line - STOP_LINE_CLEARANCE, 0.0)
        if g < gap:
            return g, 0.0, True
        return gap, vl, False
    tl = N.mv_to_lane[m]
    r = L.lane_rear[tl]
    if r >= 0 and V.status[r] == 1 and V.lane[r] == tl:
        g = d_line + V.pos[r] - vt[V.vtype[r], T_LEN]
        if g < gap:
            gap = g
            vl = V.speed[r]
    return gap, vl, False


@njit(cache=True)
def gap_from_start(V, N, L, W, vt, lane, pos, nl, after, s0):
    """``(gap m, leader speed m/s)`` for a vehicle put near the start of ``lane`` with its front at
    ``pos``: to the lane's rearmost vehicle, or past the lane's end when it is empty
    (:func:`gap_beyond_lane`). Departures at the lane's start and vehicles back from a teleport."""
    r = L.lane_rear[lane]
    if r >= 0 and V.status[r] == 1 and V.lane[r] == lane:
        return V.pos[r] - vt[V.vtype[r], T_LEN] - pos, V.speed[r]
    return gap_beyond_lane(V, N, L, W, vt, lane, pos, nl, after, s0)


@njit(cache=True)
def upstream_can_stop(V, N, L, W, vt, lane, rear, v_ins):
    """False if the first vehicle of a lane leading into ``lane`` could not stay behind a vehicle
    inserted with its rear ``rear`` m from ``lane``'s start at ``v_ins`` m/s: it would need to
    shed more speed than its comfortable deceleration allows in the room left (its distance to
    the line plus ``rear``, less its jam distance). SUMO checks that rear gap to vehicles on the
    lanes before too; without it, a departure at a lane's start was hit by a vehicle crossing
    into the lane at 15 m/s (random trips on Braunschweig). A movement that is red holds its
    vehicles; one that crossed in this step is on ``lane`` already (the lane's rear)."""
    for q in range(N.lane_in_start[lane], N.lane_in_start[lane + 1]):
        m = N.lane_in_mv[q]
        if movement_state(N, W, m) == M_RED:
            continue
        fl = N.mv_from_lane[m]
        j = front_on_lane(V, L, W, fl)
        if j < 0:
            continue
        v = V.speed[j]
        if v <= v_ins:
            continue
        room = N.lane_len[fl] - V.pos[j] + rear - vt[V.vtype[j], T_S0]
        if room < (v * v - v_ins * v_ins) / (2.0 * vt[V.vtype[j], T_DEC]):
            return False
    return True


@njit(cache=True)
def secure_gap(model, v, vl, dc, dl, tau, dt):
    """Gap (m, beyond the minimum gap) that a vehicle at ``v`` m/s needs behind a leader at ``vl``
    m/s (SUMO's ``getSecureGap``): its reaction distance plus its braking distance, less the
    leader's braking distance at the harder of the two decelerations (m/s²), at least 0. Krauss
    with the step-wise (Euler) braking distances SUMO uses; IDM with continuous ones. A slower
    follower may thus start closer than ``v · tau``, as in SUMO."""
    d = dc if dc > dl else dl
    if euler(model):
        g = v * tau + brake_gap_euler(v, dc, dt) - brake_gap_euler(vl, d, dt)
    else:
        g = v * tau + v * v / (2.0 * dc) - vl * vl / (2.0 * d)
    return g if g > 0.0 else 0.0


@njit(cache=True)
def last_position(V, N, L, W, vt, i, lane, nl, after, v0, par_dt):
    """``(front position m, gap m, leader speed m/s)`` of vehicle ``i`` inserted with
    ``departPos="last"`` on ``lane`` (SUMO's ``lastInsertion``): behind the lane's rearmost
    vehicle, leaving the jam distance and the :func:`secure_gap` for its departure speed ``v0``
    (m/s; the desired speed for departSpeed max; ``par_dt`` is the step, s). On an empty lane
    the same behind a vehicle just beyond the lane's end (SUMO looks for a leader on the lanes
    ahead: on a motorway entry whose exit lane queued back past its end, every departure waited
    for a place at the lane's end, 103 s on average, while SUMO inserted them hundreds of metres
    upstream); else at the lane's end, with a red line beyond it as a standing leader
    (:func:`beyond_lane`; the insertion speed then adapts). Position -1 when the leader leaves no
    room for the whole vehicle on the lane (the departure waits)."""
    ty = V.vtype[i]
    length = vt[ty, T_LEN]
    s0 = vt[ty, T_S0]
    dc = vt[ty, T_DEC]
    dl = dc
    r = L.lane_rear[lane]
    end = N.lane_len[lane]
    if r >= 0 and V.status[r] == 1 and V.lane[r] == lane:
        back = V.pos[r] - vt[V.vtype[r], T_LEN]
        vl = V.speed[r]
        dl = vt[V.vtype[r], T_DEC]
        is_line = False
    else:
        if end < length:
            end = length
        gap, vl, is_line = beyond_lane(V, N, L, W, vt, lane, end, nl, after, s0)
        if is_line or gap >= 1e8:
            return end, gap, vl
        back = end + gap
    pos = back - s0 - secure_gap(int(vt[ty, T_CF]), v0, vl, dc, dl, vt[ty, T_TAU], par_dt)
    if pos > end:
        pos = end
    if pos < length:
        return -1.0, 0.0, 0.0
    return pos, back - pos, vl


#: Random positions tried per attempt for ``departPos="random_free"`` (SUMO's ten).
DEPART_TRIES = 10
#: Margin (m) beyond the gap a follower needs, for a free insertion (SUMO's POSITION_EPS).
FREE_EPS = 0.1


@njit(cache=True)
def positioned_code(dpos):
    """True for departure positions that need the lane's sorted order: a position inside the lane,
    random positions and free insertion (inserted in the pass right after the sort)."""
    return dpos >= 0.0 or dpos == DP_FREE or dpos == DP_RANDOM or dpos == DP_RANDOM_FREE


@njit(cache=True)
def speed_at(V, N, L, W, vt, par, i, lane, pos, gap, vl, v0, want):
    """Insertion speed (m/s) of vehicle ``i`` with its front at ``pos`` on ``lane``, ``gap`` m behind
    a leader at ``vl`` m/s, desired speed ``v0``; ``want`` the given departure speed (below 0:
    the highest safe one). -1 where it may not depart there: no safe speed, the given speed is
    not safe, or a vehicle about to enter the lane could not stay behind it."""
    ty = V.vtype[i]
    vmax = cf_insert_speed(int(vt[ty, T_CF]), gap, v0, vl, vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0],
                           vt[ty, T_TAU], par[P_DT])
    if vmax < 0.0:
        return -1.0
    v = vmax
    if want >= 0.0:
        if want > vmax + 1e-9:
            return -1.0
        v = want
    if not upstream_can_stop(V, N, L, W, vt, lane, pos - vt[ty, T_LEN], v):
        return -1.0
    return v


@njit(cache=True)
def fresh_neighbours(V, L, W, lane, pos, lead, fol):
    """``(leader, follower)`` around ``pos`` on ``lane`` among ``lead``, ``fol`` (from the sorted
    order) and the vehicles inserted on the lane in this pass: those at the order's slots past the
    sorted ones (``W.order[lane_start[-1]:cnt[C_NRUN]]``), running, inserted in this step. Another
    link's thread may be filling a slot of that range; a stale entry names a vehicle that is
    either not here or already in the sorted order (never nearer than the sorted neighbours)."""
    s = W.cnt[C_STEP]
    for k in range(L.lane_start[L.lane_start.shape[0] - 1], W.cnt[C_NRUN]):
        q = W.order[k]
        if q < 0 or V.status[q] != 1 or V.lane[q] != lane or V.dep_step[q] != s:
            continue
        if V.pos[q] > pos:
            if lead < 0 or V.pos[q] < V.pos[lead]:
                lead = q
        elif fol < 0 or V.pos[q] > V.pos[fol]:
            fol = q
    return lead, fol


@njit(cache=True)
def positioned_speed(V, N, L, W, vt, par, i, lane, pos, nl, after, v0, want):
    """``(speed m/s or -1, gap m)`` of vehicle ``i`` inserted with its front at ``pos`` inside
    ``lane`` (:func:`speed_at`), between the neighbours the sorted order gives (this pass runs
    right after the sort, so a binary search finds them); -1 also where the follower could not
    stay behind it. Vehicles inserted on the lane earlier in this pass are not in the sorted order
    yet: they count as neighbours too (:func:`fresh_neighbours`), so that several departures
    inside one lane start in one step, as SUMO inserts them."""
    ty = V.vtype[i]
    gap = 1e9
    vl = 1e3
    lead, fol = find_neighbours_a(V.pos, W.order, L.lane_start, lane, pos)
    if L.lane_used[lane] == W.cnt[C_STEP]:
        lead, fol = fresh_neighbours(V, L, W, lane, pos, lead, fol)
    if lead >= 0:
        gap = V.pos[lead] - vt[V.vtype[lead], T_LEN] - pos
        vl = V.speed[lead]
    else:
        # No one ahead on the lane: what lies beyond its end (a queue on the next lane, a red
        # line), as SUMO checks the lanes ahead within the braking distance. Without it, a
        # vehicle inserted at full speed near the end of a motorway link (ramp: departPos random,
        # 19 m before the end at 30 m/s) ran into the queue beyond.
        gap, vl = gap_beyond_lane(V, N, L, W, vt, lane, pos, nl, after, vt[ty, T_S0])
    if fol >= 0 and not follower_safe(V, N, vt, fol, pos - vt[ty, T_LEN], lane, par[P_DT]):
        return -1.0, gap
    return speed_at(V, N, L, W, vt, par, i, lane, pos, gap, vl, v0, want), gap


@njit(cache=True)
def random_position(V, N, vt, par, i, lane, counter):
    """A uniform front position (m) on ``lane`` for vehicle ``i`` (SUMO's ``RandHelper::rand(length)``),
    at least its length as every position inside a lane (the vehicle starts on its first link);
    ``counter`` numbers the draw (step and try) in the departure-position stream."""
    length = vt[V.vtype[i], T_LEN]
    lane_len = N.lane_len[lane]
    p = u01(np.uint64(par[P_SEED]), STREAM_DEPART_POS, V.trip[i], counter) * lane_len
    if p < length:
        p = length
    return p if p < lane_len else lane_len


@njit(cache=True)
def free_position(V, N, L, W, vt, par, i, lane, nl, after, v0, want):
    """``(front position m, speed m/s or -1, gap m)`` of vehicle ``i`` by SUMO's ``freeInsertion``:
    at the lane's start (the rear there, as ``base``) if that is safe, else just ahead of the
    first vehicle, rearmost first, behind which there is a safe gap: its front at that vehicle's
    front plus its jam distance, the gap it needs behind the new vehicle standing
    (:func:`secure_gap`) and the new vehicle's length, if the vehicle ahead leaves room for it.
    (SUMO puts a free departure on an empty lane with its front at the lane's start; mobsim's
    vehicles start with the whole vehicle on their first link.)"""
    ty = V.vtype[i]
    length = vt[ty, T_LEN]
    s0 = vt[ty, T_S0]
    pos = insert_position(V, N, W, vt, i, lane)  # the rear at the lane start
    gap, vl = gap_from_start(V, N, L, W, vt, lane, pos, nl, after, s0)
    v = speed_at(V, N, L, W, vt, par, i, lane, pos, gap, vl, v0, want)
    if v >= 0.0:
        return pos, v, gap
    a = L.lane_start[lane]
    b = L.lane_start[lane + 1]
    lane_len = N.lane_len[lane]
    for k in range(a, b):
        f = W.order[k]
        tf = V.vtype[f]
        p = V.pos[f] + vt[tf, T_S0] + secure_gap(int(vt[tf, T_CF]), V.speed[f], 0.0, vt[tf, T_DEC],
                                                  vt[ty, T_DEC], vt[tf, T_TAU], par[P_DT]) + length + FREE_EPS
        if p > lane_len:
            break
        if k + 1 < b:
            lead = W.order[k + 1]
            if p + s0 > V.pos[lead] - vt[V.vtype[lead], T_LEN]:
                continue  # no room before the next vehicle
        v, gap = positioned_speed(V, N, L, W, vt, par, i, lane, p, nl, after, v0, want)
        if v >= 0.0:
            return p, v, gap
    return 0.0, -1.0, 0.0


@njit(cache=True)
def try_insert(V, N, L, W, vt, par, i, link, t, step):
    """Insert vehicle ``i`` on ``link``, its first, if a lane has a safe gap; True on success."""
    ty = V.vtype[i]
    rp = V.route_pos[i]  # the route's first entry until the vehicle is inserted
    nl = route_link(N, W, link, rp + 1, V.route_end[i])
    first = N.link_first_lane[link]
    nlanes = N.link_nlanes[link]
    # Desired-speed factor: drawn once per vehicle, from the counter-based RNG, within SUMO's
    # default bounds [SF_MIN, SF_MAX] (normc(1, 0.1, 0.2, 2): the normal's tails are kept). It
    # was clipped at two deviations, and A10KW completed 9 % fewer trips over seeds 1-5 (4,003
    # against 4,375; SUMO 4,261).
    sf = vt[ty, T_SF]
    dev = vt[ty, T_SDEV]
    if dev > 0.0:
        sf = sf * (1.0 + dev * normal01(np.uint64(par[P_SEED]), STREAM_SPEED_FACTOR, V.trip[i], 0))
    if sf < SF_MIN:
        sf = SF_MIN
    if sf > SF_MAX:
        sf = SF_MAX
    want = W.dep_speed[V.dspec[i]]
    lim = N.lane_speed[first]
    if want > lim * sf and want <= vt[ty, T_VMAX]:
        # SUMO: a given departSpeed above the desired speed raises the speed factor to it (a
        # hair more, so that the float32 factor still reaches it) instead of refusing the vehicle.
        sf = want / lim * (1.0 + 1e-6)
    V.sfac[i] = sf
    sf = V.sfac[i]  # as stored (float32): the same desired speed now as in every later step
    spec = V.dspec[i]
    dlane = W.dep_lane[spec]
    dpos = W.dep_pos[spec]
    best = -1
    best_score = -1e30
    best_v = 0.0
    best_pos = 0.0
    after = route_link(N, W, nl, rp + 2, V.route_end[i]) if nl >= 0 else -1
    top = top_lane_score(N, link, nl, after)
    for q in range(nlanes):
        lane = first + q
        if dlane >= 0 and q != dlane:
            continue
        if dlane == -2 and q != 0:
            continue
        if nl >= 0 and dlane == -1 and lane_score(N, lane, nl, after) < top:
            continue
        if L.lane_used[lane] == step and dpos != DP_LAST and not positioned_code(dpos):
            # One insertion per lane and step at the lane's start; behind the last vehicle, which
            # reads the lane's rear that each insertion updates, and inside the lane, which sees
            # this pass's insertions (fresh_neighbours), several, as SUMO inserts them (a burst of
            # departures on a motorway entry queues back from its end instead of leaving one per
            # step at the end).
            continue
        v0 = N.lane_speed[lane] * sf
        if v0 > vt[ty, T_VMAX]:
            v0 = vt[ty, T_VMAX]
        if dpos == DP_LAST:
            pos, gap, vl = last_position(V, N, L, W, vt, i, lane, nl, after, v0 if want < 0.0 else want,
                                         par[P_DT])
            if pos < 0.0:
                continue
            v = speed_at(V, N, L, W, vt, par, i, lane, pos, gap, vl, v0, want)
        elif dpos == DP_BASE:
            pos = insert_position(V, N, W, vt, i, lane)
            gap, vl = gap_from_start(V, N, L, W, vt, lane, pos, nl, after, vt[ty, T_S0])
            v = speed_at(V, N, L, W, vt, par, i, lane, pos, gap, vl, v0, want)
        elif dpos >= 0.0:
            pos = insert_position(V, N, W, vt, i, lane)
            v, gap = positioned_speed(V, N, L, W, vt, par, i, lane, pos, nl, after, v0, want)
        else:
            # SUMO's random positions (drawn at every attempt, so a departure whose position lies
            # in a queue tries elsewhere next time instead of waiting there for good) and free
            # insertion (MSLane::insertVehicle, freeInsertion).
            v = -1.0
            tries = 1 if dpos == DP_RANDOM else (DEPART_TRIES if dpos == DP_RANDOM_FREE else 0)
            for k in range(tries):
                pos = random_position(V, N, vt, par, i, lane, step * DEPART_TRIES + k)
                v, gap = positioned_speed(V, N, L, W, vt, par, i, lane, pos, nl, after, v0, want)
                if v >= 0.0:
                    break
            if v < 0.0 and dpos != DP_RANDOM:
                pos, v, gap = free_position(V, N, L, W, vt, par, i, lane, nl, after, v0, want)
        if v < 0.0:
            continue
        score = gap
        if dpos == DP_LAST:
            # The lane whose last vehicle is farthest ahead (an empty lane counts as its length),
            # as SUMO's getFreeLane picks it for departPos="last". The gap behind that vehicle is
            # the same on every lane (what the departure speed needs), so choosing by gap sent
            # every tie to lane 0: on A10KW's 960 m motorway entry its insertion point crept
            # back 400 m in 20 s while SUMO's stayed near the end on all three lanes, and a
            # third of the entry's demand never got in.
            r = L.lane_rear[lane]
            score = V.pos[r] if r >= 0 and V.status[r] == 1 and V.lane[r] == lane else N.lane_len[lane]
        if score > best_score:
            best = lane
            best_score = score
            best_v = v
            best_pos = pos
    if best < 0:
        return False
    pos = best_pos
    V.status[i] = 1
    V.lane[i] = best
    V.pos[i] = pos
    V.moved[i] = 0.0
    V.dist0[i] = -pos
    V.speed[i] = f32_down(best_v)
    V.acc[i] = 0.0
    s = step_at(par, t)
    V.dep_step[i] = s  # the due step is spent
    V.lc_step[i] = s
    V.standstill[i] = 0
    L.lane_used[best] = step
    r = L.lane_rear[best]
    if not (r >= 0 and V.status[r] == 1 and V.lane[r] == best and V.pos[r] < pos):
        L.lane_rear[best] = i  # (a departure inside the lane may have vehicles behind it)
    L.a_ent[best] += 1
    atomic_add(W.cnt, C_INSERTED, 1)
    return True


@njit(cache=True)
def insert_links(V, N, L, W, vt, par, e0, e1, stride, t, step, positioned):
    """:func:`insert_link` for links ``e0, e0 + stride, ... < e1`` that have a departure due.

    ``positioned`` selects the pass: False, the end-of-step pass for vehicles that start at the
    lane start or behind its last vehicle (``departPos`` base, last); True, the pass right after
    the next step's sort for vehicles with a ``departPos`` inside the lane, random or free
    (:func:`positioned_code`), whose neighbours must be found in the sorted order."""
    dep_next = W.link_dep_next
    dep_start = W.link_dep_start
    link_dep = W.link_dep
    due = V.dep_step
    s = step_at(par, t)
    for e in range(e0, e1, stride):
        p = dep_next[e]
        if p < dep_start[e + 1] and due[link_dep[p]] <= s:
            insert_link(V, N, L, W, vt, par, e, t, step, positioned)


@njit(cache=True)
def insert_link(V, N, L, W, vt, par, e, t, step, positioned):
    """Insert the due departures of link ``e`` in (planned departure, trip id) order where a lane
    has a safe gap; the others wait. Departures on different links never compete for a lane, so
    links run on any number of threads with the results of one global queue in that order.

    ``link_dep[link_dep_start[e]:link_dep_start[e + 1]]`` lists the trips starting on ``e`` in that
    order; ``link_dep_next[e]`` is the first of them not inserted yet.
    """
    p = W.link_dep_next[e]
    p1 = W.link_dep_start[e + 1]
    first_wait = -1
    delay_ev = par[P_INS_DELAY]
    s = step_at(par, t)
    while p < p1:
        i = W.link_dep[p]
        if V.dep_step[i] > s:  # (an inserted one holds its insertion step, <= s)
            break
        if V.status[i] == 0 and positioned_code(W.dep_pos[V.dspec[i]]) != positioned:
            if first_wait < 0:
                first_wait = p  # waits for the other pass
        elif V.status[i] == 0:
            if try_insert(V, N, L, W, vt, par, i, e, t, step):
                slot = atomic_add(W.cnt, C_NRUN, 1)
                W.order[slot] = i
            else:
                if first_wait < 0:
                    first_wait = p
                waited = (s - V.dep_step[i]) * par[P_DT]
                if waited >= delay_ev - 1e-9 and V.flags[i] & FLAG_DELAY_EVENT == 0:
                    # the host replaces the value by t - planned departure (it keeps the exact time)
                    V.flags[i] |= 2
                    add_event(W, t, E_INSDELAY, i, e, waited)
        p += 1
    W.link_dep_next[e] = first_wait if first_wait >= 0 else p


@njit(cache=True)
def insert_departures(V, N, L, W, vt, par, t, step):
    """Insert the departures due by ``t``, link by link (see :func:`insert_link`)."""
    insert_links(V, N, L, W, vt, par, 0, W.link_dep_start.shape[0] - 1, 1, t, step, False)
