"""Per-step drone phases: pad allocation per vertiport, then motion and energy per flight.

Range functions ``f(D, A, first, stop, stride, t)`` over vertiports or flights, shared by the CPU
drivers (:mod:`.air_cpu`) and the CUDA kernels (:mod:`.air_cuda`). Each item writes only what it
owns: a vertiport its pads and queue pointer, a flight its own state and the pad it holds, so the
result does not depend on the order in which items run.

Kinematics (x east, y north, z up; m, s): horizontal motion is steered towards the current
waypoint (or, while resolving a conflict, towards the resolution velocity) under a turn-rate and
an acceleration limit; the ground velocity is the air velocity plus the uniform wind, and the
ground speed along a track follows the wind triangle. Climbs and descents are vertical, at the
type's rates. Positions advance with the mean of the old and new velocity (ballistic, as the cars).

Energy: each phase draws its power (hover, climb, cruise, descent; W, scaled by the payload
factor ``pfac``) for the step; the battery use is the sum, kept per phase for the accounts. A
flight whose battery runs out makes an emergency landing where it is (event ``battery_depleted``).
"""

from __future__ import annotations

import math

from numba import njit

from ..runtime.atomics import atomic_add_mt as atomic_add
from .geometry import wrap_angle
from .layout import (
    AC_DEPLETED,
    AC_DONE,
    AC_DSTEPS,
    AC_NEV,
    AC_STEP,
    AP_DT,
    AP_PAD_CLEAR,
    AP_TERMINAL,
    AP_WIND_X,
    AP_WIND_Y,
    AP_ZMAX,
    AP_ZMIN,
    DE_DEPLETED,
    DT_ACC,
    DT_BAT,
    DT_CLIMB,
    DT_CRUISE,
    DT_DESC,
    DT_PCLIMB,
    DT_PCRUISE,
    DT_PDESC,
    DT_PHOVER,
    DT_TURN,
    DT_VMAX,
    PH_CLIMB,
    PH_CRUISE,
    PH_DEPLETED,
    PH_DESCEND,
    PH_DONE,
    PH_HOLD,
    PH_LANDED,
    PH_PREP,
    PH_QUEUE,
    PH_SCHED,
    PH_SERVICE,
)

F_RETURNS = 1
F_DEST_VP = 2
F_DEPLETED = 4
F_RESOLVING = 8
F_TERMINAL = 16

#: Distance (m) and speed (m/s) under which a flight has reached its final waypoint.
ARRIVE_DIST = 0.5
ARRIVE_SPEED = 0.5
#: Share of the acceleration limit used by the braking profile before the end of a leg.
BRAKE_SHARE = 0.7
#: Speed (m/s) below which a drone changes its velocity vector freely (no turn-rate limit).
FREE_TURN_SPEED = 3.0


@njit(cache=True)
def emit(A, kind, a, b, t0, t1, val):
    """Append an event to the buffer (a slot taken atomically; the host sorts each flush)."""
    k = atomic_add(A.cnt, AC_NEV, 1)
    if k < A.ev_kind.shape[0]:
        A.ev_kind[k] = kind
        A.ev_a[k] = a
        A.ev_b[k] = b
        A.ev_t0[k] = t0
        A.ev_t1[k] = t1
        A.ev_val[k] = val


@njit(cache=True)
def _free_pad(A, v, t):
    """Index of a pad of vertiport ``v`` that is free at time ``t`` (lowest index), or -1."""
    for p in range(A.vp_pad0[v], A.vp_pad0[v + 1]):
        if A.pad_free[p] <= t:
            return p
    return -1


