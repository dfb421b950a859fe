"""Gap acceptance at a yield line, as SUMO's ``MSLink::blockedByFoe`` decides it.

A yielding vehicle compares time windows, not a fixed critical gap: it arrives at the line after
``t_arr`` s (the distance to the line, driven from its speed at its acceleration up to its
desired speed) and has left the junction after ``t_leave`` s (:func:`leave_time`, SUMO's
estimate: the movement's length through the junction and its own length at the mean of the
arrival speed and the speed after the junction). A foe with right of way arriving after ``a_f``
s at its speed and leaving after ``l_f`` s blocks it unless the foe is through before it arrives
(``l_f < t_arr``) or arrives only after it has left plus SUMO's ``jmTimegapMinor`` (1 s,
``junction.timegap_minor``); where both enter the same lane, the one behind must also be able
to stay behind by braking (SUMO's ``unsafeMergeSpeeds``), and a vehicle following a foe through
keeps the time gap behind it. With waiting, the vehicle grows impatient (SUMO's impatience:
waiting time / ``time-to-impatience``, 180 s): the foe's arrival time moves towards the time it
would arrive if it braked from the yielder's arrival on, at its deceleration *times the
impatience* (SUMO's ``MSLink::computeFoeArrivalTimeBraking``, :func:`foe_arrival_braking`); a
foe that could stop before the line at that deceleration counts as arriving 30 s later. So a
vehicle that has waited long goes in front of distant foes that can stop for it, which keeps
SUMO's jammed junctions moving, while a barely impatient one still lets a foe two seconds out
pass (with the foe's full deceleration instead, a minor-road driver who had waited 18 s crossed
in front of a major-road car 29 m from the junction at 50 km/h).

Scalars in, scalars out: compiled for CPU and CUDA through ``register_jitable``.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

#: SUMO's ``--time-to-impatience`` default (s): a vehicle that has waited this long is fully
#: impatient.
TIME_TO_IMPATIENCE = 180.0
#: How much later (s) than at its speed a foe that can stop before the line arrives if it brakes
#: (SUMO's ``arrivalTime + 30 s``).
BRAKING_DELAY = 30.0


@register_jitable
def time_to_cover(x, v, a, vmax):
    """Time (s) to drive ``x`` m from ``v`` m/s, accelerating at ``a`` m/s² up to ``vmax`` m/s."""
    if x <= 0.0:
        return 0.0
    if v >= vmax or a <= 0.0:
        return x / max(v, 0.1)
    t1 = (vmax - v) / a
    x1 = v * t1 + 0.5 * a * t1 * t1
    if x <= x1:
        return (math.sqrt(v * v + 2.0 * a * x) - v) / a
    return t1 + (x - x1) / vmax


@register_jitable
def leave_time(t_arr, v_arr, m_len, length, a, v_via):
    """When (s) a vehicle arriving at the line after ``t_arr`` s at ``v_arr`` m/s has left a
    junction ``m_len`` m long with its ``length`` m, as SUMO estimates it (``MSLink::getLeaveTime``:
    the distance at the mean of the arrival speed and the speed reached after ``m_len`` m at
    ``a`` m/s², at most ``v_via`` m/s, the speed limit through the junction); returns
    ``(leave time, leave speed)``."""
    v_leave = min(v_via, math.sqrt(v_arr * v_arr + 2.0 * a * m_len))
    return t_arr + (m_len + length) / max(0.5 * (v_arr + v_leave), 1e-3), v_leave


#: SUMO's foe visibility distance (m, a connection's ``visibility``, 4.5 by default): a vehicle
#: on a link without right of way must be able to stop at the line (or at its waiting position
#: inside the junction) until it is this close, where it sees every foe.
FOE_VISIBILITY = 4.5


@register_jitable
def visibility_speed(a, b, dt, euler):
    """Highest speed (m/s) at which a vehicle on a link without right of way arrives at the line
    while it is still farther than :data:`FOE_VISIBILITY` (SUMO's ``slowedDownForMinor``): the
    speed from which it could stop within that distance (braking at ``b`` m/s², no reaction
    time; SUMO's stepwise ``maximumSafeStopSpeedEuler`` where ``euler``), then ``a`` m/s² over
    it. 8.9 m/s for SUMO's passenger car (2.6 / 4.5 m/s², step 0.5 s)."""
    g = FOE_VISIBILITY
    if euler:
        bs = b * dt
        n = math.floor(0.5 + math.sqrt(dt * dt + 8.0 * g * dt / bs) * 0.5 / dt)
        h = 0.5 * n * (n - 1.0) * bs * dt
        v_stop = n * bs + (g - h) / (n * dt)
    else:
        v_stop = math.sqrt(2.0 * b * g)
    return math.sqrt(v_stop * v_stop + 2.0 * a * g)


@register_jitable
def minimal_arrival_time(x, v, v_arr, a, b):
    """Time (s) to drive ``x`` m from ``v`` m/s arriving at ``v_arr`` m/s: first the speed change
    at ``a`` (or ``b``) m/s², the rest at the higher of the two speeds (SUMO's
    ``getMinimalArrivalTime``)."""
    t = 0.0
    way = 0.0
    if v_arr > v:
        t = (v_arr - v) / a
    elif v_arr < v:
        t = (v - v_arr) / b
    way = t * (v_arr + v) * 0.5
    return t + max(x - way, 0.0) / max(v, v_arr, 0.1)


@register_jitable
def speed_after(x, v, a, vmax):
    """Speed (m/s) after ``x`` m from ``v`` m/s at ``a`` m/s², at most ``vmax`` m/s."""
    return min(vmax, math.sqrt(v * v + 2.0 * a * x))


@register_jitable
def foe_arrival_braking(t_arr, a_f, imp, d_f, b_f, dt):
    """``(arrival time s, arrival speed m/s)`` of a foe ``d_f`` m before its line, arriving after
    ``a_f`` s at its speed, if it starts braking when the yielder arrives (after ``t_arr`` s,
    rounded up to the step ``dt``) at its deceleration ``b_f`` m/s² scaled by the yielder's
    impatience ``imp`` (SUMO's ``MSLink::computeFoeArrivalTimeBraking``): ``a_f + BRAKING_DELAY``
    and 0 m/s if it could stop before the line that way. The foe's speed is taken as its mean
    speed to the line, as SUMO takes it. Called only with ``imp > 0`` and ``t_arr < a_f``."""
    if math.floor(t_arr / dt + 1e-9) == math.floor(a_f / dt + 1e-9):
        return a_f, 0.0  # both arrive in the same step
    t1 = math.ceil(t_arr / dt - 1e-9) * dt
    m = b_f * imp
    span = a_f - t1
    d = span * m
    a = span * d * 0.5
    v = d_f / (a_f + dt)
    if 0.5 * v * v / m <= d_f - v * t1:
        return a_f + BRAKING_DELAY, 0.0
    disc = 4.0 * (v - d) * (v - d) - 8.0 * m * a
    x = (v - d - 0.5 * math.sqrt(max(disc, 0.0))) / m
    return a_f + x, max(v - (span + x) * m, 0.0)


@register_jitable
def unsafe_merge(leader_v, follower_v, leader_b, follower_b):
    """SUMO's ``MSLink::unsafeMergeSpeeds``: the leader's braking distance (at ``leader_b``
    m/s²) is no longer than the follower's (m/s, m/s²)."""
    return leader_v * leader_v / leader_b <= follower_v * follower_v / follower_b


@register_jitable
def foe_blocks(t_arr, t_leave, a_f, l_f, d_f, v_f, b_f, impatience, timegap, same_target,
               v_arr, v_leave, b, v_leave_f, dt):
    """True if a foe that arrives after ``a_f`` s and has left after ``l_f`` s (``d_f`` m before
    its line at ``v_f`` m/s, braking at ``b_f`` m/s², leaving at ``v_leave_f`` m/s) blocks a
    vehicle that arrives after ``t_arr`` s at ``v_arr`` m/s and has left after ``t_leave`` s at
    ``v_leave`` m/s (braking at ``b`` m/s²); ``same_target``: both enter the same lane, where
    the follower must also be able to stay behind (see the module docstring); ``dt``: the step (s)."""
    a_eff = a_f
    v_brake = arrival_speed_braking(d_f, v_f, b_f)
    if impatience > 0.0 and t_arr < a_f:
        a_b, v_brake = foe_arrival_braking(t_arr, a_f, impatience, d_f, b_f, dt)
        a_eff = (1.0 - impatience) * a_f + impatience * a_b
    if l_f < t_arr:
        # the foe is through first: a merging vehicle must then be able to follow it
        return same_target and (t_arr - l_f < timegap or unsafe_merge(v_leave_f, v_arr, b_f, b))
    if a_eff > t_leave + timegap:
        # the vehicle goes first: a merging foe must then be able to stay behind it
        return same_target and unsafe_merge(v_leave, v_brake, b, b_f)
    return True


@register_jitable
def arrival_speed_braking(d, v, b):
    """Speed (m/s) at which a vehicle ``d`` m before the line at ``v`` m/s arrives if it brakes at
    ``b`` m/s² (0 if it can stop)."""
    w = v * v - 2.0 * b * d
    return math.sqrt(w) if w > 0.0 else 0.0
