"""CPU drivers of the simulation step (numba ``njit``, ``parallel=True`` where it pays, ``cache=True``).

One call of :func:`run_steps` advances the state by up to ``n_steps`` steps of ``dt`` s. A step is,
in order (DESIGN.md §4, with insertion moved to the end of the step as in SUMO):

1. signals: the state of every signal slot at the step's start time;
2. order: vehicles sorted by (lane, position): a counting sort by lane that keeps the previous
   order within each lane, then an insertion sort per lane (nearly sorted, so linear);
3. lane changes: MOBIL and mandatory changes decided in parallel on the sorted state, left on even
   steps and right on odd steps so two vehicles never merge into one gap from both sides; applied,
   then the order is rebuilt;
4. plan: IDM acceleration against the leader on the lane, or for the first vehicle of a lane a
   look-ahead along the route (stop lines of red, yellow, yield and stop movements, the last vehicle
   of the next lane, room downstream);
5. advance: ballistic update per lane from front to back, with a hard no-overlap bound;
6. junctions: vehicles past their stop line enter the next lane in order of the time they reached
   the line (then lower vehicle id), if there is room; arrivals at the end of the route;
7. gridlock policy; 8. insertion of departures; 9. record (summary row, lane accumulators).

Every parallel loop writes only the vehicle or lane it owns, and every float sum is taken
sequentially, so results are identical for any number of threads.

The state arrives as numba StructRefs (:mod:`mobsim.kernels.structs`); with namedtuples, a
``prange`` body that stored through a field lost the stores (numba 0.68), and every call passed
hundreds of words. Parallel loops still only call a serial ``*_one``/``*_lane`` function, so the
serial twins used below ``PARALLEL_MIN`` vehicles run the very same code.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .idm import ballistic, can_stop, idm_accel, idm_free, idm_stop, safe_insert_speed
from .mobil import accept_gap, mobil_incentive, mobil_safe
from .rng import STREAM_SPEED_FACTOR, normal01

# Counters (``cnt`` array, int64).
C_NRUN = 0        # entries in ``order`` (sorted running vehicles; may hold stale arrived ones)
C_LOADED = 1
C_INSERTED = 2
C_ARRIVED = 3
C_REMOVED = 4
C_COLL = 5
C_TELE = 6
C_NEXTLOAD = 7    # next index into ``dep_order`` not yet loaded
C_NWAIT = 8       # entries in ``waitq``
C_NEV = 9         # events in the event buffer
C_VSTEPS = 10     # vehicle-steps simulated
C_NSUM = 11       # rows in the summary buffer
C_STEP = 12       # absolute step index of the next step
C_EMERG = 13
C_BLOCKED = 14
C_PARMIN = 15     # copy of P_PAR_MIN for build_order, which gets no parameter array
N_COUNTERS = 16

# Parameters (``par`` array, float64).
P_DT = 0
P_BEGIN = 1
P_CRIT_GAP = 2
P_STOP_TIME = 3
P_GRID_MODE = 4   # 0 none, 1 teleport, 2 remove
P_GRID_TIME = 5
P_INS_DELAY = 6
P_LC_COOLDOWN = 7
P_SUMMARY_EVERY = 8
P_SEED = 9
P_HORIZON = 10    # look-ahead distance cap (m)
P_PAR_MIN = 11    # run the parallel loops from this many running vehicles on (see PARALLEL_MIN)
N_PARAMS = 12

# Vehicle-type table columns (mobsim.vtypes.VTYPE_PARAMS).
T_LEN = 0
T_S0 = 1
T_TAU = 2
T_ACC = 3
T_DEC = 4
T_EDEC = 5
T_VMAX = 6
T_SF = 7
T_SDEV = 8
T_DELTA = 9
T_POLITE = 10
T_LCTHR = 11
T_LCSAFE = 12

# Event kinds (mobsim.schema.EVENT_KINDS).
E_COLLISION = 0
E_TELEPORT = 1
E_REMOVAL = 2
E_EMERGENCY = 3
E_INSDELAY = 4
E_BLOCKED = 5

# Movement right of way this step.
M_GO = 0
M_YIELD = 1
M_STOP = 2      # stop sign: stop, then yield
M_YELLOW = 3
M_RED = 4

SUMMARY_COLS = 12
#: Parallel loops split their range into this many chunks (each chunk hoists the state arrays once).
N_CHUNKS = 64
#: From this many running vehicles on, the parallel loops run (else their serial twins; the results
#: are identical). Disabled for now: with two threads every per-vehicle call refcounts the shared
#: state arrays atomically, and the contention made the parallel step 4x slower than the serial
#: one (20k vehicles: 0.41 vs 1.69 million vehicle-updates/s). Flattening the per-vehicle
#: functions to take plain arrays removes the refcounts; then lower this again (e.g. 4096).
PARALLEL_MIN = 2**62
HALT_SPEED = 0.1
MAX_LOOKAHEAD = 4


# --------------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------------

@njit(cache=True)
def v0_of(lane_speed, sfac, vt, i, lane, ty):
    """Desired speed (m/s) of vehicle ``i`` (type ``ty``) on ``lane``, from plain arrays."""
    v0 = lane_speed[lane] * sfac[i]
    if v0 > vt[ty, T_VMAX]:
        v0 = vt[ty, T_VMAX]
    if v0 < 0.1:
        v0 = 0.1
    return v0


@njit(cache=True)
def follow_accel_a(vtype, lane, pos, speed, sfac, lane_speed, vt, f, lead):
    """IDM acceleration of vehicle ``f`` behind vehicle ``lead`` (-1: free road) on f's lane."""
    ty = vtype[f]
    v0 = v0_of(lane_speed, sfac, vt, f, lane[f], ty)
    if lead < 0:
        return idm_free(speed[f], v0, vt[ty, T_ACC], vt[ty, T_DELTA])
    gap = pos[lead] - vt[vtype[lead], T_LEN] - pos[f]
    return idm_accel(speed[f], v0, gap, speed[lead], vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0],
                     vt[ty, T_TAU], vt[ty, T_DELTA])


