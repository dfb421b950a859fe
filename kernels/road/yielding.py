"""Right of way at a junction: whether a vehicle that must yield is blocked by a foe (at its stop
line, or from the waiting position inside the junction), as SUMO's links judge it (time windows of
arrival and leaving, impatience, foes still crossing, foes queued before a full exit). Shared by
the CPU and CUDA drivers through the planning (:mod:`.follow`)."""

from __future__ import annotations

from numba import njit

from ..physics.carfollow import cf_can_stop, euler
from ..runtime.layout import (
    FLAG_INSIDE,
    HALT_SPEED,
    M_GO,
    M_RED,
    M_STOP,
    SIG_OFF,
    T_ACC,
    T_CF,
    T_DEC,
    T_LEN,
    T_S0,
)
from .blocked import (
    FOE_VISIBILITY,
    TIME_TO_IMPATIENCE,
    foe_blocks,
    leave_time,
    minimal_arrival_time,
    speed_after,
    time_to_cover,
    visibility_speed,
)
from .lanes import front_on_lane, movement_state, movement_state_a, v0_of
from .routes import route_step

#: Width (m) by which a crossing point is widened: a foe blocks until its back is this far past
#: the middle of its way through the junction (SUMO's conflict size, a lane's width).
CROSSING_WIDTH = 3.2


@njit(cache=True)
def foe_upstream_arrives(V, N, W, L, vt, f, fl, t_arr, t_leave, imp, timegap, same, v_arr, v_leave, b, dt):
    """True if, with the foe movement ``f``'s lane ``fl`` empty, the first vehicle of a lane
    leading into ``fl`` (its movement not red) will take ``f`` and blocks a vehicle that arrives
    after ``t_arr`` s and has left after ``t_leave`` s (:func:`foe_in`, impatience ``imp``). OSM
    networks put links of a few metres before junctions, and a foe one link back was invisible:
    a yielding vehicle went 2 s ahead of it (SUMO sees every vehicle whose braking distance
    reaches the junction, over any number of lanes). A vehicle standing there (below 0.5 m/s)
    waits itself and does not block."""
    for q in range(N.lane_in_start[fl], N.lane_in_start[fl + 1]):
        um = N.lane_in_mv[q]
        if movement_state(N, W, um) == M_RED:
            continue
        ul = N.mv_from_lane[um]
        j = front_on_lane(V, L, W, ul)
        if j < 0 or V.speed[j] < 0.5:
            continue
        rp = V.route_pos[j]
        if rp + 2 >= V.route_end[j]:
            continue
        link = N.lane_link[fl]
        if route_step(N.link_next_start, N.link_next, W.route_codes, N.lane_link[ul], rp + 1) != link:
            continue
        if route_step(N.link_next_start, N.link_next, W.route_codes, link, rp + 2) != N.mv_to_link[f]:
            continue
        if foe_in(V, N, vt, j, ul, N.lane_len[ul] - V.pos[j] + N.lane_len[fl], f, t_arr, t_leave, imp,
                  timegap, same, v_arr, v_leave, b, dt):
            return True
    return False


@njit(cache=True)
def foe_in(V, N, vt, j, lane, d_f, f, t_arr, t_leave, imp, timegap, same, v_arr, v_leave, b, dt):
    """True if vehicle ``j`` on ``lane``, ``d_f`` m before the line of its movement ``f``,
    blocks a vehicle arriving after ``t_arr`` s at ``v_arr`` m/s and leaving after ``t_leave``
    s at ``v_leave`` m/s (braking at ``b`` m/s²; ``same``: both enter the same lane): ``j``'s
    arrival time from its speed at its acceleration up to its desired speed (a foe standing at
    its line arrives within a second or two, as SUMO computes it; a speed floor of 0.1 m/s made
    it arrive only after 10 s for each metre), its leave time as SUMO estimates it
    (:func:`.blocked.leave_time`), :func:`.blocked.foe_blocks`."""
    tj = V.vtype[j]
    v = V.speed[j]
    acc = vt[tj, T_ACC]
    vmax = v0_of(N.lane_speed, V.sfac, vt, j, lane, tj)
    v_via = min(vmax, N.mv_speed[f])
    a_f = time_to_cover(d_f, v, acc, vmax)
    l_f, v_leave_f = leave_time(a_f, min(speed_after(d_f, v, acc, vmax), v_via), N.mv_len[f], vt[tj, T_LEN],
                                acc, v_via)
    return foe_blocks(t_arr, t_leave, a_f, l_f, d_f, v, vt[tj, T_DEC], imp, timegap, same, v_arr, v_leave, b,
                      v_leave_f, dt)


