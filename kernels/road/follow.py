"""Planning: the acceleration of every running vehicle (its type's car-following model, IDM,
Krauss, ACC or CACC, :mod:`.carfollow`), behind its leader or, for the first vehicle of a lane,
along its route over stop lines and into the next lanes; Krauss drivers then dawdle, and ACC and
CACC vehicles keep the control mode their leader's gap set (``V.flags``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..physics.acc import acc_gap_mode, cacc_gap_mode
from ..physics.carfollow import (
    ANY_GAP,
    cf_can_stop,
    cf_can_stop_at_yellow,
    cf_follow,
    cf_free,
    cf_modes,
    cf_stop,
    krauss_dawdle,
)
from ..physics.idm import STOP_LINE_CLEARANCE, idm_accel
from ..physics.rng import STREAM_DAWDLE, u01
from ..runtime.layout import (
    CF_ACC,
    CF_CACC,
    CF_KRAUSS,
    FLAG_ACC_GAP,
    FLAG_CACC_GAP,
    FLAG_COMMITTED,
    FLAG_INSIDE,
    M_GO,
    M_RED,
    M_STOP,
    M_YELLOW,
    M_YIELD,
    M_ZIPPER,
    MAX_LOOKAHEAD,
    N_CHUNKS,
    P_DT,
    P_HORIZON,
    P_SEED,
    P_TIMEGAP_MINOR,
    T_ACC,
    T_CF,
    T_DEC,
    T_DELTA,
    T_EDEC,
    T_LEN,
    T_S0,
    T_SC_MINGAP,
    T_SIGMA,
    T_TAU,
)
from .blocked import FOE_VISIBILITY
from .lanes import (
    AT_LINE,
    choose_movement_a,
    lane_continuation_a,
    lane_slot_a,
    movement_state_a,
    straddler_a,
    v0_of,
)
from .record import clock
from .routes import route_step
from .stops import stop_accel
from .yielding import yield_blocked, yield_blocked_inside
from .zipper import zipper_accel

#: How far short of the point where it may have to yield (m) a vehicle without right of way
#: plans to stop while it approaches (SUMO's ``POSITION_EPS`` at a minor link).
MINOR_STOP_GAP = 0.1


@njit(cache=True, _nrt=False)
def cooperate_a(pos, speed, vtype, lc_req, order, lane_start, lane_left, lane_right, vt, i, k, lane, v0, dt):
    """Acceleration with which vehicle ``i`` (sorted index ``k`` on ``lane``) opens a gap for a
    vehicle on a neighbour lane that must change into ``lane`` and whose nearest follower on
    ``lane`` is ``i`` (SUMO LC2013's ``informFollower``): every such neighbour ahead of ``i`` but
    not ahead of ``i``'s own leader, followed as if it were the leader; +inf when nobody needs it
    or when it would take harder than comfortable braking (then the next follower yields instead).

    Not only the nearest neighbour ahead: a vehicle stuck at the end of a lane that must merge
    into a lane whose traffic runs past it has through vehicles queued behind it on its own lane,
    and the vehicles coming up the target lane, seeing one of those as their neighbour, never made
    room (A10KW: an exit-bound car stood for good at the end of a through lane of a 140 m
    motorway section while the exit lane beside it had room behind its queue)."""
    ty = vtype[i]
    reach = pos[order[k + 1]] if k + 1 < lane_start[lane + 1] else np.inf
    best = np.inf
    for side in range(2):
        al = lane_left[lane] if side == 0 else lane_right[lane]
        if al < 0:
            continue
        _, q = lane_slot_a(pos, order, lane_start, al, pos[i])
        q0 = q
        b = lane_start[al + 1]
        while q < b:
            j = order[q]
            q += 1
            if q - 1 > q0 and pos[j] > reach:
                break  # i's leader is nearer behind j: it is the one to yield
            if lc_req[j] != lane:
                continue
            gap = pos[j] - vt[vtype[j], T_LEN] - pos[i]
            if gap < vt[ty, T_S0]:
                # Already closer than the jam distance behind where j would be: braking cannot
                # make room any more, so drive on and let j in behind (two standing vehicles,
                # one waiting 0.4 m behind the other's rear for it to change in front, blocked
                # a motorway lane for 900 s).
                continue
            # IDM's braking where it is comfortable: it starts early and gently, which a fast
            # stream needs to open a gap for an on-ramp (Krauss brakes only once it must, by then
            # too hard, and highway_green's ramp traffic stood at the end of its acceleration
            # lane); else i's own model (Krauss can still stop comfortably behind a standing
            # vehicle at distances where IDM's desired gap is far larger; j's safety test for a
            # mandatory change judges i by that model too, lanechange.lc_accel).
            dc = vt[ty, T_DEC]
            a = idm_accel(speed[i], v0, gap, speed[j], vt[ty, T_ACC], dc, vt[ty, T_S0], vt[ty, T_TAU],
                          vt[ty, T_DELTA])
            if a < -dc:
                a = cf_follow(int(vt[ty, T_CF]), speed[i], v0, gap, speed[j], vt[ty, T_ACC], dc, vt[ty, T_S0],
                              vt[ty, T_TAU], vt[ty, T_DELTA], dt, vt, ty,
                              cf_modes(ANY_GAP, int(vt[vtype[j], T_CF])), 0.0)
            if a >= -dc and a < best:
                best = a
    return best


#: Speed (m/s) by which a vehicle that must change lanes drops below a neighbour behind it that
#: cannot make room, so that it passes (SUMO LC2013's ``HELP_OVERTAKE``, 10 km/h).
HELP_OVERTAKE = 10.0 / 3.6


#: How far along the route (m) the room for a needed lane change is looked at (SUMO's best
#: lanes look 3,000 m ahead). (SUMO's LC2013 also counts the vehicles on the target lane's whole
#: continuation as taken room, not only those ahead on the link: tried, it traded gridlocks on
#: the DRT city's random trips, 3 teleports in ten runs became 11, and left the A10's no better.)
URGENT_HORIZON = 3000.0


@njit(cache=True, _nrt=False)
def urgent_merge_a(pos, speed, vtype, sfac, order, lane_start, lane_len, lane_speed, lane_right, vt, i, lane,
                   want, v, v0, model, dt, lane_link, lane_mv_start, mv_to_link, mv_to_lane, lns, lnx, codes,
                   rp, end):
    """Acceleration with which vehicle ``i``, which must change from ``lane`` into the neighbour
    lane ``want`` before the link's end, makes that change possible (SUMO LC2013's
    ``informLeader``/``informFollower`` for an urgent strategic change); +inf when the change is
    not urgent yet or needs no help.

    Urgent, as in LC2013: the room left along the lane's continuation on the route (``i`` is on
    the link at route position ``rp``; :func:`~kernels.road.lanes.lane_continuation_a`, SUMO's
    ``currentDist``; followed only as far as it could matter), less the
    queue on ``want`` ahead on the link (each vehicle at ``i``'s length plus jam distance), is
    below the look-ahead distance (10 s at the current speed, twice that to the left, plus two
    vehicle lengths). Counting only the room left on the link, a car that needed the other lane two
    links on fell in behind a queue on it and stood 55 m before a green line, although its own
    lane went straight on to a link where the change could still be made (a small two-lane
    grid locked at a corner that way).
    * The vehicle ahead on ``want`` is slower and cannot be overtaken in the free room left
      beyond it: fall in behind it (braking at most at ``decel``). Without this, vehicles bound
      for a jammed motorway exit drove on beside the exit queue, stopped at the lane's end and
      blocked the through lane for good (``A10KW``).
    * The vehicle behind on ``want`` is too close to take ``i`` in and cannot open the gap by
      comfortable braking (:func:`cooperate_a`): drop ``HELP_OVERTAKE`` below its speed so that
      it passes, then change in behind it. Without this, two vehicles ran side by side at the
      same speed for 900 m and the exit was missed. The same when the vehicle ahead on
      ``want`` is still alongside.
    """
    ty = vtype[i]
    length = vt[ty, T_LEN]
    lwg = length + vt[ty, T_S0]
    dc = vt[ty, T_DEC]
    j, lo = lane_slot_a(pos, order, lane_start, want, pos[i])
    b = lane_start[want + 1]
    la = 10.0 * v * (1.0 if want == lane_right[lane] else 2.0) + 2.0 * lwg
    need = la + (b - lo) * lwg
    left = lane_len[lane] - pos[i]
    if left >= need:
        return np.inf  # not urgent on this link alone, so not along its continuation either
    horizon = min(pos[i] + need, URGENT_HORIZON)
    left = lane_continuation_a(lane_len, lane_link, lane_mv_start, mv_to_link, mv_to_lane, lns, lnx, codes,
                               lane, rp, end, horizon) - pos[i]
    if left >= need:
        return np.inf
    acc = np.inf
    if j >= 0:
        back = pos[j] - vt[vtype[j], T_LEN]
        gap = back - pos[i]
        if gap <= 0.0:
            # Alongside: let it draw ahead (it is past the gap we need).
            acc = max((speed[j] - HELP_OVERTAKE - v) / dt, -0.5 * dc)
        elif speed[j] < v:
            overtake = gap + vt[vtype[j], T_LEN] + vt[vtype[j], T_S0] + length + v * vt[ty, T_TAU]
            free = left - (b - lo - 1) * lwg - v * v / (2.0 * dc)
            if free < overtake:
                a = cf_follow(model, v, v0, gap, speed[j], vt[ty, T_ACC], dc, vt[ty, T_S0], vt[ty, T_TAU],
                              vt[ty, T_DELTA], dt, vt, ty, cf_modes(ANY_GAP, int(vt[vtype[j], T_CF])), 0.0)
                acc = max(a, -dc)
    if lo - 1 >= lane_start[want]:
        f = order[lo - 1]
        vf = speed[f]
        if vf > 1.0 and v - vf < HELP_OVERTAKE:
            tf = vtype[f]
            gapf = pos[i] - length - pos[f]
            v0f = v0_of(lane_speed, sfac, vt, f, want, tf)
            af = cf_follow(int(vt[tf, T_CF]), vf, v0f, gapf, v, vt[tf, T_ACC], vt[tf, T_DEC], vt[tf, T_S0],
                           vt[tf, T_TAU], vt[tf, T_DELTA], dt, vt, tf, cf_modes(ANY_GAP, int(vt[ty, T_CF])),
                           0.0)
            if gapf <= 0.0 or af < -vt[tf, T_DEC]:
                a = (vf - HELP_OVERTAKE - v) / dt
                acc = min(acc, max(a, -0.5 * dc))
    return acc


@njit(cache=True, _nrt=False)
def lead_modes(model, fl, vt, vtype, j):
    """``cf_follow``'s ``modes`` for a vehicle of ``model`` with flags ``fl`` behind vehicle ``j``
    (0 for IDM and Krauss, which keep none: no look-up of the leader's type)."""
    if model < CF_ACC:
        return 0
    return cf_modes(fl, int(vt[vtype[j], T_CF]))


@njit(cache=True)
def plan_range(V, N, L, W, vt, par, a, b, stride):
    """Accelerations (each type's model: IDM, Krauss, ACC or CACC) of the vehicles at sorted indices
    ``a, a + stride, ... < b`` into ``W.acc_k`` (with the must-stop flag in ``W.stop_k`` and the
    planned movement in ``W.mv_k``, all indexed by k).

    A follower drives behind its leader on the lane (and yields to a neighbour that must change
    into its lane, see :func:`cooperate_a`). The first vehicle of a lane looks ahead along its
    route: stop lines of red, yellow (when it can stop), yield and stop movements, the vehicle
    ahead in a zipper merge (:mod:`.zipper`), the last vehicle
    of the next lane, no entry into a jammed exit (do not block the junction), and a vehicle that
    just left the lane but still reaches back over the line. Shared by the CPU and CUDA drivers
    (see :func:`mobsim.kernels.road.lanechange.decide_range`); writes only its vehicles' entries.
    """
    order = W.order
    codes = W.route_codes
    link_next_start = N.link_next_start
    link_next = N.link_next
    lane_exit_rp = L.lane_exit_rp
    sig_state = W.sig_state
    lane_of = V.lane
    pos = V.pos
    speed = V.speed
    vtype = V.vtype
    sfac = V.sfac
    status = V.status
    route_pos = V.route_pos
    route_end = V.route_end
    acc_out = W.acc_k
    stop_line = W.stop_k
    next_mv = W.mv_k
    lc_req = V.lane_aux  # the lane-change request of this step (mobsim.state.fields)
    flags = V.flags
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
    mv_speed = N.mv_speed
    mv_wait = N.mv_wait
    mv_foe_start = N.mv_foe_start
    mv_foe2_start = N.mv_foe2_start
    lane_in_len = N.lane_in_len
    mv_keep_clear = N.mv_keep_clear
    dt = par[P_DT]
    horizon = par[P_HORIZON]
    timegap = par[P_TIMEGAP_MINOR]
    seed = np.uint64(par[P_SEED])
    step, t_now = clock(W, par)
    trip = V.trip
    stop_next = V.stop_next
    acc_last = V.acc  # each vehicle's acceleration in the last step (CACC's spacing-error rate)
    for k in range(a, b, stride):
        i = order[k]
        lane = lane_of[i]
        ty = vtype[i]
        ac = vt[ty, T_ACC]
        dc = vt[ty, T_DEC]
        s0 = vt[ty, T_S0]
        tau = vt[ty, T_TAU]
        delta = vt[ty, T_DELTA]
        model = int(vt[ty, T_CF])
        v0 = v0_of(lane_speed, sfac, vt, i, lane, ty)
        v = speed[i]
        stop = False
        fl = flags[i]
        a_ego = acc_last[i]
        lead_gap = np.inf  # net of minGap, to the leader whose gap sets ACC's and CACC's control modes
        if k + 1 < lane_start[lane + 1]:
            j = order[k + 1]
            gap = pos[j] - vt[vtype[j], T_LEN] - pos[i]
            acc = cf_follow(model, v, v0, gap, speed[j], ac, dc, s0, tau, delta, dt, vt, ty,
                            lead_modes(model, fl, vt, vtype, j), a_ego)
            lead_gap = gap - s0
            next_mv[k] = -1
            dist = lane_len[lane] - pos[i]
            if dist < v * v / dc + 2.0 * v and route_pos[i] + 1 < route_end[i]:
                # A follower sees the signal too (as in SUMO, every vehicle looks ahead over
                # the links it could reach): at red, and at yellow when it can still stop, it
                # stops at the line even though its leader goes on. Without this a platoon
                # followed its head through the yellow and the corridor delay came out low.
                nl = route_step(link_next_start, link_next, codes, lane_link[lane], route_pos[i] + 1)
                after = -1
                if route_pos[i] + 2 < route_end[i]:
                    after = route_step(link_next_start, link_next, codes, nl, route_pos[i] + 2)
                m = choose_movement_a(lane_mv_start, mv_to_link, mv_to_lane, lane, nl, after)
                if m >= 0 and mv_sig[m] >= 0:
                    st = movement_state_a(mv_sig, mv_kind, sig_state, m)
                    if st == M_RED or (st == M_YELLOW and cf_can_stop_at_yellow(model, v, dist, dc,
                                                                                 vt[ty, T_EDEC], dt)):
                        acc = min(acc, cf_stop(model, v, v0, dist, ac, dc, s0, tau, delta, dt))
                if m >= 0:
                    # ... and the last vehicle of the lane it will enter: its leader may turn
                    # elsewhere (ramp: a car followed its leader at 31 m/s towards an off-ramp
                    # whose queue stood 52 m past the line, and hit it).
                    tl = mv_to_lane[m]
                    if lane_start[tl + 1] > lane_start[tl]:
                        r = order[lane_start[tl]]
                        acc = min(acc, cf_follow(model, v, v0, dist + pos[r] - vt[vtype[r], T_LEN], speed[r],
                                                 ac, dc, s0, tau, delta, dt, vt, ty,
                                                 lead_modes(model, fl, vt, vtype, r), a_ego))
        else:
            length = vt[ty, T_LEN]
            acc = cf_free(model, v, v0, ac, dc, delta, dt)
            dist = lane_len[lane] - pos[i]
            next_mv[k] = -1
            x = straddler_a(lane_last_exit, lane_exit_rp, status, route_pos, pos, vtype, vt, lane)
            if x >= 0 and x != i:
                gx = dist + pos[x] - vt[vtype[x], T_LEN]
                acc = min(acc, cf_follow(model, v, v0, gx, speed[x], ac, dc, s0, tau, delta, dt, vt, ty,
                                         lead_modes(model, fl, vt, vtype, x), a_ego))
                lead_gap = gx - s0
            cur = lane
            rp = route_pos[i]
            nl = -1
            if rp + 1 < route_end[i]:
                nl = route_step(link_next_start, link_next, codes, lane_link[lane], rp + 1)
            for h in range(MAX_LOOKAHEAD):
                if nl < 0:
                    break  # the destination: drive through the end of the link
                after = -1
                if rp + 2 < route_end[i]:
                    after = route_step(link_next_start, link_next, codes, nl, rp + 2)
                m = choose_movement_a(lane_mv_start, mv_to_link, mv_to_lane, cur, nl, after)
                if m < 0:
                    # Wrong lane for the route: the lane end is a wall until a lane change succeeds.
                    acc = min(acc, cf_stop(model, v, v0, dist, ac, dc, s0, tau, delta, dt))
                    stop = h == 0
                    break
                if h == 0:
                    next_mv[k] = m
                vm = mv_speed[m]
                if v > vm:
                    # The turn's speed limit (SUMO's internal lanes): at most vm at the line,
                    # braking comfortably (SUMO's freeSpeed towards a lower limit ahead): the
                    # speed of this step must leave room to brake to vm over the distance left
                    # after it (v^2 <= vm^2 + 2 dc (dist - v dt)).
                    bdt = dc * dt
                    v_lim = math.sqrt(bdt * bdt + vm * vm + 2.0 * dc * dist) - bdt
                    acc = min(acc, (v_lim - v) / dt)
                st = movement_state_a(mv_sig, mv_kind, sig_state, m)
                must_stop = False
                wait = mv_wait[m]
                if h == 0 and wait > 0.0 and flags[i] & FLAG_INSIDE != 0 and dist < AT_LINE:
                    # Inside the junction, at its internal junction (SUMO's waiting position
                    # of a permitted left turn): the signal is behind it (it clears on yellow
                    # and red as well); only the foes listed for that position hold it.
                    must_stop = yield_blocked_inside(V, N, W, L, vt, i, m, timegap, dt, True)
                elif st == M_YIELD and wait > 0.0:
                    # SUMO's "cont" link: the way into the junction is open whenever the signal
                    # is not red; the foes are judged from the waiting position inside. A
                    # vehicle held there has entered: it waits inside (FLAG_INSIDE).
                    if h > 0 or flags[i] & FLAG_COMMITTED == 0:
                        if dist < 50.0 + v * v / (2.0 * dc) and cf_can_stop(model, v, dist, dc, dt):
                            must_stop = yield_blocked_inside(V, N, W, L, vt, i, m, timegap, dt, False)
                            if h == 0 and dist < AT_LINE:
                                flags[i] |= FLAG_INSIDE if must_stop else FLAG_COMMITTED
                elif st == M_RED:
                    # A vehicle that could not stop at the yellow onset clears on the all-red.
                    must_stop = h > 0 or flags[i] & FLAG_COMMITTED == 0 or v < 1.0
                elif st == M_YELLOW:
                    must_stop = cf_can_stop_at_yellow(model, v, dist, dc, vt[ty, T_EDEC], dt)
                    if h == 0 and not must_stop:
                        flags[i] |= FLAG_COMMITTED
                elif st == M_STOP:
                    # Stop at the line, then go when the gap is there, without second thoughts:
                    # a vehicle pulling away from the line at walking pace could always stop
                    # again, and each time the queued major stream got the space instead.
                    if h > 0 or flags[i] & FLAG_COMMITTED == 0:
                        if h > 0 or not (dist < AT_LINE and v < 0.5):
                            must_stop = True
                        elif yield_blocked(V, N, W, L, vt, i, m, timegap, dt):
                            must_stop = True
                        else:
                            flags[i] |= FLAG_COMMITTED
                elif st == M_YIELD:
                    # Gap acceptance while the vehicle can still stop comfortably; closer than
                    # that it has committed (as a driver would have judged the gap earlier), and
                    # so has a vehicle that accepted a gap from the line (as at a stop line).
                    if h > 0 or flags[i] & FLAG_COMMITTED == 0:
                        if dist < 50.0 + v * v / (2.0 * dc) and cf_can_stop(model, v, dist, dc, dt):
                            must_stop = yield_blocked(V, N, W, L, vt, i, m, timegap, dt)
                            if h == 0 and not must_stop and dist < 1.0:
                                flags[i] |= FLAG_COMMITTED
                elif st == M_ZIPPER:
                    acc = min(acc, zipper_accel(V, N, W, L, vt, i, m, dist, v, v0, model, ac, dc, s0, tau,
                                                delta, dt))
                if st == M_YIELD and not must_stop and (
                        mv_foe_start[m + 1] > mv_foe_start[m] or mv_foe2_start[m + 1] > mv_foe2_start[m]):
                    # No right of way: until FOE_VISIBILITY from the line (or from the waiting
                    # position inside the junction), where every foe is in sight, be able to stop
                    # there, stopping POSITION_EPS short of it as SUMO does at a minor link
                    # (MSVehicle's "vehicles should decelerate when approaching a minor link").
                    # Without this a minor-road car crossed at 50 km/h, and the delay on the
                    # minor road of a priority junction came out half of SUMO's. A movement
                    # without foes has right of way whatever its kind (netconvert makes it 'M';
                    # a native grid's corner turns are 'minor' to no one).
                    d_vis = dist + wait
                    if d_vis > FOE_VISIBILITY and cf_can_stop(model, v, d_vis, dc, dt):
                        d_stop = d_vis + STOP_LINE_CLEARANCE - MINOR_STOP_GAP
                        acc = min(acc, cf_stop(model, v, v0, d_stop, ac, dc, s0, tau, delta, dt))
                if h == 0 and st == M_GO:
                    flags[i] &= ~FLAG_COMMITTED
                tl = mv_to_lane[m]
                r = -1
                if lane_start[tl + 1] > lane_start[tl]:
                    r = order[lane_start[tl]]
                if not must_stop and r >= 0 and cf_can_stop(model, v, dist, dc, dt):
                    room = pos[r] - vt[vtype[r], T_LEN]
                    # The exit link's first metres stand for the junction (an imported link starts
                    # with the mean internal length of the movements into it, N.lane_in_len): the
                    # whole vehicle must fit beyond them, as a SUMO vehicle enters a junction only
                    # with room on the lane after it (MSVehicle::checkRewindLinkLanes). A car
                    # standing there held a left turner waiting inside as if it were still crossing.
                    # (SUMO's room behind the rearmost halting vehicle less the moving ones behind
                    # it, MSLane::getSpaceTillLastStanding, was tried: the DRT city's random-trip
                    # seeds traded locks, 5 teleports in ten runs became 17 with 10 unfinished.)
                    # Only where the movement has foes (SUMO's keepClear applies to such links
                    # only): behind a node where a lane is added, a queue that stood there needed
                    # two vehicle lengths of room to move up, and its front teleported where
                    # SUMO's crept on (random trips on A10KW).
                    if mv_keep_clear[m] and room - lane_in_len[tl] < length + s0 and speed[r] < 1.0:
                        must_stop = True  # do not block the junction
                if must_stop:
                    acc = min(acc, cf_stop(model, v, v0, dist, ac, dc, s0, tau, delta, dt))
                    stop = h == 0
                    break
                if r >= 0:
                    room = pos[r] - vt[vtype[r], T_LEN]
                    acc = min(acc, cf_follow(model, v, v0, dist + room, speed[r], ac, dc, s0, tau, delta, dt,
                                             vt, ty, lead_modes(model, fl, vt, vtype, r), a_ego))
                    if lead_gap == np.inf:
                        lead_gap = dist + room - s0
                    break
                dist += lane_len[tl]
                cur = tl
                rp += 1
                nl = after
                if dist > horizon:
                    break
        stop_line[k] = 1 if stop else 0
        if model == CF_ACC and lead_gap < np.inf:
            # SUMO keeps the mode a step's first follow computation chose (MSCFModel_ACC::_v)
            if acc_gap_mode(lead_gap, fl & FLAG_ACC_GAP != 0):
                flags[i] |= FLAG_ACC_GAP
            else:
                flags[i] &= ~FLAG_ACC_GAP
        elif model == CF_CACC and lead_gap < np.inf:
            if cacc_gap_mode(lead_gap, v, tau, vt[ty, T_SC_MINGAP], fl & FLAG_CACC_GAP != 0):
                flags[i] |= FLAG_CACC_GAP
            else:
                flags[i] &= ~FLAG_CACC_GAP
        if stop_next[i] >= 0:
            # a scheduled stop (:mod:`.stops`): brake for it, hold while dwelling, leave after
            acc = min(acc, stop_accel(V, N, W, vt, i, lane, v, v0, model, ac, dc, s0, tau, delta, dt, t_now))
        if lc_req[i] >= 0 and lc_req[i] != lane:
            acc = min(acc, urgent_merge_a(pos, speed, vtype, sfac, order, lane_start, lane_len, lane_speed,
                                          lane_right, vt, i, lane, lc_req[i], v, v0, model, dt, lane_link,
                                          lane_mv_start, mv_to_link, mv_to_lane, link_next_start, link_next,
                                          codes, route_pos[i], route_end[i]))
        if lane_req[lane] == 1:
            acc = min(acc, cooperate_a(pos, speed, vtype, lc_req, order, lane_start, lane_left, lane_right,
                                       vt, i, k, lane, v0, dt))
        if v <= v0 and v + acc * dt > v0:
            acc = (v0 - v) / dt  # explicit IDM would overshoot a low desired speed
        sigma = vt[ty, T_SIGMA]
        if model == CF_KRAUSS and sigma > 0.0:
            acc = krauss_dawdle(v, acc, ac, dc, sigma, u01(seed, STREAM_DAWDLE, trip[i], step), dt)
        if acc < -vt[ty, T_EDEC]:
            acc = -vt[ty, T_EDEC]
        acc_out[k] = acc


@njit(cache=True)
def plan_serial(V, N, L, W, vt, par, n):
    plan_range(V, N, L, W, vt, par, 0, n, 1)


@njit(parallel=True, cache=True)
def plan(V, N, L, W, vt, par, n):
    """Acceleration of every running vehicle (parallel, writes only its own vehicle)."""
    for c in prange(N_CHUNKS):
        plan_range(V, N, L, W, vt, par, c * n // N_CHUNKS, (c + 1) * n // N_CHUNKS, 1)
