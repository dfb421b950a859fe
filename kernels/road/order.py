"""Sorting the running vehicles by (lane, position): a stable counting sort by lane that keeps the
previous order within each lane, then an insertion sort per lane (nearly sorted, so linear).

The GPU's ``lanes`` order (:mod:`mobsim.backends.cuda`) is the same idea in three parallel passes
(:func:`bucket_count_range`, a scan of the counts, :func:`bucket_scatter_range`,
:func:`bucket_sort_range`): the atomics fill each lane's segment in any order, and the sort by
(position, trip) makes the result independent of it. It needs no per-vehicle temporary memory.
"""

from __future__ import annotations

from numba import njit, prange

from ..runtime.atomics import atomic_add
from ..runtime.layout import C_NRUN, C_PARMIN, N_CHUNKS


@njit(cache=True)
def counting_sort(V, L, src, n_src, dst):
    """Scatter running vehicles of ``src`` by lane into ``dst`` (stable); fills ``lane_start``."""
    return counting_sort_a(V.lane, V.status, L.lane_cnt, L.lane_start, src, n_src, dst)


@njit(cache=True, _nrt=False)
def counting_sort_a(V_lane, V_status, L_lane_cnt, L_lane_start, src, n_src, dst):
    """:func:`counting_sort` on plain arrays (a run-length variant that kept the counters in
    registers was slower: a mispredicted branch at every lane boundary)."""
    n_lanes = L_lane_cnt.shape[0]
    for l in range(n_lanes):
        L_lane_cnt[l] = 0
    for k in range(n_src):
        i = src[k]
        if V_status[i] == 1:
            L_lane_cnt[V_lane[i]] += 1
    s = 0
    for l in range(n_lanes):
        L_lane_start[l] = s
        s += L_lane_cnt[l]
        L_lane_cnt[l] = L_lane_start[l]
    L_lane_start[n_lanes] = s
    for k in range(n_src):
        i = src[k]
        if V_status[i] == 1:
            l = V_lane[i]
            dst[L_lane_cnt[l]] = i
            L_lane_cnt[l] += 1
    return s


@njit(cache=True, _nrt=False)
def sort_segment(pos, order, a, b):
    """Stable insertion sort of ``order[a:b]`` by ``pos`` (linear when nearly sorted)."""
    for k in range(a + 1, b):
        i = order[k]
        p = pos[i]
        j = k - 1
        while j >= a and pos[order[j]] > p:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = i