@njit(cache=True)
def exit_full(V, N, L, W, vt, j, f):
    """True if vehicle ``j`` cannot enter the target lane of its movement ``f``: the last vehicle
    there stands with its rear closer to the lane start than ``j``'s length plus jam distance."""
    tl = N.mv_to_lane[f]
    if L.lane_start[tl + 1] <= L.lane_start[tl]:
        return False
    r = W.order[L.lane_start[tl]]
    tj = V.vtype[j]
    return V.speed[r] < 0.5 and V.pos[r] - vt[V.vtype[r], T_LEN] < vt[tj, T_LEN] + vt[tj, T_S0]


@njit(cache=True)
def yield_blocked(V, N, W, L, vt, i, m, timegap, dt):
    """True if a conflicting movement with right of way has a vehicle that blocks vehicle ``i``
    on movement ``m`` at its line (:func:`yield_blocked_at`, ``m``'s foes, the distance to the
    line and the whole of ``N.mv_len[m]``).

    A foe that has just crossed is not waited for here, unlike at a waiting position inside the
    junction (:func:`yield_blocked_inside`): waiting at the line until the last foe's back had
    passed half its way through the junction brought the minor road of an isolated priority
    junction within 5 % of SUMO's delay, but on the DRT city (1,000 trips in 15 minutes) it
    jammed the network (mean travel time 220 s, 11 teleports, against SUMO's 128 s; 142 s
    without it): the junction's midpoint is too crude a crossing point for OSM clusters."""
    d_i = max(N.lane_len[V.lane[i]] - V.pos[i], 0.0)
    return yield_blocked_at(V, N, W, L, vt, i, m, timegap, dt, d_i, N.mv_len[m], N.mv_foe_start, N.mv_foes)


@njit(cache=True)
def yield_blocked_inside(V, N, W, L, vt, i, m, timegap, dt, inside):
    """:func:`yield_blocked` for a movement that waits inside the junction (``N.mv_wait[m]`` m
    past the line, SUMO's internal junction): the foes listed for the waiting position, judged
    from there (``inside``: ``i`` has entered and stands there; otherwise from its distance to
    the line plus the wait), with the rest of the movement's length to clear."""
    w = N.mv_wait[m]
    d_i = 0.0 if inside else max(N.lane_len[V.lane[i]] - V.pos[i], 0.0) + w
    if foe_crossing(V, N, L, vt, i, m, d_i):
        return True
    return yield_blocked_at(V, N, W, L, vt, i, m, timegap, dt, d_i, N.mv_len[m] - w, N.mv_foe2_start,
                            N.mv_foes2)


@njit(cache=True)
def foe_crossing(V, N, L, vt, i, m, d_i):
    """True if a foe of the waiting position of ``i``'s movement ``m`` (``d_i`` m ahead of ``i``)
    is still inside the junction, short of the crossing point, when ``i`` would get there. The
    last vehicle that left each foe lane is looked at (mobsim's junctions are points: it drives
    on the first metres of its next link, which stand for the junction). SUMO's ego yields to a
    vehicle on a foe internal lane until that vehicle's back is past the crossing point
    (``MSLink::getLeaderInfo``); the point is taken at the middle of the foe's way through the
    junction, widened by a lane width (``CROSSING_WIDTH``), as SUMO widens it by the crossing
    lane's width.

    A foe standing (below ``HALT_SPEED``) with its front short of the crossing point is not in the way:
    SUMO's ``inTheWay`` needs the foe to have entered it. Waiting for such a foe, which stood in
    the queue of its exit where that reached back into the junction, closed a ring on the DRT
    city (the queue was held by the waiting vehicle's own approach)."""
    ty = V.vtype[i]
    vmax = v0_of(N.lane_speed, V.sfac, vt, i, V.lane[i], ty)
    t_arr = time_to_cover(d_i, V.speed[i], vt[ty, T_ACC], vmax)
    node0 = N.node_mv_start[N.link_to_node[N.lane_link[N.mv_from_lane[m]]]]
    for q in range(N.mv_foe2_start[m], N.mv_foe2_start[m + 1]):
        f = N.node_mv[node0 + N.mv_foes2[q]]
        if N.mv_to_link[f] == N.mv_to_link[m]:
            continue  # the same exit: it is a leader there, which the car following handles
        j = L.lane_last_exit[N.mv_from_lane[f]]
        if j < 0 or j == i or V.status[j] != 1 or N.lane_link[V.lane[j]] != N.mv_to_link[f]:
            continue
        if V.speed[j] < HALT_SPEED and V.pos[j] < 0.5 * N.mv_len[f] - CROSSING_WIDTH:
            continue  # standing in a queue short of the crossing: not in the way
        left = 0.5 * N.mv_len[f] + CROSSING_WIDTH - (V.pos[j] - vt[V.vtype[j], T_LEN])
        if left > 0.0 and left > t_arr * max(V.speed[j], 0.1):
            return True
    return False