@njit(cache=True)
def pads_range(D, A, first, stop, stride, t):
    """Vertiports ``first:stop:stride`` at time ``t``: pads go first to flights holding to land, in
    order of (hold start, flight id), then to queued departures in order of (request, flight id).

    A landing flight gets its pad for good (its descent starts next step); a departure holds its
    pad through the turnaround and the climb, until it is :data:`AP_PAD_CLEAR` m high, and takes
    off no earlier than the vertiport's departure interval after the previous take-off.
    """
    for v in range(first, stop, stride):
        while A.vp_nhold[v] > 0:
            best = -1
            for k in range(A.land0[v], A.land0[v + 1]):
                i = A.land[k]
                if D.phase[i] == PH_HOLD and D.pad[i] < 0:
                    if (
                        best < 0
                        or D.hold_since[i] < D.hold_since[best]
                        or (D.hold_since[i] == D.hold_since[best] and i < best)
                    ):
                        best = i
            if best < 0:
                A.vp_nhold[v] = 0
                break
            p = _free_pad(A, v, t)
            if p < 0:
                break
            A.pad_free[p] = 1e30
            D.pad[best] = p
            D.phase[best] = PH_DESCEND
            A.vp_nhold[v] -= 1
        k = A.dep_next[v]
        while k < A.dep0[v + 1]:
            i = A.dep[k]
            if D.phase[i] != PH_SCHED and D.phase[i] != PH_QUEUE:
                k += 1  # refused at planning
                continue
            if D.t_req[i] > t:
                break
            p = _free_pad(A, v, t)
            if p < 0:
                break
            A.pad_free[p] = 1e30
            D.pad[i] = p
            D.phase[i] = PH_PREP
            # take-offs from one vertiport at least departure_interval apart: drones leaving on the
            # same departure route are then in trail at a safe distance when their terminal area ends
            ready = max(t + A.vp_turn[v], A.vp_next_off[v])
            D.t_ready[i] = ready
            A.vp_next_off[v] = ready + A.vp_dep_int[v]
            k += 1
        A.dep_next[v] = k


@njit(cache=True)
def _spend(D, i, P, dt, which):
    """Draw power ``P`` (W) for ``dt`` s in phase ``which`` (0 climb, 1 cruise, 2 descent, 3 hover)."""
    e = P * dt / 3600.0
    D.energy[i] += e
    if which == 0:
        D.e_climb[i] += e
        D.tm_climb[i] += dt
    elif which == 1:
        D.e_cruise[i] += e
        D.tm_cruise[i] += dt
    elif which == 2:
        D.e_desc[i] += e
        D.tm_desc[i] += dt
    else:
        D.e_hover[i] += e
        D.tm_hover[i] += dt


@njit(cache=True, _nrt=False)
def ground_speed(ux, uy, va, wx, wy):
    """Ground speed (m/s) along the unit track (ux, uy) at airspeed ``va`` in wind (wx, wy): the wind
    triangle; 0 when the cross wind exceeds the airspeed."""
    along = wx * ux + wy * uy
    cross = wx * uy - wy * ux
    r = va * va - cross * cross
    if r <= 0.0:
        return 0.0
    return max(along + math.sqrt(r), 0.0)


@njit(cache=True)
def _steer(D, A, i, dvx, dvy, dt, acc, turn, vmax):
    """Turn and accelerate the ground velocity towards (dvx, dvy) within the type's limits; move.

    Above :data:`FREE_TURN_SPEED` the heading turns at most ``turn * dt`` and the speed changes by
    at most ``acc * dt``; below it (a multirotor manoeuvring slowly) the velocity vector changes by
    at most ``acc * dt`` in any direction, so a drone can stop on a point instead of orbiting it.
    """
    vx0, vy0 = D.vx[i], D.vy[i]
    s = math.sqrt(vx0 * vx0 + vy0 * vy0)
    sd = math.sqrt(dvx * dvx + dvy * dvy)
    h = D.hdg[i]
    if s <= FREE_TURN_SPEED and sd <= FREE_TURN_SPEED:
        ex, ey = dvx - vx0, dvy - vy0
        e = math.sqrt(ex * ex + ey * ey)
        lim = acc * dt
        if e > lim:
            ex *= lim / e
            ey *= lim / e
        vx1, vy1 = vx0 + ex, vy0 + ey
        s1 = math.sqrt(vx1 * vx1 + vy1 * vy1)
        if s1 > 1e-9:
            h = math.atan2(vx1, vy1)
    else:
        if sd > 1e-9:
            dh = wrap_angle(math.atan2(dvx, dvy) - h)
            if s > FREE_TURN_SPEED:
                lim = turn * dt
                dh = min(max(dh, -lim), lim)
            h = h + dh
        ds = min(max(sd - s, -acc * dt), acc * dt)
        s1 = min(max(s + ds, 0.0), vmax)
        vx1 = s1 * math.sin(h)
        vy1 = s1 * math.cos(h)
    mx = 0.5 * (vx0 + vx1) * dt
    my = 0.5 * (vy0 + vy1) * dt
    D.x[i] += mx
    D.y[i] += my
    D.dist[i] += math.sqrt(mx * mx + my * my)
    D.vx[i] = vx1
    D.vy[i] = vy1
    D.hdg[i] = wrap_angle(h)
    return s1


