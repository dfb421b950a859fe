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

from ..runtime.atomics import atomic_add_mt as atomic_add
from .flight import F_RESOLVING, F_TERMINAL, emit
from .geometry import INF, cpa, in_conflict, in_los, mvp, point_in_polygon, zone_interval
from .layout import (
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


@njit(cache=True)
def keys_range(D, A, first, stop, stride):
    """Grid cell of each drone that takes part in separation (in cruise, outside a terminal area);
    ``-1`` for the others."""
    x0, y0, cell = A.par[AP_X0], A.par[AP_Y0], A.par[AP_CELL]
    nx, ny = int(A.par[AP_NX]), int(A.par[AP_NY])
    X, Y, PH, FL, CELL = D.x, D.y, D.phase, D.flags, D.cell
    for i in range(first, stop, stride):
        if PH[i] != PH_CRUISE or FL[i] & F_TERMINAL:
            CELL[i] = -1
            continue
        cx = int(math.floor((X[i] - x0) / cell))
        cy = int(math.floor((Y[i] - y0) / cell))
        cx = min(max(cx, 0), nx - 1)
        cy = min(max(cy, 0), ny - 1)
        CELL[i] = cy * nx + cx


@njit(cache=True)
def build_cells(D, A, n):
    """Bucket the drones by cell in (cell, id) order: ``A.cell_start`` (n_cells + 1) and
    ``A.cell_items`` (a counting sort; serial, linear in drones plus cells)."""
    nc = A.cell_cnt.shape[0]
    cnt = A.cell_cnt
    CELL = D.cell
    start = A.cell_start
    items = A.cell_items
    cnt[:] = 0
    for i in range(n):
        c = CELL[i]
        if c >= 0:
            cnt[c] += 1
    s = 0
    for c in range(nc):
        start[c] = s
        s += cnt[c]
        cnt[c] = start[c]
    start[nc] = s
    for i in range(n):
        c = CELL[i]
        if c >= 0:
            items[cnt[c]] = i
            cnt[c] += 1


@njit(cache=True)
def gather_range(D, A, first, stop, stride):
    """Copy the state the pair scan reads into cell order (``A.g_*``, entries ``first:stop``), so
    that the scan of a cell reads contiguous memory."""
    X, Y, Z, VX, VY, VZ, TY = D.x, D.y, D.z, D.vx, D.vy, D.vz, D.dtype
    items = A.cell_items
    tab = A.tab
    GX, GY, GZ, GVX, GVY, GVZ, GR, GH = A.g_x, A.g_y, A.g_z, A.g_vx, A.g_vy, A.g_vz, A.g_r, A.g_h
    for k in range(first, stop, stride):
        j = items[k]
        GX[k] = X[j]
        GY[k] = Y[j]
        GZ[k] = Z[j]
        GVX[k] = VX[j]
        GVY[k] = VY[j]
        GVZ[k] = VZ[j]
        GR[k] = tab[TY[j], DT_RPZ]
        GH[k] = tab[TY[j], DT_HPZ]


@njit(cache=True, _nrt=False)
def _slot_of(sl_id, base, j):
    for s in range(N_SLOTS):
        if sl_id[base + s] == j:
            return s
    return -1


@njit(cache=True, _nrt=False)
def _free_slot(sl_id, base):
    for s in range(N_SLOTS):
        if sl_id[base + s] < 0:
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
    n_conf_drones = 0
    n_los_pairs = 0
    # Every array is hoisted out of the loops: on the CPU a StructRef field read costs a
    # reference-count pair, atomic and contended across threads, so the loops read locals only.
    X, Y, Z, VX, VY, VZ = D.x, D.y, D.z, D.vx, D.vy, D.vz
    TY, PH, PR, FL, CELL = D.dtype, D.phase, D.prio, D.flags, D.cell
    RVX, RVY, RVZ, MINSEP, GFIN, GFT0 = D.rvx, D.rvy, D.rvz, D.min_sep, D.gf_in, D.gf_t0
    cstart, citems = A.cell_start, A.cell_items
    GX, GY, GZ, GVX, GVY, GVZ, GR, GH = A.g_x, A.g_y, A.g_z, A.g_vx, A.g_vy, A.g_vz, A.g_r, A.g_h
    sl_id, sl_seen, sl_t0, sl_dmin, sl_dcpa = D.sl_id, D.sl_seen, D.sl_t0, D.sl_dmin, D.sl_dcpa
    sl_los0, sl_losmin = D.sl_los0, D.sl_losmin
    gf_t0, gf_t1, gf_zlo, gf_zhi, gf_bb = A.gf_t0, A.gf_t1, A.gf_zlo, A.gf_zhi, A.gf_bb
    gf_x, gf_y, gf_v0 = A.gf_x, A.gf_y, A.gf_v0
    for i in range(first, stop, stride):
        base = i * N_SLOTS
        for s in range(N_SLOTS):
            sl_seen[base + s] = 0
        c = CELL[i]
        n_res = 0
        n_conf = 0
        ax = 0.0
        ay = 0.0
        az = 0.0
        if c >= 0:
            ti = TY[i]
            xi, yi, zi = X[i], Y[i], Z[i]
            vxi, vyi, vzi = VX[i], VY[i], VZ[i]
            pri = PR[i]
            nearest2 = INF
            rpz_i = tab[ti, DT_RPZ]
            hpz_i = tab[ti, DT_HPZ]
            tracking = False
            for q in range(N_SLOTS):
                if sl_id[base + q] >= 0:
                    tracking = True
            cx = c % nx
            cy = c // nx
            for gy in range(max(cy - 1, 0), min(cy + 2, ny)):
                for gx in range(max(cx - 1, 0), min(cx + 2, nx)):
                    cc = gy * nx + gx
                    for k in range(cstart[cc], cstart[cc + 1]):
                        j = citems[k]
                        if j == i:
                            continue
                        checks += 1
                        dx = GX[k] - xi
                        dy = GY[k] - yi
                        dz = GZ[k] - zi
                        d2 = dx * dx + dy * dy
                        s2 = d2 + dz * dz
                        if s2 < nearest2:
                            nearest2 = s2
                        R = max(rpz_i, GR[k])
                        H = max(hpz_i, GH[k])
                        dvx = GVX[k] - vxi
                        dvy = GVY[k] - vyi
                        dvz = GVZ[k] - vzi
                        if not tracking:
                            # cheap rejections (exact: such a pair cannot overlap within T)
                            adz = abs(dz)
                            if adz >= H and (dz * dvz >= 0.0 or adz - H >= abs(dvz) * T):
                                continue
                            rr = R + math.sqrt(dvx * dvx + dvy * dvy) * T
                            if d2 >= rr * rr:
                                continue
                        tin, tout = zone_interval(dx, dy, dz, dvx, dvy, dvz, R, H)
                        conf = in_conflict(tin, tout, T)
                        los = in_los(dx, dy, dz, R, H)
                        if not conf and not los:
                            # most pairs: nothing to do unless a slot tracks this partner
                            s = _slot_of(sl_id, base, j) if tracking else -1
                            if s < 0:
                                continue
                        else:
                            s = _slot_of(sl_id, base, j)
                        tcpa, dcpa = cpa(dx, dy, dvx, dvy)
                        dh = math.sqrt(d2)
                        if conf:
                            n_conf += 1
                        if los and i < j:
                            n_los_pairs += 1
                        if s < 0:
                            s = _free_slot(sl_id, base)
                            if s < 0:
                                if i < j:
                                    atomic_add(A.cnt, AC_OVERFLOW, 1)
                            else:
                                tracking = True
                                b = base + s
                                sl_id[b] = j
                                sl_t0[b] = -1.0
                                sl_los0[b] = -1.0
                                sl_dmin[b] = INF
                                sl_dcpa[b] = INF
                                sl_losmin[b] = INF
                        if s >= 0:
                            b = base + s
                            sl_seen[b] = 1
                            if conf:
                                if sl_t0[b] < 0:
                                    sl_t0[b] = t
                                sl_dmin[b] = min(sl_dmin[b], dh)
                                sl_dcpa[b] = min(sl_dcpa[b], dcpa)
                            if los:
                                if sl_los0[b] < 0:
                                    # entered since the last detection: when, on straight lines
                                    back = max(tin, -interval)
                                    sl_los0[b] = t + back
                                    sl_losmin[b] = dh
                                    if back <= tcpa <= 0.0:
                                        sl_losmin[b] = min(dh, dcpa)
                                else:
                                    sl_losmin[b] = min(sl_losmin[b], dh)
                                    if -interval <= tcpa <= 0.0:
                                        sl_losmin[b] = min(sl_losmin[b], dcpa)
                            elif sl_los0[b] >= 0:
                                # left the zone since the last detection, at t + tout on straight lines
                                end = t + min(max(tout, -interval), 0.0) if tout > -INF else t
                                if -interval <= tcpa <= min(tout, 0.0):
                                    sl_losmin[b] = min(sl_losmin[b], dcpa)
                                if i < j:
                                    emit(A, DE_LOS, i, j, sl_los0[b], max(end, sl_los0[b]), sl_losmin[b])
                                sl_los0[b] = -1.0
                            if not conf and not los:
                                # resolved, or never was: the episode lasts while a resolution may
                                # still hold (until past the closest point of approach)
                                if reso > 0 and tcpa > 0.0:
                                    sl_seen[b] = 2
                                else:
                                    if sl_t0[b] >= 0 and i < j:
                                        emit(A, DE_CONFLICT, i, j, sl_t0[b], t, sl_dmin[b])
                                    sl_id[b] = -1
                        if conf and reso > 0 and pri <= PR[j]:
                            ddx, ddy, ddz = mvp(
                                dx,
                                dy,
                                dz,
                                dvx,
                                dvy,
                                dvz,
                                tcpa,
                                tin,
                                R * fac,
                                H * fac,
                                T,
                                1.0 if i < j else -1.0,
                            )
                            ax += ddx
                            ay += ddy
                            az += ddz
                            n_res += 1
            if nearest2 < MINSEP[i] * MINSEP[i]:
                MINSEP[i] = math.sqrt(nearest2)
            if n_conf > 0:
                n_conf_drones += 1
        # partners not seen any more (landed, out of range, in a terminal area): close their episodes
        hold = False
        for s in range(N_SLOTS):
            b = base + s
            j = sl_id[b]
            if j < 0:
                continue
            if sl_seen[b] == 0:
                if i < j:
                    if sl_t0[b] >= 0:
                        emit(A, DE_CONFLICT, i, j, sl_t0[b], t, sl_dmin[b])
                    if sl_los0[b] >= 0:
                        emit(A, DE_LOS, i, j, sl_los0[b], t, sl_losmin[b])
                sl_id[b] = -1
            elif sl_seen[b] == 2:
                hold = True
        # resolution: the summed MVP change on the current velocity; hold it until past CPA
        if reso > 0 and c >= 0:
            if n_res > 0:
                gmax = tab[TY[i], DT_VMAX] + gmax_w
                nvx = VX[i] + ax
                nvy = VY[i] + ay
                sp = math.sqrt(nvx * nvx + nvy * nvy)
                if sp > gmax:
                    nvx *= gmax / sp
                    nvy *= gmax / sp
                RVX[i] = nvx
                RVY[i] = nvy
                RVZ[i] = VZ[i] + az if reso > 1 else 0.0
                FL[i] |= F_RESOLVING
            elif not hold:
                FL[i] &= ~F_RESOLVING
                RVZ[i] = 0.0
        elif FL[i] & F_RESOLVING:
            FL[i] &= ~F_RESOLVING
        # geofences: entries and exits of airborne drones since the last check
        if ngf > 0:
            mask = 0
            ph = PH[i]
            if AIRBORNE_FIRST <= ph <= AIRBORNE_LAST:
                px, py, pz = X[i], Y[i], Z[i]
                for g in range(ngf):
                    if not (gf_t0[g] <= t < gf_t1[g] and gf_zlo[g] <= pz < gf_zhi[g]):
                        continue
                    if not (
                        gf_bb[4 * g] <= px <= gf_bb[4 * g + 2] and gf_bb[4 * g + 1] <= py <= gf_bb[4 * g + 3]
                    ):
                        continue
                    if point_in_polygon(px, py, gf_x, gf_y, gf_v0[g], gf_v0[g + 1]):
                        mask |= 1 << g
            old = GFIN[i]
            if mask != old:
                left = old & ~mask
                for g in range(ngf):
                    if left & (1 << g):
                        emit(A, DE_GEOFENCE, i, g, GFT0[i], t, 0.0)
                if mask & ~old:
                    GFT0[i] = t
                GFIN[i] = mask
    atomic_add(A.cnt, AC_CHECKS, checks)
    atomic_add(A.cnt, AC_CONF_NOW, n_conf_drones)
    atomic_add(A.cnt, AC_LOS_NOW, n_los_pairs)
