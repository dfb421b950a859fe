"""Unit tests of the pure physics functions (kernels/physics/idm.py, mobil.py, rng.py), called as
plain Python.

The functions are ``register_jitable``: without numba's JIT they are ordinary Python, which is what
these tests exercise (the engine compiles the very same source).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobsim.demand.vtypes import VehicleType
from mobsim.kernels.physics import idm, mobil, rng

CAR = VehicleType()
A, B, S0, T, DELTA, LEN = CAR.accel, CAR.decel, CAR.min_gap, CAR.tau, CAR.delta, CAR.length
V0 = 30.0


def accel(v: float, gap: float, vl: float, v0: float = V0) -> float:
    return idm.idm_accel(v, v0, gap, vl, A, B, S0, T, DELTA)


# ------------------------------------------------------------------------------ IDM
@pytest.mark.parametrize("v", [0.5, 5.0, 10.0, 15.0, 20.0, 25.0, 29.0])
def test_equilibrium_gap_is_a_fixed_point(v: float) -> None:
    """At the equilibrium gap behind a leader at the same speed the IDM acceleration vanishes."""
    se = idm.equilibrium_gap(v, V0, S0, T, DELTA)
    assert se >= S0 + v * T
    assert accel(v, se, v) == pytest.approx(0.0, abs=1e-9)
    # Closer: brake; farther: accelerate (the equilibrium is attracting in the gap).
    assert accel(v, 0.95 * se, v) < 0.0 < accel(v, 1.05 * se, v)


def test_equilibrium_flow() -> None:
    for v in (5.0, 10.0, 20.0):
        se = idm.equilibrium_gap(v, V0, S0, T, DELTA)
        assert idm.equilibrium_flow(v, V0, S0, T, DELTA, LEN) == pytest.approx(v / (se + LEN), rel=1e-12)
    assert idm.equilibrium_gap(V0, V0, S0, T, DELTA) == math.inf
    assert idm.equilibrium_flow(V0, V0, S0, T, DELTA, LEN) == 0.0


def test_free_acceleration() -> None:
    assert idm.idm_free(0.0, V0, A, DELTA) == pytest.approx(A)
    assert idm.idm_free(V0, V0, A, DELTA) == pytest.approx(0.0, abs=1e-12)
    assert idm.idm_free(1.1 * V0, V0, A, DELTA) < 0.0
    # A leader far away is the free road.
    assert accel(0.0, 1e9, 0.0) == pytest.approx(A)
    assert accel(V0, 1e9, V0) == pytest.approx(0.0, abs=1e-9)
    # Monotone: faster is never more acceleration.
    speeds = np.linspace(0.0, V0, 31)
    acc = [idm.idm_free(v, V0, A, DELTA) for v in speeds]
    assert np.all(np.diff(acc) <= 0.0)


def test_desired_gap() -> None:
    assert idm.idm_desired_gap(0.0, 0.0, A, B, S0, T) == S0
    assert idm.idm_desired_gap(10.0, 10.0, A, B, S0, T) == pytest.approx(S0 + 10.0 * T)
    # Approaching a slower leader asks for more room; a faster leader never for less than s0.
    assert idm.idm_desired_gap(10.0, 5.0, A, B, S0, T) > S0 + 10.0 * T
    assert idm.idm_desired_gap(1.0, 30.0, A, B, S0, T) == S0


def test_touching_gap_is_finite() -> None:
    a = accel(10.0, 0.0, 0.0)
    assert math.isfinite(a) and a < -1e3


def simulate_stop(v: float, dist: float, dt: float, v0: float = 13.89,
                  emergency: float = CAR.emergency_decel) -> tuple[float, float, float, float]:
    """Drive towards a stop line ``dist`` m ahead with idm_stop and the ballistic update.

    Returns (final distance to the line, final speed, hardest deceleration, closest approach).
    """
    x = 0.0
    hardest = 0.0
    closest = dist
    for _ in range(int(120.0 / dt)):
        acc = idm.idm_stop(v, v0, dist - x, A, B, S0, T, DELTA)
        acc = max(acc, -emergency)
        dx, vn = idm.ballistic(v, acc, dt)
        hardest = max(hardest, (v - vn) / dt)
        x += dx
        v = vn
        closest = min(closest, dist - x)
    return dist - x, v, hardest, closest


@pytest.mark.parametrize("dt", [0.1, 0.25, 0.5, 1.0])
def test_stop_line(dt: float) -> None:
    """From 50 m at 10 m/s: brakes, comes to rest just before the line, never beyond it."""
    # At its desired speed the driver brakes at once (below v0 = 13.89 m/s IDM first still
    # accelerates a little: s* = 27 m is well inside 50 m).
    assert idm.idm_stop(10.0, 10.0, 50.0, A, B, S0, T, DELTA) < 0.0
    rest, v, hardest, closest = simulate_stop(10.0, 50.0, dt, v0=10.0)
    assert v == pytest.approx(0.0, abs=1e-3)
    assert closest >= 0.0  # never beyond the line
    assert 0.0 <= rest <= idm.STOP_LINE_CLEARANCE + 0.1
    # IDM brakes smoothly here: harder than comfortable is allowed, emergency is not needed.
    assert 0.5 * B < hardest < CAR.emergency_decel
    rest, v, hardest, closest = simulate_stop(10.0, 50.0, dt, v0=13.89)
    assert closest >= 0.0 and 0.0 <= rest <= idm.STOP_LINE_CLEARANCE + 0.1 and v < 1e-3
    assert hardest < CAR.emergency_decel


@pytest.mark.parametrize("v,dist", [(13.89, 100.0), (5.0, 10.0), (0.0, 30.0), (13.89, 25.0)])
def test_stop_line_never_crossed(v: float, dist: float) -> None:
    rest, vn, _, closest = simulate_stop(v, dist, 0.5)
    assert closest >= 0.0 and rest <= idm.STOP_LINE_CLEARANCE + 0.1 and vn == pytest.approx(0.0, abs=1e-3)


def test_can_stop() -> None:
    assert idm.can_stop(10.0, 100.0 / (2 * B) + 1e-9, B)
    assert not idm.can_stop(10.0, 100.0 / (2 * B) - 1e-6, B)
    assert idm.can_stop(0.0, 0.0, B)


# ------------------------------------------------------------------------------ ballistic
def test_ballistic_plain() -> None:
    dx, vn = idm.ballistic(10.0, 1.0, 0.5)
    assert dx == pytest.approx(10.0 * 0.5 + 0.5 * 0.25) and vn == pytest.approx(10.5)
    assert idm.ballistic(10.0, 0.0, 0.5) == (5.0, 10.0)


@pytest.mark.parametrize("v,acc,dt", [(10.0, -9.0, 2.0), (3.0, -4.5, 1.0), (0.2, -1.0, 0.5)])
def test_ballistic_stops_within_the_step(v: float, acc: float, dt: float) -> None:
    dx, vn = idm.ballistic(v, acc, dt)
    assert vn == 0.0
    assert dx == pytest.approx(-v * v / (2.0 * acc))
    assert 0.0 <= dx <= v * dt


def test_ballistic_never_negative() -> None:
    for v in (0.0, 0.01, 1.0, 30.0):
        for acc in (-100.0, -9.0, -1.0, 0.0, 2.0):
            for dt in (0.1, 0.5, 2.0):
                dx, vn = idm.ballistic(v, acc, dt)
                assert vn >= 0.0 and dx >= 0.0 and math.isfinite(dx)
    assert idm.ballistic(0.0, -5.0, 0.5) == (0.0, 0.0)


def test_free_acceleration_reaches_v0_without_overshoot_for_normal_speeds() -> None:
    """Integrating idm_free with the ballistic update approaches v0 from below (dt = 0.5 s).

    (For desired speeds below ``4 a dt`` the explicit update can overshoot v0 slightly: see
    tests/test_invariants.py::test_speed_never_exceeds_a_low_desired_speed.)
    """
    for v0 in (8.33, 13.89, 30.0):
        v = 0.0
        for _ in range(400):
            _, v = idm.ballistic(v, idm.idm_free(v, v0, A, DELTA), 0.5)
            assert v <= v0 + 1e-12
        assert v == pytest.approx(v0, rel=1e-3)


# ------------------------------------------------------------------------------ insertion speed
@pytest.mark.parametrize("gap", [2.5, 3.0, 5.0, 10.0, 20.0, 40.0, 80.0, 500.0])
@pytest.mark.parametrize("vl", [0.0, 5.0, 13.89, 30.0])
def test_safe_insert_speed(gap: float, vl: float) -> None:
    v0 = 25.0
    v = idm.safe_insert_speed(gap, v0, vl, A, B, S0, T)
    assert 0.0 <= v <= v0
    # The desired gap at that speed fits.
    assert idm.idm_desired_gap(v, vl, A, B, S0, T) <= gap + 1e-9
    # Never slower than the bound without the interaction term (s0 + v T <= gap), as far as the
    # leader is at least as fast ...
    assert v >= min(v0, vl, (gap - S0) / T) - 1e-9
    # ... and above the leader's speed the highest speed that fits (unless capped by v0). Below
    # it the function keeps the conservative bound (gap - s0) / T, although a follower slower
    # than its leader would fit a little faster: safe, just not the largest.
    if vl < v < v0 - 1e-9:
        assert idm.idm_desired_gap(v + 1e-3, vl, A, B, S0, T) > gap


def test_safe_insert_speed_no_room() -> None:
    assert idm.safe_insert_speed(S0 - 1e-6, 25.0, 10.0, A, B, S0, T) == -1.0
    assert idm.safe_insert_speed(0.0, 25.0, 0.0, A, B, S0, T) == -1.0
    assert idm.safe_insert_speed(S0, 25.0, 0.0, A, B, S0, T) == 0.0


def test_safe_insert_speed_free_road() -> None:
    assert idm.safe_insert_speed(1e9, 13.89, 1e3, A, B, S0, T) == 13.89


# ------------------------------------------------------------------------------ MOBIL
def test_mobil_incentive() -> None:
    # Own gain only (politeness 0).
    assert mobil.mobil_incentive(1.0, 0.2, -0.5, 0.0, 0.3, 0.0, 0.0) == pytest.approx(0.8)
    # Politeness weighs the followers' gains: new follower loses 0.5, old follower gains 0.3.
    assert mobil.mobil_incentive(1.0, 0.2, -0.5, 0.0, 0.3, 0.0, 0.5) == pytest.approx(0.8 + 0.5 * (-0.2))
    # Altruistic driver: a change that costs the others more than it gains is not worth it.
    assert mobil.mobil_incentive(0.5, 0.0, -2.0, 0.0, 0.0, 0.0, 1.0) < 0.0


def test_mobil_safety() -> None:
    assert mobil.mobil_safe(-3.9, 4.0)
    assert mobil.mobil_safe(-4.0, 4.0)
    assert not mobil.mobil_safe(-4.01, 4.0)
    assert mobil.mobil_safe(1.0, 4.0)


def test_time_to_cover_by_hand() -> None:
    from mobsim.kernels.road.blocked import time_to_cover

    assert time_to_cover(0.0, 0.0, 2.6, 13.89) == 0.0
    # from standstill at 2.6 m/s²: 20 m take sqrt(2 * 20 / 2.6) s
    assert time_to_cover(20.0, 0.0, 2.6, 13.89) == pytest.approx(math.sqrt(40.0 / 2.6))
    # at the desired speed already: distance / speed
    assert time_to_cover(100.0, 10.0, 2.6, 10.0) == pytest.approx(10.0)
    # accelerate to 10 m/s (5 s, 25 m), then 75 m at 10 m/s
    assert time_to_cover(100.0, 0.0, 2.0, 10.0) == pytest.approx(5.0 + 7.5)


def test_foe_blocks_is_sumos_time_window() -> None:
    """SUMO's blockedByFoe: a crossing foe blocks unless it arrives more than the time gap after
    the yielding vehicle has left, or has left before it arrives; impatience moves the foe's
    arrival towards when it would arrive braking from the yielder's arrival on at its
    deceleration times the impatience (30 s later if it could stop that way); a merging foe
    (same target lane) also blocks when the one behind could not stay behind by braking."""
    from mobsim.kernels.road.blocked import BRAKING_DELAY, foe_arrival_braking, foe_blocks, unsafe_merge

    def blocks(t_arr, t_leave, a_f, l_f, d_f, v_f, imp=0.0, same=False, v_arr=0.0, v_leave=5.0,
               v_leave_f=20.0):
        return foe_blocks(t_arr, t_leave, a_f, l_f, d_f, v_f, 4.5, imp, 1.0, same, v_arr, v_leave, 4.5,
                          v_leave_f, 0.5)

    # yielder standing at the line: arrives now, leaves after 4 s; a foe arriving after 5 s
    # blocks (5 <= 4 + 1), one arriving after 5.5 s does not
    assert blocks(0.0, 4.0, 5.0, 5.5, 100.0, 20.0)
    assert not blocks(0.0, 4.0, 5.5, 6.0, 110.0, 20.0)
    # a yielder that arrives after 4 s lets a crossing foe pass first that has left after 3 s ...
    assert not blocks(4.0, 5.0, 2.0, 3.0, 20.0, 10.0)
    # ... but not a merging one it would follow within the time gap, or could not brake behind
    assert blocks(4.0, 5.0, 2.0, 3.5, 20.0, 10.0, same=True, v_arr=5.0, v_leave_f=10.0)
    assert blocks(4.0, 5.0, 2.0, 2.5, 20.0, 10.0, same=True, v_arr=14.0, v_leave_f=5.0)
    assert not blocks(4.0, 5.0, 2.0, 2.5, 20.0, 10.0, same=True, v_arr=5.0, v_leave_f=10.0)
    # going first into the same lane: blocked if the foe could not stay behind by braking
    assert unsafe_merge(5.0, 10.0, 4.5, 4.5) and not unsafe_merge(10.0, 5.0, 4.5, 4.5)
    assert blocks(0.0, 2.0, 4.0, 5.0, 5.0, 14.0, same=True, v_leave=3.0)  # 14 m/s, 5 m out: cannot stop
    assert not blocks(0.0, 2.0, 4.0, 5.0, 55.0, 14.0, same=True, v_leave=3.0)  # can stop: no conflict
    # Impatience: the foe brakes at 4.5 m/s² times the impatience. Fully impatient, a foe 50 m
    # out at 10 m/s can stop: it counts as arriving BRAKING_DELAY later and does not block ...
    t_b, v_b = foe_arrival_braking(0.0, 5.0, 1.0, 50.0, 4.5, 0.5)
    assert t_b == 5.0 + BRAKING_DELAY and v_b == 0.0
    assert not blocks(0.0, 4.0, 5.0, 6.0, 50.0, 10.0, imp=1.0)
    # ... while after 18 s of waiting (impatience 0.1, 0.45 m/s²) a car 29 m out at 13.9 m/s
    # cannot: it still arrives about 2 s out, and blocks (SUMO's minor-road driver waits; with
    # the foe's full deceleration it counted as arriving 30 s later and the driver went)
    t_b, v_b = foe_arrival_braking(0.25, 2.07, 0.1, 28.8, 4.5, 0.5)
    assert 2.07 < t_b < 2.6 and 10.0 < v_b < 13.9
    assert blocks(0.25, 3.6, 2.07, 3.5, 28.8, 13.9, imp=0.1)
    # arriving in the same step as the foe: no braking
    assert foe_arrival_braking(0.6, 0.9, 0.5, 12.0, 4.5, 0.5)[0] == 0.9
    assert blocks(0.0, 4.0, 0.4, 2.0, 5.0, 12.0, imp=1.0)
    # SUMO takes the foe's speed as its mean speed to the line, distance / (arrival + one step):
    # fully impatient, even a foe 5 m out at 10 m/s "can stop" (5 m/s, 2.8 m)
    assert not blocks(0.0, 4.0, 0.5, 2.0, 5.0, 10.0, imp=1.0)
    assert blocks(0.0, 4.0, 4.5, 5.5, 45.0, 10.0, imp=0.01)


def test_minor_link_approach_is_sumos() -> None:
    """SUMO's approach to a link without right of way: able to stop at the line until the foe
    visibility distance (4.5 m), so the arrival speed is at most 8.92 m/s for its passenger car
    (maximumSafeStopSpeedEuler over 4.5 m with no reaction time: 7.5 m/s, then 4.5 m at 2.6
    m/s²); Krauss stops at a line with a reaction time of one step (a SUMO car approaching a
    minor link: 10.4 m/s 9.7 m before the line -> 8.2 m/s), and may ignore a link once its
    Euler braking distance is longer than the distance left."""
    from mobsim.kernels.physics.carfollow import brake_gap_euler, cf_can_stop, cf_stop, krauss_stop_speed
    from mobsim.kernels.road.blocked import minimal_arrival_time, visibility_speed
    from mobsim.kernels.runtime.layout import CF_IDM, CF_KRAUSS

    assert visibility_speed(2.6, 4.5, 0.5, True) == pytest.approx(math.sqrt(7.5**2 + 2 * 2.6 * 4.5))
    assert visibility_speed(2.6, 4.5, 0.5, False) == pytest.approx(math.sqrt(2 * 4.5 * 4.5 + 2 * 2.6 * 4.5))
    assert krauss_stop_speed(4.5, 4.5, 0.0, 0.5) == pytest.approx(7.5, abs=1e-3)
    # SUMO's trace (step 0.5 s, the line 0.1 m ahead of the stop point: 9.6 m to stop in)
    v_next = 10.4 + 0.5 * cf_stop(CF_KRAUSS, 10.4, 13.89, 9.6 + 1.0, 2.6, 4.5, 2.5, 1.0, 4.0, 0.5)
    assert v_next == pytest.approx(8.2, abs=0.05)
    # decelerate from 13.89 to 8.92 m/s, the rest at 13.89 m/s
    t = minimal_arrival_time(40.0, 13.89, 8.92, 2.6, 4.5)
    dec = (13.89 - 8.92) / 4.5
    assert t == pytest.approx(dec + (40.0 - dec * (13.89 + 8.92) / 2) / 13.89)
    # Euler braking distance at 13.89 m/s: 6 steps of 2.25 m/s, 18.05 m (v^2 / 2b: 21.4 m)
    assert brake_gap_euler(13.89, 4.5, 0.5) == pytest.approx(18.05, abs=0.01)
    assert cf_can_stop(CF_KRAUSS, 13.89, 19.0, 4.5, 0.5) and not cf_can_stop(CF_IDM, 13.89, 19.0, 4.5, 0.5)


# ------------------------------------------------------------------------------ RNG
def test_wrapping_is_reusable() -> None:
    """``rng.wrapping`` can be entered again and again (numpy 2 refuses to re-enter one errstate)."""
    with rng.wrapping:
        a = rng.u01(1, 1, 1, 1)
    with rng.wrapping:
        b = rng.u01(1, 1, 1, 1)
    assert a == b


def test_u01_range_and_determinism() -> None:
    with rng.wrapping:
        xs = np.array([rng.u01(42, 1, a, 0) for a in range(10_000)])
        again = np.array([rng.u01(42, 1, a, 0) for a in range(10_000)])
        other_seed = np.array([rng.u01(43, 1, a, 0) for a in range(200)])
        other_stream = np.array([rng.u01(42, 2, a, 0) for a in range(200)])
        other_step = np.array([rng.u01(42, 1, a, 1) for a in range(200)])
    assert np.all((xs > 0.0) & (xs < 1.0))
    assert np.array_equal(xs, again)
    assert abs(xs.mean() - 0.5) < 0.01          # sd of the mean: 0.0029
    assert abs(xs.var() - 1.0 / 12.0) < 0.003
    # Ten equal bins, each near 1000 (chi-square with 9 dof, p > 0.001 at 27.9).
    counts = np.histogram(xs, bins=10, range=(0.0, 1.0))[0]
    assert ((counts - 1000.0) ** 2 / 1000.0).sum() < 27.9
    # Neighbouring agents are not correlated.
    assert abs(np.corrcoef(xs[:-1], xs[1:])[0, 1]) < 0.05
    for o in (other_seed, other_stream, other_step):
        assert not np.array_equal(o, xs[:200])
    assert len(np.unique(xs)) == len(xs)


def test_u01_extreme_counters() -> None:
    with rng.wrapping:
        for args in ((0, 0, 0, 0), (2**63 - 1, 7, 2**31 - 1, 2**40), (1, 1, 1, 1)):
            x = rng.u01(*args)
            assert 0.0 < x < 1.0


def test_normal01() -> None:
    with rng.wrapping:
        zs = np.array([rng.normal01(7, 1, a, 0) for a in range(10_000)])
        again = np.array([rng.normal01(7, 1, a, 0) for a in range(100)])
    assert np.all(np.isfinite(zs))
    assert np.array_equal(zs[:100], again)
    assert abs(zs.mean()) < 0.04                # sd of the mean: 0.01
    assert abs(zs.std() - 1.0) < 0.03
    assert abs((np.abs(zs) < 1.0).mean() - 0.6827) < 0.02


def test_depart_pos_inserts_inside_the_lane_when_safe() -> None:
    """departPos (SUMO): the front at the given position, if the gap ahead and the follower's
    braking allow it; otherwise the vehicle waits (and is inserted later). Several enter a lane in
    one step where each fits, as in SUMO."""
    from conftest import make_sim
    from mobsim.demand.trips import Trip
    from mobsim.net import generators

    net = generators.single_link(length=500.0)
    trips = [Trip("a", "a-b", "b-d", 0.0, depart_pos="200", depart_speed="0"),
             Trip("b", "a-b", "b-d", 0.0, depart_pos="204", depart_speed="0"),  # overlaps "a": waits
             Trip("c", "a-b", "b-d", 0.0, depart_pos="300", depart_speed="0")]
    sim = make_sim(net, trips, sim__end=200.0)
    sim.step(2)
    idx = {t.id: k for k, t in enumerate(sim.trips)}
    V = sim.vehicles()
    assert V.status[idx["a"]] == 1 and 200.0 <= V.pos[idx["a"]] < 203.0  # moved off from 200 m
    assert V.status[idx["c"]] == 1 and 300.0 <= V.pos[idx["c"]] < 303.0  # in the same step as "a"
    assert V.status[idx["b"]] == 0, "no room at 204 m while 'a' stands at 200 m"
    sim.step(200)
    V = sim.vehicles()
    assert np.all(V.status == 2), "everyone arrives, 'b' once 'a' has moved on"
    assert sim.trip_table()["depart"][idx["b"]] > 0.0


@functools.lru_cache(maxsize=1)
def _f32_down_jitted():
    """``f32_down`` compiled once (compiling it per example cost 25 s of 500 examples)."""
    from numba import njit

    from mobsim.kernels.runtime.precision import f32_down

    return njit(lambda y: f32_down(y))


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=0.0, max_value=1e4, allow_nan=False))
def test_speeds_are_stored_rounded_down_to_float32(x: float) -> None:
    """kernels.runtime.precision.f32_down: the largest float32 not above x (a stored speed never exceeds
    the bound it was clamped to), in Python (the CUDA simulator) and compiled."""
    from mobsim.kernels.runtime.precision import f32_down

    for f in (f32_down(x), _f32_down_jitted()(x)):
        f = np.float32(f)
        assert float(f) == float(np.float32(float(f)))  # a float32 value
        assert float(f) <= x < float(np.nextafter(f, np.float32(np.inf)))


def test_desired_speed_is_a_float32_and_free_flow_reaches_it_exactly() -> None:
    """The desired speed is rounded down to float32 as speeds are stored, so a free vehicle's
    speed converges on it exactly (no time loss accrues from rounding)."""
    from mobsim.kernels.road.lanes import v0_of

    vt = np.full((1, 32), 50.0)
    v0 = v0_of(np.array([13.89]), np.array([1.07], np.float32), vt, 0, 0, 0)
    assert v0 == float(np.float32(v0)) and v0 <= 13.89 * float(np.float32(1.07))
