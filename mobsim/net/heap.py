"""A binary min-heap on two flat arrays (keys, values) for numba code: the queue of the shortest-path
search of :mod:`mobsim.net.graph` (the road router and the drone planner)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def heap_push(hk, hv, n, key, val):
    """Push ``(key, val)`` onto the binary min-heap held in ``hk`` (keys) and ``hv`` (values) with
    ``n`` entries; returns the new size. Equal keys order by the lower value, so that every
    search over it breaks ties the same way on any machine."""
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
def heap_pop(hk, hv, n):
    """Pop the smallest ``(key, val)`` (ties: the lower value) from the heap of size ``n``;
    returns ``(key, val, new size)``."""
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
