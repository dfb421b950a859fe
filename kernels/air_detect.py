"""Conflict detection and resolution on a uniform spatial grid, and geofence checks.

Every detection interval: each airborne drone gets a grid cell (:func:`keys_range`); the drones
are bucketed by cell in (cell, id) order (a counting sort on the CPU, a stable device sort on the
GPU); then each drone scans the 3 x 3 cells around its own (:func:`detect_range`).

Why 3 x 3 cells are enough: the cell size is at least ``R + 2 v lookahead`` (the largest protected
radius plus the distance two drones at the largest ground speed can close in the look-ahead time),
so a pair farther apart than one cell can neither be in loss of separation nor in conflict. Drones
outside the grid are clamped into its edge cells, which never separates two drones by more than
one cell either. The grid therefore finds exactly the pairs that all-pairs detection finds, at a
cost that grows with the number of nearby pairs.

Separation applies to pairs of drones in cruise outside the terminal areas. Drones climbing or
descending over a pad or a drop point, hovering for a drop, holding over a vertiport for a landing
pad, or cruising within ``drones.terminal_radius`` of their leg's take-off point or end are in a
terminal area, where the vertiport's procedures (pad sequencing) separate them, as at a real
vertiport; they are neither detected nor resolved against. (Without this, drones converging on
one vertiport push each other away from it for ever, as MVP does around any common point; the
limitation: a cruising drone may pass through the column above someone else's pad.)

Each drone evaluates every pair it belongs to (so a pair is seen from both sides, with identical
numbers; see :mod:`.air_geometry`) and owns its :data:`N_SLOTS` tracking slots: conflict and
loss-of-separation episodes with their start, end and minimum distance. The drone with the lower
id of a pair writes the pair's events, so each episode is recorded once. Resolution is the sum of
the MVP velocity changes over the drone's conflicts (BlueSky's ``MVP``), applied by drones in
cruise: a drone leaves the manoeuvre to a partner of lower priority; equal priorities both
manoeuvre. A drone keeps its resolution velocity until every partner is past its
closest point of approach, then returns to its route.
"""

from __future__ import annotations

import math

from numba import njit

from .air_flight import F_RESOLVING, F_TERMINAL, emit
from .air_geometry import INF, cpa, in_conflict, in_los, mvp, point_in_polygon, zone_interval
from .air_layout import (
    AC_CHECKS,
    AC_CONF_NOW,
    AC_LOS_NOW,
    AC_OVERFLOW,
    AIRBORNE_FIRST,
    AIRBORNE_LAST,
    AP_CELL,
    AP_DET_EVERY,
    AP_DT,
    AP_LOOKAHEAD,
    AP_NGF,
    AP_NX,
    AP_NY,
    AP_RESO,
    AP_RESOFAC,
    AP_WIND_X,
    AP_WIND_Y,
    AP_X0,
    AP_Y0,
    DE_CONFLICT,
    DE_GEOFENCE,
    DE_LOS,
    DT_HPZ,
    DT_RPZ,
    DT_VMAX,
    N_SLOTS,
    PH_CRUISE,
)
from .atomics import atomic_add_mt as atomic_add


@njit(cache=True)
def keys_range(D, A, first, stop, stride):
    """Grid cell of each drone (``-1`` when not airborne)."""
    x0, y0, cell = A.par[AP_X0], A.par[AP_Y0], A.par[AP_CELL]
    nx, ny = int(A.par[AP_NX]), int(A.par[AP_NY])
    for i in range(first, stop, stride):
        ph = D.phase[i]
        if ph < AIRBORNE_FIRST or ph > AIRBORNE_LAST:
            D.cell[i] = -1
            continue
        cx = int(math.floor((D.x[i] - x0) / cell))
        cy = int(math.floor((D.y[i] - y0) / cell))
        cx = min(max(cx, 0), nx - 1)
        cy = min(max(cy, 0), ny - 1)
        D.cell[i] = cy * nx + cx


@njit(cache=True)
def build_cells(D, A, n):
    """Bucket the drones by cell in (cell, id) order: ``A.cell_start`` (n_cells + 1) and
    ``A.cell_items`` (a counting sort; serial, linear in drones plus cells)."""
    nc = A.cell_cnt.shape[0]
    cnt = A.cell_cnt
    cnt[:] = 0
    for i in range(n):
        c = D.cell[i]
        if c >= 0:
            cnt[c] += 1
    s = 0
    for c in range(nc):
        A.cell_start[c] = s
        s += cnt[c]
        cnt[c] = A.cell_start[c]
    A.cell_start[nc] = s
    for i in range(n):
        c = D.cell[i]
        if c >= 0:
            A.cell_items[cnt[c]] = i
            cnt[c] += 1


@njit(cache=True)
def _slot_of(D, base, j):
    for s in range(N_SLOTS):
        if D.sl_id[base + s] == j:
            return s
    return -1


