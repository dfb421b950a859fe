"""Which links reach which on the link graph of a compiled network (over its movements), without
routing: Tarjan's strongly connected components, then a search over the graph of components per
distinct origin component. Used to check trips that are routed later, when they are due."""

from __future__ import annotations

import numpy as np
from numba import njit

from mobsim.net.compile import CompiledNetwork


@njit(cache=True, nogil=True)
def _reach_pairs(next_start, nxt, origins, dests):
    """Whether link ``dests[k]`` can be reached from link ``origins[k]``, for every k.

    Tarjan's strongly connected components (iterative) answer the pairs within one component;
    the rest get a search over the graph of components, one per distinct origin component.
    O(links + movements + cross-component origins x components): on a real network the main
    component holds almost every link, so the second part touches only its fringe."""
    n = next_start.shape[0] - 1
    index = np.full(n, -1, np.int64)
    low = np.zeros(n, np.int64)
    comp = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    on_stack = np.zeros(n, np.bool_)
    call_node = np.empty(n, np.int64)
    call_edge = np.empty(n, np.int64)
    sp = 0
    idx = 0
    nc = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        top = -1
        w = root  # the next link to visit (-1: none)
        while True:
            if w >= 0:
                index[w] = idx
                low[w] = idx
                idx += 1
                stack[sp] = w
                sp += 1
                on_stack[w] = True
                top += 1
                call_node[top] = w
                call_edge[top] = next_start[w]
                w = -1
            if top < 0:
                break
            v = call_node[top]
            e = call_edge[top]
            if e < next_start[v + 1]:
                call_edge[top] = e + 1
                x = nxt[e]
                if index[x] < 0:
                    w = x
                elif on_stack[x] and index[x] < low[v]:
                    low[v] = index[x]
            else:
                if low[v] == index[v]:
                    while True:
                        sp -= 1
                        x = stack[sp]
                        on_stack[x] = False
                        comp[x] = nc
                        if x == v:
                            break
                    nc += 1
                top -= 1
                if top >= 0:
                    u = call_node[top]
                    if low[v] < low[u]:
                        low[u] = low[v]
    m = origins.shape[0]
    ok = np.zeros(m, np.bool_)
    n_cross = 0
    for k in range(m):
        co = comp[origins[k]]
        cd = comp[dests[k]]
        # Tarjan numbers a component after every component it reaches: a lower one cannot reach
        # a higher one.
        if co == cd:
            ok[k] = True
        elif cd < co:
            n_cross += 1
    if n_cross == 0:
        return ok
    # The graph of components (CSR; repeated edges are harmless).
    cnt = np.zeros(nc + 1, np.int64)
    for u in range(n):
        for q in range(next_start[u], next_start[u + 1]):
            if comp[nxt[q]] != comp[u]:
                cnt[comp[u] + 1] += 1
    c_start = np.cumsum(cnt)
    c_next = np.empty(c_start[nc], np.int64)
    fill = c_start[:nc].copy()
    for u in range(n):
        for q in range(next_start[u], next_start[u + 1]):
            cw = comp[nxt[q]]
            if cw != comp[u]:
                c_next[fill[comp[u]]] = cw
                fill[comp[u]] += 1
    # One search per distinct origin component: the cross pairs in order of it, each search
    # marking what it reaches with its own stamp.
    cross = np.empty(n_cross, np.int64)
    j = 0
    for k in range(m):
        if not ok[k] and comp[dests[k]] < comp[origins[k]]:
            cross[j] = k
            j += 1
    oc = np.empty(n_cross, np.int64)
    for j in range(n_cross):
        oc[j] = comp[origins[cross[j]]]
    cross = cross[np.argsort(oc, kind="mergesort")]
    seen = np.full(nc, -1, np.int64)
    queue = np.empty(nc, np.int64)
    last = -1
    stamp = -1
    for j in range(n_cross):
        k = cross[j]
        co = comp[origins[k]]
        if co != last:
            last = co
            seen[co] = j
            queue[0] = co
            head = 0
            tail = 1
            while head < tail:
                c = queue[head]
                head += 1
                for q in range(c_start[c], c_start[c + 1]):
                    cw = c_next[q]
                    if seen[cw] != j:
                        seen[cw] = j
                        queue[tail] = cw
                        tail += 1
            stamp = j
        ok[k] = seen[comp[dests[k]]] == stamp
    return ok


def reachable(cn: CompiledNetwork, origins: np.ndarray, dests: np.ndarray) -> np.ndarray:
    """Whether ``dests[k]`` can be reached from ``origins[k]`` (link indices) over the movements
    of ``cn``, for every k (bool array): what routing would find, without routing."""
    a = cn.arrays
    return _reach_pairs(np.asarray(a.link_next_start, np.int64), np.asarray(a.link_next, np.int64),
                        np.asarray(origins, np.int64), np.asarray(dests, np.int64))
