"""The sorted order after lane changes: the incremental re-sort gives exactly the full sort's result.

``kernels/order.resort_after_lane_changes`` merges the vehicles that changed lane into their new
lanes instead of sorting everything again; the step relies on it giving the same order and lane
starts as ``build_order``. Checked on the real state of a busy two-lane grid, step after step.
"""

from __future__ import annotations

import numpy as np

from conftest import make_sim, random_grid_trips
from mobsim.kernels.drivers import cpu_step as cs
from mobsim.kernels.road.order import build_order, resort_after_lane_changes
from mobsim.kernels.runtime import layout as K
from mobsim.net import generators


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


def test_gpu_lane_order_is_the_full_sort_whatever_the_ticket_order() -> None:
    """The GPU's "lanes" order (count, scan, scatter, per-lane sort by (position, trip)), run here
    with the CPU build of the same functions on the state of a loaded grid, gives the
    (lane, position) order of a full sort, also when each lane's segment arrives reversed (the
    GPU's atomics hand out tickets in any order)."""
    from mobsim.kernels.road.order import bucket_count_range, bucket_scatter_range, bucket_sort_range
    from mobsim.kernels.runtime.structs import to_struct

    net = generators.grid(rows=3, cols=3, block_length=150.0, lanes=3, signalised=True, cycle=60.0)
    sim = make_sim(net, random_grid_trips(net, 400, 120.0, np.random.default_rng(5)), sim__end=400.0)
    sim.step(200)
    V = sim.V
    run = np.nonzero(V.status == 1)[0]
    assert len(run) > 100
    expected = run[np.lexsort((V.trip[run], V.pos[run], V.lane[run]))]
    n_tr = len(V.status)
    for reverse in (False, True):
        L = sim.L._replace(lane_cnt=np.zeros_like(sim.L.lane_cnt), lane_start=np.zeros_like(sim.L.lane_start))
        W = sim.W._replace(order=np.full_like(sim.W.order, -1), mv_k=np.full_like(sim.W.mv_k, -1),
                           cnt=sim.W.cnt.copy())
        Vs, Ls, Ws = to_struct(V), to_struct(L), to_struct(W)
        bucket_count_range(Vs, Ls, Ws, 0, n_tr, 1)
        np.cumsum(L.lane_cnt, out=L.lane_start[1:])
        bucket_scatter_range(Vs, Ls, Ws, 0, n_tr, 1)
        if reverse:
            for a, b in zip(L.lane_start[:-1], L.lane_start[1:], strict=True):
                W.order[a:b] = W.order[a:b][::-1].copy()
        bucket_sort_range(Vs, Ls, Ws, 0, len(L.lane_cnt), 1)
        assert int(W.cnt[K.C_NRUN]) == len(run)
        assert (W.order[:len(run)] == expected).all()
        assert (np.diff(L.lane_start) == np.bincount(V.lane[run], minlength=len(L.lane_cnt))).all()
