"""Routing: forward trees (per origin) and backward trees (per destination) give shortest routes."""

from __future__ import annotations

import numpy as np
import pytest

from mobsim import generators
from mobsim.compile import compile_network
from mobsim.errors import InputError
from mobsim.routing import free_flow_cost, route_trips, shortest_path_tree
from mobsim.trips import Trip


def _route_costs(cn, trips, route_links, rs, re_):
    cost = free_flow_cost(cn)
    a = cn.arrays
    out = []
    for k, _ in enumerate(trips):
        r = route_links[rs[k]:re_[k]]
        for x, y in zip(r[:-1], r[1:], strict=True):
            assert y in a.link_next[a.link_next_start[x]:a.link_next_start[x + 1]]
        out.append(float(cost[r[1:]].sum()))
    return np.array(out)


@pytest.mark.parametrize("few", ["destinations", "origins"])
def test_routes_are_shortest_either_way(few: str) -> None:
    net = generators.grid(4, 4, block_length=150.0, lanes=1, signalised=False)
    cn = compile_network(net)
    ids = cn.link_ids
    rng = np.random.default_rng(3)
    pool = rng.choice(len(ids), size=3, replace=False)
    trips = []
    for k in range(60):
        o, d = int(rng.integers(len(ids))), int(pool[k % 3])
        if few == "origins":
            o, d = d, o
        if o != d:
            trips.append(Trip(f"t{k}", ids[o], ids[d], 0.0))
    route_links, rs, re_, dropped = route_trips(cn, trips)
    assert not dropped
    got = _route_costs(cn, trips, route_links, rs, re_)
    dist = np.empty(cn.n_links)
    pred = np.empty(cn.n_links, np.int64)
    a = cn.arrays
    for k, tr in enumerate(trips):
        shortest_path_tree(cn.link_index[tr.origin], a.link_next_start, a.link_next, free_flow_cost(cn),
                           dist, pred)
        assert got[k] == pytest.approx(dist[cn.link_index[tr.destination]], rel=1e-12)
        assert route_links[rs[k]] == cn.link_index[tr.origin]
        assert route_links[re_[k] - 1] == cn.link_index[tr.destination]


def test_unreachable_is_an_error_or_dropped() -> None:
    net = generators.single_link()
    cn = compile_network(net)
    trips = [Trip("ok", "o-a", "b-d", 0.0), Trip("back", "b-d", "o-a", 0.0)]
    with pytest.raises(InputError, match="cannot be reached"):
        route_trips(cn, trips)
    _, rs, re_, dropped = route_trips(cn, trips, unreachable="drop")
    assert dropped == [1] and re_[1] == rs[1]
