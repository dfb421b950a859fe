"""Lane and movement helpers of the step's phases, on the CPU and the GPU alike: desired speed,
car following against a leader, neighbour search on a sorted lane, which movement and lanes serve
a route, the signal state of a movement, events. Right of way at junctions is :mod:`.yielding`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..physics.carfollow import ANY_GAP, cf_follow, cf_free, cf_modes
from ..physics.idm import STOP_LINE_CLEARANCE, idm_accel, idm_free
from ..runtime.atomics import atomic_add, atomic_add_mt
from ..runtime.layout import (
    C_NEV,
    M_GO,
    M_RED,
    M_STOP,
    M_YELLOW,
    M_YIELD,
    M_ZIPPER,
    T_ACC,
    T_CF,
    T_DEC,
    T_DELTA,
    T_LEN,
    T_S0,
    T_TAU,
    T_VMAX,
)
from ..runtime.precision import f32_down
from .routes import route_step

#: A vehicle this close to its line (m) stands at it: stopping vehicles come to rest
#: ``STOP_LINE_CLEARANCE`` before it.
AT_LINE = STOP_LINE_CLEARANCE + 0.5


@njit(cache=True, _nrt=False)
def v0_of(lane_speed, sfac, vt, i, lane, ty):
    """Desired speed (m/s) of vehicle ``i`` (type ``ty``) on ``lane``, from plain arrays.

    A float32 value (rounded down), as speeds are stored: a vehicle in free flow then drives at
    exactly its desired speed and loses no time, where the float64 value would be missed by the
    stored speed's rounding every step (3e-6 s of time loss over 80 s)."""
    v0 = lane_speed[lane] * sfac[i]
    if v0 > vt[ty, T_VMAX]:
        v0 = vt[ty, T_VMAX]
    if v0 < 0.1:
        v0 = 0.1
    return np.float64(f32_down(v0))


@njit(cache=True, _nrt=False)
def follow_accel_a(vtype, lane, pos, speed, sfac, lane_speed, vt, f, lead):
    """IDM acceleration of vehicle ``f`` behind vehicle ``lead`` (-1: free road) on f's lane."""
    ty = vtype[f]
    v0 = v0_of(lane_speed, sfac, vt, f, lane[f], ty)
    if lead < 0:
        return idm_free(speed[f], v0, vt[ty, T_ACC], vt[ty, T_DELTA])
    gap = pos[lead] - vt[vtype[lead], T_LEN] - pos[f]
    return idm_accel(speed[f], v0, gap, speed[lead], vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0],
                     vt[ty, T_TAU], vt[ty, T_DELTA])


@njit(cache=True, _nrt=False)
def lc_accel(vtype, lane, pos, speed, sfac, lane_speed, vt, f, lead, dt):
    """Acceleration (m/s²) of vehicle ``f`` behind ``lead`` (-1: free road) by ``f``'s own
    car-following model (IDM, Krauss, ACC or CACC, step ``dt`` s): the safety test of a mandatory lane
    change and the measure by which followers open gaps for one."""
    ty = vtype[f]
    v0 = v0_of(lane_speed, sfac, vt, f, lane[f], ty)
    model = int(vt[ty, T_CF])
    if lead < 0:
        return cf_free(model, speed[f], v0, vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_DELTA], dt)
    gap = pos[lead] - vt[vtype[lead], T_LEN] - pos[f]
    return cf_follow(model, speed[f], v0, gap, speed[lead], vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0],
                     vt[ty, T_TAU], vt[ty, T_DELTA], dt, vt, ty,
                     cf_modes(ANY_GAP, int(vt[vtype[lead], T_CF])), 0.0)


@njit(cache=True, _nrt=False)
def lane_serves_a(lane_mv_start, mv_to_link, lane, link):
    """True if a movement leads from ``lane`` to ``link``."""
    for m in range(lane_mv_start[lane], lane_mv_start[lane + 1]):
        if mv_to_link[m] == link:
            return True
    return False


