"""Scheduled stops of road vehicles (SUMO's ``<stop>``; the stops of a transit line): the approach,
the dwell and the release, inside the planning pass (:mod:`.follow`).

A trip's stops are *visits* (``W.visit_*``, in the trip's order, chained by ``W.visit_next``): the
route entry of the visit's link, the position (m) where the front of the vehicle stops, the
length of the stop area (m), the minimum dwell (s) and the earliest departure (s, ``until``).
``V.stop_next`` is the vehicle's next visit (-1: none left) and ``V.stop_state`` says whether it is
on its way there or dwelling; while it dwells ``V.stop_end`` is the time it may leave, and from
its release on the time it left. The dwell end may be moved by a mode between steps (a transit
line's boardings: :mod:`mobsim.modes.transit`); the road only holds the vehicle until then.

A vehicle changes to the stop's lane on the stop's link (``W.visit_lane``; the lane-change pass,
:mod:`.lanechange`, puts it before the route's lanes) and stops in the lane it drives on when it
gets there (the stop holds that lane: the vehicles behind wait or change lanes). It has arrived
when it halts with its front at most ``POS_TOL`` past the stop's position and its whole body
inside the stop area (or right behind a vehicle that dwells there); a vehicle that passes a stop
without halting there (it could not brake, or a teleport carried it past) skips it, as SUMO skips
a stop it cannot reach.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..physics.carfollow import cf_stop
from ..runtime.layout import HALT_SPEED, STOP_APPROACH, STOP_DWELL, T_LEN

#: How far past its stop position (m) a halted front still counts as at the stop.
POS_TOL = 0.5
#: Room (m) behind the stop area, beyond the vehicle's minimum gap, that still counts as in it
#: (a vehicle halted behind one that dwells at the front of the area).
AREA_TOL = 1.0


@njit(cache=True)
def stop_accel(V, N, W, vt, i, lane, v, v0, model, ac, dc, s0, tau, delta, dt, t):
    """The acceleration bound (m/s²; inf: none) that vehicle ``i`` on ``lane`` at speed ``v`` owes
    its stops at the start of the step at time ``t`` (s): hold while dwelling, release once the
    dwell is over, skip passed visits, arrive at a halt inside the stop area, and otherwise brake
    for the next stop on this link or the next one. Writes only vehicle ``i``'s stop fields."""
    sn = V.stop_next[i]
    if sn < 0:
        return np.inf
    if V.stop_state[i] == STOP_DWELL:
        if t < V.stop_end[i] - 1e-9:
            return -v / dt
        # Released: from now on stop_end is the departure time.
        V.stop_state[i] = STOP_APPROACH
        V.stop_end[i] = t
        sn = W.visit_next[sn]
        V.stop_next[i] = sn
    rp = V.route_pos[i]
    pos = V.pos[i]
    while sn >= 0:
        vr = W.visit_rp[sn]
        if vr > rp + 1:
            return np.inf
        d = W.visit_pos[sn] - pos
        if vr == rp + 1:
            return cf_stop(model, v, v0, d + N.lane_len[lane], ac, dc, s0, tau, delta, dt)
        if vr == rp and d >= -POS_TOL:
            length = vt[V.vtype[i], T_LEN]
            room = W.visit_len[sn] - length
            if room < 0.0:
                room = 0.0
            if v < HALT_SPEED and d <= room + s0 + AREA_TOL:
                V.stop_state[i] = STOP_DWELL
                end = t + W.visit_dur[sn]
                if W.visit_until[sn] > end:
                    end = W.visit_until[sn]
                V.stop_end[i] = end
                return -v / dt
            return cf_stop(model, v, v0, d, ac, dc, s0, tau, delta, dt)
        sn = W.visit_next[sn]  # passed without halting there: skipped
        V.stop_next[i] = sn
    return np.inf


@njit(cache=True, _nrt=False)
def dwelling(stop_state, i):
    """True while vehicle ``i`` dwells at a stop (no lane change, no waiting time, no teleport)."""
    return stop_state[i] == STOP_DWELL
