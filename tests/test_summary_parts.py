"""The summary row's sums in parallel pieces (kernels.road.record.summary_parts, then end_step).

A GPU computes the parts with a grid-stride range and the CPU with stride 1; both must give the
same bits, and the row must hold the exact halting count and the mean speed of the running
vehicles, and every link's maximum queue.

The functions are called with the engine's own state containers (kernels.runtime.structs.to_struct):
numba's disk cache pickles every signature a cached function was compiled for, so a call with a
namedtuple defined here would make every later process that loads the cache import this module.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import make_sim, random_grid_trips
from mobsim.kernels.road.record import end_step, summary_parts
from mobsim.kernels.runtime import layout as K
from mobsim.kernels.runtime.structs import to_struct
from mobsim.net import generators


@pytest.fixture(scope="module")
def sim():
    # 15 x 15 junctions, two lanes: more lanes than SUM_PARTS, so parts hold several lanes
    net = generators.grid(rows=15, cols=15, block_length=100.0, lanes=2, signalised=True, cycle=60.0)
    s = make_sim(net, random_grid_trips(net, 50, 10.0, np.random.default_rng(3)), sim__end=100.0)
    assert s.cn.n_lanes > 1.5 * K.SUM_PARTS
    return s


def _state(sim, seed: int):
    """Copies of the simulation's lane, work and parameter arrays with random lane statistics,
    as the kernels' containers."""
    rng = np.random.default_rng(seed)
    n_lanes, n_links = sim.cn.n_lanes, sim.cn.n_links
    L = sim.L._replace(lane_halt=rng.integers(0, 6, n_lanes).astype(np.int32),
                       lane_vsum=(rng.random(n_lanes) * 40).astype(np.float32))
    cnt = np.zeros_like(sim.W.cnt)
    cnt[K.C_INSERTED], cnt[K.C_ARRIVED], cnt[K.C_REMOVED] = 5000, 700, 12
    W = sim.W._replace(cnt=cnt, sum_buf=np.zeros_like(sim.W.sum_buf),
                       sum_part=np.full_like(sim.W.sum_part, np.nan),
                       link_maxq=rng.integers(0, 8, n_links).astype(np.int32))
    par = sim.par.copy()
    par[K.P_SUMMARY_EVERY] = 1
    return L, W, par


def test_summary_row_holds_exact_sums_whatever_the_pieces(sim) -> None:
    N, V = to_struct(sim.cn.arrays), to_struct(sim.V)
    L, W, par = _state(sim, seed=1)
    maxq0 = W.link_maxq.copy()
    summary_parts(N, to_struct(L), to_struct(W), par, 0, 1)
    parts, maxq = W.sum_part.copy(), W.link_maxq.copy()
    end_step(V, N, to_struct(L), to_struct(W), par, 0)
    row = W.sum_buf[0]
    running = 5000 - 700 - 12
    assert W.cnt[K.C_NSUM] == 1 and W.cnt[K.C_STEP] == 1
    assert row[3] == running and row[7] == L.lane_halt.sum()
    assert row[8] == pytest.approx(math.fsum(L.lane_vsum.astype(np.float64)) / running, rel=1e-13)
    per_link = np.add.reduceat(L.lane_halt, sim.cn.arrays.link_first_lane)
    assert np.array_equal(maxq, np.maximum(maxq0, per_link))
    # A GPU's grid-stride pieces (any grid size) give the same bits as the CPU's stride 1.
    for stride in (3, 128, 5000):
        L2, W2, par2 = _state(sim, seed=1)
        for first in range(stride):
            summary_parts(N, to_struct(L2), to_struct(W2), par2, first, stride)
        assert np.array_equal(W2.sum_part, parts) and np.array_equal(W2.link_maxq, maxq), stride


def test_no_sums_on_steps_without_a_summary_row(sim) -> None:
    N, V = to_struct(sim.cn.arrays), to_struct(sim.V)
    L, W, par = _state(sim, seed=2)
    par[K.P_SUMMARY_EVERY] = 4
    W.cnt[K.C_STEP] = 6  # rows end steps 3, 7, ... (step k ends at k + 1): not this one
    before = (W.sum_part.copy(), W.link_maxq.copy())
    summary_parts(N, to_struct(L), to_struct(W), par, 0, 1)
    end_step(V, N, to_struct(L), to_struct(W), par, 0)
    assert np.array_equal(W.sum_part, before[0], equal_nan=True) and np.array_equal(W.link_maxq, before[1])
    assert W.cnt[K.C_NSUM] == 0 and W.cnt[K.C_STEP] == 7
    summary_parts(N, to_struct(L), to_struct(W), par, 0, 1)  # step 7: a row
    end_step(V, N, to_struct(L), to_struct(W), par, 0)
    assert W.cnt[K.C_NSUM] == 1 and W.sum_buf[0, 7] == L.lane_halt.sum()
