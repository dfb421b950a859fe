"""ACC and CACC car following (SUMO's MSCFModel_ACC and MSCFModel_CACC): the control laws and
modes, CACC's ACC fallback and string stability, the import and export of SUMO's types, the step
warning, and a platoon in the engine (modes kept between steps, no collision)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from conftest import make_scenario
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType, vtype_table
from mobsim.engine import Simulation
from mobsim.errors import InputError
from mobsim.kernels.physics import acc as A
from mobsim.kernels.physics import carfollow as cf
from mobsim.kernels.runtime.layout import CF_ACC, CF_CACC
from mobsim.net import generators as gen

ACC = VehicleType(id="acc", cf_model="ACC")
VT = vtype_table([ACC])
DT = 0.1


def follow(v: float, gap: float, vl: float, mode: bool = True, v0: float = 30.0) -> float:
    """Next speed of a default ACC car ``gap`` m bumper to bumper behind a leader."""
    a = cf.cf_follow(CF_ACC, v, v0, gap, vl, ACC.accel, ACC.decel, ACC.min_gap, ACC.tau, ACC.delta, DT, VT, 0,
                     cf.MODE_ACC_GAP if mode else 0, 0.0)
    return v + a * DT


def test_modes_switch_at_120_and_100_m_and_keep_their_state_in_between() -> None:
    assert not A.acc_gap_mode(120.5, True)
    assert A.acc_gap_mode(99.5, False)
    assert A.acc_gap_mode(110.0, True) and not A.acc_gap_mode(110.0, False)


def test_speed_control_closes_on_the_desired_speed_at_its_gain() -> None:
    # 200 m ahead (speed control): a = -0.4 (v - v_des), below accel
    assert follow(25.0, 200.0 + ACC.min_gap, 15.0) == pytest.approx(25.0 + 0.4 * 5.0 * DT)
    # far below the desired speed the acceleration is capped at accel
    assert follow(5.0, 200.0 + ACC.min_gap, 15.0) == pytest.approx(5.0 + ACC.accel * DT)
    # in the band the last mode decides: speed control keeps accelerating, gap control brakes
    assert follow(25.0, 110.0 + ACC.min_gap, 15.0, mode=False) > 25.0
    assert follow(25.0, 110.0 + ACC.min_gap, 15.0, mode=True) < 25.0


@pytest.mark.parametrize(("v", "margin"), [(8.0, 2.0), (12.0, 75.0 / 12.0 - 5.0), (20.0, 0.0)])
def test_gap_closing_law_with_the_dynamic_margin(v: float, margin: float) -> None:
    """Gap closing: 0.8 dv + 0.04 e, e = gap - tau v - margin (2 m below 10.8 m/s, 75/v - 5 up to
    15 m/s, none above; SUMO 1.28 does not take the vehicle length off, see kernels/physics/acc.py)."""
    gap_net, vl = 60.0, v - 1.0
    e = gap_net - ACC.tau * v - margin
    expected = v + (0.8 * (vl - v) + 0.04 * e) * DT
    assert follow(v, gap_net + ACC.min_gap, vl) == pytest.approx(expected)


def test_collision_avoidance_and_gap_mode_gains() -> None:
    v = 20.0
    # spacing error negative: collision avoidance, 0.23 dv + 0.8 e
    gap_net, vl = 15.0, 19.0
    e = gap_net - v
    assert follow(v, gap_net + ACC.min_gap, vl) == pytest.approx(v + (0.23 * (vl - v) + 0.8 * e) * DT)
    # at the desired speed and gap (|e| < 0.2 m, |v - v_des| < 0.1 m/s): gap mode, 0.07 dv + 0.23 e
    gap_net, vl = v * ACC.tau + 0.1, 19.5
    assert follow(v, gap_net + ACC.min_gap, vl, v0=20.05) == pytest.approx(
        v + (0.07 * (vl - v) + 0.23 * 0.1) * DT)


def test_braking_is_bounded_by_the_emergency_deceleration() -> None:
    # a standing leader 30 m ahead at 30 m/s: the law asks for far more than 9 m/s²
    a = cf.cf_follow(CF_ACC, 30.0, 30.0, 32.5, 0.0, ACC.accel, ACC.decel, ACC.min_gap, ACC.tau, 4.0, DT, VT,
                     0, cf.MODE_ACC_GAP, 0.0)
    assert a < -ACC.emergency_decel  # the planner clamps it to -emergency_decel


def test_override_caps_the_controller_where_even_emergency_braking_could_not_stop() -> None:
    """With gains that close the gap far too eagerly, the controller's speed is capped at the
    speed from which the emergency deceleration still stops behind the leader, plus
    ca_override."""
    eager = dataclasses.replace(ACC, gcc_gain_space=50.0, accel=200.0)
    vt = vtype_table([eager])
    gap = 20.0
    a = cf.cf_follow(CF_ACC, 10.0, 60.0, gap + eager.min_gap, 0.0, eager.accel, eager.decel, eager.min_gap,
                     eager.tau, 4.0, DT, vt, 0, cf.MODE_ACC_GAP, 0.0)
    cap = cf.krauss_stop_speed(gap, eager.emergency_decel, 0.0, DT) + eager.ca_override
    assert 10.0 + a * DT == pytest.approx(cap)


def test_bad_gains_are_refused() -> None:
    with pytest.raises(InputError, match="sc_gain"):
        dataclasses.replace(ACC, sc_gain=0.4).validate(0.1)
    with pytest.raises(InputError, match="ca_override"):
        dataclasses.replace(ACC, ca_override=-1.0).validate(0.1)
    with pytest.raises(InputError, match="sc_gain_cacc"):
        VehicleType(cf_model="CACC", sc_gain_cacc=0.1).validate(0.1)
    with pytest.raises(InputError, match="tau_cacc_to_acc"):
        VehicleType(cf_model="CACC", tau_cacc_to_acc=0.0).validate(0.1)


def _platoon(dt: float, lead_speed: float = 6.0) -> object:
    net = gen.single_link(length=3000.0, lanes=1, speed=30.0)
    road = max(net.links, key=lambda lk: lk.length).id
    slow = VehicleType(id="slow", cf_model="Krauss", sigma=0.0, max_speed=lead_speed)
    trips = [Trip(id="lead", origin=road, destination=road, depart=0.0, vtype="slow",
                  depart_speed=f"{lead_speed:g}", depart_pos="400")]
    trips += [Trip(id=f"f{k}", origin=road, destination=road, depart=1.0 + 3.0 * k,
                   vtype="acc", depart_speed="25") for k in range(4)]
    return make_scenario(net, trips, vtypes=[slow, ACC], sim__dt=dt, sim__end=120.0, output__fcd=True,
                         output__fcd_period=dt)


def test_platoon_settles_behind_a_slow_leader_without_collision(tmp_path: Path) -> None:
    """Four ACC cars close on a 6 m/s leader from 120 m and more: speed control, then gap closing
    with the emergency deceleration, then the desired gap tau v + 2 m (the margin below 10.8 m/s)
    behind each other, all at the leader's speed; no collision, no emergency event."""
    import mobsim

    sc = _platoon(0.1)
    assert not [w for w in sc.warnings if "ACC" in w]
    res = mobsim.open(Simulation(sc, backend="cpu").run(out=tmp_path / "p.h5", progress="none"))
    ev = res.events
    assert not (ev["kind_name"].astype(str).isin(["collision", "emergency"])).any()
    f = res.fcd
    last = f[f["time"] == f["time"].max()]
    last = last.set_index(last["trip_id"].astype(str))
    for k in range(4):
        lead = "lead" if k == 0 else f"f{k - 1}"
        assert last.loc[f"f{k}", "speed"] == pytest.approx(6.0, abs=0.05)
        gap = last.loc[lead, "pos"] - 5.0 - last.loc[f"f{k}", "pos"] - ACC.min_gap
        assert gap == pytest.approx(ACC.tau * 6.0 + 2.0, abs=0.3)
    # the control mode lives in the vehicle between steps: in the band the speed of f0 stays in
    # speed control (no braking until the gap is below 100 m)
    f0 = f[f["trip_id"].astype(str) == "f0"].sort_values("time")
    ld = f[f["trip_id"].astype(str) == "lead"].sort_values("time").set_index("time")
    gaps = ld.loc[f0["time"], "pos"].to_numpy() - 5.0 - f0["pos"].to_numpy() - ACC.min_gap
    acc = np.diff(f0["speed"].to_numpy()) / 0.1
    band = (gaps[:-1] > 100.5) & (gaps[:-1] < 119.5)
    assert band.any() and (acc[band] > -1e-6).all()


def test_a_long_step_warns() -> None:
    sc = _platoon(0.5)
    assert any("ACC" in w and "0.1" in w for w in sc.warnings)


def test_acc_types_round_trip_through_the_sumo_export(tmp_path: Path) -> None:
    """`mobsim convert to-sumo` writes ACC and CACC types with their gains and the Euler update,
    and the SUMO importer reads the same types back."""
    import xml.etree.ElementTree as ET

    pytest.importorskip("sumolib")
    pytest.importorskip("sumo")
    from mobsim.interop.sumo_demand import read_sumo_demand
    from mobsim.interop.sumo_export import export_scenario

    tuned = dataclasses.replace(ACC, sc_gain=-0.5, gc_gain_space=0.3, ca_override=1.0, tau=1.2)
    ctuned = dataclasses.replace(CACC, gc_gain_gap=0.4, tau_cacc_to_acc=1.1, sc_gain=-0.3, tau=0.6)
    net = gen.single_link(length=500.0, lanes=1, speed=20.0)
    road = max(net.links, key=lambda lk: lk.length).id
    sc = make_scenario(net, [Trip(id="a", origin=road, destination=road, depart=0.0, vtype="acc"),
                             Trip(id="b", origin=road, destination=road, depart=5.0, vtype="cacc")],
                       vtypes=[tuned, ctuned], sim__dt=0.1, sim__end=60.0)
    cfg = export_scenario(sc, tmp_path / "out")
    rou = next(cfg.parent.glob("*.rou.xml"))
    vt, cvt = [e for e in ET.parse(rou).getroot() if e.tag == "vType"]
    assert vt.get("carFollowModel") == "ACC" and float(vt.get("speedControlGain")) == -0.5
    assert cvt.get("carFollowModel") == "CACC" and float(cvt.get("gapControlGainGap")) == 0.4
    assert "step-method.ballistic" in cfg.read_text() and '"false"' in cfg.read_text()
    links = {lk.id: lk for lk in net.links}
    back, _ = read_sumo_demand([rou], links, warnings=[])
    assert dataclasses.replace(back[0], speed_dev=tuned.speed_dev) == tuned
    assert dataclasses.replace(back[1], speed_dev=ctuned.speed_dev) == ctuned


CACC = VehicleType(id="cacc", cf_model="CACC")
VTC = vtype_table([CACC])


def cacc_follow(v: float, gap_net: float, vl: float, a_ego: float = 0.0, mode: bool = True,
                lead_cacc: bool = True, v0: float = 30.0, dt: float = DT) -> float:
    modes = (cf.MODE_CACC_GAP if mode else 0) | (cf.MODE_LEAD_CACC if lead_cacc else 0)
    a = cf.cf_follow(CF_CACC, v, v0, gap_net + CACC.min_gap, vl, CACC.accel, CACC.decel, CACC.min_gap,
                     CACC.tau, 4.0, dt, VTC, 0, modes, a_ego)
    return v + a * dt


def test_cacc_time_gap_modes() -> None:
    """Speed control above a 2 s time gap (with the spacing error above 1.66 m), gap control below
    1.5 s, the last mode in between."""
    assert not A.cacc_gap_mode(50.0, 20.0, 1.0, 1.66, True)    # 2.5 s
    assert A.cacc_gap_mode(28.0, 20.0, 1.0, 1.66, False)       # 1.4 s
    assert A.cacc_gap_mode(35.0, 20.0, 1.0, 1.66, True) and not A.cacc_gap_mode(35.0, 20.0, 1.0, 1.66, False)