@njit(cache=True)
def _free_slot(D, base):
    for s in range(N_SLOTS):
        if D.sl_id[base + s] < 0:
            return s
    return -1


@njit(cache=True)
def detect_range(D, A, first, stop, stride, t):
    """Detection, episode tracking, resolution and geofence checks for drones ``first:stop:stride``
    at time ``t`` (s)."""
    tab = A.tab
    par = A.par
    T = par[AP_LOOKAHEAD]
    reso = par[AP_RESO]
    fac = par[AP_RESOFAC]
    interval = par[AP_DET_EVERY] * par[AP_DT]
    nx, ny = int(par[AP_NX]), int(par[AP_NY])
    ngf = int(par[AP_NGF])
    gmax_w = math.sqrt(par[AP_WIND_X] ** 2 + par[AP_WIND_Y] ** 2)
    checks = 0
    # arrays hoisted out of the loops: one reference each per call, not per pair (on the CPU a
    # StructRef field read costs a reference-count pair, atomic and contended across threads)
    X, Y, Z, VX, VY, VZ = D.x, D.y, D.z, D.vx, D.vy, D.vz
    TY, PH, PR, FL = D.dtype, D.phase, D.prio, D.flags
    cstart, citems = A.cell_start, A.cell_items
    sl_id, sl_seen = D.sl_id, D.sl_seen
    for i in range(first, stop, stride):
        base = i * N_SLOTS
        for s in range(N_SLOTS):
            sl_seen[base + s] = 0
        c = D.cell[i]
        n_res = 0
        n_conf = 0
        cruising = D.phase[i] == PH_CRUISE and not D.flags[i] & F_TERMINAL
        ax = 0.0
        ay = 0.0
        az = 0.0
        if c >= 0 and cruising:
            ti = D.dtype[i]
            xi, yi, zi = D.x[i], D.y[i], D.z[i]
            vxi, vyi, vzi = D.vx[i], D.vy[i], D.vz[i]
            nearest = INF
            cx = c % nx
            cy = c // nx
            for gy in range(max(cy - 1, 0), min(cy + 2, ny)):
                for gx in range(max(cx - 1, 0), min(cx + 2, nx)):
                    cc = gy * nx + gx
                    for k in range(cstart[cc], cstart[cc + 1]):
                        j = citems[k]
                        if j == i or PH[j] != PH_CRUISE or FL[j] & F_TERMINAL:
                            continue
                        checks += 1
                        dx = X[j] - xi
                        dy = Y[j] - yi
                        dz = Z[j] - zi
                        d2 = dx * dx + dy * dy
                        d3 = math.sqrt(d2 + dz * dz)
                        if d3 < nearest:
                            nearest = d3
                        tj = TY[j]
                        R = max(tab[ti, DT_RPZ], tab[tj, DT_RPZ])
                        H = max(tab[ti, DT_HPZ], tab[tj, DT_HPZ])
                        dvx = VX[j] - vxi
                        dvy = VY[j] - vyi
                        dvz = VZ[j] - vzi
                        tin, tout = zone_interval(dx, dy, dz, dvx, dvy, dvz, R, H)
                        conf = in_conflict(tin, tout, T)
                        los = in_los(dx, dy, dz, R, H)
                        if not conf and not los:
                            # most pairs: nothing to do unless a slot tracks this partner
                            s = -1
                            for q in range(N_SLOTS):
                                if sl_id[base + q] == j:
                                    s = q
                            if s < 0:
                                continue
                        else:
                            s = _slot_of(D, base, j)
                        tcpa, dcpa = cpa(dx, dy, dvx, dvy)
                        dh = math.sqrt(d2)
                        if conf:
                            n_conf += 1
                        if s < 0:
                            s = _free_slot(D, base)
                            if s < 0:
                                if i < j:
                                    atomic_add(A.cnt, AC_OVERFLOW, 1)
                            else:
                                D.sl_id[base + s] = j
                                D.sl_t0[base + s] = -1.0
                                D.sl_los0[base + s] = -1.0
                                D.sl_dmin[base + s] = INF
                                D.sl_dcpa[base + s] = INF
                                D.sl_losmin[base + s] = INF
                        if s >= 0:
                            b = base + s
                            D.sl_seen[b] = 1
                            if conf:
                                if D.sl_t0[b] < 0:
                                    D.sl_t0[b] = t
                                    D.sl_dmin[b] = dh
                                    D.sl_dcpa[b] = dcpa
                                D.sl_dmin[b] = min(D.sl_dmin[b], dh)
                                D.sl_dcpa[b] = min(D.sl_dcpa[b], dcpa)
                            if los:
                                if i < j:
                                    atomic_add(A.cnt, AC_LOS_NOW, 1)
                                if D.sl_los0[b] < 0:
                                    # entered since the last detection: when, on straight lines
                                    back = max(tin, -interval)
                                    D.sl_los0[b] = t + back
                                    D.sl_losmin[b] = dh
                                    if back <= tcpa <= 0.0:
                                        D.sl_losmin[b] = min(dh, dcpa)
                                else:
                                    D.sl_losmin[b] = min(D.sl_losmin[b], dh)
                                    if -interval <= tcpa <= 0.0:
                                        D.sl_losmin[b] = min(D.sl_losmin[b], dcpa)
                            elif D.sl_los0[b] >= 0:
                                # left the zone since the last detection, at t + tout on straight lines
                                end = t + min(max(tout, -interval), 0.0) if tout > -INF else t
                                if -interval <= tcpa <= min(tout, 0.0):
                                    D.sl_losmin[b] = min(D.sl_losmin[b], dcpa)
                                if i < j:
                                    emit(A, DE_LOS, i, j, D.sl_los0[b], max(end, D.sl_los0[b]),
                                         D.sl_losmin[b])
                                D.sl_los0[b] = -1.0
                            if not conf and not los:
                                # resolved, or never was: the episode lasts while a resolution may
                                # still hold (until past the closest point of approach)
                                if reso > 0 and tcpa > 0.0:
                                    D.sl_seen[b] = 2
                                else:
                                    if D.sl_t0[b] >= 0 and i < j:
                                        emit(A, DE_CONFLICT, i, j, D.sl_t0[b], t, D.sl_dmin[b])
                                    D.sl_id[b] = -1
                        if conf and reso > 0 and cruising:
                            if PR[i] <= PR[j]:
                                ddx, ddy, ddz = mvp(dx, dy, dz, dvx, dvy, dvz, tcpa, tin, R * fac, H * fac, T,
                                                    1.0 if i < j else -1.0)
                                ax += ddx
                                ay += ddy
                                az += ddz
                                n_res += 1
            if nearest < D.min_sep[i]:
                D.min_sep[i] = nearest
            if n_conf > 0:
                atomic_add(A.cnt, AC_CONF_NOW, 1)
        # partners not seen any more (landed, or out of range): close their episodes
        hold = False
        for s in range(N_SLOTS):
            b = base + s
            j = D.sl_id[b]
            if j < 0:
                continue
            if D.sl_seen[b] == 0:
                if i < j:
                    if D.sl_t0[b] >= 0:
                        emit(A, DE_CONFLICT, i, j, D.sl_t0[b], t, D.sl_dmin[b])
                    if D.sl_los0[b] >= 0:
                        emit(A, DE_LOS, i, j, D.sl_los0[b], t, D.sl_losmin[b])
                D.sl_id[b] = -1
            elif D.sl_seen[b] == 2:
                hold = True
        # resolution: the summed MVP change on the current velocity; hold it until past CPA
        if reso > 0 and c >= 0 and cruising:
            if n_res > 0:
                ti = D.dtype[i]
                gmax = tab[ti, DT_VMAX] + gmax_w
                nvx = D.vx[i] + ax
                nvy = D.vy[i] + ay
                sp = math.sqrt(nvx * nvx + nvy * nvy)
                if sp > gmax:
                    nvx *= gmax / sp
                    nvy *= gmax / sp
                D.rvx[i] = nvx
                D.rvy[i] = nvy
                D.rvz[i] = D.vz[i] + az if reso > 1 else 0.0
                D.flags[i] |= F_RESOLVING
            elif not hold:
                D.flags[i] &= ~F_RESOLVING
                D.rvz[i] = 0.0
        else:
            D.flags[i] &= ~F_RESOLVING
        # geofences: entries and exits since the last check
        if ngf > 0:
            mask = 0
            if c >= 0:
                px, py, pz = D.x[i], D.y[i], D.z[i]
                for g in range(ngf):
                    if not (A.gf_t0[g] <= t < A.gf_t1[g] and A.gf_zlo[g] <= pz < A.gf_zhi[g]):
                        continue
                    if not (A.gf_bb[4 * g] <= px <= A.gf_bb[4 * g + 2]
                            and A.gf_bb[4 * g + 1] <= py <= A.gf_bb[4 * g + 3]):
                        continue
                    if point_in_polygon(px, py, A.gf_x, A.gf_y, A.gf_v0[g], A.gf_v0[g + 1]):
                        mask |= 1 << g
            old = D.gf_in[i]
            if mask != old:
                left = old & ~mask
                for g in range(ngf):
                    if left & (1 << g):
                        emit(A, DE_GEOFENCE, i, g, D.gf_t0[i], t, 0.0)
                if mask & ~old:
                    D.gf_t0[i] = t
                D.gf_in[i] = mask
    atomic_add(A.cnt, AC_CHECKS, checks)
