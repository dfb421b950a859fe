"""Shortest paths on a directed graph in CSR form: one numba Dijkstra (on the binary heap of
:mod:`mobsim.net.heap`) for every search in mobsim.

The graph is ``indptr`` (n + 1 offsets) and ``nbr`` (one head node per edge): the edges leaving
node ``u`` are ``indptr[u]:indptr[u + 1]``. The costs are one array, read per edge through an
index or per node, so each graph keeps the costs it has without a per-edge copy:

* the road link graph (a node is a link; :mod:`mobsim.demand.routing`): node costs, the traversal
  time (s) of a link, paid on entering it (``cidx=None``, ``on_leave=False``); the backward search
  runs on the reverse graph, where a link's time is paid on leaving it (``on_leave=True``);
* the drone corridor graph (:mod:`mobsim.modes.drones.flights`): each corridor is two directed
  edges, and ``cidx`` maps an edge to its corridor's length (m); corridors that cross an active
  geofence are blocked through the same index.

Distances are in the units of the costs, which must be non-negative (Dijkstra).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mobsim.net.heap import heap_pop, heap_push


@njit(cache=True, nogil=True)
def dijkstra(src, indptr, nbr, cost, cidx, on_leave, blocked, bidx, target, n_targets, lowest_pred,
             dist, pred):
    """Dijkstra from node ``src``; fills ``dist`` (the units of ``cost``; inf: not reached) and
    ``pred`` (the node before each node on its shortest path; -1: none, and for ``src``).

    Edge ``e``, from ``u`` to ``v = nbr[e]``, costs ``cost[cidx[e]]``; with ``cidx`` None,
    ``cost`` is per node and the edge costs ``cost[v]``, or ``cost[u]`` with ``on_leave``. It is
    skipped where ``blocked[bidx[e]]`` (``blocked`` None: no edge is). numba compiles a variant per
    None argument, so a search pays nothing for the options it does not use (the road searches
    ran as fast as their own copies did). With ``n_targets`` > 0 the search stops once the nodes
    flagged in ``target`` are all settled, and clears their flags: ``dist`` and ``pred`` of the
    targets are final then, other nodes may hold upper bounds (``target`` may be empty when
    ``n_targets`` is 0). Nodes settle in the order of (distance, index), so the search is
    deterministic.

    Ties between equal-cost paths: with ``lowest_pred`` a node's predecessor is the lowest-index
    node it is reached from at its distance, whatever the order of the edges; otherwise it is the
    first one settled. With positive costs every node that could be a settled node's predecessor,
    at equal cost too, has settled before it: with ``lowest_pred`` the paths to the targets of an
    early exit are those of the full tree, ties included.
    """
    n = dist.shape[0]
    for v in range(n):
        dist[v] = np.inf
        pred[v] = -1
    # Each settled node pushes at most once per edge, plus the source: the heap never overflows.
    cap = nbr.shape[0] + 2
    hk = np.empty(cap, np.float64)
    hv = np.empty(cap, np.int64)
    dist[src] = 0.0
    hn = heap_push(hk, hv, 0, 0.0, src)
    while hn > 0:
        d, u, hn = heap_pop(hk, hv, hn)
        if d > dist[u]:
            continue  # a stale entry: u settled at a lower distance already
        if n_targets > 0 and target[u]:
            target[u] = False
            n_targets -= 1
            if n_targets == 0:
                return
        if cidx is None:
            du = d + cost[u]  # the cost of leaving u: one addition for all its edges
        for e in range(indptr[u], indptr[u + 1]):
            if blocked is not None:
                if blocked[bidx[e]]:
                    continue
            v = nbr[e]
            if cidx is None:
                if on_leave:
                    nd = du
                else:
                    nd = d + cost[v]
            else:
                nd = d + cost[cidx[e]]
            if nd < dist[v] or (lowest_pred and nd == dist[v] and pred[v] > u):
                # Push only on a strict improvement: an equal distance changes the predecessor
                # only, and the entry already queued for v settles it at that distance.
                if nd < dist[v]:
                    hn = heap_push(hk, hv, hn, nd, v)
                dist[v] = nd
                pred[v] = u


def shortest_paths(indptr: np.ndarray, nbr: np.ndarray, cost: np.ndarray, src: int, *,
                   cidx: np.ndarray | None, on_leave: bool = False, blocked: np.ndarray | None = None,
                   bidx: np.ndarray | None = None, targets: np.ndarray | None = None,
                   lowest_pred: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """:func:`dijkstra` from node ``src`` with its arguments checked (numba does not check
    bounds): ``(dist, pred)``.

    Edge ``e`` costs ``cost[cidx[e]]``; with ``cidx=None`` ``cost`` is per node, paid on entering
    a node (or on leaving it with ``on_leave``). ``cidx`` has no default: a cost array per edge and
    one per node can have the same length. ``blocked`` (bool) is per edge unless ``bidx`` maps the
    edges to its entries; ``targets`` (node indices) stop the search once they are all settled.
    Distances are in the units of ``cost`` (inf: not reached); ``pred`` is -1 for the source and
    unreached nodes.
    """
    indptr = np.ascontiguousarray(indptr, np.int64)
    nbr = np.ascontiguousarray(nbr, np.int64)
    cost = np.ascontiguousarray(cost, np.float64)
    n = len(indptr) - 1
    m = len(nbr)
    if n < 1 or indptr[0] != 0 or indptr[-1] != m or np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must rise from 0 to the number of edges")
    if m and (nbr.min() < 0 or nbr.max() >= n):
        raise ValueError("nbr holds a node index out of range")
    if not 0 <= src < n:
        raise ValueError(f"source node {src} out of range (0..{n - 1})")
    if cidx is None:
        if len(cost) != n:
            raise ValueError(f"with cidx=None cost is per node ({n}), not {len(cost)} entries")
        used = cost
    else:
        cidx = np.ascontiguousarray(cidx, np.int64)
        _check_index(cidx, m, len(cost), "cidx")
        used = cost[cidx]
    if not np.all(used >= 0):  # also refuses NaN
        raise ValueError("edge costs must be non-negative")
    if blocked is None:
        bidx = None  # one compiled variant for every unmasked call
    else:
        blocked = np.ascontiguousarray(blocked, np.bool_)
        bidx = np.arange(m, dtype=np.int64) if bidx is None else np.ascontiguousarray(bidx, np.int64)
        _check_index(bidx, m, len(blocked), "bidx")
    target = np.zeros(n, np.bool_)
    if targets is not None and len(targets):
        t = np.asarray(targets, np.int64)
        if t.min() < 0 or t.max() >= n:
            raise ValueError("a target node is out of range")
        target[t] = True
    dist = np.empty(n, np.float64)
    pred = np.empty(n, np.int64)
    dijkstra(int(src), indptr, nbr, cost, cidx, bool(on_leave), blocked, bidx, target, int(target.sum()),
             bool(lowest_pred), dist, pred)
    return dist, pred


def _check_index(idx: np.ndarray, m: int, size: int, name: str) -> None:
    """Refuse an index array that is not one entry per edge into an array of ``size`` entries
    (numba does not check bounds)."""
    if len(idx) != m:
        raise ValueError(f"{name} must have one entry per edge ({m}), not {len(idx)}")
    if m and (idx.min() < 0 or idx.max() >= size):
        raise ValueError(f"{name} points outside its array")