@njit(cache=True)
def _cruise(D, A, i, tab, dt, t):
    """One cruise step: steer along the leg (or the resolution velocity), hold the cruise altitude.
    Returns True when the final waypoint of the leg is reached."""
    ty = D.dtype[i]
    va = tab[ty, DT_CRUISE]
    vmax = tab[ty, DT_VMAX]
    acc = tab[ty, DT_ACC]
    turn = tab[ty, DT_TURN]
    wxw, wyw = A.par[AP_WIND_X], A.par[AP_WIND_Y]
    gmax = vmax + math.sqrt(wxw * wxw + wyw * wyw)
    wp = D.wp[i]
    last = wp == D.wp_end[i] - 1
    ex = A.wx[wp] - D.x[i]
    ey = A.wy[wp] - D.y[i]
    d = math.sqrt(ex * ex + ey * ey)
    s = math.sqrt(D.vx[i] ** 2 + D.vy[i] ** 2)
    if not last:
        # fly-by: switch to the next waypoint within a turn's lead distance (or one step)
        nx_ = A.wx[wp + 1] - A.wx[wp]
        ny_ = A.wy[wp + 1] - A.wy[wp]
        dn = math.sqrt(nx_ * nx_ + ny_ * ny_)
        lead = s * dt
        if dn > 1e-9 and d > 1e-9 and turn > 0:
            ang = abs(wrap_angle(math.atan2(nx_, ny_) - math.atan2(ex, ey)))
            lead = max(lead, s / turn * math.tan(min(ang, 2.8) / 2.0))
        if d <= lead:
            wp += 1
            D.wp[i] = wp
            last = wp == D.wp_end[i] - 1
            ex = A.wx[wp] - D.x[i]
            ey = A.wy[wp] - D.y[i]
            d = math.sqrt(ex * ex + ey * ey)
    alt = D.alt0[i] if D.leg[i] == 0 else D.alt1[i]
    if D.flags[i] & F_RESOLVING:
        dvx, dvy = D.rvx[i], D.rvy[i]
        vz = D.rvz[i]
    else:
        if d > 1e-9:
            ux, uy = ex / d, ey / d
            vg = ground_speed(ux, uy, va, wxw, wyw)
            # brake for the end of the leg: the distance left along the remaining waypoints,
            # counted only as far as the braking distance reaches
            # (braking profile at BRAKE_SHARE of the acceleration limit: the discrete controller
            # lags half a step behind the continuous profile and would overshoot at the full limit)
            brake = BRAKE_SHARE * acc
            rest = d
            stop_d = s * s / (2.0 * brake) + s * dt
            k = wp
            while rest < stop_d and k < D.wp_end[i] - 1:
                rest += math.sqrt((A.wx[k + 1] - A.wx[k]) ** 2 + (A.wy[k + 1] - A.wy[k]) ** 2)
                k += 1
            if k == D.wp_end[i] - 1 and rest < stop_d + s * dt:
                vg = min(vg, math.sqrt(2.0 * brake * rest))
            if last:
                vg = min(vg, math.sqrt(2.0 * brake * d), d / dt)
            dvx, dvy = vg * ux, vg * uy
        else:
            dvx, dvy = 0.0, 0.0
        vz = 0.0
    # vertical: a resolution's vertical speed, else back to (or at) the cruise altitude
    if vz == 0.0 and D.z[i] != alt:
        vz = min(max((alt - D.z[i]) / dt, -tab[ty, DT_DESC]), tab[ty, DT_CLIMB])
    z1 = min(max(D.z[i] + vz * dt, A.par[AP_ZMIN]), A.par[AP_ZMAX])
    D.vz[i] = (z1 - D.z[i]) / dt
    D.z[i] = z1
    s1 = _steer(D, A, i, dvx, dvy, dt, acc, turn, gmax)
    if s1 < ARRIVE_SPEED and not D.flags[i] & F_RESOLVING:
        _spend(D, i, tab[ty, DT_PHOVER] * D.pfac[i], dt, 3)
    else:
        _spend(D, i, tab[ty, DT_PCRUISE] * D.pfac[i], dt, 1)
    if last and not D.flags[i] & F_RESOLVING:
        ex = A.wx[wp] - D.x[i]
        ey = A.wy[wp] - D.y[i]
        # capture: slow, and the point is within this step's reach (a discrete controller with an
        # acceleration limit would otherwise circle the point for a while)
        reach = max(ARRIVE_DIST, s1 * dt)
        e2 = ex * ex + ey * ey
        if e2 < reach * reach and s1 < FREE_TURN_SPEED:
            D.dist[i] += math.sqrt(e2)
            D.x[i] = A.wx[wp]
            D.y[i] = A.wy[wp]
            D.vx[i] = 0.0
            D.vy[i] = 0.0
            return True
    return False


