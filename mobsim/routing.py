"""Shortest-path routing on the compiled link graph (numba Dijkstra with a binary heap).

A route is a sequence of link indices in which each link can be entered from the previous one by a
movement (turn restrictions are honoured). The cost of a route is the sum of the traversal times
(s) of every link after the origin; by default the free-flow time ``length / speed``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .compile import CompiledNetwork
from .errors import InputError
from .trips import Trip


@njit(cache=True)
def _heap_push(hk, hv, n, key, val):
    i = n
    hk[i] = key
    hv[i] = val
    while i > 0:
        p = (i - 1) // 2
        if hk[p] < hk[i] or (hk[p] == hk[i] and hv[p] <= hv[i]):
            break
        hk[p], hk[i] = hk[i], hk[p]
        hv[p], hv[i] = hv[i], hv[p]
        i = p
    return n + 1


@njit(cache=True)
def _heap_pop(hk, hv, n):
    key = hk[0]
    val = hv[0]
    n -= 1
    hk[0] = hk[n]
    hv[0] = hv[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and (hk[c + 1] < hk[c] or (hk[c + 1] == hk[c] and hv[c + 1] < hv[c])):
            c += 1
        if hk[i] < hk[c] or (hk[i] == hk[c] and hv[i] <= hv[c]):
            break
        hk[c], hk[i] = hk[i], hk[c]
        hv[c], hv[i] = hv[i], hv[c]
        i = c
    return key, val, n


@njit(cache=True)
def shortest_path_tree(src, next_start, nxt, cost, dist, pred):
    """Dijkstra from link ``src`` over the link graph; fills ``dist`` (s) and ``pred`` (-1: none).

    Ties are broken by the lower link index, so the tree is deterministic.
    """
    n = dist.shape[0]
    for e in range(n):
        dist[e] = np.inf
        pred[e] = -1
    cap = nxt.shape[0] + 2
    hk = np.empty(cap, np.float64)
    hv = np.empty(cap, np.int64)
    dist[src] = 0.0
    hn = _heap_push(hk, hv, 0, 0.0, src)
    while hn > 0:
        d, u, hn = _heap_pop(hk, hv, hn)
        if d > dist[u]:
            continue
        for q in range(next_start[u], next_start[u + 1]):
            w = nxt[q]
            nd = d + cost[w]
            if nd < dist[w] or (nd == dist[w] and pred[w] > u):
                if nd < dist[w]:
                    hn = _heap_push(hk, hv, hn, nd, w)
                dist[w] = nd
                pred[w] = u


@njit(cache=True)
def _extract(pred, src, dst, out, start):
    """Write the route src..dst into ``out[start:]``; returns its length (0 if unreachable)."""
    if src == dst:
        out[start] = src
        return 1
    if pred[dst] < 0:
        return 0
    n = 1
    e = dst
    while e != src:
        e = pred[e]
        n += 1
    e = dst
    for k in range(n - 1, -1, -1):
        out[start + k] = e
        if k > 0:
            e = pred[e]
    return n


def free_flow_cost(cn: CompiledNetwork) -> np.ndarray:
    """Free-flow traversal time of every link (s)."""
    a = cn.arrays
    return a.link_len / a.link_speed


def route_trips(cn: CompiledNetwork, trips: list[Trip], *, cost: np.ndarray | None = None,
                unreachable: str = "error", source: str = "demand"
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Routes for ``trips``: ``(route_links, route_start, route_end, dropped)``.

    Trips with a given route are checked link by link. ``unreachable="error"`` raises
    :class:`InputError` for a destination that cannot be reached; ``"drop"`` lists those trips
    (by position) in ``dropped`` and gives them an empty route.
    """
    a = cn.arrays
    lidx = cn.link_index
    if cost is None:
        cost = free_flow_cost(cn)
    n = len(trips)
    route_start = np.zeros(n, np.int64)
    route_end = np.zeros(n, np.int64)
    chunks: list[np.ndarray] = []
    total = 0
    dropped: list[int] = []
    by_origin: dict[int, list[int]] = {}
    fixed: dict[int, np.ndarray] = {}
    for k, tr in enumerate(trips):
        o = lidx[tr.origin]
        if tr.route:
            r = np.array([lidx[x] for x in tr.route], np.int64)
            if r[0] != o or r[-1] != lidx[tr.destination]:
                raise InputError(f"route of trip '{tr.id}' does not start at its origin and end at its "
                                 "destination", source=source, element=f"trip '{tr.id}'",
                                 fix="make the route's first and last links the origin and destination")
            for x, y in zip(r[:-1], r[1:], strict=True):
                succ = a.link_next[a.link_next_start[x]:a.link_next_start[x + 1]]
                if y not in succ:
                    raise InputError(
                        f"route of trip '{tr.id}' goes from link '{cn.link_ids[x]}' to "
                        f"'{cn.link_ids[y]}', but no movement connects them", source=source,
                        element=f"trip '{tr.id}'", fix="correct the route or add the movement")
            fixed[k] = r
        else:
            by_origin.setdefault(o, []).append(k)
    n_links = cn.n_links
    dist = np.empty(n_links, np.float64)
    pred = np.empty(n_links, np.int64)
    buf = np.empty(n_links, np.int64)
    routes: list[np.ndarray | None] = [None] * n
    for k, r in fixed.items():
        routes[k] = r
    for o in sorted(by_origin):
        shortest_path_tree(o, a.link_next_start, a.link_next, cost, dist, pred)
        for k in by_origin[o]:
            d = lidx[trips[k].destination]
            m = _extract(pred, o, d, buf, 0)
            if m == 0:
                if unreachable == "drop":
                    dropped.append(k)
                    routes[k] = np.zeros(0, np.int64)
                    continue
                raise InputError(
                    f"trip '{trips[k].id}': destination link '{trips[k].destination}' cannot be reached "
                    f"from origin link '{trips[k].origin}'", source=source, element=f"trip '{trips[k].id}'",
                    fix="check the movements between them, or set demand.unreachable = \"drop\" to drop "
                        "such trips (they are reported)")
            routes[k] = buf[:m].copy()
    for k in range(n):
        r = routes[k]
        route_start[k] = total
        total += len(r)
        route_end[k] = total
        chunks.append(r)
    route_links = np.concatenate(chunks).astype(np.int32) if chunks else np.zeros(0, np.int32)
    return route_links, route_start.astype(np.int32), route_end.astype(np.int32), dropped
