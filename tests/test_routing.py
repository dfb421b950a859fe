"""Routing: forward trees (per origin) and backward trees (per destination) give shortest routes."""

from __future__ import annotations

import numpy as np
import pytest

from mobsim.demand.routing import free_flow_cost, route_trips, shortest_path_tree
from mobsim.demand.trips import Trip
from mobsim.errors import InputError
from mobsim.net import generators
from mobsim.net.compile import compile_network


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


@pytest.mark.parametrize("defer", [False, True])
def test_unreachable_is_an_error_or_dropped(defer: bool) -> None:
    """Routed now or only checked (``defer``: routed later, when due), a trip whose destination
    cannot be reached is an error, or dropped."""
    net = generators.single_link()
    cn = compile_network(net)
    trips = [Trip("ok", "o-a", "b-d", 0.0), Trip("back", "b-d", "o-a", 0.0)]
    with pytest.raises(InputError, match="trip 'back'.*cannot be reached"):
        route_trips(cn, trips, defer=defer)
    route_links, rs, re_, dropped = route_trips(cn, trips, unreachable="drop", defer=defer)
    assert dropped == [1] and re_[1] == rs[1]
    if defer:  # the placeholder: origin and destination
        assert [cn.link_ids[x] for x in route_links[rs[0]:re_[0]]] == ["o-a", "b-d"]


def test_reachability_is_the_transitive_closure() -> None:
    """:func:`reachable` (strongly connected components, then a search over the graph of
    components) against the transitive closure of random directed graphs: sparse ones with many
    components, dense ones with few, self-loops and repeated movements included."""
    from types import SimpleNamespace

    from mobsim.net.reachability import reachable

    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        m = int(rng.integers(0, 3 * n))
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        order = np.argsort(src, kind="stable")
        nxt = dst[order].astype(np.int64)
        start = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=start[1:])
        closure = np.eye(n, dtype=bool)
        closure[src, dst] = True
        for k in range(n):
            closure |= closure[:, [k]] & closure[[k], :]
        o, d = rng.integers(0, n, 60), rng.integers(0, n, 60)
        cn = SimpleNamespace(arrays=SimpleNamespace(link_next_start=start, link_next=nxt))
        assert np.array_equal(reachable(cn, o, d), closure[o, d])


def test_reachability_agrees_with_routing_on_a_real_network() -> None:
    """On SUMO's OpenStreetMap network of the DRT demo (fringe links that lead nowhere, or that
    nothing leads to), every link pair that routing connects is reachable, and no other."""
    pytest.importorskip("sumolib")
    sumo = pytest.importorskip("sumo")
    from pathlib import Path

    from mobsim.demand.routing import shortest_routes
    from mobsim.interop.sumo_net import read_sumo_network
    from mobsim.net.reachability import reachable

    path = Path(sumo.SUMO_HOME) / "tools" / "game" / "DRT" / "osm.net.xml"
    if not path.is_file():
        pytest.skip("DRT/osm.net.xml is not shipped with this eclipse-sumo wheel")
    net = read_sumo_network(path)
    cn = compile_network(net)
    rng = np.random.default_rng(1)
    o = rng.integers(0, cn.n_links, 4000)
    d = rng.integers(0, cn.n_links, 4000)
    _, _, length = shortest_routes(cn, o, d, free_flow_cost(cn))
    ok = reachable(cn, o, d)
    assert np.array_equal(ok, length > 0)
    assert 0 < ok.sum() < len(ok)


@pytest.mark.parametrize("few", ["destinations", "origins"])
def test_early_stop_and_threads_give_the_full_trees_routes(few: str) -> None:
    """Trees stop once their trips' targets are settled, and chunks of trees run on threads: the
    routes are link for link those of full trees (a uniform grid has many equal-cost routes, so
    the tie-breaking is exercised), with 1 or 2 threads."""
    import numba

    from mobsim.demand.routing import _extract, reverse_tree, shortest_routes

    net = generators.grid(6, 6, block_length=100.0, lanes=1, signalised=False)
    cn = compile_network(net)
    a = cn.arrays
    cost = free_flow_cost(cn)
    rng = np.random.default_rng(7)
    n = cn.n_links
    many = rng.integers(n, size=400)
    few_ = rng.choice(n, size=40, replace=False)[rng.integers(40, size=400)]
    o, d = (many, few_) if few == "destinations" else (few_, many)
    dist = np.empty(n)
    tree = np.empty(n, np.int64)
    buf = np.empty(n + 1, np.int64)
    from mobsim.demand.routing import reverse_graph

    prev_start, prv = reverse_graph(a.link_next_start, a.link_next)
    expected = []
    for x, y in zip(o, d, strict=True):
        if few == "destinations":
            reverse_tree(int(y), prev_start, prv, cost, dist, tree)
            r = [int(x)]
            while r[-1] != y and tree[r[-1]] >= 0:
                r.append(int(tree[r[-1]]))
            expected.append(r if r[-1] == y else [])
        else:
            shortest_path_tree(int(x), a.link_next_start, a.link_next, cost, dist, tree)
            m = _extract(tree, int(x), int(y), buf, 0)
            expected.append(buf[:m].tolist())
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            flat, start, length = shortest_routes(cn, o, d, cost)
            got = [flat[start[k]:start[k] + length[k]].tolist() for k in range(len(o))]
            assert got == expected
    finally:
        numba.set_num_threads(before)


def test_trips_with_the_same_route_share_the_pool() -> None:
    """The route pool holds each distinct route once; every trip still reads its own route."""
    net = generators.grid(3, 3, block_length=100.0, lanes=1, signalised=False)
    cn = compile_network(net)
    ids = cn.link_ids
    rng = np.random.default_rng(5)
    pairs = [(ids[int(a)], ids[int(b)]) for a, b in rng.integers(len(ids), size=(6, 2)) if a != b]
    trips = [Trip(f"t{k}", *pairs[k % len(pairs)], 0.0) for k in range(60)]
    fixed = route_trips(cn, trips[:len(pairs)])  # each pair once
    route_links, rs, re_, dropped = route_trips(cn, trips)
    assert not dropped
    assert len(route_links) == len(fixed[0])  # 60 trips, as many pool entries as the distinct routes
    for k, tr in enumerate(trips):
        q = pairs.index((tr.origin, tr.destination))
        assert route_links[rs[k]:re_[k]].tolist() == fixed[0][fixed[1][q]:fixed[2][q]].tolist()
