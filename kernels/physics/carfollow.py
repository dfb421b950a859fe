"""Car-following models per vehicle type: IDM, SUMO's Krauss, ACC and CACC, behind one dispatch.

Every planner call goes through these functions with the type's model code (``vt[ty, T_CF]``:
:data:`~mobsim.kernels.runtime.layout.CF_IDM`, ``CF_KRAUSS``, ``CF_ACC`` or ``CF_CACC``), so one
plan, one move and one insertion serve every model on CPU and CUDA (``register_jitable``, as :mod:`.idm`).
Each returns the *acceleration* of the coming step (m/s²); the planner takes the minimum over all
constraints (leader, stop lines, junction room), as SUMO's ``finalizeSpeed`` takes the minimum of
its speeds.

Krauss (Krauss 1998; SUMO's ``MSCFModel_Krauss`` with SUMO's default Euler position update):

* safe speed behind a leader: the largest speed from which the follower stops behind the point
  where the leader, braking at ``decel`` from now, would stop, keeping ``minGap`` and reacting
  within ``tau`` (SUMO's ``maximumSafeFollowSpeed`` = ``maximumSafeStopSpeedEuler(gap - minGap +
  brakeGap(v_leader))``, stepwise braking of ``decel · dt`` per step);
* next speed: ``min(v + accel · dt, v_safe, v_desired)``, then *dawdling*: minus
  ``sigma · accel · dt · u`` (``sigma · v · dt · u`` below ``v = accel``, so a starting driver
  always starts), ``u`` uniform in [0, 1) from the counter-based RNG, never below the speed that
  braking at ``decel`` would leave (SUMO's ``vMin``);
* position: Euler, ``x += v_next · dt`` (SUMO's default ``--step-method.ballistic false``); IDM
  types keep the ballistic update.

ACC and CACC (:mod:`.acc`): behind a leader the controller's speed, bounded as SUMO bounds it;
everything else (free road, stop lines, insertion, Euler positions) as Krauss
without dawdling, as SUMO's ``MSCFModel_ACC`` inherits it. :func:`euler` tells the two families
apart.

Where SUMO's formula needs the leader's own deceleration (``MAX2(myDecel, predMaxDecel)``), the
follower's is used: identical for one type, slightly optimistic behind a harder-braking leader.
Units: m, s, m/s, m/s².
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

from ..runtime.layout import (
    CF_ACC,
    CF_CACC,
    CF_IDM,
    FLAG_ACC_GAP,
    FLAG_CACC_GAP,
    T_CA_G,
    T_CA_GD,
    T_CA_OVR,
    T_CA_S,
    T_CA_V,
    T_EDEC,
    T_GC_G,
    T_GC_GD,
    T_GC_S,
    T_GC_V,
    T_GCC_G,
    T_GCC_GD,
    T_GCC_S,
    T_GCC_V,
    T_SC_CACC,
    T_SC_GAIN,
    T_SC_MINGAP,
    T_TAU_ACC,
)
from .acc import acc_gap_mode, acc_next_speed, cacc_gap_mode, cacc_next_speed
from .idm import STOP_LINE_CLEARANCE, ballistic, can_stop, idm_accel, idm_free, idm_stop, safe_insert_speed

#: SUMO's NUMERICAL_EPS (m): a stop is computed this far before the obstacle.
KRAUSS_EPS = 0.001


@register_jitable
def euler(model):
    """True for the models with SUMO's step-wise (Euler) speeds and positions (Krauss, ACC, CACC);
    False for IDM (ballistic, continuous braking)."""
    return model != CF_IDM


@register_jitable
def brake_gap_euler(v, decel, dt):
    """Distance (m) a vehicle at ``v`` m/s covers while braking by ``decel · dt`` each step (Euler
    positions: SUMO's ``brakeGap`` with headway 0)."""
    dv = decel * dt
    if dv <= 0.0:
        return 0.0
    n = math.floor(v / dv)
    return dt * (n * v - dv * n * (n + 1.0) * 0.5)


@register_jitable
def krauss_stop_speed(gap, decel, tau, dt):
    """Largest speed (m/s) from which a vehicle stops within ``gap`` m, braking by ``decel · dt``
    per step after a reaction of ``tau`` s (SUMO's ``maximumSafeStopSpeedEuler``)."""
    g = gap - KRAUSS_EPS
    if g < 0.0:
        return 0.0
    b = decel * dt
    s = dt
    t = tau
    n = math.floor(0.5 - (t + math.sqrt(s * s + 4.0 * (s * (2.0 * g / b - t) + t * t)) * -0.5) / s)
    h = 0.5 * n * (n - 1.0) * b * s + n * b * t
    r = (g - h) / (n * s + t)
    x = n * b + r
    return x if x > 0.0 else 0.0


@register_jitable
def krauss_safe_speed(gap, vl, decel, tau, dt):
    """Krauss safe speed (m/s) ``gap`` m (net of the minimum gap) behind a leader at ``vl`` m/s."""
    return krauss_stop_speed(gap + brake_gap_euler(vl, decel, dt), decel, tau, dt)


@register_jitable
def krauss_max_speed(v, v0, a, b, dt):
    """Krauss's next speed (m/s) on a free road: up by ``a · dt`` to the desired speed ``v0``; above
    it (a lower limit ahead) down to it, by at most ``b · dt`` a step (SUMO's ``vMin``)."""
    vn = v + a * dt
    if vn > v0:
        vn = v0
        if vn < v - b * dt:
            vn = v - b * dt
    return vn


@register_jitable
def cf_free(model, v, v0, a, b, delta, dt):
    """Acceleration (m/s²) with no leader in sight."""
    if euler(model):
        return (krauss_max_speed(v, v0, a, b, dt) - v) / dt
    return idm_free(v, v0, a, delta)


#: ``modes`` bits of :func:`cf_follow`: the ACC and CACC control modes kept by the vehicle, and
#: whether its leader is a CACC vehicle (which it then follows with the CACC law).
MODE_ACC_GAP = 1
MODE_CACC_GAP = 2
MODE_LEAD_CACC = 4
#: The kept modes assumed where a vehicle's own are not at hand (a neighbour's cooperation, urgent
#: merges, lane-change safety): gap control for ACC and CACC (the other vehicle is close by there).
ANY_GAP = FLAG_ACC_GAP | FLAG_CACC_GAP


@register_jitable
def cf_modes(flags_i, lead_model):
    """The ``modes`` argument of :func:`cf_follow` for a vehicle with flags ``flags_i`` (``V.flags``)
    behind a leader of model ``lead_model``."""
    m = 0
    if flags_i & FLAG_ACC_GAP != 0:
        m |= MODE_ACC_GAP
    if flags_i & FLAG_CACC_GAP != 0:
        m |= MODE_CACC_GAP
    if lead_model == CF_CACC:
        m |= MODE_LEAD_CACC
    return m


@register_jitable
def cf_follow(model, v, v0, gap, vl, a, b, s0, T, delta, dt, vt, ty, modes, a_ego):
    """Acceleration (m/s²) behind a leader ``gap`` m ahead (bumper to bumper) at ``vl`` m/s.

    ``vt``/``ty``: the type table and the follower's type (the ACC and CACC gains); ``modes``:
    the control modes it kept from the last step and whether the leader is CACC
    (:func:`cf_modes`); ``a_ego``: its acceleration in the last step (m/s², CACC)."""
    if model == CF_ACC:
        g = gap - s0
        va = acc_next_speed(v, v0, g, vl, T, acc_gap_mode(g, modes & MODE_ACC_GAP != 0), vt[ty, T_SC_GAIN],
                            vt[ty, T_GC_V], vt[ty, T_GC_S], vt[ty, T_CA_V], vt[ty, T_CA_S], vt[ty, T_GCC_V],
                            vt[ty, T_GCC_S], dt)
        # The override: at most ca_override above the speed from which the emergency deceleration
        # still stops behind the leader's stopping point, without reaction time (see .acc for why
        # not Krauss's safe speed).
        ed = vt[ty, T_EDEC]
        vo = krauss_stop_speed(g + brake_gap_euler(vl, ed, dt), ed, 0.0, dt) + vt[ty, T_CA_OVR]
        vn = krauss_max_speed(v, v0, a, b, dt)
        if vo < va:
            va = vo
        if va < vn:
            vn = va
        return (vn - v) / dt
    if model == CF_CACC:
        g = gap - s0
        vc = cacc_next_speed(v, v0, g, vl, a_ego, T,
                             cacc_gap_mode(g, v, T, vt[ty, T_SC_MINGAP], modes & MODE_CACC_GAP != 0),
                             modes & MODE_LEAD_CACC != 0, vt[ty, T_SC_CACC], vt[ty, T_GCC_G],
                             vt[ty, T_GCC_GD], vt[ty, T_GC_G], vt[ty, T_GC_GD], vt[ty, T_CA_G],
                             vt[ty, T_CA_GD],
                             vt[ty, T_TAU_ACC], vt[ty, T_SC_GAIN], vt[ty, T_GC_V], vt[ty, T_GC_S],
                             vt[ty, T_CA_V], vt[ty, T_CA_S], vt[ty, T_GCC_V], vt[ty, T_GCC_S], dt)
        # SUMO's CACC override: at most min(ca_override, gap) above Krauss's safe speed
        vs = krauss_safe_speed(g, vl, b, T, dt) + min(vt[ty, T_CA_OVR], g)
        if vs < vc:
            vc = vs if vs > 0.0 else 0.0
        vn = krauss_max_speed(v, v0, a, b, dt)
        if vc < vn:
            vn = vc
        return (vn - v) / dt
    if euler(model):
        vs = krauss_safe_speed(gap - s0, vl, b, T, dt)
        vn = krauss_max_speed(v, v0, a, b, dt)
        if vs < vn:
            vn = vs
        return (vn - v) / dt
    return idm_accel(v, v0, gap, vl, a, b, s0, T, delta)


@register_jitable
def cf_stop(model, v, v0, dist, a, b, s0, T, delta, dt):
    """Acceleration (m/s²) towards a stop line ``dist`` m ahead; both models come to rest
    ``STOP_LINE_CLEARANCE`` before it (SUMO's stop offset). Krauss stops with a reaction time
    of one step, not ``T``: SUMO's ``MSCFModel_Krauss::stopSpeed`` passes the action step
    length, so that the line is approached at a uniform deceleration (with ``T`` = 1 s a car
    slowed down 4 m/s too early and crept the last metres for 3 s)."""
    if euler(model):
        vs = krauss_stop_speed(dist - STOP_LINE_CLEARANCE, b, dt, dt)
        vn = krauss_max_speed(v, v0, a, b, dt)
        if vs < vn:
            vn = vs
        return (vn - v) / dt
    return idm_stop(v, v0, dist, a, b, s0, T, delta)


@register_jitable
def krauss_dawdle(v, acc, a, b, sigma, u, dt):
    """Acceleration (m/s²) after Krauss dawdling of the planned ``acc`` with the uniform draw ``u``.

    SUMO's ``dawdle2`` on the planned next speed, bounded below by ``vMin`` (the speed braking at
    ``b`` would leave, or the planned speed if that is lower: dawdling never brakes harder than
    the plan or than comfortable)."""
    vmax = v + acc * dt
    if vmax <= 0.0 or sigma <= 0.0:
        return acc
    if vmax < a:
        vd = vmax - sigma * vmax * dt * u
    else:
        vd = vmax - sigma * a * dt * u
    vmin = v - b * dt
    if vmin < 0.0:
        vmin = 0.0
    if vmin > vmax:
        vmin = vmax
    if vd < vmin:
        vd = vmin
    return (vd - v) / dt


#: SUMO's ``--tls.yellow.min-decel`` default (m/s²): at yellow a driver brakes at least this hard
#: (up to its emergency deceleration) if that stops it before the line.
YELLOW_MIN_DECEL = 3.0


@register_jitable
def cf_can_stop(model, v, dist, b, dt):
    """True if a vehicle at ``v`` m/s can stop within ``dist`` m braking at ``b`` m/s²: Krauss
    by ``b · dt`` each step (SUMO's Euler ``brakeGap``, which decides whether a vehicle must
    still obey a link it approaches), IDM continuously."""
    if euler(model):
        return brake_gap_euler(v, b, dt) <= dist
    return can_stop(v, dist, b)


@register_jitable
def cf_can_stop_at_yellow(model, v, dist, b, eb, dt):
    """True if a vehicle at ``v`` m/s stops within ``dist`` m of a line that just turned yellow.

    Krauss: SUMO's rule, braking by ``max(b, min(YELLOW_MIN_DECEL, eb))`` each step (Euler
    brake gap); IDM: continuous braking at ``b`` (m/s²)."""
    if euler(model):
        d = YELLOW_MIN_DECEL if YELLOW_MIN_DECEL < eb else eb
        if d < b:
            d = b
        return brake_gap_euler(v, d, dt) <= dist
    return v * v <= 2.0 * b * dist


@register_jitable
def cf_advance(model, v, acc, dt):
    """One step: ``(dx, v_new)`` (m, m/s): Euler positions for Krauss, ballistic for IDM."""
    if euler(model):
        vn = v + acc * dt
        if vn < 0.0:
            vn = 0.0
        return vn * dt, vn
    return ballistic(v, acc, dt)


@register_jitable
def cf_insert_speed(model, gap, v0, vl, a, b, s0, T, dt):
    """Highest speed (m/s, at most ``v0``) at which a vehicle fits ``gap`` m behind a leader at
    ``vl`` m/s; -1 when even standing does not fit (``gap < s0``). Krauss: its safe speed (SUMO's
    insertion check); IDM: its desired gap (:func:`~mobsim.kernels.physics.idm.safe_insert_speed`)."""
    if euler(model):
        if gap < s0:
            return -1.0
        v = krauss_safe_speed(gap - s0, vl, b, T, dt)
        return v if v < v0 else v0
    return safe_insert_speed(gap, v0, vl, a, b, s0, T)
