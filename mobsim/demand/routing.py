"""Shortest-path routing on the compiled link graph (the numba Dijkstra of :mod:`mobsim.net.graph`).

A route is a sequence of link indices in which each link can be entered from the previous one by a
movement (turn restrictions are honoured). The cost of a route is the sum of the traversal times
(s) of every link after the origin; by default the free-flow time ``length / speed``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from mobsim.demand.trips import Trip
from mobsim.errors import InputError
from mobsim.net.compile import CompiledNetwork
from mobsim.net.graph import dijkstra
from mobsim.net.reachability import reachable


@njit(cache=True)
def shortest_path_tree(src, next_start, nxt, cost, dist, pred):
    """Dijkstra from link ``src`` over the link graph; fills ``dist`` (s) and ``pred`` (-1: none).

    Ties are broken by the lower link index, so the tree is deterministic.
    """
    _forward(src, next_start, nxt, cost, dist, pred, np.zeros(0, np.bool_), 0)


@njit(cache=True, nogil=True)
def _forward(src, next_start, nxt, cost, dist, pred, target, n_targets):
    """:func:`mobsim.net.graph.dijkstra` from link ``src``, where an edge costs the traversal time
    of the link it enters; with ``n_targets`` > 0 it stops once the links flagged in ``target``
    are all settled (the routes to them are those of the full tree, ties included)."""
    dijkstra(src, next_start, nxt, cost, None, False, None, None, target, n_targets, True, dist, pred)


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


@njit(cache=True)
def reverse_tree(dst, prev_start, prv, cost, dist, succ):
    """Backward Dijkstra to link ``dst``: ``dist[e]`` is the time (s) from the end of link ``e``
    to the end of ``dst``, ``succ[e]`` the next link on that shortest route (-1: none).
    Ties are broken by the lower successor index."""
    _backward(dst, prev_start, prv, cost, dist, succ, np.zeros(0, np.bool_), 0)


@njit(cache=True, nogil=True)
def _backward(dst, prev_start, prv, cost, dist, succ, target, n_targets):
    """:func:`reverse_tree`, stopping once the ``n_targets`` links flagged in ``target`` are
    settled (see :func:`_forward`): the forward search on the predecessor graph, where an edge
    from link ``e`` to a predecessor costs the traversal time of ``e``, the link it leaves."""
    dijkstra(dst, prev_start, prv, cost, None, True, None, None, target, n_targets, True, dist, succ)


@njit(cache=True, nogil=True)
def _flag_group(key, other, k, target):
    """Flag in ``target`` the links ``other[k:g]`` of the run of equal ``key`` that starts at ``k``
    (one tree's trips); returns ``(g, number of distinct links flagged)``."""
    n = key.shape[0]
    nt = 0
    g = k
    while g < n and key[g] == key[k]:
        if not target[other[g]]:
            target[other[g]] = True
            nt += 1
        g += 1
    return g, nt


@njit(cache=True, nogil=True)
def route_batch(origins, dests, next_start, nxt, prev_start, prv, cost, by_dest):
    """Shortest routes for trips sorted by origin (or by destination with ``by_dest``):
    ``(flat, start, length)``, length 0 = unreachable. One Dijkstra tree per distinct origin, or
    one backward tree per distinct destination, whichever there are fewer of."""
    n = origins.shape[0]
    n_links = next_start.shape[0] - 1
    dist = np.empty(n_links, np.float64)
    pred = np.empty(n_links, np.int64)
    target = np.zeros(n_links, np.bool_)
    buf = np.empty(n_links + 1, np.int64)
    cap = max(16, 8 * n)
    flat = np.empty(cap, np.int64)
    start = np.zeros(n, np.int64)
    length = np.zeros(n, np.int64)
    used = 0
    last = -1
    for k in range(n):
        o = origins[k]
        d = dests[k]
        m = 0
        if by_dest:
            if d != last:
                # The group of trips to d: the tree stops once all their origins are settled.
                g, nt = _flag_group(dests, origins, k, target)
                _backward(d, prev_start, prv, cost, dist, pred, target, nt)
                target[origins[k:g]] = False
                last = d
            if o == d or pred[o] >= 0:
                e = o
                buf[0] = e
                m = 1
                while e != d:
                    e = pred[e]
                    buf[m] = e
                    m += 1
        else:
            if o != last:
                g, nt = _flag_group(origins, dests, k, target)
                _forward(o, next_start, nxt, cost, dist, pred, target, nt)
                target[dests[k:g]] = False
                last = o
            m = _extract(pred, o, d, buf, 0)
        if used + m > cap:
            while used + m > cap:
                cap *= 2
            grown = np.empty(cap, np.int64)
            grown[:used] = flat[:used]
            flat = grown
        flat[used:used + m] = buf[:m]
        start[k] = used
        length[k] = m
        used += m
    return flat[:used], start, length


def reverse_graph(next_start: np.ndarray, nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predecessor CSR ``(prev_start, prev)`` of the link successor graph."""
    n = len(next_start) - 1
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(next_start))
    order = np.lexsort((src, nxt))
    prev_start = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(nxt, minlength=n), out=prev_start[1:])
    return prev_start, src[order].astype(np.int64)


def _reverse_of(cn: CompiledNetwork) -> tuple[np.ndarray, np.ndarray]:
    """:func:`reverse_graph` of ``cn``, built once per network (routing when trips are due calls
    :func:`shortest_routes` every few seconds of simulated time)."""
    rev = cn.__dict__.get("_reverse")
    if rev is None:
        rev = reverse_graph(cn.arrays.link_next_start, cn.arrays.link_next)
        cn.__dict__["_reverse"] = rev
    return rev


def shortest_routes(cn: CompiledNetwork, origins: np.ndarray, dests: np.ndarray,
                    cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest routes (link indices) from ``origins[k]`` to ``dests[k]`` under link costs ``cost`` (s).

    Returns ``(flat, start, length)`` in the order of the input: route k is
    ``flat[start[k]:start[k] + length[k]]``; length 0 means unreachable. One forward tree per
    distinct origin, or one backward tree per distinct destination, whichever there are fewer of.
    """
    a = cn.arrays
    origins = np.asarray(origins, np.int64)
    dests = np.asarray(dests, np.int64)
    by_dest = len(np.unique(dests)) < len(np.unique(origins))
    order = np.lexsort((origins, dests)) if by_dest else np.lexsort((dests, origins))
    prev_start, prv = _reverse_of(cn)
    o_sorted, d_sorted = origins[order], dests[order]
    cost = np.ascontiguousarray(cost, np.float64)
    # Chunks of whole trees (trips of one origin, or of one destination) run on threads
    # (route_batch releases the GIL); the routes do not depend on the split.
    key = d_sorted if by_dest else o_sorted
    bounds = _chunk_bounds(key, numba.get_num_threads())

    def batch(c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = bounds[c], bounds[c + 1]
        return route_batch(o_sorted[lo:hi], d_sorted[lo:hi], a.link_next_start, a.link_next, prev_start, prv,
                           cost, by_dest)

    if len(bounds) > 2:
        with ThreadPoolExecutor(len(bounds) - 1) as pool:
            parts = list(pool.map(batch, range(len(bounds) - 1)))
    else:
        parts = [batch(0)]
    offsets = np.cumsum([0] + [len(f) for f, _, _ in parts])
    flat = np.concatenate([f for f, _, _ in parts])
    st = np.concatenate([s + off for (_, s, _), off in zip(parts, offsets[:-1], strict=True)])
    ln = np.concatenate([x for _, _, x in parts])
    start = np.empty_like(st)
    length = np.empty_like(ln)
    start[order] = st
    length[order] = ln
    return flat, start, length


#: Fewest trees per routing thread (a thread costs more than a few trees).
MIN_TREES_PER_THREAD = 16


def _chunk_bounds(key: np.ndarray, threads: int) -> list[int]:
    """Split points of the sorted ``key`` into at most ``threads`` chunks of about equal numbers
    of distinct keys (trees), never inside a run of equal keys."""
    n = len(key)
    if n == 0:
        return [0, 0]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    chunks = max(1, min(threads, len(starts) // MIN_TREES_PER_THREAD))
    picks = [int(starts[(c * len(starts)) // chunks]) for c in range(chunks)]
    return [*picks, n]


def free_flow_cost(cn: CompiledNetwork) -> np.ndarray:
    """Free-flow traversal time of every link (s)."""
    a = cn.arrays
    return a.link_len / a.link_speed


def route_trips(cn: CompiledNetwork, trips: list[Trip], *, cost: np.ndarray | None = None,
                unreachable: str = "error", source: str = "demand", defer: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Routes for ``trips``: ``(route_links, route_start, route_end, dropped)``; trips with the
    same route share its entries in ``route_links``.

    Trips with a given route are checked link by link. ``unreachable="error"`` raises
    :class:`InputError` for a destination that cannot be reached; ``"drop"`` lists those trips
    (by position) in ``dropped`` and gives them an empty route. With ``defer`` the trips without
    a route are only checked for reachability and get the two-entry placeholder ``[origin,
    destination]`` (``[origin]`` where they are the same link): the caller routes them later,
    when they are due (routing 10,000 trips here that are routed again when due cost 0.6 s of
    a 6 s run).
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
    routes: list[np.ndarray | None] = [None] * n
    for k, r in fixed.items():
        routes[k] = r
    free = [k for o in sorted(by_origin) for k in by_origin[o]]
    if free:
        ks = np.asarray(free, np.int64)
        origins = np.array([lidx[trips[k].origin] for k in free], np.int64)
        dests = np.array([lidx[trips[k].destination] for k in free], np.int64)
        if defer:
            ok = reachable(cn, origins, dests)
            lengths = np.where(ok, np.where(origins == dests, 1, 2), 0)
            starts = 2 * np.arange(len(ks), dtype=np.int64)
            flat = np.stack([origins, dests], axis=1).reshape(-1)
        else:
            flat, starts, lengths = shortest_routes(cn, origins, dests, cost)
        bad = ks[lengths == 0].tolist()
        if bad and unreachable != "drop":
            tr = trips[min(bad)]
            raise InputError(
                f"trip '{tr.id}': destination link '{tr.destination}' cannot be reached "
                f"from origin link '{tr.origin}'", source=source, element=f"trip '{tr.id}'",
                fix="check the movements between them, or set demand.unreachable = \"drop\" to drop "
                    "such trips (they are reported)")
        for q, k in enumerate(ks):
            m = int(lengths[q])
            routes[k] = flat[starts[q]:starts[q] + m] if m else np.zeros(0, np.int64)
        dropped.extend(sorted(bad))
    # Trips with the same route (the same origin and destination, most often) share one copy in
    # the pool: nothing writes into the pool (re-routing appends), and on a city's demand the pool
    # would otherwise be the largest per-vehicle array (4 B per link of every route).
    shared: dict[bytes, int] = {}
    for k in range(n):
        r = routes[k]
        key = np.asarray(r, np.int64).tobytes()
        at = shared.get(key)
        if at is None:
            at = total
            shared[key] = at
            total += len(r)
            chunks.append(r)
        route_start[k] = at
        route_end[k] = at + len(r)
    route_links = np.concatenate(chunks).astype(np.int32) if chunks else np.zeros(0, np.int32)
    return route_links, route_start.astype(np.int32), route_end.astype(np.int32), dropped