@njit(cache=True)
def lane_serves(N, lane, link):
    return lane_serves_a(N.lane_mv_start, N.mv_to_link, lane, link)


@njit(cache=True, _nrt=False)
def choose_movement_a(lane_mv_start, mv_to_link, mv_to_lane, lane, link, after):
    """The movement from ``lane`` to ``link`` (preferring one whose to-lane serves ``after``); -1 if none."""
    best = -1
    for m in range(lane_mv_start[lane], lane_mv_start[lane + 1]):
        if mv_to_link[m] == link:
            if best < 0:
                best = m
            if after >= 0 and lane_serves_a(lane_mv_start, mv_to_link, mv_to_lane[m], after):
                return m
    return best


@njit(cache=True)
def choose_movement(N, lane, link, after):
    return choose_movement_a(N.lane_mv_start, N.mv_to_link, N.mv_to_lane, lane, link, after)


@njit(cache=True)
def lane_score(N, lane, link, after):
    """How far ``lane`` serves the route: 0 no movement to ``link``; 1 a movement to ``link``; 2 a
    movement to ``link`` onto a lane that also leads to ``after`` (or ``after`` is -1)."""
    N_lane_mv_start = N.lane_mv_start
    N_mv_to_lane = N.mv_to_lane
    N_mv_to_link = N.mv_to_link
    score = 0
    for m in range(N_lane_mv_start[lane], N_lane_mv_start[lane + 1]):
        if N_mv_to_link[m] == link:
            if after < 0 or lane_serves_a(N_lane_mv_start, N_mv_to_link, N_mv_to_lane[m], after):
                return 2
            score = 1
    return score


@njit(cache=True)
def top_lane_score(N, link, nxt, after):
    """The best :func:`lane_score` of any lane of ``link`` towards ``nxt`` then ``after`` (0 when
    ``nxt`` is -1: the last link of a route, where every lane serves)."""
    if nxt < 0:
        return 0
    first = N.link_first_lane[link]
    best = 0
    for q in range(N.link_nlanes[link]):
        sc = lane_score(N, first + q, nxt, after)
        if sc > best:
            best = sc
    return best


#: How far past the end of its link a vehicle plans its lane along the route, in seconds of
#: travel at the link's speed limit (SUMO's LC2013 makes a strategic change urgent within 10 s
#: of travel of where the lane stops serving the route, 20 s for a change to the right), and over
#: at most how many links.
ROUTE_LANES_SECONDS = 20.0
ROUTE_LANES_LINKS = 8


@njit(cache=True)
def route_lanes_mask(N, W, link, rp, end):
    """Bit k set: lane k of ``link`` (at route position ``rp``; the route ends before ``end``)
    continues along the route without a lane change as far as any lane of ``link`` does, over
    the next links of the route up to the first that begins ``ROUTE_LANES_SECONDS`` of travel
    at ``link``'s speed limit or more past its end (always at least two links, at most
    ``ROUTE_LANES_LINKS``).

    SUMO plans lanes over the route ahead (``MSVehicle::getBestLanes``): on a chain of short OSM
    links a vehicle moves to the lane it will need two or three links on before it gets there;
    looking two links ahead, mobsim's vehicles found out on the last link, stood at its end on
    the wrong lane when the right one was queued, and blocked the lane for everyone else (the
    A10 motorway's random trips: one link stood for the whole run, 23 teleports against 13).
    Computed backwards: the lanes of the last link considered all qualify; a lane of an earlier
    link qualifies if a movement takes it to the next link onto a qualifying lane, or, where no
    lane of its link does, onto that link at all (a lane change is needed further on anyway)."""
    codes = W.route_codes
    lns = N.link_next_start
    lnx = N.link_next
    n = 0
    far = 0.0  # from the end of ``link`` to the end of the n-th link ahead (m)
    ahead = ROUTE_LANES_SECONDS * N.lane_speed[N.link_first_lane[link]]
    nxt = link
    while rp + n + 1 < end and n < ROUTE_LANES_LINKS and (n < 2 or far < ahead):
        nxt = route_step(lns, lnx, codes, nxt, rp + n + 1)
        n += 1
        far += N.lane_len[N.link_first_lane[nxt]]
    if n == 0:
        return (np.int64(1) << N.link_nlanes[link]) - 1
    mask = (np.int64(1) << N.link_nlanes[nxt]) - 1  # the last link: every lane
    for k in range(n - 1, -1, -1):
        lk = link
        for h in range(k):
            lk = route_step(lns, lnx, codes, lk, rp + h + 1)
        lk1 = route_step(lns, lnx, codes, lk, rp + k + 1)
        first = N.link_first_lane[lk]
        ok = np.int64(0)
        anyl = np.int64(0)
        for q in range(N.link_nlanes[lk]):
            for m in range(N.lane_mv_start[first + q], N.lane_mv_start[first + q + 1]):
                if N.mv_to_link[m] == lk1:
                    anyl |= np.int64(1) << q
                    if (mask >> N.lane_index[N.mv_to_lane[m]]) & 1:
                        ok |= np.int64(1) << q
        mask = ok if ok != 0 else anyl
    return mask


