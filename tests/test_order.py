"""The sorted order after lane changes: the incremental re-sort gives exactly the full sort's result.

``kernels/order.resort_after_lane_changes`` merges the vehicles that changed lane into their new
lanes instead of sorting everything again; the step relies on it giving the same order and lane
starts as ``build_order``. Checked on the real state of a busy two-lane grid, step after step.
"""

from __future__ import annotations

import numpy as np

from conftest import make_sim, random_grid_trips
from mobsim import generators
from mobsim.kernels import cpu_step as cs
from mobsim.kernels import layout as K
from mobsim.kernels.order import build_order, resort_after_lane_changes


def test_incremental_resort_equals_a_full_sort() -> None:
    net = generators.grid(rows=3, cols=3, block_length=150.0, lanes=3, signalised=True, cycle=60.0)
    trips = random_grid_trips(net, 400, 120.0, np.random.default_rng(5))
    sim = make_sim(net, trips, sim__end=400.0)
    sim.step(200)  # a loaded network
    k = sim.backend._k
    V, N, L, W = k["V"], k["N"], k["L"], k["W"]
    vt, par = sim.backend.vt, sim.backend.par
    checked = changes = 0
    for _ in range(200):
        step = int(sim.W.cnt[K.C_STEP])
        n = build_order(V, L, W)
        sim.L.lane_req[:] = 0
        cs.decide_lane_changes_serial(V, N, L, W, vt, par, n, step)
        changed = cs.apply_lane_changes_serial(V, N, W, n, step)
        if changed:
            order0, start0 = sim.W.order.copy(), sim.L.lane_start.copy()
            got = resort_after_lane_changes(V, L, W, n)
            inc_order, inc_start = sim.W.order[:n].copy(), sim.L.lane_start.copy()
            sim.W.order[:] = order0
            sim.L.lane_start[:] = start0
            m = build_order(V, L, W)
            assert got in (n, -1)
            if got == n:
                np.testing.assert_array_equal(inc_order, sim.W.order[:m])
                np.testing.assert_array_equal(inc_start, sim.L.lane_start)
                checked += 1
                changes += changed
        sim.step(1)  # the real step (its own lane changes) moves the state on
    assert checked > 20 and changes > 50, (checked, changes)
