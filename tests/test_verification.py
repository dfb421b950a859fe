"""Verification: the engine against closed-form traffic results.

* free-flow travel time on an empty road (route length / speed);
* a platoon behind a slow "pace" vehicle keeps the IDM equilibrium gap s_e(v), and its flow is the
  equilibrium flow Q(v) = v / (s_e(v) + length) (one point of the fundamental diagram per v);
  over-demand never pushes the flow above Q(v) (capacity reached, not exceeded);
* queue discharge at a signal: the headways at the stop line settle to a saturation headway;
* mean signal delay at undersaturated, uniform demand against the deterministic queueing formula
  d = r² / (2 C (1 - q/s));
* conservation of vehicles and of distance on a small signalised grid.

Stop-line crossing times are measured by stepping the simulation (``sim.step(1)``) and
interpolating linearly within the step, as the engine itself does for arrivals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import mobsim
from conftest import make_sim, random_grid_trips
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.engine import Simulation
from mobsim.kernels.physics.idm import equilibrium_gap
from mobsim.net import generators

CAR = VehicleType()


# ------------------------------------------------------------------------------ helpers
def crossing_times(sim: Simulation, from_link: str, to_link: str, until: float) -> dict[int, float]:
    """Step ``sim`` until every vehicle arrived or ``until`` s; return, per vehicle, the time its
    front crossed the end of ``from_link`` into ``to_link`` (linear interpolation in the step)."""
    a = sim.cn.arrays
    lane_from = a.link_first_lane[sim.cn.link_index[from_link]]
    lane_to = a.link_first_lane[sim.cn.link_index[to_link]]
    assert a.link_nlanes[sim.cn.link_index[from_link]] == 1
    length = a.lane_len[lane_from]
    out: dict[int, float] = {}
    V = sim.vehicles()  # by trip: sim.V is in slot order, renumbered now and then
    while sim.time < until and not np.all(V.status >= 2):
        before = V.lane.copy()
        pos_before = V.pos.copy()
        t = sim.time
        sim.step(1)
        V = sim.vehicles()
        crossed = (before == lane_from) & (((V.lane == lane_to) & (V.status == 1)) | (V.status == 2))
        for i in np.nonzero(crossed)[0]:
            moved = (length - pos_before[i]) + (V.pos[i] if V.status[i] == 1 else 0.0)
            out[int(i)] = t + (length - pos_before[i]) / moved * sim.dt if moved > 0 else t + sim.dt
    return out


def route_positions(sim: Simulation, offsets: dict[str, float]) -> np.ndarray:
    """Distance of every vehicle's front from the start of a linear network (NaN if not running)."""
    a = sim.cn.arrays
    link_off = np.zeros(sim.cn.n_links)
    for lk, off in offsets.items():
        link_off[sim.cn.link_index[lk]] = off
    V = sim.vehicles()
    x = link_off[a.lane_link[np.maximum(V.lane, 0)]] + V.pos
    return np.where(V.status == 1, x, np.nan)


# ------------------------------------------------------------------------------ free flow
@pytest.mark.parametrize("speed,depart", [(20.0, 0.0), (13.89, 3.3), (8.33, 10.0)])
def test_free_flow_travel_time(tmp_path, speed: float, depart: float) -> None:
    """One vehicle on an empty road: duration = route length / speed; route length = network
    length - vehicle length (inserted with its front at its own length, at the desired speed)."""
    net = generators.single_link(length=1000.0, speed=speed, stub_length=100.0)
    sim = make_sim(net, [Trip("t0", "o-a", "b-d", depart)], sim__end=400.0,
                   output__edgedata_period=100.0)
    res = mobsim.open(sim.run(out=tmp_path / "ff.h5", progress="none"))
    tr = res.trips.iloc[0]
    route_length = 1200.0 - CAR.length
    assert tr.status_name == "arrived"
    assert tr.route_length == pytest.approx(route_length, rel=1e-9)
    assert tr.duration == pytest.approx(route_length / speed, rel=1e-6)
    assert tr.arrival - tr.depart == pytest.approx(route_length / speed, rel=1e-6)
    # Inserted at the first step end at or after the planned departure.
    assert depart <= tr.depart < depart + sim.dt + 1e-9
    assert tr.time_loss == pytest.approx(0.0, abs=1e-9)
    assert tr.waiting_time == 0.0 and tr.stops == 0
    ed = res.edgedata.groupby("link_id", observed=True)["distance"].sum()
    assert ed["o-a"] == pytest.approx(100.0 - CAR.length)
    assert ed["a-b"] == pytest.approx(1000.0)
    assert ed["b-d"] == pytest.approx(100.0)


def test_departure_at_begin_is_on_time() -> None:
    net = generators.single_link(length=200.0)
    sim = make_sim(net, [Trip("a", "o-a", "b-d", 0.0), Trip("b", "o-a", "b-d", 10.0)], sim__end=60.0)
    sim.step(40)
    dep = sim.trip_table()["depart"]
    assert dep[1] == 10.0  # on time at a later step boundary
    assert dep[0] == 0.0


# ------------------------------------------------------------------------------ fundamental diagram
PLATOON = 30
FD_SPEEDS = (5.0, 10.0, 15.0, 20.0)


def platoon_run(v: float, headway_factor: float = 1.0, depart_speed: str | None = None):
    """A pace vehicle (max_speed v) leads PLATOON - 1 cars (desired speed 30 m/s) on a straight
    road o-a (1500 m), a-b (1000 m), b-d (1500 m). Cars depart every headway_factor × h(v) s.

    Returns (crossing times at the end of a-b, gaps and speeds of the platoon when the pace vehicle
    is 200 m before its destination, s_e(v), h(v)).
    """
    se = equilibrium_gap(v, 30.0, CAR.min_gap, CAR.tau, CAR.delta)
    h = (se + CAR.length) / v
    pace = VehicleType(id="pace", max_speed=v)
    net = generators.single_link(length=1000.0, speed=30.0, stub_length=1500.0)
    ds = str(v) if depart_speed is None else depart_speed
    trips = [Trip("c000", "o-a", "b-d", 0.0, vtype="pace", depart_speed=str(v))]
    trips += [Trip(f"c{k:03d}", "o-a", "b-d", k * h * headway_factor, depart_speed=ds)
              for k in range(1, PLATOON)]
    sim = make_sim(net, trips, [CAR, pace], sim__end=1200.0)
    assert sim.trips[0].vtype == "pace"
    offsets = {"o-a": 0.0, "a-b": 1500.0, "b-d": 2500.0}
    lane_ab = sim.cn.arrays.link_first_lane[sim.cn.link_index["a-b"]]
    lane_bd = sim.cn.arrays.link_first_lane[sim.cn.link_index["b-d"]]
    V = sim.vehicles()
    cross: dict[int, float] = {}
    snap = None
    while V.status[0] <= 1 and sim.time < 1200.0:
        before = V.lane.copy()
        sim.step(1)
        V = sim.vehicles()
        # Every vehicle on b-d drives at constant speed v: its crossing time is exact.
        for i in np.nonzero((before == lane_ab) & (V.lane == lane_bd) & (V.status == 1))[0]:
            cross[int(i)] = sim.time - V.pos[i] / V.speed[i]
        if snap is None and V.status[0] == 1 and route_positions(sim, offsets)[0] >= 3800.0:
            x = route_positions(sim, offsets)
            ok = np.isfinite(x)
            order = np.argsort(-x[ok])
            snap = (x[ok][order], V.speed[ok][order], int(ok.sum()))
    assert snap is not None, "the pace vehicle never got near its destination"
    x, speeds, n_running = snap
    gaps = -np.diff(x) - CAR.length
    ct = np.array([cross[i] for i in sorted(cross)])
    return ct, gaps, speeds, n_running, se, h


@pytest.mark.parametrize("v", FD_SPEEDS)
def test_platoon_keeps_equilibrium_gap_and_flow(v: float) -> None:
    """Departures at the equilibrium headway h = (s_e(v) + len) / v behind a pace vehicle at v.

    Insertion times are rounded up to whole steps (dt = 0.5 s), so cars start up to v·dt behind
    their equilibrium place; IDM closes that within the first 1500 m. Downstream the gaps are
    s_e(v) and the flow Q(v) within 1 % (measured: agreement to 1e-13; Q = 1440, 2048, 2340,
    2391 veh/h at 5, 10, 15, 20 m/s).
    """
    ct, gaps, speeds, n_running, se, h = platoon_run(v)
    assert n_running == PLATOON
    assert len(ct) >= PLATOON - 1
    # Gaps (all but the first few cars, which may still be closing a rounding gap) and speeds.
    assert np.all(np.abs(gaps[3:] / se - 1.0) < 0.01), (se, gaps)
    assert np.all(np.abs(speeds - v) < 0.01 * v)
    # Flow at the end of a-b: mean crossing headway of cars 5.. (s), as veh/h.
    q_meas = 1.0 / np.diff(ct[5:]).mean()
    q_eq = v / (se + CAR.length)
    assert q_meas == pytest.approx(q_eq, rel=0.01)
    # No crossing headway shorter than the equilibrium one (no flow above Q(v) anywhere).
    assert np.diff(ct).min() >= h * (1.0 - 1e-6)


@pytest.mark.parametrize("v,depart_speed", [(10.0, "max"), (15.0, "max"), (20.0, "0")])
def test_platoon_flow_capped_at_equilibrium(v: float, depart_speed: str) -> None:
    """Demand 1/0.7 = 143 % of Q(v): vehicles queue at the insertion point, but downstream no
    headway is ever shorter than h(v): capacity behind a slow leader is reached, never exceeded."""
    ct, gaps, _, _, se, h = platoon_run(v, headway_factor=0.7, depart_speed=depart_speed)
    assert len(ct) >= 10
    assert np.diff(ct).min() >= h * (1.0 - 1e-6)
    assert np.all(gaps > 0.0)
    if depart_speed == "max":
        # Inserted at the highest safe speed: the platoon fills up to Q(v).
        assert 1.0 / np.diff(ct[5:]).mean() == pytest.approx(1.0 / h, rel=0.01)


# ------------------------------------------------------------------------------ signals
CYCLE, GREEN, YELLOW = 90.0, 40.0, 3.0
RED = CYCLE - GREEN - YELLOW


@dataclass
class Discharge:
    headways: np.ndarray     # s, between consecutive stop-line crossings, in queue order
    saturation: float        # s, mean headway of queue positions 5..16
    lost_time: float         # s, start-up lost time: T_n - t_green - n h_s
    first: float             # s, first crossing after the start of green


@pytest.fixture(scope="module")
def discharge() -> Discharge:
    """16 cars queue at a red signal (120 s cycle, 77 s of red first); crossing times after green."""
    cycle, green, yellow = 120.0, 40.0, 3.0
    red = cycle - green - yellow
    net = generators.signal_approach(length=300.0, cycle=cycle, green=green, yellow=yellow)
    n = 16
    trips = [Trip(f"c{k:02d}", "o-j", "j-d", 2.0 * k) for k in range(n)]
    sim = make_sim(net, trips, sim__end=300.0)
    sim.step(int(round((red - 1.0) / sim.dt)))
    # The whole queue stands before the line when green starts.
    assert np.all(sim.V.status == 1) and np.all(sim.V.speed < 0.1)
    assert np.all(sim.V.pos <= 300.0)
    ct = crossing_times(sim, "o-j", "j-d", until=250.0)
    assert sorted(ct) == list(range(n)), "every car crossed, in queue (departure) order"
    t = np.array([ct[i] for i in range(n)]) - red
    assert np.all(np.diff(t) > 0)
    hw = np.diff(t)
    hs = float(hw[4:].mean())
    return Discharge(hw, hs, float(t[-1] - n * hs), float(t[0]))


def test_queue_discharge_saturation_headway(discharge: Discharge) -> None:
    """Headways fall from the first ones (start-up) and settle to a stable saturation headway.

    Measured with the default car (IDM a = 2.6, b = 4.5, T = 1 s, s0 = 2.5 m, 5 m, 13.89 m/s,
    dt = 0.5 s): 3.30, 2.45, 2.23, 2.11, then 2.05 ... 1.95 s; saturation headway 1.97 s
    (1824 veh/h), start-up lost time 0.80 s, first car over the line 0.58 s after green.
    """
    hw = discharge.headways
    assert 1.5 < discharge.saturation < 3.0
    assert 1.85 < discharge.saturation < 2.1          # the measured value, with a window
    assert hw[4:].std() < 0.1                         # stable over queue positions 5..16
    assert np.ptp(hw[-6:]) < 0.05                     # and converged at the tail
    assert hw[0] > hw[4:].max()                       # start-up: the first headway is the longest
    assert np.all(np.diff(hw) <= 1e-9)                # monotone convergence from above
    assert discharge.lost_time > 0.0                  # start-up lost time is positive
    assert 0.3 < discharge.lost_time < 3.0
    assert 0.0 < discharge.first < 2.0


@pytest.mark.parametrize("q_vph", [300.0, 400.0, 500.0])
def test_signal_delay_matches_deterministic_queueing(discharge: Discharge, q_vph: float) -> None:
    """Uniform arrivals at q veh/h for 6 whole cycles; mean stop-line delay vs d = r²/(2C(1-q/s)).

    * s = 1 / h_s, the saturation flow measured in the discharge test;
    * effective red r = red + yellow - v0/(2b) + l1: a car that cannot stop at the yellow onset
      (v0²/(2b) = 21.4 m from the line, i.e. 1.54 s at v0) still crosses, so the first
      v0/(2b) s of yellow are effectively green; service restarts l1 (start-up lost time) after
      the green onset.
    * delay = stop-line crossing time - (insertion + free-flow time to the line): the vertical
      queue of the formula, measured where the formula puts it.

    Measured (dt = 0.5 s; r = 49.3 s, s = 1824 veh/h): 15.1 s vs 16.1 s (-6.6 %) at 300 veh/h,
    17.2 vs 17.3 s (-0.7 %) at 400, 19.0 vs 18.6 s (+2.2 %) at 500. The total delay (travel time -
    free-flow time, = time_loss) adds the acceleration after the line: 1.4-2 s more.
    """
    v0 = 13.89
    net = generators.signal_approach(length=300.0, cycle=CYCLE, green=GREEN, yellow=YELLOW)
    h = 3600.0 / q_vph
    n = int(round(6 * CYCLE / h))
    trips = [Trip(f"c{k:03d}", "o-j", "j-d", k * h) for k in range(n)]
    sim = make_sim(net, trips, sim__end=6 * CYCLE + 300.0)
    ct = crossing_times(sim, "o-j", "j-d", until=6 * CYCLE + 300.0)
    V = sim.vehicles()
    tt = sim.trip_table()
    assert np.all(V.status == 2)
    # Every car was inserted on time (at the step end after its planned departure).
    assert np.all(tt["depart"] - tt["depart_planned"] < sim.dt + 1e-9)
    t_cross = np.array([ct[i] for i in range(n)])
    d_line = t_cross - (tt["depart"] + (300.0 - CAR.length) / v0)
    assert d_line.min() > -1e-6
    s = 1.0 / discharge.saturation
    q = q_vph / 3600.0
    r = RED + YELLOW - v0 / (2.0 * CAR.decel) + discharge.lost_time
    d_formula = r * r / (2.0 * CYCLE * (1.0 - q / s))
    assert d_line.mean() == pytest.approx(d_formula, rel=0.15)
    # Total delay: travel time - free-flow time, = time_loss, a little above the stop-line delay.
    d_total = tt["duration"] - tt["route_length"] / v0
    np.testing.assert_allclose(V.time_loss, d_total, atol=0.01)
    assert 0.0 < d_total.mean() - d_line.mean() < 4.0