@njit(cache=True)
def lane_serves_a(lane_mv_start, mv_to_link, lane, link):
    """True if a movement leads from ``lane`` to ``link``."""
    for m in range(lane_mv_start[lane], lane_mv_start[lane + 1]):
        if mv_to_link[m] == link:
            return True
    return False


@njit(cache=True)
def lane_serves(N, lane, link):
    return lane_serves_a(N.lane_mv_start, N.mv_to_link, lane, link)


@njit(cache=True)
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
    score = 0
    for m in range(N.lane_mv_start[lane], N.lane_mv_start[lane + 1]):
        if N.mv_to_link[m] == link:
            if after < 0 or lane_serves(N, N.mv_to_lane[m], after):
                return 2
            score = 1
    return score


@njit(cache=True)
def best_lanes_mask(N, link, nxt, after):
    """Bit k set: lane k of ``link`` has the best :func:`lane_score` towards ``nxt`` then ``after``."""
    first = N.link_first_lane[link]
    best = 0
    for q in range(N.link_nlanes[link]):
        sc = lane_score(N, first + q, nxt, after)
        if sc > best:
            best = sc
    mask = np.int64(0)
    for q in range(N.link_nlanes[link]):
        if lane_score(N, first + q, nxt, after) == best:
            mask |= np.int64(1) << q
    return mask


@njit(cache=True)
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
def next_link(V, W, i, offset):
    """The route link ``offset`` entries after the current one, or -1 past the destination."""
    rp = V.route_pos[i] + offset
    if rp < V.route_end[i]:
        return W.route_links[rp]
    return -1


@njit(cache=True)
def movement_state(N, W, m):
    return movement_state_a(N.mv_sig, N.mv_kind, W.sig_state, m)


@njit(cache=True)
def movement_state_a(mv_sig, mv_kind, sig_state, m):
    """Right of way of movement ``m`` this step: M_GO, M_YIELD, M_STOP, M_YELLOW or M_RED."""
    s = mv_sig[m]
    if s >= 0:
        st = sig_state[s]
        if st == 3:
            return M_GO
        if st == 2 or st == 4:
            return M_YIELD
        if st == 1:
            return M_YELLOW
        return M_RED
    k = mv_kind[m]
    if k == 0:
        return M_GO
    if k == 1:
        return M_YIELD
    return M_STOP


@njit(cache=True)
def yield_blocked(V, N, W, L, m, crit_gap):
    """True if a conflicting movement with right of way has a vehicle arriving within ``crit_gap`` s."""
    for q in range(N.mv_foe_start[m], N.mv_foe_start[m + 1]):
        f = N.mv_foes[q]
        if movement_state(N, W, f) != M_GO:
            continue
        fl = N.mv_from_lane[f]
        a = L.lane_start[fl]
        b = L.lane_start[fl + 1]
        if b <= a:
            continue
        j = W.order[b - 1]
        if V.status[j] != 1 or V.lane[j] != fl:
            continue
        rp = V.route_pos[j] + 1
        if rp >= V.route_end[j] or W.route_links[rp] != N.mv_to_link[f]:
            continue
        v = V.speed[j]
        if v < 0.1:
            v = 0.1
        t_arr = (N.lane_len[fl] - V.pos[j]) / v
        if not accept_gap(t_arr, crit_gap):
            return True
    return False


@njit(cache=True)
def straddler_a(lane_last_exit, status, route_pos, route_start, route_links, lane_link, pos, vtype, vt,
                lane):
    """The vehicle that left ``lane`` last if its rear still reaches back over the stop line; -1 if none."""
    x = lane_last_exit[lane]
    if x < 0 or status[x] != 1 or route_pos[x] <= route_start[x]:
        return -1
    if route_links[route_pos[x] - 1] != lane_link[lane]:
        return -1
    if pos[x] >= vt[vtype[x], T_LEN]:
        return -1
    return x