@njit(cache=True)
def yield_blocked_at(V, N, W, L, vt, i, m, timegap, dt, d_i, m_len, foe_start, foes):
    """True if one of the movements ``foes[foe_start[m]:foe_start[m + 1]]`` (ranks at the node)
    has a vehicle that blocks vehicle ``i`` on movement ``m``, ``d_i`` m before the point where it
    decides, with ``m_len`` m of the junction still to clear: SUMO's time windows
    (:mod:`.blocked`): ``i`` must have cleared the junction (arriving over ``d_i`` at its
    acceleration, then ``m_len`` and its length at SUMO's leave-time estimate) ``timegap`` s
    before the foe arrives, or arrive after the foe has left; the longer it waits
    (``V.standstill`` steps of ``dt`` s), the more impatient it is.

    A foe standing still (below 0.5 m/s) before a full exit does not block, nor do those behind
    it (it is held up itself). Away from a green signal, a standing foe that has stood for less
    time than ``i`` does not block either: the longer waiting vehicle goes first, as drivers take
    turns in a jam; at a green the head of an opposing queue starting up blocks: it arrives
    within a second or two. Without this, a
    yielding vehicle whose exit is shared with a queued major stream never gets in (each space
    that opens goes to the major stream), and its queue can close a gridlock loop.
    """
    L_lane_start = L.lane_start
    N_lane_len = N.lane_len
    N_mv_foe_start = foe_start
    N_mv_foes = foes
    N_mv_from_lane = N.mv_from_lane
    N_mv_to_link = N.mv_to_link
    V_lane = V.lane
    V_pos = V.pos
    V_route_end = V.route_end
    V_route_pos = V.route_pos
    V_speed = V.speed
    V_status = V.status
    V_standstill = V.standstill
    W_order = W.order
    W_route_codes = W.route_codes
    N_link_next_start = N.link_next_start
    N_link_next = N.link_next
    N_mv_sig = N.mv_sig
    N_mv_kind = N.mv_kind
    W_sig_state = W.sig_state
    lane = V_lane[i]
    ty = V.vtype[i]
    vmax = v0_of(N.lane_speed, V.sfac, vt, i, lane, ty)
    acc = vt[ty, T_ACC]
    # SUMO plans with the speed of the coming step (at most one step's acceleration more), and
    # no faster than the junction's speed limit through it.
    v_via = min(vmax, N.mv_speed[m])
    v_next = min(V_speed[i] + acc * dt, vmax)
    t_arr = time_to_cover(d_i, v_next, acc, vmax)
    v_arr = min(speed_after(d_i, v_next, acc, vmax), v_via)
    b = vt[ty, T_DEC]
    if d_i > FOE_VISIBILITY and cf_can_stop(int(vt[ty, T_CF]), V_speed[i], d_i, b, dt):
        # Still too far to see every foe: it will slow down so as to be able to stop at the line
        # until it is FOE_VISIBILITY from it (plan_range), and arrives no faster than that
        # allows (SUMO's slowedDownForMinor arrival speed).
        v_cap = visibility_speed(acc, b, dt, euler(int(vt[ty, T_CF])))
        if v_arr > v_cap:
            v_arr = v_cap
            t_arr = minimal_arrival_time(d_i, v_next, v_arr, acc, b)
    t_leave, v_leave = leave_time(t_arr, v_arr, m_len, vt[ty, T_LEN], acc, v_via)
    # Impatience grows with the time i has stood here; at a signal showing green, with none: a
    # SUMO vehicle drives into the junction at green (its waiting time restarts there), so the
    # red it waited through does not make it cut in front of an opposing queue starting up. A
    # signal that is off ('o') is a priority junction.
    sig = N.mv_sig[m]
    at_green = sig >= 0 and W_sig_state[sig] != SIG_OFF
    imp = 0.0 if at_green else min(1.0, V_standstill[i] * dt / TIME_TO_IMPATIENCE)
    node0 = N.node_mv_start[N.link_to_node[N.lane_link[N.mv_from_lane[m]]]]  # m's node (mv_node: host only)
    resp = N.mv_resp[m] == 1
    m_stop = movement_state_a(N_mv_sig, N_mv_kind, W_sig_state, m) == M_STOP
    for q in range(N_mv_foe_start[m], N_mv_foe_start[m + 1]):
        f = N.node_mv[node0 + N_mv_foes[q]]  # foes are stored by their rank at the node
        st = movement_state_a(N_mv_sig, N_mv_kind, W_sig_state, f)
        if resp:
            if st == M_RED:
                continue  # SUMO's relation: m yields to f whenever f may drive
        elif st != M_GO:
            continue
        fl = N_mv_from_lane[f]
        same = N.mv_to_lane[f] == N.mv_to_lane[m]
        a = L_lane_start[fl]
        e = L_lane_start[fl + 1]
        if e <= a:
            if foe_upstream_arrives(V, N, W, L, vt, f, fl, t_arr, t_leave, imp, timegap, same, v_arr,
                                    v_leave, b, dt):
                return True
            continue
        # The foe lane's vehicles from the front: the first may be through before i arrives
        # while the next one is not (SUMO checks every vehicle approaching the foe link), up to
        # where a vehicle at the lane's speed limit would arrive after i has left.
        reach = (t_leave + timegap) * N.lane_speed[fl] * 1.5
        for k in range(e - 1, a - 1, -1):
            j = W_order[k]
            if V_status[j] != 1 or V_lane[j] != fl:
                continue
            d_f = N_lane_len[fl] - V_pos[j]
            if d_f > reach:
                break
            rp = V_route_pos[j] + 1
            if rp >= V_route_end[j] or route_step(N_link_next_start, N_link_next, W_route_codes,
                                                  N.lane_link[fl], rp) != N_mv_to_link[f]:
                if V_speed[j] < 0.5:
                    break  # standing, bound elsewhere: those behind it arrive only after it has gone
                continue
            if m_stop and st == M_STOP and (V_standstill[i] > V_standstill[j] or (
                    V_standstill[i] == V_standstill[j] and V.trip[i] < V.trip[j])):
                # All-way stop (both stop first): a foe that has waited less, or is still coming
                # and must stop itself, does not hold i (SUMO's blockedByFoe at an all-way stop:
                # the longer waiting time goes first).
                continue
            if V_speed[j] < 0.5 and k < e - 1 and V.flags[j] & FLAG_INSIDE != 0:
                # Waiting inside behind the one at the line (kernels.road.move.join_inside), it goes
                # only after that one, which has not held i: nor does it, nor those behind it.
                break
            if V_speed[j] < 0.5 and V.flags[i] & FLAG_INSIDE != 0 and V.flags[j] & FLAG_INSIDE != 0 and (
                    V_standstill[j] < V_standstill[i]
                    or (V_standstill[j] == V_standstill[i] and V.trip[j] > V.trip[i])):
                break  # both wait inside the junction: the one that has waited longer goes first
            if V_speed[j] < 0.5 and exit_full(V, N, L, W, vt, j, f):
                # Standing before a full exit, it will not go (SUMO's vehicle then sets no
                # request at the link, MSVehicle::checkRewindLinkLanes, and its foes do not
                # wait for it), nor will those behind it. Waited for when it had stood longer,
                # it closed gridlock loops: a left turner inside a junction waited for the
                # opposing queue's head, whose exit was full of the left turner's own jam (the
                # DRT city with other seeds of its random trips: 839 of 1,000 trips, 43
                # teleports, where SUMO completed all).
                break
            if V_speed[j] < 0.5 and V_standstill[j] < V_standstill[i] and not at_green:
                break  # standing, waiting less: drivers take turns (its exit is not full here)
            if foe_in(V, N, vt, j, fl, d_f, f, t_arr, t_leave, imp, timegap, same, v_arr, v_leave, b, dt):
                return True
    return False
