"""Scalar geometry of drone separation: closest point of approach, conflicts, MVP resolution.

Written once as ``njit`` functions over scalars, called by the CPU drivers and compiled as CUDA
device functions. Conventions: x east, y north, z up (m); velocities in m/s; for a pair, the
relative quantities are those of the *intruder* j seen from the *ownship* i (``dx = x_j - x_i``,
``dvx = vx_j - vx_i``). Swapping i and j negates every relative vector, which leaves every time
and distance below bit-for-bit unchanged, so both drones of a pair reach the same decision.

State-based detection (as BlueSky's ``StateBased``): both drones keep their current velocity; the
pair is in conflict when the protected zones (horizontal radius R, vertical half height H) will
overlap at some time in ``(0, lookahead)``; the overlap interval is the intersection of the
horizontal interval (distance < R) and the vertical interval (|dz| < H).
"""

from __future__ import annotations

import math

from numba import njit

INF = 1e30


@njit(cache=True, _nrt=False)
def cpa(dx, dy, dvx, dvy):
    """Time (s) and horizontal distance (m) of closest approach for straight-line motion.

    With no relative motion the time is 0 and the distance the current one.
    """
    dv2 = dvx * dvx + dvy * dvy
    if dv2 < 1e-12:
        return 0.0, math.sqrt(dx * dx + dy * dy)
    t = -(dx * dvx + dy * dvy) / dv2
    cx = dx + dvx * t
    cy = dy + dvy * t
    return t, math.sqrt(cx * cx + cy * cy)


@njit(cache=True, _nrt=False)
def zone_interval(dx, dy, dz, dvx, dvy, dvz, R, H):
    """Interval ``(t_in, t_out)`` (s, relative to now) during which the pair overlaps in both the
    horizontal (distance < R) and the vertical (|dz| < H) sense; ``t_in >= t_out`` when never."""
    dv2 = dvx * dvx + dvy * dvy
    d2 = dx * dx + dy * dy
    if dv2 < 1e-12:
        if d2 < R * R:
            tin_h, tout_h = -INF, INF
        else:
            return INF, -INF
    else:
        t = -(dx * dvx + dy * dvy) / dv2
        cx = dx + dvx * t
        cy = dy + dvy * t
        c2 = cx * cx + cy * cy
        if c2 >= R * R:
            return INF, -INF
        half = math.sqrt((R * R - c2) / dv2)
        tin_h, tout_h = t - half, t + half
    if abs(dvz) < 1e-9:
        if abs(dz) < H:
            tin_v, tout_v = -INF, INF
        else:
            return INF, -INF
    else:
        t1 = (-H - dz) / dvz
        t2 = (H - dz) / dvz
        tin_v, tout_v = min(t1, t2), max(t1, t2)
    return max(tin_h, tin_v), min(tout_h, tout_v)


@njit(cache=True, _nrt=False)
def in_conflict(tin, tout, lookahead):
    """A zone-overlap interval is a conflict when it is not empty, not over, and starts within the
    look-ahead time."""
    return tin < tout and tout > 0.0 and tin < lookahead


@njit(cache=True, _nrt=False)
def in_los(dx, dy, dz, R, H):
    """Loss of separation now: inside the horizontal radius and the vertical half height."""
    return dx * dx + dy * dy < R * R and abs(dz) < H


@njit(cache=True, _nrt=False)
def mvp(dx, dy, dz, dvx, dvy, dvz, tcpa, tin, R, H, lookahead, side):
    """Modified-voltage-potential resolution of one conflict (BlueSky's ``MVP``): the velocity change
    (m/s) that the *ownship* applies, as ``(-dv1, -dv2, -dv3)`` in BlueSky's terms.

    Horizontally it pushes the predicted closest point out to R along the miss vector (with the
    geometric correction when the intruder is outside the zone); vertically it resolves the
    vertical intrusion within the time to the vertical crossing, or within ``tin``. ``side`` (+1 or
    -1, opposite for the two drones of a pair) breaks the tie of two drones at the same horizontal
    position, where no direction follows from the geometry.
    """
    dist = math.sqrt(dx * dx + dy * dy)
    cx = dx + dvx * tcpa
    cy = dy + dvy * tcpa
    dabs = math.sqrt(cx * cx + cy * cy)
    ih = R - dabs
    if dabs <= 10.0:
        # head-on: no miss vector to push along; push sideways (to the right of the line of sight)
        dabs = 10.0
        if dist > 1e-6:
            cx = dy / dist * dabs
            cy = -dx / dist * dabs
        else:
            cx = side * dabs
            cy = 0.0
    tc = max(abs(tcpa), 1e-3)
    dist = max(dist, 1e-6)
    if R < dist and dabs < dist:
        err = math.cos(math.asin(R / dist) - math.asin(dabs / dist))
        dv1 = ((R / err - dabs) * cx) / (tc * dabs)
        dv2 = ((R / err - dabs) * cy) / (tc * dabs)
    else:
        dv1 = (ih * cx) / (tc * dabs)
        dv2 = (ih * cy) / (tc * dabs)
    if abs(dvz) > 0.0:
        iv = H
        tsol = abs(dz / dvz)
    else:
        iv = H - abs(dz)
        tsol = tin
    if tsol > lookahead:
        tsol = tin
        iv = H
    tsol = max(tsol, 1e-3)
    if abs(dvz) > 0.0:
        dv3 = (iv / tsol) * (-dvz / abs(dvz))
    else:
        # level pair: the lower drone goes down, the higher one up (dz > 0: the intruder is above);
        # BlueSky sends both down here, which keeps their vertical distance
        dv3 = 0.0 if dz == 0.0 else iv / tsol * (1.0 if dz > 0.0 else -1.0)
    return -dv1, -dv2, -dv3


@njit(cache=True, _nrt=False)
def point_in_polygon(px, py, vx, vy, first, stop):
    """Even-odd rule: is (px, py) inside the polygon with vertices ``vx[first:stop]``, ``vy[...]``?"""
    inside = False
    j = stop - 1
    for i in range(first, stop):
        yi, yj = vy[i], vy[j]
        if (yi > py) != (yj > py):
            xc = vx[i] + (py - yi) * (vx[j] - vx[i]) / (yj - yi)
            if px < xc:
                inside = not inside
        j = i
    return inside


@njit(cache=True, _nrt=False)
def wrap_angle(a):
    """Angle (rad) wrapped to [-pi, pi)."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi
