"""The one shortest-path search (mobsim.net.graph) against reference searches on small random
graphs: distances, blocked edges, early exit at targets, and deterministic tie-breaking."""

from __future__ import annotations

import numpy as np
import pytest

from mobsim.net.graph import dijkstra, shortest_paths


def _random_graph(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR ``(indptr, nbr, tails)`` of ``m`` random edges on ``n`` nodes (loops and parallel
    edges included), edges in random order within each node's row."""
    s = rng.integers(n, size=m)
    t = rng.integers(n, size=m)
    order = np.lexsort((rng.random(m), s))
    indptr = np.searchsorted(s[order], np.arange(n + 1)).astype(np.int64)
    return indptr, t[order].astype(np.int64), s[order].astype(np.int64)


def _bellman_ford(n: int, tails: np.ndarray, heads: np.ndarray, w: np.ndarray, src: int) -> np.ndarray:
    """Reference distances: relax every edge until nothing changes."""
    dist = np.full(n, np.inf)
    dist[src] = 0.0
    for _ in range(n):
        new = dist.copy()
        np.minimum.at(new, heads, dist[tails] + w)
        if np.array_equal(new, dist):
            break
        dist = new
    return dist


def _edge_costs(cost: np.ndarray, cidx: np.ndarray | None, on_leave: bool, tails: np.ndarray,
                heads: np.ndarray) -> np.ndarray:
    if cidx is not None:
        return cost[cidx]
    return cost[tails] if on_leave else cost[heads]


@pytest.mark.parametrize("mode", ["edge", "enter", "leave"])
def test_distances_match_a_brute_force_search(mode: str) -> None:
    rng = np.random.default_rng(1)
    for _ in range(60):
        n = int(rng.integers(1, 30))
        indptr, nbr, tails = _random_graph(rng, n, int(rng.integers(0, 4 * n)))
        m = len(nbr)
        # edge costs: several edges may share one entry (as the two directions of a corridor do)
        cidx = rng.integers(m + 1, size=m) if mode == "edge" else None
        cost = rng.uniform(0.5, 10.0, size=m + 1 if mode == "edge" else n)
        w = _edge_costs(cost, cidx, mode == "leave", tails, nbr)
        for src in range(n):
            dist, pred = shortest_paths(indptr, nbr, cost, src, cidx=cidx, on_leave=mode == "leave")
            ref = _bellman_ford(n, tails, nbr, w, src)
            np.testing.assert_allclose(dist, ref, rtol=1e-12)
            # pred is a shortest-path tree: each reached node's predecessor edge is tight
            for v in np.flatnonzero(np.isfinite(dist)):
                if v == src:
                    assert pred[v] == -1
                    continue
                u = pred[v]
                tight = [dist[u] + w[e] for e in range(indptr[u], indptr[u + 1]) if nbr[e] == v]
                assert dist[v] in tight
            assert np.all(pred[~np.isfinite(dist)] == -1)


def test_distances_match_scipy() -> None:
    sp = pytest.importorskip("scipy.sparse")
    csgraph = pytest.importorskip("scipy.sparse.csgraph")
    rng = np.random.default_rng(2)
    for _ in range(30):
        n = int(rng.integers(2, 40))
        indptr, nbr, tails = _random_graph(rng, n, int(rng.integers(1, 5 * n)))
        w = rng.integers(1, 20, size=len(nbr)).astype(np.float64)  # integers: sums are exact
        # scipy adds up parallel edges: give it the cheapest of each
        best: dict[tuple[int, int], float] = {}
        for a, b, c in zip(tails.tolist(), nbr.tolist(), w.tolist(), strict=True):
            best[a, b] = min(c, best.get((a, b), np.inf))
        rows, cols = zip(*best.keys(), strict=True)
        mat = sp.csr_matrix((list(best.values()), (rows, cols)), shape=(n, n))
        ref = csgraph.dijkstra(mat, directed=True)
        for src in range(n):
            dist, _ = shortest_paths(indptr, nbr, w, src, cidx=np.arange(len(nbr)))
            assert np.array_equal(dist, ref[src])


def test_blocked_edges_are_never_used() -> None:
    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(2, 25))
        k = int(rng.integers(1, 3 * n))
        # undirected corridors, both directions share one length and one blocked flag
        a, b = rng.integers(n, size=k), rng.integers(n, size=k)
        length = rng.uniform(1.0, 5.0, size=k)
        blocked = rng.random(k) < 0.3
        src_, dst_ = np.concatenate([a, b]), np.concatenate([b, a])
        eid = np.concatenate([np.arange(k), np.arange(k)])
        order = np.lexsort((dst_, src_))
        nbr, eid, tails = dst_[order], eid[order], src_[order]
        indptr = np.searchsorted(tails, np.arange(n + 1)).astype(np.int64)
        keep = ~blocked[eid]
        for src in range(n):
            dist, pred = shortest_paths(indptr, nbr, length, src, cidx=eid, blocked=blocked, bidx=eid)
            ref = _bellman_ford(n, tails[keep], nbr[keep], length[eid][keep], src)
            np.testing.assert_allclose(dist, ref, rtol=1e-12)
            for v in np.flatnonzero(pred >= 0):
                # some unblocked edge pred[v] -> v is tight
                edges = [e for e in range(indptr[pred[v]], indptr[pred[v] + 1]) if nbr[e] == v and keep[e]]
                assert edges
    # a single blocked edge cuts the only path
    indptr, nbr = np.array([0, 1, 1]), np.array([1])
    dist, pred = shortest_paths(indptr, nbr, np.ones(1), 0, cidx=np.arange(1), blocked=np.array([True]))
    assert dist[1] == np.inf and pred[1] == -1


