"""Drones: separation geometry, grid conflict detection against brute force, MVP resolution and
priorities, battery accounting, geofences, input validation and determinism.

Expected values are worked out by hand in the comments (or, for the grid detection, by an
all-pairs computation in plain numpy written independently of the kernels). The drone kernels are
compiled once and loaded from numba's cache afterwards; every test flies a handful of drones (at
most a few hundred) for at most a few hundred steps.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mobsim
from mobsim import settings as mst
from mobsim.engine import Simulation
from mobsim.errors import InputError
from mobsim.kernels.air import layout as K
from mobsim.kernels.air.flight import F_RESOLVING, F_TERMINAL
from mobsim.kernels.air.geometry import cpa, in_conflict, in_los, mvp, zone_interval
from mobsim.modes.drones.airspace import DroneType, Geofence, load_airspace
from mobsim.modes.drones.flights import REFUSE_REASONS, fences_on_route, plan_flights
from mobsim.modes.drones.geometry import points_in_polygon, segments_cross_polygon
from mobsim.modes.drones.kpi import drone_kpis
from mobsim.modes.drones.sim import DroneSim, free_flight
from mobsim.net import generators
from mobsim.scenario import load_scenario

R = 50.0   # DroneType default rpz (m)
H = 15.0   # DroneType default hpz (m)
DT = 0.5   # sim.dt default (s)


# --------------------------------------------------------------------------------------------
# helpers


def make_sim(x, y, z, heading, speed, settings=None, types=None, dtypes=None, fences=(), extent=None):
    """Drones in straight cruise (:func:`free_flight`), optionally with several drone types
    (``types`` and the per-drone ``dtypes``) or geofences, which free_flight does not take: the
    DroneSim is then rebuilt from free_flight's airspace and plans and given its initial state."""
    x, y, z, heading, speed = (np.asarray(a, np.float64) for a in (x, y, z, heading, speed))
    base = free_flight(x, y, z, heading, speed, settings=settings, extent=extent)
    if types is None and not fences:
        return base
    air = dataclasses.replace(base.air, types=list(types) if types else base.air.types,
                              geofences=list(fences))
    plans = base.plans
    if dtypes is not None:
        plans = dataclasses.replace(plans, dtype=np.asarray(dtypes, np.int32))
    ext = extent or (float(x.min()) - 100, float(y.min()) - 100, float(x.max()) + 100, float(y.max()) + 100)
    sim = DroneSim(air, plans, base.settings, "cpu", 1, extent=ext)
    for f in base.D._fields:
        if f != "dtype":
            getattr(sim.D, f)[...] = getattr(base.D, f)
    return sim


def events(sim, kind=None):
    """Buffered events as (kind, a, b, t0, t1, value) tuples, in emission order."""
    A = sim.A
    n = int(A.cnt[K.AC_NEV])
    out = [(int(A.ev_kind[k]), int(A.ev_a[k]), int(A.ev_b[k]), float(A.ev_t0[k]), float(A.ev_t1[k]),
            float(A.ev_val[k])) for k in range(n)]
    return [e for e in out if kind is None or e[0] == kind]


def heading_dev(h_rad, h0_deg):
    """Signed difference (deg) of a track angle from ``h0_deg``, in [-180, 180)."""
    return (math.degrees(h_rad) - h0_deg + 180.0) % 360.0 - 180.0


def fly_pair(sim, steps):
    """Step a two-drone sim one step at a time: (min horizontal distance, max |heading change| (deg)
    per drone from the initial headings)."""
    D = sim.D
    h0 = [math.degrees(h) for h in D.hdg]
    dmin = math.inf
    dev = [0.0, 0.0]
    for _ in range(steps):
        sim.run_steps(1)
        dmin = min(dmin, math.hypot(D.x[1] - D.x[0], D.y[1] - D.y[0]))
        for i in range(2):
            dev[i] = max(dev[i], abs(heading_dev(D.hdg[i], h0[i])))
    return dmin, dev


# --------------------------------------------------------------------------------------------
# 1. geometry


@pytest.mark.parametrize(("d", "dv", "t_exp", "d_exp"), [
    # crossing at 90 degrees: ownship at 0 flying east at 10 m/s, intruder at (1000, -1000) flying
    # north at 10 m/s: both reach (1000, 0) at t = 100 s
    ((1000.0, -1000.0), (-10.0, 10.0), 100.0, 0.0),
    # the same with the intruder 100 m further back: relative speed sqrt(200), the miss vector is the
    # 100 m lag projected across the relative track: 100 / sqrt(2); t = (1000 + 1100) / 2 / 10
    ((1000.0, -1100.0), (-10.0, 10.0), 105.0, 100.0 / math.sqrt(2.0)),
    # head-on, 1000 m apart at 10 m/s each: closing at 20 m/s
    ((1000.0, 0.0), (-20.0, 0.0), 50.0, 0.0),
    # head-on with 30 m lateral offset
    ((1000.0, 30.0), (-20.0, 0.0), 50.0, 30.0),
    # overtaking on the same track: intruder 500 m ahead at 10 m/s, ownship at 15 m/s
    ((500.0, 0.0), (-5.0, 0.0), 100.0, 0.0),
    # overtaking with 40 m lateral offset
    ((0.0, 500.0), (0.0, -5.0), 100.0, 0.0),
    ((40.0, 500.0), (0.0, -5.0), 100.0, 40.0),
    # diverging (CPA in the past)
    ((300.0, 400.0), (3.0, 4.0), -100.0, 0.0),
    # parallel, same velocity: no relative motion, CPA now at the current distance
    ((30.0, 40.0), (0.0, 0.0), 0.0, 50.0),
])
def test_cpa_against_hand_calculation(d, dv, t_exp, d_exp):
    t, dist = cpa(d[0], d[1], dv[0], dv[1])
    assert t == pytest.approx(t_exp, abs=1e-9)
    assert dist == pytest.approx(d_exp, abs=1e-9)
    # seen from the other drone (every relative vector negated): the same numbers, bit for bit
    assert cpa(-d[0], -d[1], -dv[0], -dv[1]) == (t, dist)


def test_zone_interval_3d():
    # head-on 1000 m apart, closing at 20 m/s, level: inside R = 50 for |1000 - 20 t| < 50
    assert zone_interval(1000.0, 0.0, 0.0, -20.0, 0.0, 0.0, R, H) == pytest.approx((47.5, 52.5))
    # vertical separation above H, level: never in conflict, whatever the horizontal geometry
    tin, tout = zone_interval(1000.0, 0.0, 20.0, -20.0, 0.0, 0.0, R, H)
    assert not tin < tout
    assert not in_conflict(tin, tout, 600.0)
    tin, tout = zone_interval(0.0, 0.0, -15.0, 0.0, 0.0, 0.0, R, H)  # exactly H: not inside
    assert not tin < tout
    # intruder 115 m above, sinking at 2 m/s relative: vertical overlap |115 - 2 t| < 15 for
    # t in (50, 65); horizontal (47.5, 52.5): the conflict starts when the vertical band is entered
    tin, tout = zone_interval(1000.0, 0.0, 115.0, -20.0, 0.0, -2.0, R, H)
    assert (tin, tout) == pytest.approx((50.0, 52.5))
    # ... and the same when the ownship is the climbing one, seen from the other side
    assert zone_interval(-1000.0, 0.0, -115.0, 20.0, 0.0, 2.0, R, H) == (tin, tout)
    # 125 m above: vertical (55, 70) misses the horizontal (47.5, 52.5): no conflict
    tin, tout = zone_interval(1000.0, 0.0, 125.0, -20.0, 0.0, -2.0, R, H)
    assert not in_conflict(tin, tout, 600.0)
    # horizontal miss distance above R: never
    tin, tout = zone_interval(1000.0, 60.0, 0.0, -20.0, 0.0, 0.0, R, H)
    assert not in_conflict(tin, tout, 600.0)
    # no relative motion: inside for ever or never
    assert zone_interval(30.0, 0.0, 0.0, 0.0, 0.0, 0.0, R, H) == (-1e30, 1e30)
    tin, tout = zone_interval(30.0, 40.0, 0.0, 0.0, 0.0, 0.0, R, H)  # exactly R apart: not inside
    assert not tin < tout


def test_in_conflict_lookahead_and_past():
    tin, tout = zone_interval(1000.0, 0.0, 0.0, -20.0, 0.0, 0.0, R, H)  # (47.5, 52.5)
    assert not in_conflict(tin, tout, 20.0)    # beyond the look-ahead: not reported
    assert not in_conflict(tin, tout, 47.5)    # starts exactly at the look-ahead: not yet
    assert in_conflict(tin, tout, 48.0)
    # in loss of separation now (tin < 0 < tout): a conflict
    tin, tout = zone_interval(10.0, 0.0, 0.0, -20.0, 0.0, 0.0, R, H)
    assert tin < 0.0 < tout and in_conflict(tin, tout, 20.0)
    # already past each other: the overlap is over
    tin, tout = zone_interval(-100.0, 0.0, 0.0, -20.0, 0.0, 0.0, R, H)  # (-7.5, -2.5)
    assert (tin, tout) == pytest.approx((-7.5, -2.5))
    assert not in_conflict(tin, tout, 20.0)


def test_in_los():
    assert in_los(30.0, 39.0, 14.9, R, H)
    assert not in_los(30.0, 40.0, 0.0, R, H)     # exactly R: outside
    assert not in_los(0.0, 0.0, 15.0, R, H)      # exactly H: outside
    assert not in_los(0.0, 0.0, -15.5, R, H)
    assert in_los(0.0, 0.0, -14.5, R, H)


def test_geometry_symmetric_under_swap():
    rng = np.random.default_rng(7)
    for _ in range(500):
        dx, dy = rng.uniform(-2000, 2000, 2)
        dz = rng.uniform(-40, 40)
        dvx, dvy = rng.uniform(-30, 30, 2)
        dvz = rng.choice([0.0, rng.uniform(-5, 5)])
        a = zone_interval(dx, dy, dz, dvx, dvy, dvz, R, H)
        b = zone_interval(-dx, -dy, -dz, -dvx, -dvy, -dvz, R, H)
        assert a == b
        assert cpa(dx, dy, dvx, dvy) == cpa(-dx, -dy, -dvx, -dvy)
        assert in_los(dx, dy, dz, R, H) == in_los(-dx, -dy, -dz, R, H)
        tcpa, dcpa = cpa(dx, dy, dvx, dvy)
        tin = a[0]
        if not in_conflict(a[0], a[1], 20.0):
            continue
        # MVP: the two drones of a pair get opposite velocity changes (side +1 / -1 for the tie)
        m1 = mvp(dx, dy, dz, dvx, dvy, dvz, tcpa, tin, R * 1.05, H * 1.05, 20.0, 1.0)
        m2 = mvp(-dx, -dy, -dz, -dvx, -dvy, -dvz, tcpa, tin, R * 1.05, H * 1.05, 20.0, -1.0)
        assert m1 == pytest.approx(tuple(-v for v in m2), rel=1e-12, abs=1e-12)
        # applied by both (the ownship adds m1, the intruder -m1: relative velocity - 2 m1), the
        # predicted horizontal miss distance grows
        if tcpa > 0:
            _, dcpa2 = cpa(dx, dy, dvx - 2 * m1[0], dvy - 2 * m1[1])
            assert dcpa2 > dcpa


# --------------------------------------------------------------------------------------------
# 2. grid detection equals all-pairs detection


def brute_force_pairs(D, rpz, hpz, T, active):
    """Conflict pairs (i < j) of all pairs of ``active`` drones, from the definition: the interval in
    which the drones are both within R = max(rpz_i, rpz_j) horizontally (a quadratic in t) and
    within H = max(hpz_i, hpz_j) vertically (linear in t) is not empty, not over (tout > 0) and
    starts within the look-ahead (tin < T). Also the pairs in loss of separation now."""
    n = len(D.x)
    i, j = np.triu_indices(n, 1)
    keep = active[i] & active[j]
    i, j = i[keep], j[keep]
    R_ = np.maximum(rpz[i], rpz[j])
    H_ = np.maximum(hpz[i], hpz[j])
    dx, dy, dz = D.x[j] - D.x[i], D.y[j] - D.y[i], D.z[j] - D.z[i]
    dvx, dvy, dvz = D.vx[j] - D.vx[i], D.vy[j] - D.vy[i], D.vz[j] - D.vz[i]
    a = dvx ** 2 + dvy ** 2
    b = 2.0 * (dx * dvx + dy * dvy)
    c = dx ** 2 + dy ** 2 - R_ ** 2
    disc = b * b - 4.0 * a * c
    moving = a > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        sq = np.sqrt(np.maximum(disc, 0.0))
        h0 = np.where(moving, (-b - sq) / (2.0 * a), np.where(c < 0, -np.inf, np.inf))
        h1 = np.where(moving, (-b + sq) / (2.0 * a), np.where(c < 0, np.inf, -np.inf))
        h_ok = np.where(moving, disc > 0, c < 0)
        climbing = np.abs(dvz) > 1e-9
        v0 = np.where(climbing, np.minimum((-H_ - dz) / dvz, (H_ - dz) / dvz),
                      np.where(np.abs(dz) < H_, -np.inf, np.inf))
        v1 = np.where(climbing, np.maximum((-H_ - dz) / dvz, (H_ - dz) / dvz),
                      np.where(np.abs(dz) < H_, np.inf, -np.inf))
    tin, tout = np.maximum(h0, v0), np.minimum(h1, v1)
    conf = h_ok & (tin < tout) & (tout > 0) & (tin < T)
    los = (dx ** 2 + dy ** 2 < R_ ** 2) & (np.abs(dz) < H_)
    return ({(int(p), int(q)) for p, q in zip(i[conf], j[conf], strict=True)},
            {(int(p), int(q)) for p, q in zip(i[los], j[los], strict=True)})


def kernel_pairs(sim):
    """Pairs (i < j) with an active conflict in either drone's tracking slots."""
    n = sim.n
    ids = sim.D.sl_id.reshape(n, K.N_SLOTS)
    t0 = sim.D.sl_t0.reshape(n, K.N_SLOTS)
    own, slot = np.nonzero((ids >= 0) & (t0 >= 0))
    return {(int(min(a, b)), int(max(a, b))) for a, b in zip(own, ids[own, slot], strict=True)}


def random_traffic(rng, n, box, layers=(60.0, 67.5, 75.0, 82.5)):
    x = rng.uniform(0.0, box, n)
    y = rng.uniform(0.0, box, n)
    z = rng.choice(np.array(layers), n) + rng.uniform(-6.0, 6.0, n)
    h = rng.uniform(0.0, 360.0, n)
    sp = rng.uniform(4.0, 20.0, n)
    return x, y, z, h, sp


def check_one_detection(sim, rng, lookahead, terminal_share=0.0):
    """Some drones climb or descend (a target altitude off their own), some are put in a terminal
    area (their leg's take-off point where they are: not separated), then exactly one detection
    runs; its conflict pairs must be those of the all-pairs computation on the state it saw."""
    D = sim.D
    n = sim.n
    change = rng.random(n) < 0.3
    D.alt0[:] = np.where(change, D.z + rng.choice([-40.0, 40.0], n), D.z)
    terminal = rng.random(n) < terminal_share
    D.lx[terminal] = D.x[terminal]
    D.ly[terminal] = D.y[terminal]
    every = int(sim.par[K.AP_DET_EVERY])
    assert every == 2  # 1 s detection interval at dt = 0.5 s
    sim.run_steps(every)
    assert sim.A.cnt[K.AC_DETECTIONS] == 1
    assert np.any(D.vz != 0.0) or not change.any()
    # within 100 m (drones.terminal_radius) of the take-off point after 1 s at <= 20 m/s
    np.testing.assert_array_equal((D.flags & F_TERMINAL) != 0, terminal)
    rpz, hpz = sim.tab[D.dtype, K.DT_RPZ], sim.tab[D.dtype, K.DT_HPZ]
    want, los = brute_force_pairs(D, rpz, hpz, lookahead, ~terminal)
    got = kernel_pairs(sim)
    degree = np.bincount(np.array(sorted(want), np.int64).reshape(-1), minlength=n)
    # every drone that has a conflict counts once
    assert sim.A.cnt[K.AC_CONF_NOW] == np.count_nonzero(degree)
    if degree.max(initial=0) <= K.N_SLOTS:
        assert sim.A.cnt[K.AC_OVERFLOW] == 0
        assert got == want
        assert sim.A.cnt[K.AC_LOS_NOW] == len(los)   # every pair in loss of separation once
    else:
        # more partners than tracking slots: a pair is tracked when either drone has a slot for
        # it; pairs that neither tracks are counted (by the lower id)
        assert got <= want
        assert (got == want) or sim.A.cnt[K.AC_OVERFLOW] > 0
        assert sim.A.cnt[K.AC_LOS_NOW] <= len(los)
    return want


def test_los_count_with_full_slots():
    # six drones on a 15 m circle flying together: all 15 pairs in loss of separation, five
    # partners each, one more than N_SLOTS
    ang = np.radians(np.arange(6) * 60.0)
    sim = free_flight(15.0 * np.cos(ang), 15.0 * np.sin(ang), np.full(6, 60.0), np.full(6, 45.0), 10.0,
                      settings={"drones.resolution": "off"})
    sim.run_steps(2)
    assert sim.A.cnt[K.AC_OVERFLOW] > 0
    assert sim.A.cnt[K.AC_LOS_NOW] == 15


SMALL = DroneType(id="small", cruise_speed=12.0, max_speed=20.0, battery_wh=1e9)
LARGE = DroneType(id="large", cruise_speed=18.0, max_speed=20.0, rpz=80.0, hpz=25.0, battery_wh=1e9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(30, 200), spacing=st.floats(170.0, 450.0),
       lookahead=st.sampled_from([5.0, 20.0, 45.0]), extent=st.sampled_from(["auto", "small", "large"]),
       mixed=st.booleans(), terminal_share=st.sampled_from([0.0, 0.2]))
