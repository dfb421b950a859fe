"""Dispatch of on-demand ride requests by insertion (``mobsim.modes.drt.dispatch``): the batched
kernel against a brute force written here, the schedules it builds against their deadlines and
capacities, rejection, pooling, the batch assignment against every permutation, and the same
costs from the CUDA kernel (under the simulator) and in PTX for sm_90."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mobsim.modes.drt.dispatch import (
    BatchDispatcher,
    Fleet,
    InsertionDispatcher,
    ScheduledStop,
    insertion_costs,
    make_requests,
)

HERE = Path(__file__).resolve().parent
DWELL = 30.0


def matrix(n: int, seed: int) -> np.ndarray:
    """Travel times (s) between ``n`` random points of a 2 km square at 10 m/s."""
    xy = np.random.default_rng(seed).uniform(0.0, 2000.0, (n, 2))
    return np.linalg.norm(xy[:, None] - xy[None], axis=2) / 10.0


def end_time(fleet: Fleet, v: int, stops: list[ScheduledStop], tt: np.ndarray) -> float:
    """Reference: the end of serving ``stops`` in order, inf if a deadline or the capacity breaks."""
    node, t, load = int(fleet.node[v]), float(fleet.time[v]), int(fleet.load[v])
    for s in stops:
        t = max(t + tt[node, s.node], s.early)
        if t > s.due + 1e-9:
            return math.inf
        load += s.delta
        if load > fleet.cap[v]:
            return math.inf
        t += DWELL
        node = s.node
    return t


def brute_force(fleet: Fleet, req, tt: np.ndarray) -> np.ndarray:
    """Cheapest added time of every (vehicle, request) pair by trying every insertion."""
    out = np.full((len(fleet), len(req)), np.inf)
    for v in range(len(fleet)):
        old = fleet.schedule(v)
        base = end_time(fleet, v, old, tt)
        for r in range(len(req)):
            g = int(req.group[r])
            pick = ScheduledStop(int(req.origin[r]), g, float(req.early[r]), float(req.pick_due[r]), r)
            drop = ScheduledStop(int(req.destination[r]), -g, -np.inf, float(req.drop_due[r]), r)
            for i in range(len(old) + 1):
                for j in range(i, len(old) + 1):
                    new = old[:i] + [pick] + old[i:j] + [drop] + old[j:]
                    out[v, r] = min(out[v, r], end_time(fleet, v, new, tt) - base)
    return out


def scenario(seed: int, n_veh: int = 4, n_req: int = 12, n_nodes: int = 15):
    """A fleet with schedules built by the immediate dispatcher, and new requests."""
    rng = np.random.default_rng(seed)
    tt = matrix(n_nodes, seed)
    fleet = Fleet(node=rng.integers(0, n_nodes, n_veh), time=rng.uniform(0, 60, n_veh), load=0,
                  cap=rng.integers(2, 5, n_veh))
    def draw(t0: float, wait: float, alpha: float, beta: float):
        return make_requests(rng.uniform(t0, t0 + 120, n_req), rng.integers(0, n_nodes, n_req),
                             rng.integers(0, n_nodes, n_req), tt, wait, alpha, beta,
                             group=rng.integers(1, 3, n_req))

    InsertionDispatcher().dispatch(fleet, draw(0.0, 400.0, 1.6, 180.0), tt, DWELL)
    req = draw(60.0, 600.0, 2.0, 300.0)
    return fleet, req, tt


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernel_costs_are_the_brute_force_minimum(seed: int) -> None:
    fleet, req, tt = scenario(seed)
    assert fleet.stop_n.sum() >= 8  # schedules to insert into, not empty vehicles
    cost, bi, bj = insertion_costs(fleet, req, tt, DWELL)
    ref = brute_force(fleet, req, tt)
    assert np.isfinite(ref).any() and not np.isfinite(ref).all()  # feasible and infeasible pairs
    np.testing.assert_allclose(np.where(np.isfinite(cost), cost, -1.0), np.where(np.isfinite(ref), ref, -1.0),
                               rtol=1e-12, atol=1e-9)
    assert ((bi >= 0) == np.isfinite(cost)).all() and (bj[bi >= 0] >= bi[bi >= 0]).all()


@pytest.mark.parametrize("seed", [4, 5])
def test_schedules_keep_every_deadline_and_capacity(seed: int) -> None:
    """After immediate insertion of 40 requests into 5 vehicles, every schedule served in order
    meets every deadline and capacity, every accepted request is picked up before it is dropped
    off by the same vehicle, and a rejected one had no feasible vehicle."""
    rng = np.random.default_rng(seed)
    tt = matrix(20, seed)
    fleet = Fleet(node=rng.integers(0, 20, 5), time=0.0, load=0, cap=3)
    req = make_requests(np.sort(rng.uniform(0, 600, 40)), rng.integers(0, 20, 40), rng.integers(0, 20, 40),
                        tt, 300.0, 1.5, 120.0)
    got = InsertionDispatcher().dispatch(fleet, req, tt, DWELL)
    assert (got >= 0).sum() >= 10 and (got < 0).any()
    for v in range(len(fleet)):
        stops = fleet.schedule(v)
        assert end_time(fleet, v, stops, tt) < math.inf
        order = [s.request for s in stops]
        for r in set(order):
            assert got[r] == v and order.count(r) == 2
            k = order.index(r)
            assert stops[k].delta > 0 and stops[order.index(r, k + 1)].delta < 0
    assert fleet.stop_n.sum() == 2 * (got >= 0).sum()


def test_requests_that_no_vehicle_can_serve_are_rejected() -> None:
    """On a line of nodes 100 s apart: a pick-up 300 s away with a 100 s maximum wait, and a group
    larger than the seats, are rejected; a pick-up 100 s away with a 200 s wait is served."""
    x = np.arange(4) * 1000.0
    tt = np.abs(x[:, None] - x[None]) / 10.0
    fleet = Fleet(node=[0], time=0.0, load=0, cap=4)
    far = make_requests([0.0], [3], [2], tt, max_wait=100.0, alpha=1.5, beta=60.0)
    near = make_requests([0.0], [1], [2], tt, max_wait=200.0, alpha=1.5, beta=120.0)
    group = make_requests([0.0], [1], [2], tt, max_wait=200.0, alpha=1.5, beta=60.0, group=[5])
    assert InsertionDispatcher().dispatch(fleet, far, tt, DWELL).tolist() == [-1] and fleet.stop_n[0] == 0
    assert InsertionDispatcher().dispatch(fleet, group, tt, DWELL).tolist() == [-1] and fleet.stop_n[0] == 0
    assert InsertionDispatcher().dispatch(fleet, near, tt, DWELL).tolist() == [0] and fleet.stop_n[0] == 2


def test_two_requests_along_one_way_share_the_vehicle() -> None:
    """Nodes on a line every 100 s: requests 0 -> 3 and 1 -> 2 ride together (the second one's
    stops go inside the first one's, adding only the two dwells)."""
    x = np.arange(4) * 1000.0
    tt = np.abs(x[:, None] - x[None]) / 10.0
    fleet = Fleet(node=[0], time=0.0, load=0, cap=4)
    req = make_requests([0.0, 0.0], [0, 1], [3, 2], tt, 300.0, 2.0, 120.0)
    assert (InsertionDispatcher().dispatch(fleet, req, tt, DWELL) == 0).all()
    assert [(s.node, s.delta) for s in fleet.schedule(0)] == [(0, 1), (1, 1), (2, -1), (3, -1)]
    assert end_time(fleet, 0, fleet.schedule(0), tt) == pytest.approx(300.0 + 4 * DWELL)


def test_batch_assignment_is_the_cheapest_of_all_one_to_one_assignments() -> None:
    rng = np.random.default_rng(11)
    tt = matrix(12, 11)
    fleet = Fleet(node=rng.integers(0, 12, 4), time=0.0, load=0, cap=4)
    req = make_requests(np.zeros(4), rng.integers(0, 12, 4), rng.integers(0, 12, 4), tt, 900.0, 2.0, 300.0)
    cost, _, _ = insertion_costs(fleet, req, tt, DWELL)
    assert np.isfinite(cost).all() and len({tuple(np.argsort(c)) for c in cost.T}) > 1  # choices that compete
    best = min(sum(cost[v, r] for v, r in zip(perm, range(4), strict=True))
               for perm in itertools.permutations(range(4)))
    got = BatchDispatcher().dispatch(fleet, req, tt, DWELL)
    assert (got >= 0).all() and len(set(got)) == 4
    assert sum(cost[got[r], r] for r in range(4)) == pytest.approx(best)


_CUDA_RUN = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_drt_dispatch import scenario, DWELL
from mobsim.modes.drt.dispatch import insertion_costs
fleet, req, tt = scenario(2)
cost, bi, bj = insertion_costs(fleet, req, tt, DWELL, backend="cuda")
print(json.dumps([np.where(np.isfinite(cost), cost, -1.0).tolist(), bi.tolist(), bj.tolist()]))
"""


@pytest.mark.cuda
def test_cuda_kernel_gives_the_cpu_costs_under_the_simulator() -> None:
    pytest.importorskip("numba.cuda")
    from conftest import cudasim_env

    r = subprocess.run([sys.executable, "-c", _CUDA_RUN.format(tests=str(HERE))], capture_output=True,
                       text=True, env=cudasim_env(), timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    cost, bi, bj = (np.array(x) for x in json.loads(r.stdout.strip().splitlines()[-1]))
    fleet, req, tt = scenario(2)
    c_cpu, i_cpu, j_cpu = insertion_costs(fleet, req, tt, DWELL)
    np.testing.assert_array_equal(cost, np.where(np.isfinite(c_cpu), c_cpu, -1.0))
    np.testing.assert_array_equal(bi, i_cpu)
    np.testing.assert_array_equal(bj, j_cpu)


def test_a_schedule_longer_than_the_stop_arrays_grows_them() -> None:
    x = np.arange(6) * 1000.0
    tt = np.abs(x[:, None] - x[None]) / 10.0
    fleet = Fleet(node=[0], time=0.0, load=0, cap=4, max_stops=2)
    req = make_requests([0.0, 0.0, 0.0], [0, 1, 2], [5, 4, 3], tt, 600.0, 3.0, 300.0)
    assert (InsertionDispatcher().dispatch(fleet, req, tt, DWELL) == 0).all()
    assert fleet.stop_node.shape[1] >= 6 and fleet.stop_n[0] == 6
    got = [(s.node, s.delta) for s in fleet.schedule(0)]
    assert got == [(0, 1), (1, 1), (2, 1), (3, -1), (4, -1), (5, -1)]


def test_greedy_gives_each_request_the_nearest_idle_vehicle_as_sumo_does() -> None:
    """SUMO's ``greedy``: in order of request, the idle vehicle that reaches the pick-up first,
    one request each, no pooling; a request without an idle vehicle waits (-1)."""
    from mobsim.modes.drt.dispatch import GreedyDispatcher

    x = np.arange(6) * 1000.0
    tt = np.abs(x[:, None] - x[None]) / 10.0
    fleet = Fleet(node=[0, 5], time=[0.0, 50.0], load=0, cap=[4, 2])
    req = make_requests([10.0, 0.0, 20.0], [4, 1, 2], [5, 2, 3], tt, 60.0, 1.0, 0.0, group=[3, 1, 1])
    got = GreedyDispatcher().dispatch(fleet, req, tt, DWELL)
    # request 1 (earliest) takes vehicle 0 (100 s to node 1; vehicle 1 would need 450 s); request
    # 0's group of 3 does not fit the 2 seats of vehicle 1, the only idle one left, so it waits;
    # request 2 takes vehicle 1, 300 s away although its wait limit is 60 s (SUMO has none)
    assert got.tolist() == [-1, 0, 1]
    assert [(s.node, s.delta) for s in fleet.schedule(0)] == [(1, 1), (2, -1)]
    assert [(s.node, s.delta) for s in fleet.schedule(1)] == [(2, 1), (3, -1)]