@njit(cache=True, _nrt=False)
def lane_split(lane_start, c, n_chunks):
    """First lane of chunk ``c`` of ``n_chunks`` chunks of consecutive lanes holding about equal
    numbers of vehicles (by ``lane_start``). Splitting by lanes instead left one thread with most
    of the work: the grids number their busy lanes first."""
    n_lanes = lane_start.shape[0] - 1
    if c <= 0:
        return 0
    if c >= n_chunks:
        return n_lanes
    target = lane_start[n_lanes] * c // n_chunks
    lo = 0
    hi = n_lanes
    while lo < hi:
        mid = (lo + hi) // 2
        if lane_start[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(parallel=True, cache=True)
def sort_lanes(pos, order, lane_start):
    """Insertion sort of every lane's segment of ``order`` by position (stable, parallel over chunks
    of lanes with equal numbers of vehicles)."""
    for c in prange(N_CHUNKS):
        sort_lanes_range(pos, order, lane_start, lane_split(lane_start, c, N_CHUNKS),
                         lane_split(lane_start, c + 1, N_CHUNKS))


@njit(cache=True, _nrt=False)
def sort_lanes_range(pos, order, lane_start, l0, l1):
    for l in range(l0, l1):
        sort_segment(pos, order, lane_start[l], lane_start[l + 1])


@njit(cache=True, _nrt=False)
def sort_lanes_serial(pos, order, lane_start):
    sort_lanes_range(pos, order, lane_start, 0, lane_start.shape[0] - 1)


@njit(cache=True)
def build_order(V, L, W):
    """Sort the running vehicles by (lane, position) into ``W.order``; returns their number."""
    n = counting_sort(V, L, W.order, W.cnt[C_NRUN], W.order_tmp)
    W.order[:n] = W.order_tmp[:n]
    W.cnt[C_NRUN] = n
    if n >= 4 * W.cnt[C_PARMIN]:  # a nearly sorted pass: only large states gain from a second thread
        sort_lanes(V.pos, W.order, L.lane_start)
    else:
        sort_lanes_serial(V.pos, W.order, L.lane_start)
    return n


@njit(cache=True, _nrt=False)
def move_slots(a, src, dst, tmp):
    """``a[dst] = a[src]`` for a 1-D array, through ``tmp`` (twice as fast as numpy's fancy
    indexing here; used by :func:`mobsim.state.slots.renumber`)."""
    for j in range(src.shape[0]):
        tmp[j] = a[src[j]]
    for j in range(src.shape[0]):
        a[dst[j]] = tmp[j]


@njit(cache=True)
def resort_after_lane_changes(V, L, W, n):
    """The sorted order after this step's lane changes (``W.dir_k[k] != 0``: the vehicle at sorted
    index ``k`` changed lane), without a full sort; returns ``n``, or -1 when too many vehicles
    changed (the caller then calls :func:`build_order`). Uses ``W.mv_k`` as scratch (the planning
    pass writes it afterwards)."""
    return resort_a(V.lane, V.pos, W.order, W.order_tmp, W.dir_k, W.mv_k, L.lane_start, L.lane_cnt, n)


@njit(cache=True, _nrt=False)
def resort_a(lane, pos, order, out, dir_k, inc, lane_start, new_start, n):
    """:func:`resort_after_lane_changes` on plain arrays.

    The result is what :func:`build_order` gives: (lane, position) order, ties by the previous
    sorted index. Each lane's new segment is a merge of the vehicles that stayed (in their old
    order) and the ones that changed into it (sorted by position, then previous index).
    """
    n_lanes = lane_start.shape[0] - 1
    m = 0
    for k in range(n):
        if dir_k[k] != 0:
            inc[m] = k
            m += 1
    if m * 16 > n:
        return -1
    # New lane counts; the changed vehicles come in ascending k, so their old lanes ascend too.
    for l in range(n_lanes):
        new_start[l] = lane_start[l + 1] - lane_start[l]
    p = 0
    for j in range(m):
        k = inc[j]
        while lane_start[p + 1] <= k:
            p += 1
        new_start[p] -= 1
        new_start[lane[order[k]]] += 1
    s = 0
    for l in range(n_lanes):
        c = new_start[l]
        new_start[l] = s
        s += c
    # Changed vehicles by (new lane, position, previous index): nearly sorted already (one
    # direction per step), so an insertion sort is close to linear.
    for j in range(1, m):
        k = inc[j]
        i = order[k]
        ln = lane[i]
        ps = pos[i]
        q = j - 1
        while q >= 0:
            kq = inc[q]
            iq = order[kq]
            lq = lane[iq]
            if lq < ln or (lq == ln and (pos[iq] < ps or (pos[iq] == ps and kq < k))):
                break
            inc[q + 1] = kq
            q -= 1
        inc[q + 1] = k
    j = 0
    for l in range(n_lanes):
        w = new_start[l]
        ks = lane_start[l]
        kb = lane_start[l + 1]
        je = j
        while je < m and lane[order[inc[je]]] == l:
            je += 1
        while True:
            while ks < kb and dir_k[ks] != 0:
                ks += 1
            if ks >= kb and j >= je:
                break
            take_stayer = j >= je
            if not take_stayer and ks < kb:
                a = order[ks]
                b = order[inc[j]]
                take_stayer = pos[a] < pos[b] or (pos[a] == pos[b] and ks < inc[j])
            if take_stayer:
                out[w] = order[ks]
                ks += 1
            else:
                out[w] = order[inc[j]]
                j += 1
            w += 1
    for k in range(n):
        order[k] = out[k]
    for l in range(n_lanes):
        lane_start[l] = new_start[l]
    lane_start[n_lanes] = n
    return n


@njit(cache=True, _nrt=False)
def sort_segment_by_trip(pos, trip, order, a, b):
    """Insertion sort of ``order[a:b]`` by (position, trip): the order does not depend on how the
    segment was filled (the GPU fills it with atomics)."""
    for k in range(a + 1, b):
        i = order[k]
        p = pos[i]
        tr = trip[i]
        j = k - 1
        while j >= a and (pos[order[j]] > p or (pos[order[j]] == p and trip[order[j]] > tr)):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = i


@njit(cache=True)
def bucket_count_range(V, L, W, i0, i1, stride):
    """GPU order, pass 1, slots ``i0, i0 + stride, ... < i1``: each running vehicle takes a ticket
    (an atomic count) on its lane, kept in ``W.mv_k[slot]`` (the planned movements are free as
    scratch while the order is built: the planning writes them after, as for
    :func:`resort_after_lane_changes`). ``L.lane_cnt`` must be zero."""
    for i in range(i0, i1, stride):
        if V.status[i] == 1:
            W.mv_k[i] = atomic_add(L.lane_cnt, V.lane[i], 1)


@njit(cache=True)
def bucket_scatter_range(V, L, W, i0, i1, stride):
    """GPU order, pass 2 (after ``lane_start`` = the exclusive scan of the counts): each running
    vehicle goes to its lane's segment of ``W.order`` at its ticket."""
    for i in range(i0, i1, stride):
        if V.status[i] == 1:
            W.order[L.lane_start[V.lane[i]] + W.mv_k[i]] = i


@njit(cache=True)
def bucket_sort_range(V, L, W, l0, l1, stride):
    """GPU order, pass 3, lanes ``l0, l0 + stride, ... < l1``: sort the lane's segment by
    (position, trip). Lane 0's thread also records the number of running vehicles."""
    n_lanes = L.lane_cnt.shape[0]
    for l in range(l0, l1, stride):
        if l == 0:
            W.cnt[C_NRUN] = L.lane_start[n_lanes]
        sort_segment_by_trip(V.pos, V.trip, W.order, L.lane_start[l], L.lane_start[l + 1])