def test_grid_detection_equals_brute_force(seed, n, spacing, lookahead, extent, mixed, terminal_share):
    rng = np.random.default_rng(seed)
    box = spacing * math.sqrt(n)
    x, y, z, h, sp = random_traffic(rng, n, box)
    ext = {"auto": None,
           # most drones outside the grid: clamped into its edge cells
           "small": (0.3 * box, 0.3 * box, 0.5 * box, 0.6 * box),
           # a grid far larger than the traffic: many cells, most empty
           "large": (-10 * box, -10 * box, 10 * box, 10 * box)}[extent]
    cfg = {"drones.resolution": "off", "drones.lookahead": lookahead}
    if mixed:
        # two types: a pair's zone is the larger of the two (R = max rpz, H = max hpz)
        sim = make_sim(x, y, z, h, sp, settings=cfg, types=[SMALL, LARGE], dtypes=rng.integers(0, 2, n),
                       extent=ext)
    else:
        sim = free_flight(x, y, z, h, sp, settings=cfg, extent=ext)
    check_one_detection(sim, rng, lookahead, terminal_share)


def test_grid_detection_drones_outside_extent():
    rng = np.random.default_rng(11)
    n = 150
    x, y, z, h, sp = random_traffic(rng, n, 3000.0)
    sim = free_flight(x, y, z, h, sp, settings={"drones.resolution": "off"},
                      extent=(1000.0, 1000.0, 1500.0, 1200.0))
    nx, ny, cell = int(sim.par[K.AP_NX]), int(sim.par[K.AP_NY]), sim.par[K.AP_CELL]
    x0, y0 = sim.par[K.AP_X0], sim.par[K.AP_Y0]
    want = check_one_detection(sim, rng, 20.0)
    D = sim.D
    outside = (D.x < x0) | (D.x >= x0 + nx * cell) | (D.y < y0) | (D.y >= y0 + ny * cell)
    assert outside.sum() > n // 2                      # most drones lie outside the grid ...
    assert np.all((D.cell >= 0) & (D.cell < nx * ny))  # ... in its edge cells
    assert len(want) >= 5                              # and the comparison is not vacuous


def test_grid_detection_many_cells():
    rng = np.random.default_rng(12)
    n = 200
    x, y, z, h, sp = random_traffic(rng, n, 4000.0)
    # short look-ahead: cells of R * 1.05 + 2 * 20 m/s * 5 s = 252.5 m over a 20 km grid
    sim = free_flight(x, y, z, h, sp, settings={"drones.resolution": "off", "drones.lookahead": 5.0},
                      extent=(-8000.0, -8000.0, 12000.0, 12000.0))
    assert sim.par[K.AP_CELL] == pytest.approx(R * 1.05 + 2 * sp.max() * 5.0)
    assert sim.par[K.AP_NX] * sim.par[K.AP_NY] > 5000
    want = check_one_detection(sim, rng, 5.0)
    assert len(want) >= 3
    assert len(np.unique(sim.D.cell)) > 100


# --------------------------------------------------------------------------------------------
# 3. resolution, and the events without it

FAST = DroneType(id="fast", cruise_speed=15.0, max_speed=15.0, battery_wh=1e9)
SLOW = DroneType(id="slow", cruise_speed=8.0, max_speed=8.0, battery_wh=1e9)

#: Two drones on a collision course at 60 m: (x, y, heading (deg), speed (m/s), types).
ENCOUNTERS = {
    # head-on, 1000 m apart at 10 m/s each
    "head-on": ([0.0, 1000.0], [0.0, 0.0], [90.0, 270.0], [10.0, 10.0], None),
    # crossing at 90 degrees, both reach (500, 0) at t = 50 s
    "crossing": ([0.0, 500.0], [0.0, -500.0], [90.0, 0.0], [10.0, 10.0], None),
    # overtaking on one track: 15 m/s behind 8 m/s, 300 m apart
    "overtaking": ([0.0, 300.0], [0.0, 0.0], [90.0, 90.0], [15.0, 8.0], [FAST, SLOW]),
}


def encounter(name, resolution):
    x, y, h, sp, types = ENCOUNTERS[name]
    return make_sim(x, y, [60.0, 60.0], h, sp, settings={"drones.resolution": resolution},
                    types=types, dtypes=[0, 1] if types else None)


@pytest.mark.parametrize("name", sorted(ENCOUNTERS))
def test_mvp_keeps_separation_and_returns_to_route(name):
    sim = encounter(name, "mvp")
    h0 = ENCOUNTERS[name][2]
    dmin, dev = fly_pair(sim, 300)   # 150 s: well past the closest approach
    assert dmin >= R
    assert sim.D.min_sep.min() >= R
    assert max(dev) > 3.0            # somebody manoeuvred
    assert not events(sim, K.DE_LOS)
    assert len(events(sim, K.DE_CONFLICT)) == 1
    # back on course once past: flying to the route's waypoint again, no resolution active
    for i in range(2):
        assert abs(heading_dev(sim.D.hdg[i], h0[i])) < 1.0
        assert not sim.D.flags[i] & F_RESOLVING
    speeds = np.hypot(sim.D.vx, sim.D.vy)
    assert speeds == pytest.approx(ENCOUNTERS[name][3])
    assert list(sim.D.z) == [60.0, 60.0]   # 2-D resolution: speed and heading only


def test_mvp3d_separates_vertically_and_returns_to_cruise_altitude():
    # head-on, the intruder 5 m above (inside H = 15 m): the lower drone goes down, the upper up
    sim = make_sim([0.0, 1000.0], [0.0, 0.0], [60.0, 65.0], [90.0, 270.0], [10.0, 10.0],
                   settings={"drones.resolution": "mvp3d"})
    D = sim.D
    zlo, zhi = [60.0, 65.0], [60.0, 65.0]
    for _ in range(300):
        sim.run_steps(1)
        dh = math.hypot(D.x[1] - D.x[0], D.y[1] - D.y[0])
        assert dh >= R or abs(D.z[1] - D.z[0]) >= H
        zlo = np.minimum(zlo, D.z)
        zhi = np.maximum(zhi, D.z)
    assert zlo[0] < 55.0 and zhi[0] == 60.0    # drone 0 (below) descended only
    assert zhi[1] > 70.0 and zlo[1] == 65.0    # drone 1 (above) climbed only
    assert list(D.z) == [60.0, 65.0]           # back at their cruise altitudes
    assert not events(sim, K.DE_LOS)