def test_early_exit_gives_the_targets_full_tree_answers() -> None:
    """Stopping once the targets are settled leaves their distances and predecessors as the full
    search has them (ties included), and clears their flags."""
    rng = np.random.default_rng(4)
    for _ in range(60):
        n = int(rng.integers(1, 40))
        indptr, nbr, _ = _random_graph(rng, n, int(rng.integers(0, 4 * n)))
        cost = rng.integers(1, 4, size=n).astype(np.float64)  # many equal-cost paths
        src = int(rng.integers(n))
        full_d, full_p = shortest_paths(indptr, nbr, cost, src, cidx=None)
        targets = rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)
        dist, pred = shortest_paths(indptr, nbr, cost, src, cidx=None, targets=targets)
        assert np.array_equal(dist[targets], full_d[targets])
        assert np.array_equal(pred[targets], full_p[targets])
        # the kernel clears the flags of the targets it settles: all but the unreachable ones
        flags = np.zeros(n, np.bool_)
        flags[targets] = True
        expected = flags & np.isinf(full_d)
        d2, p2 = np.empty(n), np.empty(n, np.int64)
        dijkstra(src, indptr, nbr, cost, None, False, None, None, flags, len(targets), True, d2, p2)
        assert np.array_equal(flags, expected)
        assert np.array_equal(d2[targets], full_d[targets])


def test_ties_go_to_the_lower_node_index() -> None:
    # 0 -> 3 (1) -> 4 (2) and 0 -> 1 (2) -> 4 (1): node 4 at distance 3 either way; node 3 settles
    # first, node 1 later. The lower index wins with lowest_pred; the first settled without.
    tails = np.array([0, 0, 1, 3])
    heads = np.array([3, 1, 4, 4])
    w = np.array([1.0, 2.0, 1.0, 2.0])
    indptr = np.searchsorted(tails, np.arange(6)).astype(np.int64)
    dist, pred = shortest_paths(indptr, heads, w, 0, cidx=np.arange(4))
    assert dist[4] == 3.0 and pred[4] == 1
    _, pred = shortest_paths(indptr, heads, w, 0, cidx=np.arange(4), lowest_pred=False)
    assert pred[4] == 3


def test_tree_does_not_depend_on_edge_order() -> None:
    """With lowest_pred every node's predecessor is the lowest-index tight one, however the edges
    are ordered within their rows (checked exactly with integer costs)."""
    rng = np.random.default_rng(5)
    for _ in range(40):
        n = int(rng.integers(2, 30))
        indptr, nbr, tails = _random_graph(rng, n, int(rng.integers(1, 5 * n)))
        cost = rng.integers(1, 3, size=n).astype(np.float64)
        src = int(rng.integers(n))
        dist, pred = shortest_paths(indptr, nbr, cost, src, cidx=None)
        for v in np.flatnonzero(np.isfinite(dist)):
            if v != src:
                tight = [u for u, h in zip(tails.tolist(), nbr.tolist(), strict=True)
                         if h == v and dist[u] + cost[v] == dist[v]]
                assert pred[v] == min(tight)
        # shuffle the edges within each row: same tree
        perm = np.concatenate([rng.permutation(np.arange(indptr[u], indptr[u + 1])) for u in range(n)])
        d2, p2 = shortest_paths(indptr, nbr[perm], cost, src, cidx=None)
        assert np.array_equal(dist, d2) and np.array_equal(pred, p2)


def test_bad_arguments_are_refused() -> None:
    indptr, nbr = np.array([0, 1, 1]), np.array([1])
    with pytest.raises(ValueError, match="out of range"):
        shortest_paths(indptr, nbr, np.ones(2), 2, cidx=None)
    with pytest.raises(ValueError, match="non-negative"):
        shortest_paths(indptr, nbr, np.array([1.0, -1.0]), 0, cidx=None)
    with pytest.raises(ValueError, match="per node"):
        shortest_paths(indptr, nbr, np.ones(3), 0, cidx=None)
    with pytest.raises(ValueError, match="cidx"):
        shortest_paths(indptr, nbr, np.ones(1), 0, cidx=np.array([1]))
    with pytest.raises(ValueError, match="indptr"):
        shortest_paths(np.array([0, 2, 1]), nbr, np.ones(2), 0, cidx=None)