@njit(cache=True)
def add_event(W, t, kind, veh, link, value):
    n = W.cnt[C_NEV]
    if n < W.ev_time.shape[0]:
        W.ev_time[n] = t
        W.ev_kind[n] = kind
        W.ev_veh[n] = veh
        W.ev_link[n] = link
        W.ev_val[n] = value
        W.cnt[C_NEV] = n + 1


# --------------------------------------------------------------------------------------------------
# phases
# --------------------------------------------------------------------------------------------------

@njit(cache=True)
def update_signals(N, W, t):
    """State code of every signal slot at time ``t``."""
    for s in range(N.slot_ctrl.shape[0]):
        c = N.slot_ctrl[s]
        cyc = N.ctrl_cycle[c]
        tc = (t - N.ctrl_offset[c]) % cyc
        if tc < 0.0:
            tc += cyc
        p0 = N.ctrl_phase_start[c]
        p1 = N.ctrl_phase_start[c + 1]
        p = p0
        while p < p1 - 1 and tc >= N.phase_end[p]:
            p += 1
        W.sig_state[s] = N.phase_states[N.phase_state_start[p] + N.slot_index[s]]


@njit(cache=True)
def counting_sort(V, L, src, n_src, dst):
    """Scatter running vehicles of ``src`` by lane into ``dst`` (stable); fills ``lane_start``."""
    L_lane_cnt = L.lane_cnt
    L_lane_start = L.lane_start
    V_lane = V.lane
    V_status = V.status
    n_lanes = L_lane_cnt.shape[0]
    for l in range(n_lanes):
        L_lane_cnt[l] = 0
    for k in range(n_src):
        i = src[k]
        if V_status[i] == 1:
            L_lane_cnt[V_lane[i]] += 1
    s = 0
    for l in range(n_lanes):
        L_lane_start[l] = s
        s += L_lane_cnt[l]
        L_lane_cnt[l] = L_lane_start[l]
    L_lane_start[n_lanes] = s
    for k in range(n_src):
        i = src[k]
        if V_status[i] == 1:
            l = V_lane[i]
            dst[L_lane_cnt[l]] = i
            L_lane_cnt[l] += 1
    return s


@njit(cache=True)
def sort_segment(pos, order, a, b):
    """Stable insertion sort of ``order[a:b]`` by ``pos`` (linear when nearly sorted)."""
    for k in range(a + 1, b):
        i = order[k]
        p = pos[i]
        j = k - 1
        while j >= a and pos[order[j]] > p:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = i


@njit(parallel=True, cache=True)
def sort_lanes(pos, order, lane_start):
    """Insertion sort of every lane's segment of ``order`` by position (stable, parallel over lanes)."""
    n_lanes = lane_start.shape[0] - 1
    for l in prange(n_lanes):
        sort_segment(pos, order, lane_start[l], lane_start[l + 1])


@njit(cache=True)
def sort_lanes_serial(pos, order, lane_start):
    for l in range(lane_start.shape[0] - 1):
        sort_segment(pos, order, lane_start[l], lane_start[l + 1])


@njit(cache=True)
def build_order(V, L, W):
    """Sort the running vehicles by (lane, position) into ``W.order``; returns their number."""
    n = counting_sort(V, L, W.order, W.cnt[C_NRUN], W.order_tmp)
    W.order[:n] = W.order_tmp[:n]
    W.cnt[C_NRUN] = n
    if n >= W.cnt[C_PARMIN]:
        sort_lanes(V.pos, W.order, L.lane_start)
    else:
        sort_lanes_serial(V.pos, W.order, L.lane_start)
    return n


@njit(cache=True)
def find_neighbours_a(vpos, order, lane_start, lane, pos):
    """(leader, follower) on ``lane`` around position ``pos``: first vehicle ahead, last at or behind."""
    a = lane_start[lane]
    b = lane_start[lane + 1]
    lo = a
    hi = b
    while lo < hi:
        mid = (lo + hi) // 2
        if vpos[order[mid]] > pos:
            hi = mid
        else:
            lo = mid + 1
    lead = order[lo] if lo < b else -1
    fol = order[lo - 1] if lo - 1 >= a else -1
    return lead, fol


@njit(cache=True)
def find_neighbours(V, L, W, lane, pos):
    """:func:`find_neighbours_a` on the state structs."""
    return find_neighbours_a(V.pos, W.order, L.lane_start, lane, pos)


@njit(cache=True)
def needed_lane(V, N, W, i):
    """The adjacent lane vehicle ``i`` must move to for its route, or -1 (pure: no state written)."""
    lane = V.lane[i]
    nl = next_link(V, W, i, 1)
    if nl < 0:
        return -1
    mask = best_lanes_mask(N, N.lane_link[lane], nl, next_link(V, W, i, 2))
    d = mask_direction(N.lane_index, lane, mask)
    if d == 0:
        return -1
    return N.lane_left[lane] if d > 0 else N.lane_right[lane]