@njit(cache=True, _nrt=False)
def lane_continuation_a(lane_len, lane_link, lane_mv_start, mv_to_link, mv_to_lane, lns, lnx, codes, lane, rp,
                        end, horizon):
    """Distance (m) from the start of ``lane`` (its link at route position ``rp`` of the packed
    routes ``codes``; the route ends before ``end``) that a vehicle can drive along its route
    without changing lanes: the
    lane's own length plus those of the lanes its movements take it onto, link after link, until
    a lane has no movement to the route's next link, the route ends (+inf) or ``horizon`` is
    passed.

    SUMO's ``currentDist`` (``MSVehicle::getBestLanes``, the ``length`` of the current lane's
    continuation), which LC2013 uses to decide when a change the route needs becomes urgent:
    a lane that goes straight on to a link where the change can still be made is not a dead end.
    On the network's arrays, without the state structs: callable from the planning's
    reference-count-free helpers.
    """
    dist = lane_len[lane]
    cur = lane
    link = lane_link[lane]
    n = 0
    while dist < horizon:
        if rp + n + 1 >= end:
            return np.inf
        nxt = route_step(lns, lnx, codes, link, rp + n + 1)
        nl = -1
        for m in range(lane_mv_start[cur], lane_mv_start[cur + 1]):
            if mv_to_link[m] == nxt:
                nl = mv_to_lane[m]
                break
        if nl < 0:
            return dist
        dist += lane_len[nl]
        cur = nl
        link = nxt
        n += 1
    return dist


@njit(cache=True, _nrt=False)
def mask_direction(lane_index, lane, mask):
    """0 if ``lane`` is in ``mask``, else -1/+1 towards the nearest lane that is."""
    k = lane_index[lane]
    if (mask >> k) & 1:
        return 0
    for d in range(1, 64):
        if k - d >= 0 and (mask >> (k - d)) & 1:
            return -1
        if k + d < 64 and (mask >> (k + d)) & 1:
            return 1
    return 0


@njit(cache=True)
def next_link(V, N, W, i, offset):
    """The route link ``offset`` >= 1 entries after the current one, or -1 past the destination."""
    rp = V.route_pos[i]
    end = V.route_end[i]
    link = N.lane_link[V.lane[i]]
    for _ in range(offset):
        rp += 1
        if rp >= end:
            return -1
        link = route_step(N.link_next_start, N.link_next, W.route_codes, link, rp)
    return link


@njit(cache=True)
def movement_state(N, W, m):
    return movement_state_a(N.mv_sig, N.mv_kind, W.sig_state, m)