def test_los_event_head_on_without_resolution():
    sim = encounter("head-on", "off")
    dmin, dev = fly_pair(sim, 240)
    assert dev == [0.0, 0.0]
    # 1000 m closing at 20 m/s: centres meet at 50 s; inside R = 50 m from (1000 - 50) / 20 = 47.5 s
    # to (1000 + 50) / 20 = 52.5 s
    (los,) = events(sim, K.DE_LOS)
    assert los[1:3] == (0, 1)
    assert los[3] == pytest.approx(47.5, abs=1e-6)
    assert los[4] == pytest.approx(52.5, abs=1e-6)
    assert los[5] == pytest.approx(0.0, abs=1e-6)
    # conflict: from the first detection (every 1 s) with tin = 47.5 - t < 20 s (t = 28) to the
    # first with the overlap over, tout = 52.5 - t < 0 (t = 53); closest distance seen: 0 at t = 50
    (conf,) = events(sim, K.DE_CONFLICT)
    assert conf[3:5] == pytest.approx((28.0, 53.0))
    assert conf[5] == pytest.approx(0.0, abs=1e-6)
    assert sim.D.min_sep == pytest.approx([0.0, 0.0], abs=1e-6)


def test_los_event_crossing_with_offset():
    # A from (0, 0) east, B from (500, -540) north, 10 m/s each: relative position (500, -540),
    # relative velocity (-10, 10); tcpa = (5000 + 5400) / 200 = 52 s, miss vector (-20, -20):
    # 20 sqrt(2) m; inside R for |t - 52| < sqrt((50^2 - 800) / 200) = sqrt(8.5) s
    sim = make_sim([0.0, 500.0], [0.0, -540.0], [60.0, 60.0], [90.0, 0.0], [10.0, 10.0],
                   settings={"drones.resolution": "off"})
    sim.run_steps(240)
    (los,) = events(sim, K.DE_LOS)
    half = math.sqrt(8.5)
    assert los[3] == pytest.approx(52.0 - half, abs=1e-6)
    assert los[4] == pytest.approx(52.0 + half, abs=1e-6)
    assert los[5] == pytest.approx(20.0 * math.sqrt(2.0), abs=1e-6)


def test_los_event_overtaking_without_resolution():
    # closing at 7 m/s from 300 m: inside R from 250 / 7 s to 350 / 7 = 50 s
    sim = encounter("overtaking", "off")
    sim.run_steps(240)
    (los,) = events(sim, K.DE_LOS)
    assert los[3] == pytest.approx(250.0 / 7.0, abs=1e-6)
    assert los[4] == pytest.approx(50.0, abs=1e-6)
    assert los[5] == pytest.approx(0.0, abs=1e-6)


class Recorder:
    """Collects what DroneSim.finish writes (group -> list of column dicts)."""

    def __init__(self):
        self.tables = {}

    def append(self, group, cols):
        self.tables.setdefault(group, []).append(cols)


def test_finish_closes_open_episodes():
    # head-on as above, stopped at t = 49 s: conflict since 28 s, loss of separation since 47.5 s;
    # the closest distance seen at a detection: 20 m at 49 s (the CPA at 50 s is still ahead)
    sim = encounter("head-on", "off")
    sim.run_steps(98)
    rec = Recorder()
    sim.finish(rec, 49.0)
    (ev,) = rec.tables["drones/events"]
    assert list(ev["kind"]) == [K.DE_CONFLICT, K.DE_LOS]
    assert list(ev["drone"]) == [0, 0] and list(ev["other"]) == [1, 1]
    assert ev["start"] == pytest.approx([28.0, 47.5])
    assert np.isnan(ev["end"]).all()
    assert ev["value"] == pytest.approx([20.0, 20.0])
    (fl,) = rec.tables["drones/flights"]
    assert list(fl["status"]) == [1, 1]
    assert fl["min_separation"] == pytest.approx([20.0, 20.0])


def test_level_pair_vertically_separated_never_conflicts():
    # head-on, 20 m apart vertically (> H = 15 m): no event, no manoeuvre
    sim = make_sim([0.0, 1000.0], [0.0, 0.0], [60.0, 80.0], [90.0, 270.0], [10.0, 10.0])
    dmin, dev = fly_pair(sim, 240)
    assert dmin < 1.0 and dev == [0.0, 0.0]
    assert events(sim) == []


# --------------------------------------------------------------------------------------------
# 4. priorities


@pytest.mark.parametrize("name", ["head-on", "crossing"])
def test_priority_only_lower_priority_manoeuvres(name):
    sim = encounter(name, "mvp")
    sim.D.prio[:] = [2, 1]  # drone 0 an emergency, drone 1 a delivery
    v0 = (sim.D.vx[0], sim.D.vy[0])
    dmin, dev = fly_pair(sim, 300)
    assert dev[0] == 0.0                       # the emergency flies straight on ...
    assert (sim.D.vx[0], sim.D.vy[0]) == v0
    assert dev[1] > 5.0                        # ... the delivery gives way
    assert dmin >= R
    # equal priorities: both manoeuvre
    sim = encounter(name, "mvp")
    _, dev = fly_pair(sim, 300)
    assert min(dev) > 3.0


# --------------------------------------------------------------------------------------------
# 5. battery


def write_requests(tmp_path: Path, rows: list[str]) -> None:
    head = "id,depart,origin,dest_x,dest_y,payload,type\n"
    (tmp_path / "flights.csv").write_text(head + "\n".join(rows) + "\n")


def small_airspace(tmp_path, rows, fences=(), types=None, **extra):
    net = generators.grid(rows=4, cols=4, block_length=300.0)
    s = mst.defaults()
    write_requests(tmp_path, rows)
    cfg = {"vertiports": [{"id": "d", "node": "n1_1", "pads": 2, "turnaround": 10}],
           "requests": {"file": "flights.csv"}, **extra}
    if fences:
        cfg["geofences"] = list(fences)
    if types:
        cfg["types"] = list(types)
    return load_airspace(cfg, net, s, tmp_path, "test", []), s


def fly_all(air, s, max_steps=4000):
    plans = plan_flights(air, s)
    ds = DroneSim(air, plans, s, "cpu", 1)
    steps = 0
    while not ds.finished() and steps < max_steps:
        steps += ds.run_steps(200)
    assert ds.finished()
    return ds, plans