@njit(cache=True)
def nearest_on_lane(V, L, W, lane, pos):
    """The vehicle on ``lane`` whose front is nearest to ``pos`` (ties: lower id); -1 if empty."""
    lead, fol = find_neighbours(V, L, W, lane, pos)
    if lead < 0:
        return fol
    if fol < 0:
        return lead
    dl = V.pos[lead] - pos
    df = pos - V.pos[fol]
    if dl < df or (dl == df and lead < fol):
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
    if V.speed[i] > 1.0:
        return -1
    want = needed_lane(V, N, W, i)
    if want < 0:
        return -1
    j = nearest_on_lane(V, L, W, want, V.pos[i])
    if j < 0 or V.speed[j] > 1.0 or needed_lane(V, N, W, j) != V.lane[i]:
        return -1
    if nearest_on_lane(V, L, W, V.lane[i], V.pos[j]) != i:
        return -1
    if not fits_instead(V, L, W, vt, i, j) or not fits_instead(V, L, W, vt, j, i):
        return -1
    return j


@njit(cache=True)
def fits_instead(V, L, W, vt, i, j):
    """True if ``i`` fits on ``j``'s lane at its own position once ``j`` has left it."""
    lane = V.lane[j]
    a = L.lane_start[lane]
    b = L.lane_start[lane + 1]
    k = a
    while k < b and W.order[k] != j:
        k += 1
    if k == b:
        return False
    front = V.pos[i]
    rear = front - vt[V.vtype[i], T_LEN]
    if k + 1 < b:
        q = W.order[k + 1]
        if V.pos[q] - vt[V.vtype[q], T_LEN] < front + 0.5:
            return False
    if k - 1 >= a:
        q = W.order[k - 1]
        if V.pos[q] > rear - 0.5:
            return False
    return True


@njit(cache=True)
def decide_range(V, N, L, W, vt, a, b, t, direction, cooldown):
    """Lane-change decisions of the vehicles at sorted indices ``a..b-1`` into ``V.lc_dir``:
    +1 left, -1 right, 0 stay.

    Mandatory: the vehicle's lane does not suit the next two links of its route; it asks the
    followers on the lane it needs to open a gap (``lc_req``/``lane_req``, see :func:`cooperate`)
    and changes when the gap is safe (or swaps with a stopped neighbour, see :func:`swap_partner`).
    Discretionary: MOBIL, only for vehicles held back by their leader, never into a lane that does
    not suit the route near the lane's end. State arrays are hoisted into locals: a StructRef field
    read costs an atomic refcount pair.
    """
    order = W.order
    route_links = W.route_links
    lane_start = L.lane_start
    lane_req = L.lane_req
    lane_last_exit = L.lane_last_exit
    status = V.status
    V_route_start = V.route_start
    vlane = V.lane
    pos = V.pos
    speed = V.speed
    vtype = V.vtype
    sfac = V.sfac
    lc_dir = V.lc_dir
    lc_req = V.lc_req
    lc_time = V.lc_time
    route_pos = V.route_pos
    route_end = V.route_end
    need_rp = V.need_rp
    need_mask = V.need_mask
    lane_speed = N.lane_speed
    lane_len = N.lane_len
    lane_index = N.lane_index
    lane_left = N.lane_left
    lane_right = N.lane_right
    lane_link = N.lane_link
    for k in range(a, b):
        i = order[k]
        lane = vlane[i]
        ty = vtype[i]
        length = vt[ty, T_LEN]
        lc_req[i] = -1
        lc_dir[i] = 0
        rp = route_pos[i]
        mandatory = False
        own_ok = True
        if rp + 1 < route_end[i]:
            if need_rp[i] != rp:
                # Which lanes of this link suit the route: computed once per link of the route.
                after = route_links[rp + 2] if rp + 2 < route_end[i] else -1
                need_mask[i] = best_lanes_mask(N, lane_link[lane], route_links[rp + 1], after)
                need_rp[i] = rp
            need = mask_direction(lane_index, lane, need_mask[i])
            own_ok = need == 0
            if need != 0:
                want = lane_left[lane] if need > 0 else lane_right[lane]
                lc_req[i] = want
                lane_req[want] = 1
                if direction > 0 and swap_partner(V, N, L, W, vt, i) >= 0:
                    lc_dir[i] = need  # both change on the same (even) step
                    continue
                if need != direction:
                    continue
                mandatory = True
        if not mandatory and t - lc_time[i] < cooldown:
            continue
        tl = lane_left[lane] if direction > 0 else lane_right[lane]
        if tl < 0:
            continue
        p = pos[i]
        if p < length:
            continue
        if not mandatory and own_ok and rp + 1 < route_end[i] and (need_mask[i] >> lane_index[tl]) & 1 == 0:
            # Leave a lane that suits the route only far from its end.
            if lane_len[lane] - p < 100.0 + 10.0 * speed[i]:
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
        if new_lead < 0:
            x = straddler_a(lane_last_exit, status, route_pos, V_route_start, route_links, lane_link, pos,
                            vtype, vt, tl)
            if x >= 0 and lane_len[tl] - p + pos[x] - vt[vtype[x], T_LEN] < 0.5:
                continue
        # Accelerations as if i were on the target lane (same link: same speed limit).
        ac_new = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, i, new_lead)
        an_new = 0.0
        an_old = 0.0
        if new_fol >= 0:
            an_old = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, new_fol, new_lead)
            an_new = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, new_fol, i)
        ao_old = 0.0
        ao_new = 0.0
        if old_fol >= 0:
            ao_old = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, old_fol, i)
            ao_new = follow_accel_a(vtype, vlane, pos, speed, sfac, lane_speed, vt, old_fol, lead)
        b_safe = vt[ty, T_LCSAFE]
        if not mobil_safe(an_new, b_safe) or ac_new < -b_safe:
            continue
        if mandatory:
            lc_dir[i] = direction
            continue
        gain = mobil_incentive(ac_new, ac_old, an_new, an_old, ao_new, ao_old, vt[ty, T_POLITE])
        if gain > vt[ty, T_LCTHR]:
            lc_dir[i] = direction