@njit(cache=True, _nrt=False)
def movement_state_a(mv_sig, mv_kind, sig_state, m):
    """Right of way of movement ``m`` this step: M_GO, M_YIELD, M_STOP, M_ZIPPER, M_YELLOW or
    M_RED."""
    s = mv_sig[m]
    if s >= 0:
        st = sig_state[s]
        if st == 3:
            return M_GO
        if st == 2 or st == 4:
            return M_YIELD
        if st == 1:
            return M_YELLOW
        if st == 5:
            return M_STOP  # SUMO's 's': stop at the line, then yield (right turn on red)
        return M_RED
    k = mv_kind[m]
    if k == 0:
        return M_GO
    if k == 1:
        return M_YIELD
    if k == 3:
        return M_ZIPPER
    return M_STOP


@njit(cache=True)
def front_on_lane(V, L, W, lane):
    """The first vehicle still on ``lane`` in the sorted order (the last one there may have just
    left it; the two front entries are looked at), or -1."""
    a = L.lane_start[lane]
    b = L.lane_start[lane + 1]
    for k in range(b - 1, a - 1, -1):
        j = W.order[k]
        if V.status[j] == 1 and V.lane[j] == lane:
            return j
        if k < b - 2:
            break
    return -1


@njit(cache=True, _nrt=False)
def straddler_a(lane_last_exit, lane_exit_rp, status, route_pos, pos, vtype, vt, lane):
    """The vehicle that left ``lane`` last if its rear still reaches back over the stop line; -1 if none.

    It must still be on the link it entered from ``lane``: its route entry is the one it took on
    leaving (``lane_exit_rp``), not a later one."""
    x = lane_last_exit[lane]
    if x < 0 or status[x] != 1 or route_pos[x] != lane_exit_rp[lane]:
        return -1
    if pos[x] >= vt[vtype[x], T_LEN]:
        return -1
    return x


@njit(cache=True)
def add_event(W, t, kind, veh, link, value):
    """Append an event (slot taken atomically; the host sorts events before writing them). An
    event past the buffer's end is counted in ``cnt[C_NEV]`` but not stored: the drivers stop a
    chunk of steps long before that, and the host reports any loss."""
    store_event(W, atomic_add(W.cnt, C_NEV, 1), t, kind, veh, link, value)


@njit(cache=True)
def store_event(W, n, t, kind, veh, link, value):
    """Write event slot ``n`` (taken by the caller's atomic) if the buffer has it."""
    if n < W.ev_time.shape[0]:
        W.ev_time[n] = t
        W.ev_kind[n] = kind
        W.ev_veh[n] = veh
        W.ev_link[n] = link
        W.ev_val[n] = value


@njit(cache=True)
def add_event_mt(W, t, kind, veh, link, value):
    """:func:`add_event` from a pass that runs on several CPU threads (the move)."""
    store_event(W, atomic_add_mt(W.cnt, C_NEV, 1), t, kind, veh, link, value)


@njit(cache=True, _nrt=False)
def lane_slot_a(vpos, order, lane_start, lane, pos):
    """(leader, its sorted index) on ``lane`` ahead of position ``pos``: the first vehicle ahead,
    or (-1, the lane's end index) when nobody is ahead."""
    lo = lane_start[lane]
    hi = lane_start[lane + 1]
    b = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if vpos[order[mid]] > pos:
            hi = mid
        else:
            lo = mid + 1
    return (order[lo] if lo < b else -1), lo


@njit(cache=True, _nrt=False)
def find_neighbours_a(vpos, order, lane_start, lane, pos):
    """(leader, follower) on ``lane`` around position ``pos``: first vehicle ahead, last at or behind."""
    a = lane_start[lane]
    lead, lo = lane_slot_a(vpos, order, lane_start, lane, pos)
    fol = order[lo - 1] if lo - 1 >= a else -1
    return lead, fol


@njit(cache=True)
def find_neighbours(V, L, W, lane, pos):
    """:func:`find_neighbours_a` on the state structs."""
    return find_neighbours_a(V.pos, W.order, L.lane_start, lane, pos)
