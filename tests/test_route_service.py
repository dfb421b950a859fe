"""The route service every mode shares (``mobsim/demand/route_service.py``): the road's routes
on request, travel times that add up, unreachable pairs, and the service handed to modes."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_sim, random_grid_trips
from mobsim.demand.route_service import RouteService
from mobsim.errors import InputError
from mobsim.net import generators
from mobsim.net.compile import compile_network


def _service() -> RouteService:
    net = generators.grid(rows=3, cols=3, block_length=100.0, lanes=1, signalised=False)
    return RouteService(compile_network(net))


def test_routes_are_connected_and_travel_times_add_up() -> None:
    rs = _service()
    a = rs.cn.arrays
    rng = np.random.default_rng(4)
    o = rng.integers(0, rs.n_links, 40)
    d = rng.integers(0, rs.n_links, 40)
    flat, start, length = rs.routes(o, d)
    cost = rs.free_flow_cost()
    tt = rs.travel_times(o, d)
    for k in range(40):
        r = flat[start[k]:start[k] + length[k]]
        if length[k] == 0:
            assert np.isinf(tt[k])
            continue
        assert r[0] == o[k] and r[-1] == d[k]
        for u, v in zip(r[:-1], r[1:], strict=True):
            assert v in a.link_next[a.link_next_start[u]:a.link_next_start[u + 1]]
        assert tt[k] == pytest.approx(cost[r].sum(), rel=1e-12)
    assert np.isfinite(tt).sum() > 30


def test_a_cost_changes_the_route_and_bad_input_is_refused() -> None:
    rs = _service()
    o, d = np.array([0]), np.array([rs.n_links - 1])
    flat, start, length = rs.routes(o, d)
    first = flat[start[0]:start[0] + length[0]]
    cost = rs.free_flow_cost().copy()
    cost[first[1:-1]] *= 100  # the links in between get slow
    flat2, start2, length2 = rs.routes(o, d, cost)
    assert not np.array_equal(first, flat2[start2[0]:start2[0] + length2[0]])
    with pytest.raises(ValueError, match="shape"):
        rs.routes(o, d, cost[:-1])
    with pytest.raises(InputError, match="unknown link"):
        rs.link("nowhere")


def test_the_simulation_routes_through_its_service() -> None:
    net = generators.grid(rows=2, cols=2, block_length=150.0, lanes=1, signalised=False)
    sim = make_sim(net, random_grid_trips(net, 20, 30.0, np.random.default_rng(1)), sim__end=60.0)
    assert isinstance(sim.route_service, RouteService) and sim.route_service.cn is sim.cn
    calls = []
    real = sim.route_service.routes
    sim.route_service.routes = lambda *a: calls.append(1) or real(*a)
    sim.step(20)
    sim.reroute()
    assert calls == [1]
