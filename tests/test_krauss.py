"""SUMO's Krauss model beside IDM (kernels/physics/carfollow.py): the scalar functions as plain Python,
and whole runs against theory. The comparison with SUMO itself on the same files is in
``tests/validation/test_against_sumo.py`` (the ``*_krauss`` cases of ``bench.validate``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_sim
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType, vtype_table
from mobsim.kernels.physics import carfollow as cf
from mobsim.kernels.runtime.layout import CF_IDM, CF_KRAUSS
from mobsim.net import generators as gen

A, B, S0, TAU = 2.6, 4.5, 2.5, 1.0
#: A type table for the dispatch's ACC arguments (a Krauss follower does not read it).
VT0 = vtype_table([VehicleType(cf_model="Krauss")])


def _brake_gap_sumo(v: float, decel: float, tau: float, dt: float) -> float:
    """SUMO's MSCFModel::brakeGap for the Euler update, written out as its loop."""
    d = v * tau
    while v > 0.0:
        v = max(v - decel * dt, 0.0)
        d += v * dt
    return d


@settings(max_examples=300, deadline=None)
@given(gap=st.floats(0.0, 500.0), dt=st.sampled_from([0.1, 0.5, 1.0]))
def test_stop_speed_stops_within_the_gap(gap: float, dt: float) -> None:
    """From the Krauss stop speed, reacting for tau and braking by decel·dt per step covers at
    most the gap; a hair faster would not (it is the largest such speed)."""
    x = cf.krauss_stop_speed(gap, B, TAU, dt)
    assert x >= 0.0
    assert _brake_gap_sumo(x, B, TAU, dt) <= gap + 1e-6
    if gap > 1.0:
        assert _brake_gap_sumo(x + 0.05, B, TAU, dt) > gap - 0.05 - cf.KRAUSS_EPS