def test_energy_equals_power_times_phase_time(tmp_path):
    # depot at n1_1 = (300, 300); drops at (750, 300), due east: out in the eastbound layer
    # (60-75 m: 67.5 m), back westbound (75-90 m: 82.5 m). The second flight, with 1 kg, starts
    # when the first is long done, so both fly the same path alone.
    air, s = small_airspace(tmp_path, ["f0,0,d,750,300,0,", "f1,600,d,750,300,1.0,"])
    ds, plans = fly_all(air, s)
    D = ds.D
    t = DroneType()
    assert np.all(D.phase == K.PH_DONE)
    pfac = np.array([1.0, (6.0 / 5.0) ** 1.5])
    assert D.pfac == pytest.approx(pfac)
    assert D.energy == pytest.approx(D.e_climb + D.e_cruise + D.e_desc + D.e_hover, rel=1e-12)
    for e, p, tm in ((D.e_climb, t.power_climb, D.tm_climb), (D.e_cruise, t.power_cruise, D.tm_cruise),
                     (D.e_desc, t.power_descent, D.tm_desc), (D.e_hover, t.power_hover, D.tm_hover)):
        assert e == pytest.approx(p * pfac * tm / 3600.0, rel=1e-12)
    # climbs: 0 -> 67.5 m at the depot, 15 (drop height) -> 82.5 m at the drop, at 3 m/s:
    # 22.5 + 22.5 s; descents at 2 m/s: 67.5 -> 15 m (26.25 s) and 82.5 -> 0 m (41.25 s), each
    # ending within one step
    assert D.tm_climb == pytest.approx([45.0, 45.0], abs=2 * DT)
    assert np.all((D.tm_desc >= 67.5) & (D.tm_desc <= 67.5 + 2 * DT))
    # the drop hover: service time 30 s at least
    assert np.all(D.tm_hover >= 30.0)
    # same flight, 1 kg payload: same times, every phase's energy scaled by the payload factor
    for f in ("tm_climb", "tm_cruise", "tm_desc", "tm_hover", "dist"):
        assert getattr(D, f)[1] == pytest.approx(getattr(D, f)[0], rel=1e-12)
    assert D.energy[1] == pytest.approx(D.energy[0] * pfac[1], rel=1e-12)
    # the planning estimate (climb + cruise + descent + drop hover, straight legs along the road
    # corridors) is close to what was used: 900 m of corridor at 15 m/s and 700 W, etc.
    # (the climb back from the 15 m drop height counts 67.5 m, not 82.5 m)
    est = (1000 * (67.5 + 82.5 - 15) / 3 + 700 * 900 / 15 + 600 * (52.5 + 82.5) / 2 + 800 * 30) / 3600
    assert plans.est_energy[0] == pytest.approx(est, rel=1e-9)
    assert D.energy[0] == pytest.approx(est, rel=0.25)


def test_flight_beyond_range_is_refused(tmp_path):
    # 20 km out and back at 15 m/s and 700 W: > 500 Wh before climbs and reserve
    air, s = small_airspace(tmp_path, ["near,0,d,750,300,0,", "far,0,d,20300,300,0,",
                                       "weak,0,d,750,300,0,weak"],
                            types=[{"id": "quad"}, {"id": "weak", "battery_wh": 20.0}])
    ds, plans = fly_all(air, s)
    ids = [r.id for r in air.requests]   # sorted by (depart, id)
    assert ids == ["far", "near", "weak"]
    assert [REFUSE_REASONS[int(c)] for c in plans.refused] == ["battery", "", "battery"]
    assert list(ds.D.phase) == [K.PH_REFUSED, K.PH_DONE, K.PH_REFUSED]
    no = [0, 2]
    assert np.isnan(ds.D.t_off[no]).all()
    assert (ds.D.energy[no] == 0).all() and (ds.D.dist[no] == 0).all()
    assert ds.flight_table()["refused"][no].tolist() == ["battery", "battery"]


def test_battery_depletion_in_flight():
    # 1 Wh battery at 700 W: 700 * 0.5 / 3600 = 0.0972 Wh a step; empty after 11 steps (t = 5.5 s);
    # then an emergency descent from 60 m at 2 m/s: down at 5.5 + 30 = 35.5 s
    t = DroneType(id="tiny", cruise_speed=10.0, max_speed=10.0, battery_wh=1.0)
    sim = make_sim([0.0], [0.0], [60.0], [0.0], [10.0], types=[t])
    sim.run_steps(100)
    (ev,) = events(sim, K.DE_DEPLETED)
    assert ev[1:5] == (0, -1, pytest.approx(5.5), pytest.approx(5.5))
    assert ev[5] == pytest.approx(11 * 700 * 0.5 / 3600)
    assert sim.D.phase[0] == K.PH_DEPLETED
    assert sim.D.t_done[0] == pytest.approx(35.5)
    assert sim.D.z[0] == 0.0
    assert sim.A.cnt[K.AC_DEPLETED] == 1


# --------------------------------------------------------------------------------------------
# 6. geofences

SQUARE = [[300.0, 300.0], [500.0, 300.0], [500.0, 500.0], [300.0, 500.0]]


def grid_airspace(tmp_path, rows, fences):
    net = generators.grid(rows=5, cols=5, block_length=200.0)   # nodes at 0..800 m
    s = mst.defaults()
    write_requests(tmp_path, rows)
    cfg = {"vertiports": [{"id": "d", "node": "n0_0", "pads": 2}, {"id": "e", "node": "n4_4", "pads": 2}],
           "requests": {"file": "flights.csv"}, "geofences": list(fences)}
    return load_airspace(cfg, net, s, tmp_path, "test", []), s


def route_points(air, plans, k):
    """The legs of flight k as point lists, from the take-off point (connectors included)."""
    r = air.requests[k]
    o = next(v for v in air.vertiports if v.id == r.origin)
    p, q = np.array([o.x, o.y]), np.array([r.dest_x, r.dest_y])
    out = [np.vstack([p, np.column_stack([plans.wx[plans.wp_start[k]:plans.wp_end[k]],
                                          plans.wy[plans.wp_start[k]:plans.wp_end[k]]])])]
    if r.returns:
        out.append(np.vstack([q, np.column_stack([plans.wx[plans.ret_start[k]:plans.ret_end[k]],
                                                  plans.wy[plans.ret_start[k]:plans.ret_end[k]]])]))
    return out


