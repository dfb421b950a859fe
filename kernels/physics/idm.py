"""Intelligent Driver Model (Treiber, Hennecke & Helbing 2000) as pure scalar functions.

Scalars in, scalars out, only ``math``; compiled for CPU and CUDA through ``register_jitable``
(see :mod:`mobsim.kernels`). Units: m, s, m/s, m/s². ``gap`` is the bumper-to-bumper distance to
the leader's rear; ``v0`` the desired speed; ``a`` maximum acceleration; ``b`` comfortable
deceleration; ``s0`` jam distance; ``T`` desired time headway; ``delta`` the exponent.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

#: Gaps at or below this are treated as touching (m); IDM's 1/s² term would blow up.
MIN_GAP = 1e-3
#: Distance before a stop line at which a stopping vehicle comes to rest (m): SUMO's
#: ``jmStoplineGap`` default, its stop offset at red and yellow (measured in SUMO 1.28: the head of
#: a queue at a red light stands at 299.0 m of a 300 m lane, with IDM and with Krauss).
STOP_LINE_CLEARANCE = 1.0


@register_jitable
def speed_term(v, v0, delta):
    """(v / v0) ** delta, with the common delta = 4 done by two multiplications instead of pow."""
    x = v / v0
    if delta == 4.0:
        x2 = x * x
        return x2 * x2
    return math.pow(x, delta)


@register_jitable
def idm_desired_gap(v, vl, a, b, s0, T):
    """IDM desired gap s* (m) at speed ``v`` behind a leader at speed ``vl``."""
    dyn = v * T + v * (v - vl) / (2.0 * math.sqrt(a * b))
    if dyn < 0.0:
        dyn = 0.0
    return s0 + dyn


@register_jitable
def idm_free(v, v0, a, delta):
    """Free-road IDM acceleration (m/s²): no leader in sight."""
    return a * (1.0 - speed_term(v, v0, delta))


@register_jitable
def idm_accel(v, v0, gap, vl, a, b, s0, T, delta):
    """IDM acceleration (m/s²) behind a leader ``gap`` m ahead driving at ``vl`` m/s."""
    s = gap if gap > MIN_GAP else MIN_GAP
    ss = idm_desired_gap(v, vl, a, b, s0, T) / s
    return a * (1.0 - speed_term(v, v0, delta) - ss * ss)


@register_jitable
def idm_stop(v, v0, dist, a, b, s0, T, delta):
    """IDM acceleration (m/s²) towards a stop line ``dist`` m ahead (a standing obstacle).

    The line is placed ``s0 - STOP_LINE_CLEARANCE`` beyond its real position so the vehicle comes to
    rest just before the line instead of a whole jam distance short of it.
    """
    return idm_accel(v, v0, dist + s0 - STOP_LINE_CLEARANCE, 0.0, a, b, s0, T, delta)


@register_jitable
def ballistic(v, acc, dt):
    """Ballistic update over one step: returns ``(dx, v_new)`` (m, m/s); the speed never goes negative.

    A vehicle that would stop within the step stops at ``-v²/(2·acc)`` and stays there.
    """
    vn = v + acc * dt
    if vn < 0.0:
        if acc < 0.0:
            return -v * v / (2.0 * acc), 0.0
        return 0.0, 0.0
    return v * dt + 0.5 * acc * dt * dt, vn


@register_jitable
def equilibrium_gap(v, v0, s0, T, delta):
    """Steady-state IDM gap (m) at speed ``v`` < ``v0`` behind a leader at the same speed."""
    r = 1.0 - speed_term(v, v0, delta)
    if r <= 0.0:
        return math.inf
    return (s0 + v * T) / math.sqrt(r)


@register_jitable
def equilibrium_flow(v, v0, s0, T, delta, length):
    """Steady-state flow (veh/s) of a homogeneous IDM platoon at speed ``v`` (m/s)."""
    return v / (equilibrium_gap(v, v0, s0, T, delta) + length)


@register_jitable
def can_stop(v, dist, b):
    """True if a vehicle at ``v`` m/s can stop within ``dist`` m braking at ``b`` m/s²."""
    return v * v <= 2.0 * b * dist


@register_jitable
def safe_insert_speed(gap, v0, vl, a, b, s0, T):
    """Highest speed (m/s, at most ``v0``) at which IDM's desired gap fits into ``gap``.

    Solves ``s0 + v T + v (v - vl) / (2 sqrt(a b)) <= gap`` for the largest ``v`` >= 0;
    returns -1 when even standing still does not fit (``gap < s0``).
    """
    if gap < s0:
        return -1.0
    c = 2.0 * math.sqrt(a * b)
    # Without the interaction term (v <= vl): v <= (gap - s0) / T.
    v = (gap - s0) / T
    if v > vl:
        # Quadratic v²/c + (T - vl/c) v + (s0 - gap) = 0, positive root.
        qa = 1.0 / c
        qb = T - vl / c
        qc = s0 - gap
        v = (-qb + math.sqrt(qb * qb - 4.0 * qa * qc)) / (2.0 * qa)
        if v < vl:
            v = vl if vl * T + s0 <= gap else (gap - s0) / T
    if v > v0:
        v = v0
    return v