def test_cacc_laws_behind_a_cacc_leader() -> None:
    """Speed changes per 0.1 s on the spacing error e = gap - tau v and its rate vl - v - tau a
    (SUMO 1.28's sign of the acceleration term, fitted to its trajectories): gap closing 0.005 /
    0.05, collision avoidance 0.45 / 0.05, gap mode 0.45 / 0.0125."""
    v, vl, a = 20.0, 19.0, -0.5
    rate = vl - v - CACC.tau * a
    gap = 30.0  # e = 10: gap closing
    assert cacc_follow(v, gap, vl, a) == pytest.approx(v + 0.005 * 10.0 + 0.05 * rate)
    gap = 18.0  # e = -2: collision avoidance
    assert cacc_follow(v, gap, vl, a) == pytest.approx(v + 0.45 * -2.0 + 0.05 * rate)
    gap = 20.1  # e = 0.1, at the desired speed: gap mode
    assert cacc_follow(v, gap, vl, a, v0=20.05) == pytest.approx(v + 0.45 * 0.1 + 0.0125 * rate)
    # speed control: v + sc (v - v_des) dt
    assert cacc_follow(28.0, 80.0, vl, a, mode=False) == pytest.approx(28.0 - 0.4 * (28.0 - 30.0) * DT)


def test_cacc_falls_back_to_acc_behind_a_leader_that_does_not_communicate() -> None:
    """Behind a non-CACC leader the ACC law with tau_cacc_to_acc (1 s) and the ACC gains."""
    v, vl, gap = 20.0, 19.0, 30.0
    e = gap - 1.0 * v  # ACC gap closing, no margin above 15 m/s
    assert cacc_follow(v, gap, vl, lead_cacc=False) == pytest.approx(v + (0.8 * (vl - v) + 0.04 * e) * DT)


def test_cacc_change_is_scaled_to_steps_below_a_tenth_of_a_second() -> None:
    v, vl, gap = 20.0, 19.0, 30.0
    per_tenth = cacc_follow(v, gap, vl) - v
    assert cacc_follow(v, gap, vl, dt=0.05) - v == pytest.approx(per_tenth * 0.5)
    assert cacc_follow(v, gap, vl, dt=0.5) - v == pytest.approx(per_tenth)  # per step above 0.1 s, as SUMO


def _cacc_platoon_deviation(tau: float, n: int = 6, dt: float = 0.1) -> tuple[np.ndarray, float]:
    """Largest speed deviation (m/s) of each vehicle of a CACC platoon, in equilibrium at 25 m/s,
    when the leader dips to 22 m/s and back (2 m/s² for 1.5 s each way); and the smallest gap (m)
    seen."""
    vt = vtype_table([dataclasses.replace(CACC, tau=tau)])
    ve = 25.0
    x = np.array([-k * (5.0 + CACC.min_gap + tau * ve) for k in range(n + 1)])
    v = np.full(n + 1, ve)
    a = np.zeros(n + 1)
    mode = [True] * (n + 1)
    dev = np.zeros(n + 1)
    min_gap = np.inf
    for step in range(int(60.0 / dt)):
        t = step * dt
        nv = v.copy()
        nv[0] = v[0] + (-2.0 if 10.0 <= t < 11.5 else 2.0 if 11.5 <= t < 13.0 else 0.0) * dt
        for k in range(1, n + 1):
            gap = x[k - 1] - 5.0 - x[k]
            min_gap = min(min_gap, gap)
            modes = (cf.MODE_CACC_GAP if mode[k] else 0) | cf.MODE_LEAD_CACC
            acc = cf.cf_follow(CF_CACC, v[k], 30.0, gap, v[k - 1], CACC.accel, CACC.decel, CACC.min_gap, tau,
                               4.0, dt, vt, 0, modes, a[k])
            mode[k] = A.cacc_gap_mode(gap - CACC.min_gap, v[k], tau, CACC.sc_min_gap, mode[k])
            nv[k] = max(v[k] + max(acc, -CACC.emergency_decel) * dt, 0.0)
        a = (nv - v) / dt
        v = nv
        x = x + v * dt
        dev = np.maximum(dev, np.abs(v - ve))
    return dev, min_gap


@pytest.mark.parametrize("tau", [1.0, 0.6])
def test_cacc_platoon_is_string_stable(tau: float) -> None:
    """A 3 m/s speed dip of the leader shrinks down six CACC followers (SUMO's default time gap
    1 s, and 0.6 s as in Milanés & Shladover's experiments): each follower's largest deviation is
    below its leader's (1 s: 3.0, 1.92, 1.54, ... 1.10 m/s), and no gap falls below the minimum
    gap."""
    dev, min_gap = _cacc_platoon_deviation(tau)
    assert (np.diff(dev) < 0.0).all() and dev[-1] < 0.8 * dev[0]
    assert min_gap > CACC.min_gap