# ------------------------------------------------------------------------------ conservation
def test_conservation_on_grid(tmp_path) -> None:
    """A 3 x 3 signalised grid, 300 random trips over 600 s plus a burst of 12 at one entry just
    before the end (so some wait), run to 500 s with gridlock removal after 30 s standing (so some
    are removed): every count adds up, each trip is in /trips once, Σ edge distance = Σ route
    length."""
    net = generators.grid(rows=3, cols=3, block_length=150.0, lanes=1, signalised=True)
    trips = random_grid_trips(net, 300, 600.0, np.random.default_rng(1))
    trips += [Trip(f"burst{k}", "W0-n0_0", "n2_2-E2", 496.0) for k in range(12)]
    sim = make_sim(net, trips, sim__end=500.0, output__edgedata_period=60.0, sim__gridlock="remove",
                   sim__gridlock_time=30.0)
    res = mobsim.open(sim.run(out=tmp_path / "grid.h5", progress="none"))
    tr, sm, ed = res.trips, res.summary, res.edgedata
    last = sm.iloc[-1]
    assert last.time == pytest.approx(500.0)
    # Summary: loaded = waiting + running + arrived + removed.
    assert last.loaded == last.waiting + last.running + last.arrived + last.removed
    assert last.inserted == last.running + last.arrived + last.removed
    counts = tr.status_name.value_counts()
    assert counts["arrived"] == last.arrived and counts["running"] == last.running
    assert counts.get("removed", 0) == last.removed
    # /trips status 0 ("waiting") also holds trips not loaded yet (planned after the end).
    not_loaded = int((tr.depart_planned > 500.0 + 1e-9).sum())
    assert counts["waiting"] == last.waiting + not_loaded
    assert last.waiting > 0 and last.removed > 0 and last.running > 0 and not_loaded > 0
    # Each trip once.
    assert len(tr) == len(trips) and tr.id.is_unique
    assert set(tr.id) == {t.id for t in trips}
    # Every row of the summary adds up, and counts never decrease.
    np.testing.assert_array_equal(sm.loaded, sm.waiting + sm.running + sm.arrived + sm.removed)
    for c in ("loaded", "inserted", "arrived", "removed"):
        assert np.all(np.diff(sm[c].to_numpy()) >= 0)
    # Distance: Σ edge distance = Σ route length.
    assert ed.distance.sum() == pytest.approx(tr.route_length.sum(), rel=1e-9)
    # Entries and exits: what entered a link and did not leave it is still there (or was removed).
    assert ed.entered.sum() - ed.left.sum() == last.running + last.removed
    # Status and times agree.
    arrived = tr[tr.status_name == "arrived"]
    assert arrived.arrival.notna().all() and (arrived.duration > 0).all()
    assert tr[tr.status_name == "waiting"].depart.isna().all()


# ------------------------------------------------------------------------------ departure steps
def test_due_steps_match_the_kernels_time_comparison() -> None:
    """The device holds planned departures as the first step whose start reaches them
    (``planned <= begin + s * dt + 1e-9``); the host's conversion gives exactly that step."""
    from mobsim.engine import due_steps

    got = due_steps(np.array([0.0, 0.2, 0.5, 0.5 + 1e-12, 0.51, 3.3, -4.0]), 0.0, 0.5)
    assert got.tolist() == [0, 1, 1, 1, 2, 7, 0]
    rng = np.random.default_rng(3)
    for begin, dt in ((0.0, 0.1), (10.0, 0.1), (3600.0, 0.5), (7.3, 0.25)):
        planned = np.r_[begin + rng.uniform(0.0, 500.0, 2000), begin + np.arange(200) * dt]
        s = due_steps(planned, begin, dt)
        assert np.all(planned <= begin + s * dt + 1e-9)
        assert np.all((s == 0) | (planned > begin + (s - 1) * dt + 1e-9))


def test_insertion_delay_events_measure_from_the_planned_departure(tmp_path) -> None:
    """Departures that find no room wait; the insertion-delay event fires once one has waited the
    threshold since its departure fell due, and its value is the exact time since the planned
    departure (the device counts in steps; the host has the planned time)."""
    net = generators.single_link(length=200.0)
    trips = [Trip(f"t{k}", "o-a", "b-d", 0.3 + 0.01 * k) for k in range(12)]
    sim = make_sim(net, trips, sim__end=120.0, demand__insertion_delay_event=2.0)
    res = mobsim.open(sim.run(out=tmp_path / "d.h5", progress="none"))
    ev = res.events
    ev = ev[ev.kind_name == "insertion_delay"]
    assert len(ev) >= 3
    planned = res.trips.set_index("id").depart_planned
    waited = ev.time.to_numpy() - planned.loc[ev.trip_id].to_numpy()
    np.testing.assert_allclose(ev.value.to_numpy(), waited, atol=1e-9)
    assert np.all(waited >= 2.0 - 1e-9) and np.all(waited < 2.0 + 2 * sim.dt)
    assert ev.trip_id.is_unique  # once per trip
