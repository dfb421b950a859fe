"""The CUDA backend: state in GPU memory (cupy), the step as ``numba.cuda`` kernels.

The kernels (:mod:`mobsim.kernels.cuda_step`) call the same per-item functions as the CPU
drivers. Array primitives (the (lane, position) sort, searchsorted, fills) are cupy calls; under
numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) numpy stands in for cupy (the "device" arrays are
numpy copies, kept apart from the host's as on a GPU), so tests without a GPU run the very same
driver and host-transfer code, slowly.

State stays on the device for the whole run. The host copies arrays only where the recorder needs
them (:meth:`CUDABackend.pull`) and sends back what it changed (:meth:`CUDABackend.push`): the
counters after a flush, the edge accumulators after an interval, routes after re-routing. A
chunk of steps reads the counters once at its start and every :data:`CHECK_EVERY` steps (to stop
before the event buffer overflows); no other step waits for the host.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import numpy as np

from mobsim.errors import InputError

#: Threads per block on a GPU; the simulator runs every thread as a Python thread, so fewer there.
THREADS_PER_BLOCK = 128
SIM_THREADS_PER_BLOCK = 32
#: Steps between reads of the event counter (a host synchronisation).
CHECK_EVERY = 16
#: Stop a chunk when fewer event slots than this are left.
EVENT_MARGIN = 4096

PARTS = ("V", "N", "L", "W")
#: At most this many blocks for the tile passes of the lane-count scan (a block-stride loop covers
#: more tiles); enough to fill a GPU.
SCAN_BLOCKS = 1024

log = logging.getLogger(__name__)


class _NoArrayOps:
    """Stands in for the array module while the simulator records a step as a graph: the step
    must be kernels only, so any array-library call in it is a bug."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the captured CUDA step uses an array operation (xp.{name}); a CUDA graph "
                             "replays kernels only")