@pytest.mark.parametrize("v", [0.0, 1.0, 4.4, 4.5, 13.89, 30.0])
def test_brake_gap_matches_the_stepwise_sum(v: float) -> None:
    for dt in (0.5, 1.0):
        assert cf.brake_gap_euler(v, B, dt) == pytest.approx(_brake_gap_sumo(v, B, 0.0, dt), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(v=st.floats(0.0, 30.0), vl=st.floats(0.0, 30.0), gap=st.floats(0.0, 150.0),
       dt=st.sampled_from([0.5, 1.0]))
def test_follower_never_hits_a_leader_that_brakes_hard(v: float, vl: float, gap: float, dt: float) -> None:
    """Krauss's safety promise: a follower that drives its safe speed every step stops behind a
    leader that brakes at decel to a stop from any moment on (Euler positions, sigma 0)."""
    xf, xl = 0.0, gap + S0 + 5.0  # leader's rear is gap + s0 ahead of the follower's front
    if cf.krauss_safe_speed(gap, vl, B, TAU, dt) < v:
        v = cf.krauss_safe_speed(gap, vl, B, TAU, dt)  # start from a state the model allows
    for _ in range(400):
        vl = max(vl - B * dt, 0.0)
        xl += vl * dt
        acc = cf.cf_follow(CF_KRAUSS, v, 30.0, xl - 5.0 - xf, vl, A, B, S0, TAU, 4.0, dt, VT0, 0, 0, 0.0)
        acc = max(acc, -9.0)
        dx, v = cf.cf_advance(CF_KRAUSS, v, acc, dt)
        xf += dx
        assert xl - 5.0 - xf >= -1e-6, "the follower ran into the leader"
        if v == 0.0 and vl == 0.0:
            break


def test_free_road_accelerates_to_the_desired_speed_without_overshoot() -> None:
    v, dt, v0 = 0.0, 0.5, 13.89
    speeds = []
    for _ in range(40):
        _, v = cf.cf_advance(CF_KRAUSS, v, cf.cf_free(CF_KRAUSS, v, v0, A, B, 4.0, dt), dt)
        speeds.append(v)
    assert max(speeds) == pytest.approx(v0)
    assert speeds[0] == pytest.approx(A * dt)
    assert speeds.index(max(speeds)) == math.ceil(v0 / (A * dt)) - 1
    # Above the desired speed (a lower limit ahead): down to it, at most decel·dt per step.
    acc = cf.cf_free(CF_KRAUSS, 20.0, v0, A, B, 4.0, dt)
    assert acc == pytest.approx(-B)


def test_euler_and_ballistic_updates() -> None:
    assert cf.cf_advance(CF_KRAUSS, 10.0, 2.0, 0.5) == pytest.approx((5.5, 11.0))
    assert cf.cf_advance(CF_IDM, 10.0, 2.0, 0.5) == pytest.approx((5.25, 11.0))
    assert cf.cf_advance(CF_KRAUSS, 1.0, -9.0, 0.5) == (0.0, 0.0)


@settings(max_examples=300, deadline=None)
@given(v=st.floats(0.0, 30.0), acc=st.floats(-9.0, 2.6), sigma=st.floats(0.0, 1.0),
       u=st.floats(0.0, 0.999999), dt=st.sampled_from([0.5, 1.0]))
def test_dawdling_stays_between_comfortable_braking_and_the_plan(v: float, acc: float, sigma: float, u: float,
                                                                 dt: float) -> None:
    out = cf.krauss_dawdle(v, acc, A, B, sigma, u, dt)
    vmax = v + acc * dt
    vn = v + out * dt
    assert vn <= max(vmax, 0.0) + 1e-9, "dawdling never speeds up"
    assert vn >= min(max(v - B * dt, 0.0), vmax) - 1e-9, "nor brakes harder than comfortable"
    if sigma == 0.0:
        assert out == acc
    if v == 0.0 and acc > 0.0 and sigma * dt * u < 1.0:
        assert vn > 0.0, "a starting driver always starts"


def _free_link_run(sigma: float, seed: int = 1) -> tuple[float, float]:
    """Mean speed (m/s) and mean travel time (s) of 20 well-spaced Krauss cars on a 2 km link."""
    net = gen.single_link(length=2000.0, speed=13.89, lanes=1)
    link = "a-b"
    vt = VehicleType(id="k", cf_model="Krauss", sigma=sigma, accel=A, decel=B, tau=TAU, min_gap=S0)
    trips = [Trip(f"c{k:02d}", link, link, 30.0 * k, vtype="k", depart_speed="0") for k in range(20)]
    sim = make_sim(net, trips, vtypes=[vt], seed=seed, sim__dt=1.0, sim__end=2000.0)
    res = sim.run(progress="none", stop_when_empty=True)
    import mobsim

    t = mobsim.open(res).trips
    assert (t["status"] == 2).all()
    return float((t["route_length"] / t["duration"]).mean()), float(t["duration"].mean())


def test_dawdling_costs_what_theory_says() -> None:
    """On a free road a Krauss driver at its desired speed v0 dawdles each step by
    sigma·accel·dt·u and recovers in the next: its mean speed is v0 - sigma·accel·dt/2
    (13.89 - 0.65 = 13.24 m/s with sigma 0.5, accel 2.6 m/s², dt 1 s)."""
    v_perfect, t_perfect = _free_link_run(0.0)
    v_dawdle, t_dawdle = _free_link_run(0.5)
    # Perfect drivers: the whole link at v0 after the start.
    assert t_perfect == pytest.approx(2000.0 / 13.89 + 13.89 / (2 * A), abs=1.5)
    cruise = 13.89 - 0.5 * A * 1.0 * 0.5
    # The start-up is a small share of 2 km: the cruise at the dawdling speed makes the difference.
    assert t_dawdle == pytest.approx(t_perfect + 2000.0 / cruise - 2000.0 / 13.89, rel=0.01)
    assert v_dawdle < v_perfect
    # Another seed: other draws, the same physics.
    _, t_other = _free_link_run(0.5, seed=2)
    assert t_other != t_dawdle and t_other == pytest.approx(t_dawdle, rel=0.01)


def test_krauss_types_reach_the_result_file(tmp_path) -> None:
    import mobsim

    net = gen.single_link(length=300.0, speed=13.89, lanes=1)
    link = net.links[0].id
    types = [VehicleType(), VehicleType(id="k", cf_model="Krauss", sigma=0.3)]
    sim = make_sim(net, [Trip("a", link, link, 0.0), Trip("b", link, link, 5.0, vtype="k")], vtypes=types)
    vt = mobsim.open(sim.run(out=tmp_path / "r.h5", progress="none")).vtypes
    assert vt["cf_model"].astype(str).tolist() == ["IDM", "Krauss"]
    assert vt["sigma"].tolist() == [0.0, 0.3]


def test_bad_model_and_sigma_are_errors() -> None:
    from mobsim.errors import InputError

    with pytest.raises(InputError, match="cf_model"):
        VehicleType(cf_model="Wiedemann").validate(0.5)
    with pytest.raises(InputError, match="sigma"):
        VehicleType(cf_model="Krauss", sigma=1.5).validate(0.5)
    assert np.isfinite(cf.krauss_stop_speed(1e6, B, TAU, 0.5))


@pytest.mark.parametrize("model", ["IDM", "Krauss"])
def test_a_follower_stops_at_yellow_when_its_leader_cannot(model: str) -> None:
    """Yellow comes when the leader is 10 m from the line (too close to stop) and its follower,
    1.3 s behind, could still stop: the leader goes, the follower stops and waits for the next
    green, as in SUMO (every vehicle looks at the signals within its reach). Before, only a
    lane's first vehicle looked at signals: the follower tailgated its leader through the yellow."""
    import mobsim

    net = gen.signal_approach(length=300.0, cycle=63.0, green=40.0, yellow=3.0)  # red 0-20, yellow 60-63
    vt = VehicleType(id="v", cf_model=model)
    t0 = 60.0 - 290.0 / 13.89
    trips = [Trip("head", "o-j", "j-d", round(t0, 2), vtype="v"),
             Trip("next", "o-j", "j-d", round(t0 + 1.3, 2), vtype="v")]
    sim = make_sim(net, trips, vtypes=[vt], sim__dt=0.1, sim__end=200.0)
    t = mobsim.open(sim.run(progress="none")).trips.set_index("id")
    assert t.loc["head", "stops"] == 0
    assert t.loc["next", "stops"] == 1
    assert t.loc["next", "arrival"] - t.loc["head", "arrival"] > 20.0, "it waited for the next green (83 s)"


@pytest.mark.parametrize("model", ["IDM", "Krauss"])
def test_a_follower_sees_the_queue_on_its_next_lane(model: str) -> None:
    """A leader turns off at speed; its follower goes on into a short link whose exit is red and
    whose queue stands near the line: the follower slows for that queue before the junction (as
    every SUMO vehicle looks along its own route), and nobody collides. Before, only a lane's
    first vehicle looked past the line, so the follower kept its leader's speed and ran into
    the queue (SUMO's ramp scenario, at an off-ramp)."""
    import mobsim
    from mobsim.net.movements import default_movements
    from mobsim.net.network import Link, Network, Node, SignalPhase, SignalProgram

    nodes = [Node("o", -400.0, 0.0), Node("b", 0.0, 0.0), Node("c", 15.0, 0.0, "signal"),
             Node("e", 300.0, 0.0), Node("d", 0.0, -300.0)]
    links = [Link("o-b", "o", "b", 400.0, 25.0), Link("b-c", "b", "c", 15.0, 25.0),
             Link("c-e", "c", "e", 285.0, 25.0), Link("b-d", "b", "d", 300.0, 25.0)]
    net = Network(nodes=nodes, links=links, movements=[], signals=[], name="offramp", source="test")
    net.movements = default_movements(net)
    net.signals = [SignalProgram("c", (SignalPhase(500.0, "r"),))]
    # no emergency braking beyond the comfortable deceleration: the queue must be seen in time
    vt = VehicleType(id="v", cf_model=model, sigma=0.0, max_speed=30.0, decel=4.5, emergency_decel=4.5,
                     lc_safe_decel=4.0)
    trips = [Trip("q", "b-c", "c-e", 0.0, vtype="v", depart_speed="0"),
             Trip("lead", "o-b", "b-d", 10.0, vtype="v"),
             Trip("next", "o-b", "c-e", 10.8, vtype="v")]
    sim = make_sim(net, trips, vtypes=[vt], sim__dt=0.2, sim__end=80.0, sim__gridlock="none")
    res = mobsim.open(sim.run(progress="none", stop_when_empty=False))
    assert res.kpis()["collisions"] == 0
    assert res.trips.set_index("id").loc["lead", "status"] == 2