def test_planned_routes_avoid_geofence(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for k in range(40):
        x, y = rng.uniform(-100.0, 900.0, 2)
        rows.append(f"r{k},{k},{'d' if k % 2 else 'e'},{x:.3f},{y:.3f},0,")
    air, s = grid_airspace(tmp_path, rows, [{"id": "g", "polygon": SQUARE, "top": 300}])
    plans = plan_flights(air, s)
    poly = air.geofences[0].polygon
    detours = 0
    for k, r in enumerate(air.requests):
        inside = points_in_polygon(np.array([[r.dest_x, r.dest_y]]), poly)[0]
        if inside:
            assert REFUSE_REASONS[int(plans.refused[k])] == "geofence"
            continue
        assert plans.refused[k] == 0, r
        assert fences_on_route(plans, k, air.geofences) == []
        for pts in route_points(air, plans, k):
            assert not segments_cross_polygon(pts[:-1], pts[1:], poly).any(), r
        o = next(v for v in air.vertiports if v.id == r.origin)
        direct = segments_cross_polygon(np.array([[o.x, o.y]]), np.array([[r.dest_x, r.dest_y]]), poly)
        detours += bool(direct[0])
    assert 0 < (plans.refused == 3).sum() < len(rows)
    assert detours >= 3   # some direct lines cross the fence: the routes went around


def test_geofence_destination_inside_is_refused(tmp_path):
    air, s = grid_airspace(tmp_path, ["in,0,d,400,400,0,", "out,0,d,700,100,0,"],
                           [{"id": "g", "polygon": SQUARE}])
    plans = plan_flights(air, s)
    assert [REFUSE_REASONS[int(c)] for c in plans.refused] == ["geofence", ""]


@pytest.mark.parametrize("fence", [
    {"id": "g", "polygon": SQUARE, "bottom": 100.0},               # above every cruise layer (<= 90 m)
    {"id": "g", "polygon": SQUARE, "begin": 50000.0},              # active long after the flights
    {"id": "g", "polygon": SQUARE, "begin": 0.0, "end": 5.0},      # over before they depart
])
def test_geofence_outside_band_or_window_does_not_block(tmp_path, fence):
    # (400, 400) is inside the square; (700, 700) lies beyond it from the depot at (0, 0)
    rows = ["in,100,d,400,400,0,", "across,100,d,700,700,0,"]
    air, s = grid_airspace(tmp_path, rows, [fence])
    plans = plan_flights(air, s)
    free_air, _ = grid_airspace(tmp_path, rows, [])
    free = plan_flights(free_air, s)
    assert list(plans.refused) == [0, 0]
    np.testing.assert_array_equal(plans.wx, free.wx)
    np.testing.assert_array_equal(plans.wy, free.wy)
    # and the unfenced route across does pass through the square (so the fence was not avoided by
    # chance)
    assert any(segments_cross_polygon(p[:-1], p[1:], air.geofences[0].polygon).any()
               for p in route_points(air, plans, 1))


@pytest.mark.parametrize(("fence", "expect"), [
    # flying east at 10 m/s from x = 0 across x in (305, 505): inside at the detections (every
    # 1 s) t = 31 .. 50, outside again at t = 51
    ({}, (31.0, 51.0)),
    ({"begin": 40.0}, (40.0, 51.0)),   # activates mid-flight while the drone is inside
    ({"end": 35.0}, (31.0, 35.0)),     # deactivates while the drone is inside
    ({"bottom": 100.0}, None),         # above the drone's altitude
    ({"begin": 60.0}, None),           # activates after the drone has passed
])
def test_geofence_violation_event(fence, expect):
    poly = np.array([[305.0, -100.0], [505.0, -100.0], [505.0, 100.0], [305.0, 100.0]])
    sim = make_sim([0.0], [0.0], [60.0], [90.0], [10.0], fences=[Geofence("g", poly, **fence)])
    sim.run_steps(140)
    got = events(sim, K.DE_GEOFENCE)
    if expect is None:
        assert got == []
    else:
        assert got == [(K.DE_GEOFENCE, 0, 0, pytest.approx(expect[0]), pytest.approx(expect[1]), 0.0)]


def test_finish_closes_open_geofence_violation():
    poly = np.array([[305.0, -100.0], [505.0, -100.0], [505.0, 100.0], [305.0, 100.0]])
    sim = make_sim([0.0], [0.0], [60.0], [90.0], [10.0], fences=[Geofence("g", poly)])
    sim.run_steps(80)   # t = 40 s, inside since 31 s
    rec = Recorder()
    sim.finish(rec, 40.0)
    (ev,) = rec.tables["drones/events"]
    assert list(ev["kind"]) == [K.DE_GEOFENCE] and list(ev["other"]) == [0]
    assert ev["start"] == pytest.approx([31.0]) and np.isnan(ev["end"]).all()


# --------------------------------------------------------------------------------------------
# 7. validation


def grid_net():
    return generators.grid(rows=4, cols=4, block_length=300.0)


VP = {"id": "d", "node": "n1_1"}


@pytest.mark.parametrize(("cfg", "element", "words"), [
    ({"vertiports": [{"id": "d", "node": "n1_1", "padz": 2}]}, "padz", "unknown key"),
    ({"vertiports": [{"id": "d", "node": "nowhere"}]}, "vertiport 'd'", "nowhere"),
    ({"vertiports": [VP], "layers": [{"name": "a", "bottom": 60, "top": 80},
                                     {"name": "b", "bottom": 70, "top": 90}]}, "layer", "overlap"),
    ({"vertiports": [VP], "geofences": [{"id": "g", "polygon": [[0, 0], [100, 0]]}]},
     "geofence 'g'", "at least 3"),
    ({"vertiports": [VP], "layers": [{"name": "a", "bottom": 60, "top": 80, "headings": [0, 180]}]},
     "drones.layers", "no cruise layer"),
    ({"vertiports": [VP], "geofences": [{"id": "g", "polygon": [[200, 200], [400, 200], [400, 400],
                                                                 [200, 400]]}]},
     "vertiport 'd'", "geofence 'g'"),
    ({"vertiports": [VP], "requests": {"file": "missing.csv"}}, "drones.requests.file", "not found"),
    ({"vertiports": [VP], "requests": {"file": "flights.csv"}}, "flight 'f1'", "heli"),
])
def test_bad_drone_input_names_the_element(tmp_path, cfg, element, words):
    write_requests(tmp_path, ["f1,0,d,700,700,0,heli"])
    with pytest.raises(InputError) as exc:
        load_airspace(cfg, grid_net(), mst.defaults(), tmp_path, "scenario.toml", [])
    err = exc.value
    assert element in (err.element or "")
    assert words in str(err)
    assert err.fix


@pytest.mark.parametrize("end", ["later", [1]])
def test_bad_geofence_end_is_input_error(tmp_path, end):
    fence = {"id": "g", "polygon": [[0, 0], [100, 0], [100, 100]], "end": end}
    cfg = {"vertiports": [VP], "geofences": [fence]}
    with pytest.raises(InputError) as exc:
        load_airspace(cfg, grid_net(), mst.defaults(), tmp_path, "scenario.toml", [])
    assert "geofence 'g'.end" in exc.value.element


@pytest.mark.parametrize("row", ["f1,0,d,nan,300,0,", "f1,0,d,inf,300,0,", "f1,0,d,700,300,nan,"])
def test_non_finite_request_is_input_error(tmp_path, row):
    write_requests(tmp_path, [row])
    cfg = {"vertiports": [VP], "requests": {"file": "flights.csv"}}
    with pytest.raises(InputError) as exc:
        load_airspace(cfg, grid_net(), mst.defaults(), tmp_path, "scenario.toml", [])
    assert exc.value.element == "flight 'f1'"


def test_bad_drone_input_in_scenario_file(tmp_path):
    (tmp_path / "scenario.toml").write_text(SCENARIO.replace('pads = 2', 'pads = 2\nwhere = "x"'))
    with pytest.raises(InputError) as exc:
        load_scenario(tmp_path / "scenario.toml")
    assert "where" in exc.value.element and "scenario.toml" in exc.value.source


# --------------------------------------------------------------------------------------------
# 8. determinism, and a whole run

SCENARIO = """
[scenario]
name = "drones"
[network]
generator = "grid"
params = {rows = 4, cols = 4, block_length = 300.0}
[sim]
end = 900
[[drones.vertiports]]
id = "depot"
node = "n1_1"
pads = 2
turnaround = 30
[[drones.vertiports]]
id = "hub"
node = "n3_3"
pads = 1
[[drones.generate]]
depot = "depot"
per_hour = 120
end = 400
radius = 900
[[drones.generate]]
depot = "depot"
per_hour = 20
end = 400
destinations = ["hub"]
mission = "taxi"
[[drones.geofences]]
id = "school"
polygon = [[350, 350], [550, 350], [550, 550], [350, 550]]
top = 200
[drones.requests]
file = "flights.csv"
"""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("drone_scenario")
    (d / "scenario.toml").write_text(SCENARIO)
    (d / "flights.csv").write_text("id,depart,origin,dest_x,dest_y,payload\nfar,5,depot,20300,300,0\n")
    sc = load_scenario(d / "scenario.toml")
    out = []
    for k in range(2):
        path = d / f"run{k}.h5"
        Simulation(sc, backend="cpu").run(out=path, progress="none")
        out.append(mobsim.open(path))
    return out


def test_scenario_run_is_deterministic(two_runs):
    a, b = two_runs
    for group in ("drones/flights", "drones/events"):
        ta, tb = a.read(group), b.read(group)
        assert ta.keys() == tb.keys()
        for col in ta:
            if ta[col].dtype == object:
                assert list(ta[col]) == list(tb[col]), (group, col)
            else:
                np.testing.assert_array_equal(ta[col], tb[col], err_msg=f"{group}/{col}")


def test_scenario_run_accounts(two_runs):
    r = two_runs[0]
    fl = r.read("drones/flights")
    k = drone_kpis(r)
    far = list(fl["id"]).index("far")
    assert fl["status"][far] == 3 and fl["refused"][far] == "battery"
    assert np.isnan(fl["t_takeoff"][far])
    assert k["drone_flights_refused"] == 1
    assert k["drone_flights_completed"] == int((fl["status"] == 2).sum()) >= 10
    assert k["drone_geofence_violations"] == 0
    parts = fl["energy_climb"] + fl["energy_cruise"] + fl["energy_descent"] + fl["energy_hover"]
    np.testing.assert_allclose(fl["energy"], parts, rtol=1e-12)


def test_threads_do_not_change_results(monkeypatch):
    import mobsim.kernels.drivers.air_cpu as air_cpu

    monkeypatch.setattr(air_cpu, "PARALLEL_MIN", 1)
    rng = np.random.default_rng(21)
    n = 300
    x, y, z, h, sp = random_traffic(rng, n, 2500.0, layers=(60.0, 70.0))
    sims = []
    for threads in (1, 2):
        sim = free_flight(x, y, z, h, sp, threads=threads)
        assert sim._driver.parallel == (threads > 1)
        sim.run_steps(120)
        sims.append(sim)
    a, b = sims
    assert a.A.cnt[K.AC_NEV] > 10  # conflicts, resolutions and losses of separation happened
    for f in a.D._fields:
        np.testing.assert_array_equal(getattr(a.D, f), getattr(b.D, f), err_msg=f)
    np.testing.assert_array_equal(a.A.cnt, b.A.cnt)
    assert sorted(events(a)) == sorted(events(b))


def test_every_drone_dataset_has_schema_dtype_and_units(two_runs):
    import h5py

    from mobsim.modes.drones.schema import DRONE_GROUPS

    with h5py.File(two_runs[0].path, "r") as h5:
        for group, cols in DRONE_GROUPS.items():
            for col in cols:
                ds = h5[f"{group}/{col.name}"]
                assert ds.attrs["units"] == col.units, (group, col.name)
                assert ds.attrs["description"] == col.description
                if col.dtype != "str":
                    assert ds.dtype == np.dtype(col.dtype), (group, col.name)
