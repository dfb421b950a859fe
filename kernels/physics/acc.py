"""Adaptive cruise control (ACC) and cooperative ACC (CACC) as SUMO's ``MSCFModel_ACC`` and
``MSCFModel_CACC`` model them.

CACC (:func:`cacc_gap_mode`, :func:`cacc_next_speed`): speed control while the time gap exceeds
2 s, the CACC law below 1.5 s (the last mode in between); behind a leader that is not CACC it
falls back to the ACC law below. Its speeds match SUMO 1.28's to the output rounding once the
spacing error's rate is ``vl − v − tau · a`` (SUMO's 2022 source adds ``tau · a``; with that
sign the replay was off by up to 0.25 m/s).

ACC:

The controller of Milanés & Shladover (2014), with the dynamic gap margin of Xiao, Wang &
van Arem (2017, 2018), in SUMO's form. Every step the controller picks one law by the gap to
the leader (net of ``minGap``, as SUMO measures it) and its mode:

* **speed control** (gap above :data:`GAP_SPEED_CONTROL`, 120 m): ``a = k_sc · (v − v_des)``;
* **gap control** (gap below :data:`GAP_GAP_CONTROL`, 100 m), on the spacing error
  ``e = gap − tau · v − margin`` (the margin is 2 m below 10.8 m/s, ``75 / v − 5`` m up to
  15 m/s, 0 above: Xiao et al.'s dynamic margin) and the speed difference ``dv = v_leader − v``:

  - *gap mode* when ``|e| < 0.2`` m and ``|v − v_des| < 0.1`` m/s: ``a = k_gc_v · dv + k_gc_s · e``;
  - *collision avoidance* when ``e < 0``: ``a = k_ca_v · dv + k_ca_s · e``;
  - else *gap closing*: ``a = k_gcc_v · dv + k_gcc_s · e``;

* between the two thresholds the law of the previous step is kept (the vehicle's control mode,
  ``FLAG_ACC_GAP`` in ``V.flags``).

The next speed ``v + a · dt`` is then bounded: at most ``v + accel · dt`` and the desired speed,
never braking harder than the emergency deceleration, and at most ``ca_override`` (2 m/s) above
the speed from which braking at the emergency deceleration, without reaction time, still stops
behind the point where the leader would stop. SUMO's source names Krauss's safe speed there
(``maximumSafeFollowSpeed``); SUMO 1.28's trajectories never show that bound: an ACC vehicle in
speed control kept 39.3 m/s 101.7 m behind a 1 m/s leader, where Krauss's safe speed plus 2 m/s
is 28.3 m/s, and braked only when gap control took over below 100 m. The emergency bound leaves
those trajectories as they are and still keeps a controller with odd gains from driving into its
leader. Stopping at lines, the free road, insertion and
positions (Euler) are Krauss's without dawdling, as SUMO's ACC inherits them.

SUMO 1.28 was replayed step by step from its own trajectories (a platoon of four ACC vehicles
closing on a slower leader at 15 and at 6 m/s, vehicle lengths 5 and 8 m): its next speeds follow
this margin *without* the vehicle's length that older SUMO sources subtract as well (median error
0.0004 m/s, the rounding of its output; with the length, 0.4-0.6 m/s and a collision-avoidance
mode SUMO never entered).

Differences from SUMO, by design: the controller's desired speed is the vehicle's (speed limit ×
its speed factor; SUMO's controller aims at the speed limit and the speed factor only caps the
result, identical at factor 1); the mode is updated from the leader on the vehicle's own lane or,
for the first vehicle of a lane, the first vehicle ahead along its route.

Scalars in, scalars out: compiled for CPU and CUDA through ``register_jitable``. Units: m, s,
m/s, m/s².
"""

from __future__ import annotations

from numba.extending import register_jitable

#: Above this gap (m, net of minGap) the controller runs speed control.
GAP_SPEED_CONTROL = 120.0
#: Below this gap (m) it runs gap control; in between it keeps its mode.
GAP_GAP_CONTROL = 100.0


@register_jitable
def acc_gap_mode(gap_net, mode):
    """True if the controller runs gap control at ``gap_net`` m (net of minGap), given whether it
    did in the last step (``mode``)."""
    if gap_net > GAP_SPEED_CONTROL:
        return False
    if gap_net < GAP_GAP_CONTROL:
        return True
    return mode