def simulator_enabled() -> bool:
    """True when numba's CUDA simulator is switched on (``NUMBA_ENABLE_CUDASIM=1``)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


#: The CUDA driver library by platform (what numba-cuda loads; NUMBA_CUDA_DRIVER overrides it).
DRIVER_LIBRARIES = {"linux": ("libcuda.so.1", "libcuda.so"), "win32": ("nvcuda.dll",)}


def driver_present() -> bool:
    """Whether the CUDA driver library can be loaded: a ``dlopen`` that fails in microseconds,
    where importing numba-cuda to ask it costs a quarter of a second of every CPU-only run's
    start. True where the platform or ``NUMBA_CUDA_DRIVER`` leaves it to numba-cuda to tell."""
    import ctypes

    names = DRIVER_LIBRARIES.get(sys.platform)
    if names is None or os.environ.get("NUMBA_CUDA_DRIVER"):
        return True
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def gpu_status() -> tuple[bool, str]:
    """(usable, reason): whether a real CUDA GPU with numba-cuda and cupy can run mobsim."""
    if simulator_enabled():
        return False, "NUMBA_ENABLE_CUDASIM=1 is set (the CUDA simulator, not a GPU)"
    if not driver_present():
        return False, "no CUDA driver or GPU found"
    try:
        from numba import cuda
    except Exception as exc:  # noqa: BLE001 - any import failure means no CUDA target
        return False, f"numba-cuda is not installed ({exc})"
    try:
        if not cuda.is_available():
            return False, "no CUDA driver or GPU found"
    except Exception as exc:  # noqa: BLE001
        return False, f"CUDA is not usable ({exc})"
    try:
        import cupy  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return False, f"cupy is not installed ({exc})"
    return True, "ok"


class CUDABackend:
    """State in GPU memory; the step as CUDA kernels (or their simulation, see the module doc)."""

    name = "cuda"
    threads = 1
    choice = "requested"
    #: Renumber vehicle slots every this many steps (0: never) when at least ``reorder_min``
    #: vehicles run; both set by the Simulation.
    reorder_every = 0
    reorder_min = 0
    #: How the (lane, position) order is built (:meth:`_order`). "lanes" (default): by lane with
    #: atomic tickets, then each lane's few vehicles sorted by one thread (kernels.order; no
    #: per-vehicle temporary memory, no host synchronisation); "full": one radix sort of a 64-bit
    #: key of every vehicle (cupy); "merge": the previous order with the vehicles that changed
    #: lane sorted and merged in (:meth:`_merge_order`).
    order_mode = "lanes"
    #: Tests: compute both orders every time and fail if they differ.
    order_check = False
    #: Replay the step as a CUDA graph (one launch per step instead of 24, which also frees
    #: the host from Python launch overhead): "auto" (the default) on a GPU whenever the step is
    #: kernels only (the "lanes" order; not while profiling or checking orders); "on" the same,
    #: and under the simulator too, where a recorded list of the step's launches (and of the
    #: scan's numpy stand-in, :meth:`_scan_lanes_host`) stands in for the graph (tests); "off"
    #: never. A capture that fails falls back to separate launches, with a warning and the reason
    #: in :attr:`graph_error`.
    graphs = "auto"

    def __init__(self) -> None:
        self.simulated = simulator_enabled()
        if not self.simulated:
            ok, why = gpu_status()
            if not ok:
                raise InputError(f"the CUDA backend cannot run here: {why}", source="--backend",
                                 fix="use --backend cpu (or auto), or install the GPU extra on a machine "
                                     "with an NVIDIA GPU: pip install -e '.[gpu]' (see the README); "
                                     "NUMBA_ENABLE_CUDASIM=1 runs the CUDA kernels in numba's simulator")
            import cupy

            self.xp = cupy
        else:
            self.xp = np
        from numba import cuda

        self._cuda = cuda
        self.tpb = SIM_THREADS_PER_BLOCK if self.simulated else THREADS_PER_BLOCK
        self.dev: dict[str, Any] = {}
        self.karg: dict[str, Any] = {}
        #: Per-phase timing for the benchmark: None (off), or a dict name -> list of event pairs.
        self.profile: dict[str, list[Any]] | None = None
        self._order_valid = False  # W.order holds a (lane, position) order of the current state
        self._stream: Any = None  # the numba stream launches go to (None: the default stream)
        self._capture: list[Any] | None = None  # simulator stand-in: launches being recorded
        self._graph: Any = None  # the captured step (cupy Graph, or a list of launches)
        self._steady_eager = 0  # steady steps launched one kernel at a time since the last pack
        #: Why the step could not be captured as a CUDA graph (None: it could, or it was not tried).
        self.graph_error: str | None = None
        #: Steps run by replaying the captured graph (for the benchmark and the tests).
        self.graph_steps = 0

    # ------------------------------------------------------------------ state
    def _to_device(self, host: Any) -> tuple[Any, Any]:
        """(device tuple for array primitives, tuple for kernel arguments) of a host namedtuple.

        Under the simulator the "device" arrays are numpy copies, kept apart from the host arrays
        as on a GPU, so the tests exercise every :meth:`pull` and :meth:`push` the recorder needs.
        """
        if self.simulated:
            dev = type(host)(*[np.array(a, copy=True) for a in host])
            return dev, dev
        xp = self.xp
        dev = type(host)(*[xp.asarray(a) for a in host])
        karg = type(host)(*[self._cuda.as_cuda_array(a) for a in dev])
        return dev, karg

    def attach(self, V: Any, N: Any, L: Any, W: Any, vt: np.ndarray, par: np.ndarray) -> None:
        """Copy the state to the device, into one buffer (:mod:`.kernels.cuda_args`); the kernels
        run on it from now on."""
        from mobsim.kernels.cuda_args import Params
        from mobsim.net.compile import HOST_ONLY

        self.host = dict(zip(PARTS, (V, N, L, W), strict=True))
        self._par_host = par
        n_dev = N._replace(**{f: np.zeros(0, getattr(N, f).dtype) for f in HOST_ONLY})
        self._pack({**self.host, "N": n_dev, "P": Params(np.ascontiguousarray(vt), par)},
                   fresh=set(PARTS) | {"P"})
        self._order_valid = False

    def _pack(self, parts: dict[str, Any], fresh: set[str]) -> None:
        """(Re)build the state buffer: parts in ``fresh`` from the host, the others copied from the
        current device buffer (whose values are newer than the host's)."""
        from mobsim.kernels.cuda_args import SPEC, Packed, layout, views

        lay, size = layout(parts)
        xp = self.xp
        buf = xp.zeros(size, np.uint8)
        new = views(buf, lay)
        for part, _cls, _fields in SPEC:
            src = parts[part] if part in fresh else self.dev[part]
            for d, a in zip(new[part], src, strict=True):
                d[...] = a if (self.simulated or part not in fresh) else xp.asarray(a)
        if "L" in fresh:
            # Scratch the kernels keep zero between uses (the order's scan and k_advance clear
            # them), whatever the host's copy holds.
            new["L"].lane_cnt[...] = 0
            new["L"].lane_req[...] = 0
        self._buf = buf
        self._graph = None  # it holds the old buffer's addresses
        self._steady_eager = 0
        for part in PARTS:
            self.dev[part] = new[part]
        self.dev["P"] = new["P"]
        if self.simulated:
            from mobsim.kernels.cuda_step import SimPacked

            self.K = SimPacked(buf, lay, tuple(new[p] for p in (*PARTS, "P")))
        else:
            self.K = Packed(self._cuda.as_cuda_array(buf), self._cuda.to_device(lay))

    def update(self, name: str, host: Any) -> None:
        """Replace one part of the state (e.g. ``W`` after re-routing grew the route pool)."""
        self.host[name] = host
        self._order_valid = False
        self._pack({**{p: (self.host[p] if p == name else self.dev[p]) for p in PARTS}, "P": self.dev["P"]},
                   fresh={name})

    def pull(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Copy device fields of part ``name`` into the host arrays (all fields by default)."""
        host, dev = self.host[name], self.dev[name]
        for f in fields or host._fields:
            d = getattr(dev, f)
            getattr(host, f)[...] = d if self.simulated else d.get()

    def push(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Copy host fields of part ``name`` to the device (after the host changed them)."""
        host, dev = self.host[name], self.dev[name]
        if fields is None or {"status", "lane", "pos", "order"} & set(fields):
            self._order_valid = False
        for f in fields or host._fields:
            h = getattr(host, f)
            if self.simulated:
                getattr(dev, f)[...] = h
            else:
                getattr(dev, f).set(np.ascontiguousarray(h))

    # ------------------------------------------------------------------ step
    def _blocks(self, n: int) -> int:
        return (n + self.tpb - 1) // self.tpb

    def _launch(self, kern: Any, n: int, *args: Any, tpb: int | None = None,
                blocks: int | None = None) -> None:
        """Launch ``kern`` over ``n`` items (``tpb`` threads per block, enough blocks for ``n``
        unless ``blocks`` is given); recorded instead while the simulator stands in for a capture."""
        if n > 0:
            # the simulator runs every thread as a Python thread: no more threads than items there
            tpb = tpb or (min(self.tpb, n) if self.simulated else self.tpb)
            blocks = blocks or (n + tpb - 1) // tpb
            if self._capture is not None:
                self._capture.append(lambda: kern[blocks, tpb](*args))
            elif self.profile is not None:
                with self._timed(kern.py_func.__name__[2:]):
                    kern[blocks, tpb](*args)
            elif self._stream is not None:
                kern[blocks, tpb, self._stream](*args)
            else:
                kern[blocks, tpb](*args)

    def _timed(self, name: str) -> Any:
        """Context manager that records the GPU time of what it wraps under ``name``."""
        import contextlib

        prof = self.profile
        assert prof is not None

        @contextlib.contextmanager
        def cm() -> Any:
            if self.simulated:
                import time

                t0 = time.perf_counter()
                yield
                prof.setdefault(name, []).append(time.perf_counter() - t0)
                return
            a, b = self.xp.cuda.Event(), self.xp.cuda.Event()
            a.record()
            yield
            b.record()
            prof.setdefault(name, []).append((a, b))

        return cm()

    def profile_seconds(self) -> dict[str, float]:
        """Seconds spent per phase since profiling was switched on (synchronises the device)."""
        out: dict[str, float] = {}
        if not self.profile:
            return out
        if not self.simulated:
            self._cuda.synchronize()
        for name, recs in self.profile.items():
            if self.simulated:
                out[name] = float(sum(recs))
            else:
                out[name] = float(sum(self.xp.cuda.get_elapsed_time(a, b) for a, b in recs)) / 1e3
        return out

    def _argsort(self, a: Any) -> Any:
        """Stable argsort: cupy's is always stable (a radix sort) and takes no ``kind``."""
        return np.argsort(a, kind="stable") if self.simulated else self.xp.argsort(a)

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
        from mobsim.kernels.layout import C_NRUN

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
                full = self._argsort(key)
                n_run = int((key < (np.uint64(n_lanes) << np.uint64(32))).sum())
                assert bool((o[:n_run] == full[:n_run]).all()), "merged order differs from the full sort"
        else:
            o = self._argsort(key)
        W.order[:n_tr] = o
        L.lane_start[:] = xp.searchsorted(key[o], xp.arange(n_lanes + 1, dtype=np.uint64) << np.uint64(32))
        W.cnt[C_NRUN] = L.lane_start[n_lanes]
        self._order_valid = True

    def _lane_order(self, n_tr: int, n_lanes: int) -> None:
        """The "lanes" order: tickets per lane, a scan, a scatter and a per-lane sort (see
        :mod:`.kernels.order`): kernels only, without temporaries (a CUDA graph can replay it)."""
        from mobsim.kernels import cuda_step as C

        self._launch(C.k_order_count, n_tr, self.K)
        if self.simulated:
            # The simulator runs the scan kernels' barriers at some 0.3 s a launch (it polls every
            # thread of a block), which made the parity cases ten times slower: numpy stands in
            # (tests/test_cuda_scan.py checks the kernels against it; a GPU runs the kernels).
            self._host_op(self._scan_lanes_host)
        else:
            # The scan of the lane counts into lane_start, in three kernels of one tile size (they
            # leave lane_cnt zero for the next order's tickets).
            tpb = min(C.SCAN_TPB, self.tpb)
            tiles = (n_lanes + tpb - 1) // tpb
            self._launch(C.k_scan_tiles, n_lanes, self.K, tpb=tpb, blocks=min(tiles, SCAN_BLOCKS))
            self._launch(C.k_scan_totals, tpb, self.K, tpb=tpb, blocks=1)
            self._launch(C.k_scan_add, n_lanes, self.K, tpb=tpb, blocks=min(tiles, SCAN_BLOCKS))
        self._launch(C.k_order_scatter, n_tr, self.K)
        self._launch(C.k_order_sort, n_lanes, self.K)
        self._check_lane_order()

    def _scan_lanes_host(self) -> None:
        """The simulator's stand-in for the scan kernels: lane starts from the lane counts, which
        it leaves zero, as the kernels do."""
        L = self.dev["L"]
        L.lane_start[0] = 0
        np.cumsum(L.lane_cnt, out=L.lane_start[1:])
        L.lane_cnt[:] = 0

    def _host_op(self, fn: Any) -> None:
        """Run ``fn`` now, or record it while the simulator stands in for a capture."""
        if self._capture is not None:
            self._capture.append(fn)
        else:
            fn()

    def _check_lane_order(self) -> None:
        from mobsim.kernels.layout import C_NRUN

        if self.order_check:
            W = self.dev["W"]
            full = self._argsort(self._sort_key())
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
        n_a, n_b, n_idle = (int(x) for x in (sizes if self.simulated else sizes.get()))

        def compact(mask: Any, values: Any, n: int) -> Any:
            out = xp.empty(n + 1, np.int64)
            out[xp.where(mask, xp.cumsum(mask) - 1, n)] = values
            return out[:n]

        slots = xp.arange(n_tr, dtype=np.int64)
        a = compact(keep, old, n_a)
        b = compact(fresh, slots, n_b)
        b = b[self._argsort(key[b])]
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

    #: Which phases of :data:`mobsim.kernels.phases.ROAD_PHASES` each launch of :meth:`_step` runs
    #: (``tests/test_phases.py`` holds the order of the launches to that list).
    PHASE_OF: dict[str, tuple[str, ...]] = {
        "k_controllers": ("controllers",), "k_signals": ("signals",), "k_insert": ("insert",),
        "_order_timed": ("order",), "k_decide": ("lane_change_decide",), "k_apply": ("lane_change_apply",),
        "k_plan": ("plan",), "k_advance": ("advance",), "k_junction_source": ("junction_sources",),
        "k_junction_target": ("junction_targets",), "k_flags": ("flags",), "k_gridlock": ("gridlock",),
        "k_transfer": ("transfer",), "k_summary": ("summary",), "k_end": ("end_step",),
    }

    def _step(self, step: int) -> None:
        from mobsim.kernels import cuda_step as C
        from mobsim.kernels import layout as Y

        # The kernels read the step and its time from the device (kernels.record.clock): every
        # step launches the same kernels with the same arguments (what a CUDA graph would replay).
        K = self.K  # the packed state (kernels.cuda_args)
        n_tr = self.n_trips
        n_lanes = self.n_lanes
        if self.n_ctrl_actuated:
            self._launch(C.k_controllers, self.n_ctrl, K)
        self._launch(C.k_signals, self.n_slots, K)
        if step == 0:
            self._launch(C.k_insert, self.n_links, K, Y.INS_BEGIN)
        self._order_timed()
        if self._par_host[Y.P_HAS_DPOS] > 0:
            # departPos inside the lane: inserted on the fresh order, then sorted again.
            self._launch(C.k_insert, self.n_links, K, Y.INS_POSITIONED)
            self._order_timed()
        self._launch(C.k_decide, n_tr, K)  # k_advance cleared the lane-change requests
        self._launch(C.k_apply, n_tr, K)
        self._order_timed()
        self._launch(C.k_plan, max(n_tr, 1), K)
        self._launch(C.k_advance, n_lanes, K)
        self._launch(C.k_junction_source, n_lanes, K)
        self._launch(C.k_junction_target, n_lanes, K)
        self._launch(C.k_flags, n_tr, K)
        self._launch(C.k_gridlock, n_tr, K)
        self._launch(C.k_transfer, 1, K)
        self._launch(C.k_insert, self.n_links, K, Y.INS_END)
        # one block under the simulator, where every thread is a Python thread (a grid-stride
        # range covers the parts and links with any grid)
        self._launch(C.k_summary, max(Y.SUM_PARTS, self.n_links), K, blocks=1 if self.simulated else None)
        self._launch(C.k_end, 1, K)

    # ------------------------------------------------------------------ CUDA graph
    def _graph_wanted(self) -> bool:
        """Whether steady steps replay a captured graph (:attr:`graphs`)."""
        if self.graphs == "off" or (self.simulated and self.graphs != "on"):
            return False
        return self.order_mode == "lanes" and self.profile is None and not self.order_check

    def _capture_step(self) -> Any:
        """The steady step (a step after the first) captured once: a cupy Graph on a GPU, the list
        of its launches (and of the scan's numpy stand-in) under the simulator. While capturing
        under the simulator, ``xp`` is a guard that fails on any array-library call (a real
        capture could not replay one that allocates; a fill would be replayed, but the step has
        none: all its work is kernels)."""
        if self.simulated:
            self._capture, xp = [], self.xp
            self.xp = _NoArrayOps()
            try:
                self._step(1)
                return self._capture
            finally:
                self._capture, self.xp = None, xp
        cp = self.xp
        s = cp.cuda.Stream(non_blocking=True)  # a capture cannot run on the legacy default stream
        self._stream = self._cuda.external_stream(s.ptr)
        try:
            with s:
                s.begin_capture()
                try:
                    self._step(1)
                finally:
                    graph = s.end_capture()
        finally:
            self._stream = None
        return graph

    def _graph_step(self) -> bool:
        """Run one steady step by replaying the captured graph (capturing it first). False when
        the capture failed: the caller launches the step's kernels one by one instead."""
        if self._graph is None:
            try:
                graph = self._capture_step()
            except Exception as exc:  # noqa: BLE001 - any capture failure: run without graphs
                self.graph_error = f"{type(exc).__name__}: {exc}"
                self.graphs = "off"
                log.warning("the CUDA step could not be captured as a graph (%s); its kernels are "
                            "launched one by one instead (slower on small scenarios)", self.graph_error)
                return False
            self._graph = graph
        if self.simulated:
            for op in self._graph:
                op()
        else:
            self._graph.launch()  # on the current (default) stream, ordered with transfers
        self.graph_steps += 1
        return True

    def _counters(self) -> np.ndarray:
        cnt = self.dev["W"].cnt
        return cnt.copy() if self.simulated else cnt.get()

    def run_steps(self, n_steps: int) -> int:
        """Advance up to ``n_steps`` steps; stops early when the summary or event buffer is nearly
        full (as the CPU driver does). Returns the number of steps run."""
        from mobsim.kernels import layout as Y

        W = self.dev["W"]
        self.n_trips = int(self.dev["V"].status.shape[0])
        self.n_lanes = int(self.dev["L"].lane_cnt.shape[0])
        self.n_links = int(W.link_dep_start.shape[0] - 1)
        self.n_slots = int(self.dev["N"].slot_ctrl.shape[0])
        self.n_ctrl = int(self.dev["N"].ctrl_kind.shape[0])
        if not hasattr(self, "n_ctrl_actuated"):
            # only networks with actuated or delay-based signals launch the controllers' kernel (counted once:
            # the sum is a device synchronisation, and the network does not change)
            self.n_ctrl_actuated = int((self.dev["N"].ctrl_kind != 0).sum())
        sum_cap = int(W.sum_buf.shape[0])
        ev_cap = int(W.ev_time.shape[0])
        every = max(1, int(self._par_host[Y.P_SUMMARY_EVERY]))
        cnt = self._counters()
        step = int(cnt[Y.C_STEP])
        nsum = int(cnt[Y.C_NSUM])
        nev = int(cnt[Y.C_NEV])
        done = 0
        while done < n_steps:
            if done and done % CHECK_EVERY == 0:
                nev = int(self._counters()[Y.C_NEV])
            if nsum >= sum_cap or nev + EVENT_MARGIN > ev_cap:
                break
            # Steady steps replay one captured graph once a steady step has run launch by launch
            # (every kernel is then compiled and loaded: loading a module cannot be captured).
            if not (step != 0 and self._steady_eager > 0 and self._graph_wanted() and self._graph_step()):
                self._step(step)
                self._steady_eager += step != 0
            step += 1
            done += 1
            if every <= 1 or step % every == 0:
                nsum += 1
            if self.reorder_every > 0 and step % self.reorder_every == 0:
                from mobsim.state.slots import renumber

                c = self._counters()
                if int(c[Y.C_NRUN]) >= self.reorder_min:
                    args = (self.dev["V"], self.dev["L"], W, self.xp, int(c[Y.C_NRUN]), int(c[Y.C_NEV]))
                    if self.profile is None:
                        renumber(*args, fast=False)
                    else:
                        with self._timed("renumber"):
                            renumber(*args, fast=False)
        if not self.simulated:
            self._cuda.synchronize()
        return done

    def describe(self) -> str:
        """The GPU (or the simulator), for the result file's ``device`` attribute."""
        if self.simulated:
            return "cuda simulator (NUMBA_ENABLE_CUDASIM=1; numpy arrays stand in for device memory)"
        dev = self._cuda.get_current_device()
        name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
        return f"cuda: {name} (compute capability {dev.compute_capability[0]}.{dev.compute_capability[1]})"

    def device_bytes(self) -> int:
        """Bytes of device memory held by the state (the buffer of the car state with its alignment
        padding, and the drone parts where present)."""
        own = int(self._buf.nbytes) if hasattr(self, "_buf") else 0
        return own + int(sum(a.nbytes for p in self.dev if p not in (*PARTS, "P") for a in self.dev[p]
                             if hasattr(a, "nbytes")))
