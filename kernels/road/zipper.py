"""Zipper merging, as SUMO's zipper junctions do it (``MSLink::isZipperConflict``).

Two lanes that end in one (a lane drop, an on-ramp) take turns: a vehicle on a zipper movement
within ``ZIPPER_ADAPT_DIST`` m of the line adapts to the vehicle of the other merging lane that
is next ahead of it in the merged order (nearer the line than itself), as if that vehicle drove
on its own lane at its distance from the line. It needs no gap and never stops at the line for
the other stream; each driver falls in behind the one ahead, and the two streams interleave. As
in SUMO (``MSLink::couldBrakeForLeader``), a foe that the vehicle could not stay behind by
braking for one second is not its leader (that foe falls in behind it instead).

The speed is SUMO's ``MSLink::getZipperSpeed``: at least the speed of following that vehicle
(its car-following model), and far from the line (10 s and more) the speed that opens the safe
gap (SUMO's secure gap) evenly by the time the foe reaches the line; between the two a blend
weighted by the time to the line, so that the deceleration is spread out instead of braking
for a leader that appeared 5 m ahead.

Pure function of the state the planning pass reads, so it runs in the CPU and CUDA planning
alike (:func:`mobsim.kernels.road.follow.plan_range`).
"""

from __future__ import annotations

import math

from numba import njit

from ..physics.carfollow import cf_follow, cf_modes
from ..runtime.layout import T_ACC, T_CF, T_DEC, T_EDEC, T_LEN
from .blocked import arrival_speed_braking, speed_after
from .lanes import v0_of
from .routes import route_step

#: Distance to the line (m) from which a zipper vehicle adapts to the other stream (SUMO's
#: ``MSLink::ZIPPER_ADAPT_DIST``).
ZIPPER_ADAPT_DIST = 100.0


@njit(cache=True)
def zipper_leader(V, N, W, L, i, m, dist, v, dc):
    """The vehicle that vehicle ``i`` (at ``v`` m/s, ``dist`` m before the line of its zipper
    movement ``m``, braking comfortably at ``dc`` m/s²) falls in behind, and that vehicle's
    distance to the line (m): ``(j, fd)``, or ``(-1, -1.0)``."""
    if dist > ZIPPER_ADAPT_DIST:
        return -1, -1.0
    node0 = N.node_mv_start[N.link_to_node[N.lane_link[N.mv_from_lane[m]]]]
    to_lane = N.mv_to_lane[m]
    own = N.mv_from_lane[m]
    best_fd = -1.0
    best = -1
    for q in range(N.mv_foe_start[m], N.mv_foe_start[m + 1]):
        f = N.node_mv[node0 + N.mv_foes[q]]
        if N.mv_to_lane[f] != to_lane:
            continue  # only the streams merging into the same lane take turns
        fl = N.mv_from_lane[f]
        a = L.lane_start[fl]
        for k in range(L.lane_start[fl + 1] - 1, a - 1, -1):  # front to back: the distance grows
            j = W.order[k]
            if V.status[j] != 1 or V.lane[j] != fl:
                continue
            fd = N.lane_len[fl] - V.pos[j]
            if fd > dist + 1e-6 or fd > ZIPPER_ADAPT_DIST:
                break  # behind i in the merged order: it follows i
            if fd >= dist - 1e-6 and fl > own:
                break  # a tie: the lane with the lower number goes first (SUMO's tie-break is the
                # lane index, with none between lanes of equal index: such a pair stood for good)
            rp = V.route_pos[j] + 1
            if rp >= V.route_end[j]:
                continue  # arrives on its lane
            nxt = route_step(N.link_next_start, N.link_next, W.route_codes, N.lane_link[fl], rp)
            if nxt != N.mv_to_link[f]:
                continue  # turns elsewhere
            vj = V.speed[j]
            if dist - fd <= v - dc - vj:
                continue  # too close to stay behind it: it falls in behind i
            if fd > best_fd:
                best_fd = fd
                best = j
    return best, best_fd


@njit(cache=True)
def zipper_accel(V, N, W, L, vt, i, m, dist, v, v0, model, ac, dc, s0, tau, delta, dt):
    """Acceleration (m/s²) of vehicle ``i`` for its zipper movement ``m`` ``dist`` m ahead, or
    ``1e9`` when no vehicle of the other stream is ahead of it (SUMO's ``getZipperSpeed``; its
    other arguments are ``i``'s speed, desired speed, model and parameters)."""
    j, fd = zipper_leader(V, N, W, L, i, m, dist, v, dc)
    if j < 0:
        return 1e9
    tj = V.vtype[j]
    u = V.speed[j]
    gap = dist - fd - vt[tj, T_LEN]
    v_follow = v + cf_follow(model, v, v0, gap, u, ac, dc, s0, tau, delta, dt, vt, V.vtype[i],
                             cf_modes(V.flags[i], int(vt[tj, T_CF])), V.acc[i]) * dt
    # the foe's and i's time to the line (s), on their mean speeds until then (at least one step)
    u_max = v0_of(N.lane_speed, V.sfac, vt, j, V.lane[j], tj)
    u_end = speed_after(fd, u, vt[tj, T_ACC], u_max)
    u_avg = 0.5 * (u + u_end)
    tf = max(1.0, math.ceil(fd / max(u_avg, 1e-6) / dt) * dt)
    v_end = min(speed_after(dist, v, ac, v0), max(u_end, arrival_speed_braking(dist, v, dc)))
    v_avg = 0.5 * (v + v_end)
    te = max(1.0, math.ceil(dist / max(v_avg, 1e-6) / dt) * dt)
    # SUMO's secure gap: i's braking distance (plus its reaction time) beyond the foe's, the foe
    # braking at the harder of the two decelerations
    bd = max(dc, vt[tj, T_DEC])
    safe = max(0.0, v_end * tau + v_end * v_end / (2.0 * dc) - u_end * u_end / (2.0 * bd))
    d_gap = (gap - s0) + tf * u_avg - safe - v_avg * tf
    v_safe_gap = v + 2.0 * d_gap / (tf * tf) * dt
    w = min(1.0, te / 10.0)
    max_dec = w * dc + (1.0 - w) * vt[V.vtype[i], T_EDEC]
    vz = max(v_follow, v - max_dec * dt, w * v_safe_gap + (1.0 - w) * v_follow)
    return (vz - v) / dt