@njit(cache=True)
def decide_lane_changes_serial(V, N, L, W, vt, par, n, t, step):
    direction = 1 - 2 * (step % 2)
    decide_range(V, N, L, W, vt, 0, n, t, direction, par[P_LC_COOLDOWN])


@njit(parallel=True, cache=True)
def decide_lane_changes(V, N, L, W, vt, par, n, t, step):
    """MOBIL and mandatory lane-change decisions into ``V.lc_dir`` (parallel, reads only)."""
    direction = 1 - 2 * (step % 2)  # arithmetic, not a branch: numba parfors mishandle branch-defined values
    cooldown = par[P_LC_COOLDOWN]
    for c in prange(N_CHUNKS):
        decide_range(V, N, L, W, vt, c * n // N_CHUNKS, (c + 1) * n // N_CHUNKS, t, direction, cooldown)


@njit(cache=True)
def apply_range(V, N, W, a, b, t):
    """Carry out the lane changes decided for sorted indices ``a..b-1``; returns how many."""
    order = W.order
    lc_dir = V.lc_dir
    lane = V.lane
    lc_time = V.lc_time
    lane_left = N.lane_left
    lane_right = N.lane_right
    changed = 0
    for k in range(a, b):
        i = order[k]
        d = lc_dir[i]
        if d != 0:
            lane[i] = lane_left[lane[i]] if d > 0 else lane_right[lane[i]]
            lc_time[i] = t
            changed += 1
    return changed


@njit(cache=True)
def apply_lane_changes_serial(V, N, W, n, t):
    return apply_range(V, N, W, 0, n, t)


@njit(parallel=True, cache=True)
def apply_lane_changes(V, N, W, n, t):
    changed = 0
    for c in prange(N_CHUNKS):
        changed += apply_range(V, N, W, c * n // N_CHUNKS, (c + 1) * n // N_CHUNKS, t)
    return changed


@njit(cache=True)
def cooperate_a(pos, speed, vtype, lc_req, order, lane_start, lane_left, lane_right, vt, i, lane, v0):
    """Acceleration that opens a gap for a vehicle just ahead on a neighbour lane that must change
    into ``lane`` (SUMO-style cooperative lane changing); +inf when nobody needs it or when it
    would take harder than comfortable braking (then the next follower yields instead)."""
    ty = vtype[i]
    best = np.inf
    for side in range(2):
        al = lane_left[lane] if side == 0 else lane_right[lane]
        if al < 0:
            continue
        j, _ = find_neighbours_a(pos, order, lane_start, al, pos[i])
        if j < 0 or lc_req[j] != lane:
            continue
        gap = pos[j] - vt[vtype[j], T_LEN] - pos[i]
        if gap <= 0.0:
            continue
        a = idm_accel(speed[i], v0, gap, speed[j], vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0],
                      vt[ty, T_TAU], vt[ty, T_DELTA])
        if a >= -vt[ty, T_DEC] and a < best:
            best = a
    return best


@njit(cache=True)
def plan_range(V, N, L, W, vt, par, a, b):
    """IDM accelerations of the vehicles at sorted indices ``a..b-1`` into ``V.acc``.

    A follower drives behind its leader on the lane (and yields to a neighbour that must change
    into its lane, see :func:`cooperate_a`). The first vehicle of a lane looks ahead along its
    route: stop lines of red, yellow (when it can stop), yield and stop movements, the last vehicle
    of the next lane, no entry into a jammed exit (do not block the junction), and a vehicle that
    just left the lane but still reaches back over the line. State arrays are hoisted into locals:
    a StructRef field read costs an atomic refcount pair.
    """
    order = W.order
    route_links = W.route_links
    sig_state = W.sig_state
    lane_of = V.lane
    pos = V.pos
    speed = V.speed
    vtype = V.vtype
    sfac = V.sfac
    status = V.status
    route_pos = V.route_pos
    route_start = V.route_start
    route_end = V.route_end
    acc_out = V.acc
    stop_line = V.stop_line
    next_mv = V.next_mv
    lc_req = V.lc_req
    lane_start = L.lane_start
    lane_req = L.lane_req
    lane_last_exit = L.lane_last_exit
    lane_speed = N.lane_speed
    lane_len = N.lane_len
    lane_link = N.lane_link
    lane_left = N.lane_left
    lane_right = N.lane_right
    lane_mv_start = N.lane_mv_start
    mv_to_link = N.mv_to_link
    mv_to_lane = N.mv_to_lane
    mv_sig = N.mv_sig
    mv_kind = N.mv_kind
    dt = par[P_DT]
    horizon = par[P_HORIZON]
    crit_gap = par[P_CRIT_GAP]
    for k in range(a, b):
        i = order[k]
        lane = lane_of[i]
        ty = vtype[i]
        ac = vt[ty, T_ACC]
        dc = vt[ty, T_DEC]
        s0 = vt[ty, T_S0]
        tau = vt[ty, T_TAU]
        delta = vt[ty, T_DELTA]
        v0 = v0_of(lane_speed, sfac, vt, i, lane, ty)
        v = speed[i]
        stop = False
        if k + 1 < lane_start[lane + 1]:
            j = order[k + 1]
            gap = pos[j] - vt[vtype[j], T_LEN] - pos[i]
            acc = idm_accel(v, v0, gap, speed[j], ac, dc, s0, tau, delta)
            next_mv[i] = -1
        else:
            length = vt[ty, T_LEN]
            acc = idm_free(v, v0, ac, delta)
            dist = lane_len[lane] - pos[i]
            next_mv[i] = -1
            x = straddler_a(lane_last_exit, status, route_pos, route_start, route_links, lane_link, pos,
                            vtype, vt, lane)
            if x >= 0 and x != i:
                acc = min(acc, idm_accel(v, v0, dist + pos[x] - vt[vtype[x], T_LEN], speed[x], ac, dc, s0,
                                         tau, delta))
            cur = lane
            rp = route_pos[i]
            for h in range(MAX_LOOKAHEAD):
                if rp + 1 >= route_end[i]:
                    break  # the destination: drive through the end of the link
                nl = route_links[rp + 1]
                after = route_links[rp + 2] if rp + 2 < route_end[i] else -1
                m = choose_movement_a(lane_mv_start, mv_to_link, mv_to_lane, cur, nl, after)
                if m < 0:
                    # Wrong lane for the route: the lane end is a wall until a lane change succeeds.
                    acc = min(acc, idm_stop(v, v0, dist, ac, dc, s0, tau, delta))
                    stop = h == 0
                    break
                if h == 0:
                    next_mv[i] = m
                st = movement_state_a(mv_sig, mv_kind, sig_state, m)
                must_stop = False
                if st == M_RED:
                    must_stop = True
                elif st == M_YELLOW:
                    must_stop = can_stop(v, dist, dc)
                elif st == M_STOP:
                    if h > 0 or not (dist < 1.0 and v < 0.5):
                        must_stop = True
                    elif yield_blocked(V, N, W, L, m, crit_gap):
                        must_stop = True
                elif st == M_YIELD:
                    if dist < 50.0 + v * v / (2.0 * dc):
                        must_stop = yield_blocked(V, N, W, L, m, crit_gap)
                tl = mv_to_lane[m]
                r = -1
                if lane_start[tl + 1] > lane_start[tl]:
                    r = order[lane_start[tl]]
                if not must_stop and r >= 0:
                    room = pos[r] - vt[vtype[r], T_LEN]
                    if room < length + s0 and speed[r] < 1.0:
                        must_stop = True  # do not block the junction
                if must_stop:
                    acc = min(acc, idm_stop(v, v0, dist, ac, dc, s0, tau, delta))
                    stop = h == 0
                    break
                if r >= 0:
                    room = pos[r] - vt[vtype[r], T_LEN]
                    acc = min(acc, idm_accel(v, v0, dist + room, speed[r], ac, dc, s0, tau, delta))
                    break
                dist += lane_len[tl]
                cur = tl
                rp += 1
                if dist > horizon:
                    break
        stop_line[i] = 1 if stop else 0
        if lane_req[lane] == 1:
            acc = min(acc, cooperate_a(pos, speed, vtype, lc_req, order, lane_start, lane_left, lane_right,
                                       vt, i, lane, v0))
        if v <= v0 and v + acc * dt > v0:
            acc = (v0 - v) / dt  # explicit IDM would overshoot a low desired speed
        if acc < -vt[ty, T_EDEC]:
            acc = -vt[ty, T_EDEC]
        acc_out[i] = acc


@njit(cache=True)
def plan_serial(V, N, L, W, vt, par, n):
    plan_range(V, N, L, W, vt, par, 0, n)


@njit(parallel=True, cache=True)
def plan(V, N, L, W, vt, par, n):
    """Acceleration of every running vehicle (parallel, writes only its own vehicle)."""
    for c in prange(N_CHUNKS):
        plan_range(V, N, L, W, vt, par, c * n // N_CHUNKS, (c + 1) * n // N_CHUNKS)


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
    V_dist = V.dist
    V_evt = V.evt
    V_evt_val = V.evt_val
    V_flags = V.flags
    V_pos = V.pos
    V_pos_old = V.pos_old
    V_sfac = V.sfac
    V_speed = V.speed
    V_standstill = V.standstill
    V_stop_line = V.stop_line
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
            dx, vn = ballistic(v, V_acc[i], dt)
            pn = pos + dx
            if k == b - 1 and V_stop_line[i] == 1 and pn > N_lane_len[l]:
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


@njit(cache=True)
def try_insert(V, N, L, W, vt, par, i, t, step):
    """Insert vehicle ``i`` on its first link if a lane has a safe gap; True on success."""
    ty = V.vtype[i]
    link = W.route_links[V.route_start[i]]
    nl = W.route_links[V.route_start[i] + 1] if V.route_start[i] + 1 < V.route_end[i] else -1
    length = vt[ty, T_LEN]
    first = N.link_first_lane[link]
    nlanes = N.link_nlanes[link]
    # Desired-speed factor: drawn once per vehicle, from the counter-based RNG.
    sf = vt[ty, T_SF]
    dev = vt[ty, T_SDEV]
    if dev > 0.0:
        z = normal01(np.uint64(par[P_SEED]), STREAM_SPEED_FACTOR, i, 0)
        if z > 2.0:
            z = 2.0
        if z < -2.0:
            z = -2.0
        sf = sf * (1.0 + dev * z)
    if sf < 0.2:
        sf = 0.2
    V.sfac[i] = sf
    best = -1
    best_gap = -1.0
    best_v = 0.0
    after = W.route_links[V.route_start[i] + 2] if V.route_start[i] + 2 < V.route_end[i] else -1
    top = 0
    if nl >= 0:
        for q in range(nlanes):
            sc = lane_score(N, first + q, nl, after)
            if sc > top:
                top = sc
    for q in range(nlanes):
        lane = first + q
        if V.dlane[i] >= 0 and q != V.dlane[i]:
            continue
        if V.dlane[i] == -2 and q != 0:
            continue
        if nl >= 0 and V.dlane[i] == -1 and lane_score(N, lane, nl, after) < top:
            continue
        if L.lane_used[lane] == step:
            continue
        pos = length if length < N.lane_len[lane] else N.lane_len[lane]
        r = L.lane_rear[lane]
        gap = 1e9
        vl = 1e3
        if r >= 0 and V.status[r] == 1 and V.lane[r] == lane:
            gap = V.pos[r] - vt[V.vtype[r], T_LEN] - pos
            vl = V.speed[r]
        v0 = N.lane_speed[lane] * sf
        if v0 > vt[ty, T_VMAX]:
            v0 = vt[ty, T_VMAX]
        vmax = safe_insert_speed(gap, v0, vl, vt[ty, T_ACC], vt[ty, T_DEC], vt[ty, T_S0], vt[ty, T_TAU])
        if vmax < 0.0:
            continue
        want = V.dspeed[i]
        if want < 0.0:
            v = vmax
        else:
            if want > vmax + 1e-9:
                continue
            v = want
        if gap > best_gap:
            best = lane
            best_gap = gap
            best_v = v
    if best < 0:
        return False
    pos = length if length < N.lane_len[best] else N.lane_len[best]
    V.status[i] = 1
    V.lane[i] = best
    V.pos[i] = pos
    V.pos_old[i] = pos
    V.speed[i] = best_v
    V.acc[i] = 0.0
    V.route_pos[i] = V.route_start[i]
    V.depart[i] = t
    V.lc_time[i] = t
    V.standstill[i] = 0.0
    L.lane_used[best] = step
    L.lane_rear[best] = i
    L.a_ent[best] += 1
    W.cnt[C_INSERTED] += 1
    return True


@njit(cache=True)
def insert_departures(V, N, L, W, vt, par, t, step):
    """Load departures due by ``t`` and insert waiting vehicles in (planned departure, id) order."""
    n_trips = W.dep_order.shape[0]
    p = W.cnt[C_NEXTLOAD]
    nw = W.cnt[C_NWAIT]
    while p < n_trips and V.depart_planned[W.dep_order[p]] <= t + 1e-9:
        W.waitq[nw] = W.dep_order[p]
        nw += 1
        p += 1
        W.cnt[C_LOADED] += 1
    W.cnt[C_NEXTLOAD] = p
    keep = 0
    nrun = W.cnt[C_NRUN]
    delay_ev = par[P_INS_DELAY]
    for q in range(nw):
        i = W.waitq[q]
        if try_insert(V, N, L, W, vt, par, i, t, step):
            W.order[nrun] = i
            nrun += 1
        else:
            W.waitq[keep] = i
            keep += 1
            if t - V.depart_planned[i] >= delay_ev and V.flags[i] & 2 == 0:
                V.flags[i] |= 2
                add_event(W, t, E_INSDELAY, i, W.route_links[V.route_start[i]], t - V.depart_planned[i])
    W.cnt[C_NWAIT] = keep
    W.cnt[C_NRUN] = nrun


@njit(cache=True)
def record_step(V, N, L, W, t, n_lanes):
    """Append a summary row and update per-link maximum queues."""
    halt = 0
    vsum = 0.0
    for l in range(n_lanes):
        halt += L.lane_halt[l]
        vsum += L.lane_vsum[l]
    n_links = N.link_nlanes.shape[0]
    for e in range(n_links):
        h = 0
        f = N.link_first_lane[e]
        for q in range(N.link_nlanes[e]):
            h += L.lane_halt[f + q]
        if h > W.link_maxq[e]:
            W.link_maxq[e] = h
    running = W.cnt[C_INSERTED] - W.cnt[C_ARRIVED] - W.cnt[C_REMOVED]
    r = W.cnt[C_NSUM]
    if r < W.sum_buf.shape[0]:
        row = W.sum_buf[r]
        row[0] = t
        row[1] = W.cnt[C_LOADED]
        row[2] = W.cnt[C_INSERTED]
        row[3] = running
        row[4] = W.cnt[C_NWAIT]
        row[5] = W.cnt[C_ARRIVED]
        row[6] = W.cnt[C_REMOVED]
        row[7] = halt
        row[8] = vsum / running if running > 0 else np.nan
        row[9] = W.cnt[C_COLL]
        row[10] = W.cnt[C_TELE]
        row[11] = np.nan
        W.cnt[C_NSUM] = r + 1


@njit(cache=True)
def step_once(V, N, L, W, vt, par):
    """Advance the whole state by one step of ``par[P_DT]`` seconds."""
    step = W.cnt[C_STEP]
    dt = par[P_DT]
    t = par[P_BEGIN] + step * dt
    n_lanes = L.lane_start.shape[0] - 1
    update_signals(N, W, t)
    if step == 0:
        insert_departures(V, N, L, W, vt, par, t, -2)  # departures due at sim.begin
    n = build_order(V, L, W)
    par_on = n >= par[P_PAR_MIN]
    if n > 0:
        for l in range(n_lanes):
            L.lane_req[l] = 0
        if par_on:
            decide_lane_changes(V, N, L, W, vt, par, n, t, step)
            changed = apply_lane_changes(V, N, W, n, t)
        else:
            decide_lane_changes_serial(V, N, L, W, vt, par, n, t, step)
            changed = apply_lane_changes_serial(V, N, W, n, t)
        if changed > 0:
            n = build_order(V, L, W)
    if n > 0:
        if par_on:
            plan(V, N, L, W, vt, par, n)
            flagged = advance(V, N, L, W, vt, par)
        else:
            plan_serial(V, N, L, W, vt, par, n)
            flagged = advance_serial(V, N, L, W, vt, par)
        W.cnt[C_VSTEPS] += n
        cross_junctions(V, N, L, W, vt, par, t)
        if flagged > 0:
            handle_flags(V, N, L, W, vt, par, n, t + dt)
    else:
        for l in range(n_lanes):
            L.lane_rear[l] = -1
            L.lane_halt[l] = 0
            L.lane_vsum[l] = 0.0
    insert_departures(V, N, L, W, vt, par, t + dt, step)
    W.cnt[C_STEP] = step + 1
    every = int(par[P_SUMMARY_EVERY])
    if every <= 1 or (step + 1) % every == 0:
        record_step(V, N, L, W, t + dt, n_lanes)


@njit(cache=True)
def run_steps(V, N, L, W, vt, par, n_steps):
    """Run up to ``n_steps`` steps; stops early when the summary or event buffer is nearly full.

    Returns the number of steps run.
    """
    done = 0
    ev_cap = W.ev_time.shape[0]
    sum_cap = W.sum_buf.shape[0]
    while done < n_steps:
        if W.cnt[C_NSUM] >= sum_cap or W.cnt[C_NEV] + 4 * 1024 > ev_cap:
            break
        step_once(V, N, L, W, vt, par)
        done += 1
    return done