@njit(cache=True)
def _start_return(D, i):
    """Begin the return leg where the drone is: climb first, at return priority."""
    D.leg[i] = 1
    D.prio[i] = 0
    D.wp[i] = D.ret_start[i]
    D.wp_end[i] = D.ret_end[i]
    D.phase[i] = PH_CLIMB
    D.lx[i] = D.x[i]
    D.ly[i] = D.y[i]


@njit(cache=True)
def _hover(D, i, tab, dt):
    D.vx[i] = 0.0
    D.vy[i] = 0.0
    D.vz[i] = 0.0
    _spend(D, i, tab[D.dtype[i], DT_PHOVER] * D.pfac[i], dt, 3)


@njit(cache=True)
def step_end(A):
    """The step's last phase: the step counter advances (one thread)."""
    A.cnt[AC_STEP] += 1


@njit(cache=True)
def move_range(D, A, first, stop, stride, t):
    """Flights ``first:stop:stride``: one step from ``t`` to ``t + dt`` of their current phase."""
    tab = A.tab
    dt = A.par[AP_DT]
    t1 = t + dt
    clear = A.par[AP_PAD_CLEAR]
    n_air = 0
    for i in range(first, stop, stride):
        ph = D.phase[i]
        if ph == PH_SCHED:
            if D.t_req[i] <= t1:
                D.phase[i] = PH_QUEUE
            continue
        if ph == PH_QUEUE or ph >= PH_DONE:
            continue
        ty = D.dtype[i]
        if PH_CLIMB <= ph <= PH_HOLD:
            n_air += 1
        if ph == PH_PREP:
            if D.t_ready[i] <= t:
                D.phase[i] = PH_CLIMB
                D.t_off[i] = t
                D.lx[i] = D.x[i]
                D.ly[i] = D.y[i]
            else:
                continue
            ph = PH_CLIMB
        if ph == PH_LANDED:
            if D.t_ready[i] <= t:
                if D.leg[i] == 0 and D.flags[i] & F_RETURNS:
                    _start_return(D, i)
                    A.pad_free[D.pad[i]] = 1e30
                    ph = PH_CLIMB
                else:
                    D.phase[i] = PH_DONE
                    D.t_done[i] = D.t_ready[i]
                    D.pad[i] = -1
                    atomic_add(A.cnt, AC_DONE, 1)
                    continue
            else:
                continue
        if ph == PH_CLIMB:
            alt = D.alt0[i] if D.leg[i] == 0 else D.alt1[i]
            D.vx[i] = 0.0
            D.vy[i] = 0.0
            vz = min(tab[ty, DT_CLIMB], (alt - D.z[i]) / dt)
            D.vz[i] = vz
            D.z[i] += vz * dt
            _spend(D, i, tab[ty, DT_PCLIMB] * D.pfac[i], dt, 0)
            if D.pad[i] >= 0 and D.z[i] >= clear:
                A.pad_free[D.pad[i]] = t1
                D.pad[i] = -1
            if D.z[i] >= alt - 1e-9:
                D.z[i] = alt
                D.vz[i] = 0.0
                D.phase[i] = PH_CRUISE
        elif ph == PH_CRUISE:
            # terminal area: near the leg's take-off point or its end, the drone follows the
            # vertiport's procedures instead of en-route separation (see .air_detect)
            e = D.wp_end[i] - 1
            rt = A.par[AP_TERMINAL]
            if (D.x[i] - D.lx[i]) ** 2 + (D.y[i] - D.ly[i]) ** 2 < rt * rt or (D.x[i] - A.wx[e]) ** 2 + (
                D.y[i] - A.wy[e]
            ) ** 2 < rt * rt:
                if not D.flags[i] & F_TERMINAL:
                    D.flags[i] = (D.flags[i] | F_TERMINAL) & ~F_RESOLVING
            elif D.flags[i] & F_TERMINAL:
                D.flags[i] &= ~F_TERMINAL
            if _cruise(D, A, i, tab, dt, t):
                if D.flags[i] & F_DEPLETED:
                    D.phase[i] = PH_DESCEND
                elif D.leg[i] == 1 or D.flags[i] & F_DEST_VP:
                    D.phase[i] = PH_HOLD
                    D.hold_since[i] = t1
                    v = D.origin[i] if D.leg[i] == 1 else D.dest_vp[i]
                    atomic_add(A.vp_nhold, v, 1)
                else:
                    D.phase[i] = PH_DESCEND
        elif ph == PH_HOLD:
            _hover(D, i, tab, dt)
        elif ph == PH_SERVICE:
            _hover(D, i, tab, dt)
            if D.t_ready[i] <= t1:
                _start_return(D, i)
        elif ph == PH_DESCEND:
            D.vx[i] = 0.0
            D.vy[i] = 0.0
            depleted = D.flags[i] & F_DEPLETED
            on_pad = D.pad[i] >= 0
            target = 0.0 if (on_pad or depleted) else D.drop_h[i]
            vz = -min(tab[ty, DT_DESC], (D.z[i] - target) / dt)
            D.vz[i] = vz
            D.z[i] += vz * dt
            _spend(D, i, tab[ty, DT_PDESC] * D.pfac[i], dt, 2)
            if D.z[i] <= target + 1e-9:
                D.z[i] = target
                D.vz[i] = 0.0
                if depleted:
                    D.phase[i] = PH_DEPLETED
                    D.t_done[i] = t1
                    if on_pad:
                        A.pad_free[D.pad[i]] = t1
                        D.pad[i] = -1
                elif on_pad:
                    v = D.origin[i] if D.leg[i] == 1 else D.dest_vp[i]
                    D.phase[i] = PH_LANDED
                    if D.leg[i] == 0:
                        D.t_deliv[i] = t1
                    # turnaround on the pad; a recharge happens off the pad, in the charging bay
                    ready = t1 + A.vp_turn[v]
                    D.t_ready[i] = ready
                    # the pad stays taken until the flight leaves it (returns) or is done
                    A.pad_free[D.pad[i]] = 1e30 if (D.leg[i] == 0 and D.flags[i] & F_RETURNS) else ready
                else:
                    D.phase[i] = PH_SERVICE
                    D.t_deliv[i] = t1 + D.service[i]
                    D.t_ready[i] = t1 + D.service[i]
        # battery: an empty battery forces an emergency landing where the drone is
        if (
            D.energy[i] >= tab[ty, DT_BAT]
            and not D.flags[i] & F_DEPLETED
            and (PH_CLIMB <= D.phase[i] <= PH_HOLD)
        ):
            D.flags[i] |= F_DEPLETED
            if D.phase[i] == PH_HOLD:
                v = D.origin[i] if D.leg[i] == 1 else D.dest_vp[i]
                atomic_add(A.vp_nhold, v, -1)
            D.phase[i] = PH_DESCEND
            atomic_add(A.cnt, AC_DEPLETED, 1)
            emit(A, DE_DEPLETED, i, -1, t1, t1, D.energy[i])
    atomic_add(A.cnt, AC_DSTEPS, n_air)
