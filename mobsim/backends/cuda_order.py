"""The (lane, position) order of the vehicles on a CUDA device: the step sorts two or three times,
so how it sorts matters (:attr:`DeviceOrder.order_mode`).

The state is the backend's (:class:`mobsim.backends.cuda.CUDABackend` mixes this in): ``dev`` (the
device parts), ``K`` (the packed state), ``xp`` (cupy, or numpy under the simulator), ``_launch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: At most this many blocks for the tile passes of the lane-count scan (a block-stride loop covers
#: more tiles); enough to fill a GPU.
SCAN_BLOCKS = 1024


class DeviceOrder:
    """Sorting running vehicles by (lane, position) into ``W.order`` and ``L.lane_start``."""

    #: How the (lane, position) order is built (:meth:`_order`). "lanes" (default): by lane with
    #: atomic tickets, then each lane's few vehicles sorted by one thread (kernels.road.order; no
    #: per-vehicle temporary memory, no host synchronisation); "full": one radix sort of a 64-bit
    #: key of every vehicle (cupy); "merge": the previous order with the vehicles that changed
    #: lane sorted and merged in (:meth:`_merge_order`).
    order_mode = "lanes"
    #: Tests: compute both orders every time and fail if they differ.
    order_check = False
    _order_valid = False  # W.order holds a (lane, position) order of the current state

    def _sort_key(self) -> Any:
        """The (lane, position) sort key of every slot: the lane (``n_lanes`` for vehicles not
        running) in the high 32 bits, the position as a float32 made order-preserving as an
        unsigned integer (the classic radix-sort transform) in the low 32.

        float32 keeps the order: two running vehicles on one lane are at least a vehicle length
        apart (the no-overlap bound), far more than float32's resolution (1 mm at 10 km), so no two
        of them share a key and the order does not depend on slot numbers (mobsim.state.slots).
        """
        xp = self.xp
        V = self.dev["V"]
        n_lanes = self.dev["L"].lane_cnt.shape[0]
        lane = xp.where(V.status == 1, V.lane, n_lanes).astype(np.uint64)
        bits = V.pos.astype(np.float32).view(np.uint32)
        bits = bits ^ xp.where(bits >> 31 != 0, np.uint32(0xFFFFFFFF), np.uint32(0x80000000))
        return (lane << np.uint64(32)) | bits.astype(np.uint64)

    def _order(self) -> None:
        """Sort running vehicles by (lane, position) into ``W.order``; fill ``lane_start``.

        By ``order_mode``: "lanes" (:meth:`_lane_order`, the default), one stable sort of the 64-bit
        key (:meth:`_sort_key`, "full"), or ("merge", after the first) the previous order updated
        by :meth:`_merge_order`, which sorts only the vehicles that changed lane. This runs two or
        three times a step; which is fastest on a GPU is for ``bench.gpu_bench --order`` to
        measure. "lanes" is the default because it is the only one without per-vehicle temporary
        memory (a radix sort of 64-bit keys holds some 40 B per vehicle while it runs).
        """
        from mobsim.kernels.runtime.layout import C_NRUN

        xp = self.xp
        L, W = self.dev["L"], self.dev["W"]
        n_tr = self.dev["V"].status.shape[0]
        n_lanes = L.lane_cnt.shape[0]
        if self.order_mode == "lanes":
            self._lane_order(n_tr, n_lanes)
            return
        key = self._sort_key()
        if self.order_mode == "merge" and self._order_valid:
            o = self._merge_order(key)
            if self.order_check:
                full = self.argsort(key)
                n_run = int((key < (np.uint64(n_lanes) << np.uint64(32))).sum())
                assert bool((o[:n_run] == full[:n_run]).all()), "merged order differs from the full sort"
        else:
            o = self.argsort(key)
        W.order[:n_tr] = o
        L.lane_start[:] = xp.searchsorted(key[o], xp.arange(n_lanes + 1, dtype=np.uint64) << np.uint64(32))
        W.cnt[C_NRUN] = L.lane_start[n_lanes]
        self._order_valid = True

    def _lane_order(self, n_tr: int, n_lanes: int) -> None:
        """The "lanes" order: tickets per lane, a scan, a scatter and a per-lane sort (see
        :mod:`.kernels.order`): kernels only, without temporaries (a CUDA graph can replay it)."""
        from mobsim.kernels.drivers import cuda_step as C

        self._launch(C.k_order_count, n_tr, self.K)
        self._scan_lanes(n_lanes)
        self._launch(C.k_order_scatter, n_tr, self.K)
        self._launch(C.k_order_sort, n_lanes, self.K)
        self._check_lane_order()

    def _scan_lanes(self, n_lanes: int) -> None:
        """The scan of the lane counts into ``lane_start``, in three kernels of one tile size (they
        leave ``lane_cnt`` zero for the next order's tickets)."""
        from mobsim.kernels.drivers import cuda_step as C

        tpb = min(C.SCAN_TPB, self.tpb)
        tiles = (n_lanes + tpb - 1) // tpb
        self._launch(C.k_scan_tiles, n_lanes, self.K, tpb=tpb, blocks=min(tiles, SCAN_BLOCKS))
        self._launch(C.k_scan_totals, tpb, self.K, tpb=tpb, blocks=1)
        self._launch(C.k_scan_add, n_lanes, self.K, tpb=tpb, blocks=min(tiles, SCAN_BLOCKS))

    def _check_lane_order(self) -> None:
        from mobsim.kernels.runtime.layout import C_NRUN

        if self.order_check:
            W = self.dev["W"]
            full = self.argsort(self._sort_key())
            n_run = int(W.cnt[C_NRUN])
            got = W.order[:n_run]
            assert bool((got == full[:n_run]).all()), "lane order differs from the full sort"
        self._order_valid = True

    def _merge_order(self, key: Any) -> Any:
        """The previous order (``W.order`` with ``L.lane_start``) brought up to date with ``key``.

        Vehicles still on the lane they were on at the previous sort keep their relative order
        (no vehicle passes another on a lane; moving forward keeps the order), so those entries
        of the previous running part are still sorted (set A). The vehicles running now that are
        not in A (lane changes, junction crossings, teleports, insertions: a few percent per
        step) are sorted alone (B) and merged in by two binary searches; the vehicles not running
        follow in slot order (no kernel visits them). The running part is the full sort's: keys
        of running vehicles are unique. Only the previous running part is read: the insertion
        kernel appends to ``W.order`` past it.

        Sizes are read once (one host synchronisation), so that every compaction below is a
        scatter into an array of known size rather than a boolean mask (which cupy sizes by a
        synchronisation each).
        """
        xp = self.xp
        L, W = self.dev["L"], self.dev["W"]
        n_tr = key.shape[0]
        n_lanes = L.lane_cnt.shape[0]
        old = W.order[:n_tr].astype(np.int64)
        old_lane = xp.searchsorted(L.lane_start, xp.arange(n_tr), side="right") - 1
        keep = (old_lane < n_lanes) & ((key[old] >> np.uint64(32)).astype(np.int64) == old_lane)
        in_a = xp.zeros(n_tr + 1, bool)
        in_a[xp.where(keep, old, n_tr)] = True
        running = key < (np.uint64(n_lanes) << np.uint64(32))
        fresh = running & ~in_a[:n_tr]
        idle = ~running
        sizes = xp.stack([keep.sum(), fresh.sum(), idle.sum()])
        n_a, n_b, n_idle = (int(x) for x in self.to_host(sizes))

        def compact(mask: Any, values: Any, n: int) -> Any:
            out = xp.empty(n + 1, np.int64)
            out[xp.where(mask, xp.cumsum(mask) - 1, n)] = values
            return out[:n]

        slots = xp.arange(n_tr, dtype=np.int64)
        a = compact(keep, old, n_a)
        b = compact(fresh, slots, n_b)
        b = b[self.argsort(key[b])]
        ka, kb = key[a], key[b]
        o = xp.empty(n_tr, np.int64)
        o[xp.arange(n_a) + xp.searchsorted(kb, ka, side="left")] = a
        o[xp.arange(n_b) + xp.searchsorted(ka, kb, side="right")] = b
        o[n_a + n_b:] = compact(idle, slots, n_idle)
        return o

    def _order_timed(self) -> None:
        if self.profile is None:
            self._order()
        else:
            with self._timed("order"):
                self._order()