@register_jitable
def acc_gap_accel(v, v_des, gap_net, vl, tau, gc_v, gc_s, ca_v, ca_s, gcc_v, gcc_s):
    """Gap-control acceleration (m/s²) at ``v`` m/s behind a leader ``gap_net`` m ahead (net of
    minGap) at ``vl`` m/s, with time gap ``tau`` s."""
    e = gap_net - tau * v
    if v < 10.8:
        e -= 2.0
    elif v <= 15.0:
        e -= 75.0 / v - 5.0
    dv = vl - v
    if abs(e) < 0.2 and abs(v - v_des) < 0.1:
        return gc_v * dv + gc_s * e
    if e < 0.0:
        return ca_v * dv + ca_s * e
    return gcc_v * dv + gcc_s * e


@register_jitable
def acc_next_speed(v, v_des, gap_net, vl, tau, gap_mode, sc, gc_v, gc_s, ca_v, ca_s, gcc_v, gcc_s, dt):
    """The controller's next speed (m/s, at least 0): speed control or gap control by
    ``gap_mode`` (see :func:`acc_gap_mode`)."""
    if gap_mode:
        a = acc_gap_accel(v, v_des, gap_net, vl, tau, gc_v, gc_s, ca_v, ca_s, gcc_v, gcc_s)
    else:
        a = sc * (v - v_des)
    vn = v + a * dt
    return vn if vn > 0.0 else 0.0


#: CACC: above this time gap (s), with the spacing error above ``sc_min_gap``, speed control.
CACC_TIME_GAP_SPEED = 2.0
#: CACC: below this time gap (s), gap control; in between the last mode is kept.
CACC_TIME_GAP_GAP = 1.5


@register_jitable
def cacc_gap_mode(gap_net, v, tau, sc_min_gap, mode):
    """True if a CACC vehicle at ``v`` m/s runs gap control ``gap_net`` m (net of minGap) behind
    its leader, given whether it did in the last step (``mode``): speed control while the time gap
    exceeds 2 s and the spacing error ``gap − tau · v`` exceeds ``sc_min_gap`` m, gap control
    below 1.5 s, the last mode in between (SUMO's ``CACC_ControlMode``)."""
    tg = gap_net / max(v, 1e-3)
    if tg > CACC_TIME_GAP_SPEED and gap_net - tau * v > sc_min_gap:
        return False
    if tg < CACC_TIME_GAP_GAP:
        return True
    return mode


@register_jitable
def cacc_next_speed(v, v_des, gap_net, vl, a_ego, tau, gap_mode, lead_cacc, sc, gcc_g, gcc_gd, gc_g,
                    gc_gd, ca_g, ca_gd, tau_acc, acc_sc, acc_gc_v, acc_gc_s, acc_ca_v, acc_ca_s, acc_gcc_v,
                    acc_gcc_s, dt):
    """The CACC controller's next speed (m/s, at least 0), as SUMO's ``MSCFModel_CACC::_v``.

    Speed control: ``v + sc · (v − v_des) · dt``. Gap control behind a CACC leader: on the spacing
    error ``e = gap − tau · v`` and its rate ``vl − v − tau · a_ego`` (``a_ego`` the vehicle's own
    acceleration of the last step, m/s²), a speed change per 0.1 s of ``k · e + k_dot · rate``:
    gap mode (``0 < e < 0.2`` m and ``v − v_des < 0.1`` m/s), collision avoidance (``e < 0``) or
    gap closing. Behind any other leader: the ACC law with the time gap ``tau_acc`` and the ACC
    gains, in ACC's gap control below 100 m (its mode is never stored there: SUMO updates it only
    at a step's first call, which the CACC law has taken). Below a step of 0.1 s the change is
    scaled to the step, as SUMO scales it; at longer steps it is taken per step."""
    if not gap_mode:
        vn = v + sc * (v - v_des) * dt
    elif not lead_cacc:
        vn = acc_next_speed(v, v_des, gap_net, vl, tau_acc, acc_gap_mode(gap_net, False), acc_sc, acc_gc_v,
                            acc_gc_s, acc_ca_v, acc_ca_s, acc_gcc_v, acc_gcc_s, dt)
    else:
        e = gap_net - tau * v
        rate = vl - v - tau * a_ego
        if 0.0 < e < 0.2 and v - v_des < 0.1:
            vn = v + gc_g * e + gc_gd * rate
        elif e < 0.0:
            vn = v + ca_g * e + ca_gd * rate
        else:
            vn = v + gcc_g * e + gcc_gd * rate
    if dt < 0.1 - 1e-9:
        vn = v + (vn - v) * 10.0 * dt
    return vn if vn > 0.0 else 0.0
