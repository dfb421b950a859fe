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
would arrive if it braked, which for a foe that can still stop before the line is taken as 30 s
after its arrival (as SUMO's ``MSVehicle::planMoveInternal`` does, "a small value keeps
fractional times meaningful"); a vehicle that has waited long goes in front of foes that can
stop for it, which keeps SUMO's jammed junctions moving.

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


@register_jitable
def speed_after(x, v, a, vmax):
    """Speed (m/s) after ``x`` m from ``v`` m/s at ``a`` m/s², at most ``vmax`` m/s."""
    return min(vmax, math.sqrt(v * v + 2.0 * a * x))


@register_jitable
def arrival_braking(d, v, b, a_f):
    """Time (s) a foe ``d`` m before the line at ``v`` m/s, arriving after ``a_f`` s at its
    speed, arrives if it brakes at ``b`` m/s² (``a_f + BRAKING_DELAY`` if it can stop before the
    line)."""
    if v <= 0.0 or v * v < 2.0 * b * d:
        return a_f + BRAKING_DELAY
    return max(a_f, (v - math.sqrt(v * v - 2.0 * b * d)) / b)


@register_jitable
def unsafe_merge(leader_v, follower_v, leader_b, follower_b):
    """SUMO's ``MSLink::unsafeMergeSpeeds``: the leader's braking distance (at ``leader_b``
    m/s²) is no longer than the follower's (m/s, m/s²)."""
    return leader_v * leader_v / leader_b <= follower_v * follower_v / follower_b


@register_jitable
def foe_blocks(t_arr, t_leave, a_f, l_f, d_f, v_f, b_f, impatience, timegap, same_target,
               v_arr, v_leave, b, v_leave_f):
    """True if a foe that arrives after ``a_f`` s and has left after ``l_f`` s (``d_f`` m before
    its line at ``v_f`` m/s, braking at ``b_f`` m/s², leaving at ``v_leave_f`` m/s) blocks a
    vehicle that arrives after ``t_arr`` s at ``v_arr`` m/s and has left after ``t_leave`` s at
    ``v_leave`` m/s (braking at ``b`` m/s²); ``same_target``: both enter the same lane, where
    the follower must also be able to stay behind (see the module docstring)."""
    if l_f < t_arr:
        # the foe is through first: a merging vehicle must then be able to follow it
        return same_target and (t_arr - l_f < timegap or unsafe_merge(v_leave_f, v_arr, b_f, b))
    a_eff = (1.0 - impatience) * a_f + impatience * arrival_braking(d_f, v_f, b_f, a_f)
    if a_eff > t_leave + timegap:
        # the vehicle goes first: a merging foe must then be able to stay behind it
        return same_target and unsafe_merge(v_leave, arrival_speed_braking(d_f, v_f, b_f), b, b_f)
    return True


@register_jitable
def arrival_speed_braking(d, v, b):
    """Speed (m/s) at which a vehicle ``d`` m before the line at ``v`` m/s arrives if it brakes at
    ``b`` m/s² (0 if it can stop)."""
    w = v * v - 2.0 * b * d
    return math.sqrt(w) if w > 0.0 else 0.0
