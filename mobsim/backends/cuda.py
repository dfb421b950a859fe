"""The CUDA backend: state in GPU memory (cupy), the step as ``numba.cuda`` kernels.

The kernels (:mod:`mobsim.kernels.drivers.cuda_step`) call the same per-item functions as the CPU
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

import contextlib
import logging
from typing import Any

import numpy as np

from mobsim.backends.cuda_order import DeviceOrder
from mobsim.backends.gpu_check import DRIVER_LIBRARIES, driver_present, gpu_status, simulator_enabled
from mobsim.backends.items import cuda_items
from mobsim.errors import InputError

#: Threads per block on a GPU; the simulator runs every thread as a Python thread, so fewer there.
THREADS_PER_BLOCK = 128
SIM_THREADS_PER_BLOCK = 32
#: Steps between reads of the event counter (a host synchronisation).
CHECK_EVERY = 16
#: Stop a chunk when fewer event slots than this are left.
EVENT_MARGIN = 4096

PARTS = ("V", "N", "L", "W")

__all__ = ["CHECK_EVERY", "DRIVER_LIBRARIES", "EVENT_MARGIN", "PARTS", "THREADS_PER_BLOCK", "CUDABackend",
           "driver_present", "gpu_status", "simulator_enabled"]

log = logging.getLogger(__name__)


class CUDABackend(DeviceOrder):
    """State in GPU memory (cupy); the step as CUDA kernels. :class:`.cudasim.CUDASimBackend`
    runs the same kernels in numba's simulator; it overrides the few primitives that differ
    (copies, the sort, timing, the graph), so nothing here asks which of the two it is."""

    name = "cuda"
    threads = 1
    choice = "requested"
    #: Renumber vehicle slots every this many steps (0: never) when at least ``reorder_min``
    #: vehicles run; both set by the Simulation.
    reorder_every = 0
    reorder_min = 0
    #: Replay the step as a CUDA graph (one launch per step instead of 24, which also frees
    #: the host from Python launch overhead): "auto" (the default) on a GPU whenever the step is
    #: kernels only (the "lanes" order; not while profiling or checking orders); "on" the same
    #: (and under the simulator, where a recorded list of the step's launches stands in for the
    #: graph); "off" never. A capture that fails falls back to separate launches, with a warning
    #: and the reason in :attr:`graph_error`.
    graphs = "auto"
    #: Threads per block.
    tpb = THREADS_PER_BLOCK
    #: Blocks of the summary kernel (None: enough for its items).
    _summary_blocks: int | None = None

    def __init__(self) -> None:
        self.xp = self._array_module()
        from numba import cuda

        self._cuda = cuda
        self.host: dict[str, Any] = {}
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

    def _array_module(self) -> Any:
        """cupy, after checking that a GPU can run it."""
        ok, why = gpu_status()
        if not ok:
            raise InputError(f"the CUDA backend cannot run here: {why}", source="--backend",
                             fix="use --backend cpu (or auto), or install the GPU extra on a machine "
                                 "with an NVIDIA GPU: pip install -e '.[gpu]' (see the README); "
                                 "NUMBA_ENABLE_CUDASIM=1 runs the CUDA kernels in numba's simulator")
        import cupy

        return cupy

    # ------------------------------------------------------------------ primitives
    def to_host(self, a: Any) -> np.ndarray:
        """A host copy of device array ``a`` (a synchronisation)."""
        return a.get()

    def _set(self, d: Any, h: np.ndarray) -> None:
        """Copy host array ``h`` into device array ``d``."""
        d.set(np.ascontiguousarray(h))

    def _from_host(self, a: np.ndarray) -> Any:
        """Host array ``a`` as a device array (to be copied into the packed buffer)."""
        return self.xp.asarray(a)

    def argsort(self, a: Any) -> Any:
        """Stable argsort of a device array: cupy's is always stable (a radix sort) and takes no
        ``kind``."""
        return self.xp.argsort(a)

    def synchronize(self) -> None:
        """Wait for every launched kernel."""
        self._cuda.synchronize()

    def _threads_for(self, n: int) -> int:
        """Threads per block for a launch over ``n`` items."""
        return self.tpb

    # ------------------------------------------------------------------ state
    def _to_device(self, host: Any) -> tuple[Any, Any]:
        """(device tuple for array primitives, tuple for kernel arguments) of a host namedtuple."""
        xp = self.xp
        dev = type(host)(*[xp.asarray(a) for a in host])
        karg = type(host)(*[self._cuda.as_cuda_array(a) for a in dev])
        return dev, karg

    def configure(self, settings: dict[str, Any]) -> None:
        """Read ``sim.cuda_graphs`` (:attr:`graphs`)."""
        self.graphs = str(settings.get("sim.cuda_graphs", "auto"))

    def add_part(self, name: str, host: Any) -> Any:
        """Copy a mode's state (a namedtuple of host arrays) to the device as part ``name``, which
        :meth:`pull` and :meth:`push` then serve; returns what its kernels take as argument."""
        self.host[name] = host
        self.dev[name], self.karg[name] = self._to_device(host)
        return self.karg[name]

    def driver(self, drivers: dict[str, Any]) -> Any:
        """The CUDA entry of a mode's ``drivers`` table (the simulator's too: same kernels)."""
        return drivers[self.name]

    def parallel(self) -> contextlib.AbstractContextManager[None]:
        """Host-side work keeps numba's thread count: the CUDA backend sets none."""
        return contextlib.nullcontext()

    def device(self, name: str) -> Any:
        """The device arrays of part ``name`` (for array primitives: sorts, searches, fills)."""
        return self.dev[name]

    def run_items(self, fn: Any, n: int, *args: Any, parallel_min: int | None = None) -> None:
        """Run the per-item function ``fn(i, *args)`` for ``i`` in ``0..n-1`` as one kernel (a
        phase of a mode; ``fn`` is compiled for every target, :mod:`.items`)."""
        self._launch(cuda_items(fn, len(args)), n, n, *args)

    def attach(self, V: Any, N: Any, L: Any, W: Any, vt: np.ndarray, par: np.ndarray) -> None:
        """Copy the state to the device, into one buffer (:mod:`.kernels.cuda_args`); the kernels
        run on it from now on."""
        from mobsim.kernels.runtime.cuda_args import Params
        from mobsim.net.compile import HOST_ONLY

        self.host.update(zip(PARTS, (V, N, L, W), strict=True))
        self._par_host = par
        n_dev = N._replace(**{f: np.zeros(0, getattr(N, f).dtype) for f in HOST_ONLY})
        self._pack({**self.host, "N": n_dev, "P": Params(np.ascontiguousarray(vt), par)},
                   fresh=set(PARTS) | {"P"})
        self._order_valid = False

    def _pack(self, parts: dict[str, Any], fresh: set[str]) -> None:
        """(Re)build the state buffer: parts in ``fresh`` from the host, the others copied from the
        current device buffer (whose values are newer than the host's)."""
        from mobsim.kernels.runtime.cuda_args import SPEC, layout, views

        lay, size = layout(parts)
        xp = self.xp
        buf = xp.zeros(size, np.uint8)
        new = views(buf, lay)
        for part, _cls, _fields in SPEC:
            src = parts[part] if part in fresh else self.dev[part]
            for d, a in zip(new[part], src, strict=True):
                d[...] = self._from_host(a) if part in fresh else a
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
        self.K = self._packed(buf, lay, new)

    def _packed(self, buf: Any, lay: np.ndarray, views: dict[str, Any]) -> Any:
        """The kernels' argument for the packed state (:mod:`mobsim.kernels.runtime.cuda_args`)."""
        from mobsim.kernels.runtime.cuda_args import Packed

        return Packed(self._cuda.as_cuda_array(buf), self._cuda.to_device(lay))

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
            getattr(host, f)[...] = self.to_host(d)

    def push(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Copy host fields of part ``name`` to the device (after the host changed them)."""
        host, dev = self.host[name], self.dev[name]
        if fields is None or {"status", "lane", "pos", "order"} & set(fields):
            self._order_valid = False
        for f in fields or host._fields:
            self._set(getattr(dev, f), getattr(host, f))

    # ------------------------------------------------------------------ step
    def _blocks(self, n: int) -> int:
        return (n + self.tpb - 1) // self.tpb

    def launch(self, kern: Any, n: int, *args: Any) -> None:
        """Launch CUDA kernel ``kern`` over ``n`` items (a grid-stride kernel of a mode)."""
        self._launch(kern, n, *args)

    def _launch(self, kern: Any, n: int, *args: Any, tpb: int | None = None,
                blocks: int | None = None) -> None:
        """Launch ``kern`` over ``n`` items (``tpb`` threads per block, enough blocks for ``n``
        unless ``blocks`` is given); recorded instead while the simulator stands in for a capture."""
        if n > 0:
            tpb = tpb or self._threads_for(n)
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
        self.synchronize()
        for name, recs in self.profile.items():
            out[name] = float(sum(self.xp.cuda.get_elapsed_time(a, b) for a, b in recs)) / 1e3
        return out

    #: Which phases of :data:`mobsim.kernels.runtime.phases.ROAD_PHASES` each launch of :meth:`_step` runs
    #: (``tests/test_phases.py`` holds the order of the launches to that list).
    PHASE_OF: dict[str, tuple[str, ...]] = {
        "k_controllers": ("controllers",), "k_signals": ("signals",), "k_insert": ("insert",),
        "_order_timed": ("order",), "k_decide": ("lane_change_decide",), "k_apply": ("lane_change_apply",),
        "k_plan": ("plan",), "k_advance": ("advance",), "k_junction_source": ("junction_sources",),
        "k_junction_target": ("junction_targets",), "k_flags": ("flags",), "k_gridlock": ("gridlock",),
        "k_transfer": ("transfer",), "k_summary": ("summary",), "k_end": ("end_step",),
    }

    def _step(self, step: int) -> None:
        from mobsim.kernels.drivers import cuda_step as C
        from mobsim.kernels.runtime import layout as Y

        # The kernels read the step and its time from the device (kernels.road.record.clock): every
        # step launches the same kernels with the same arguments (what a CUDA graph would replay).
        K = self.K  # the packed state (kernels.runtime.cuda_args)
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
        # a grid-stride range covers the parts and links with any grid (the simulator uses one block)
        self._launch(C.k_summary, max(Y.SUM_PARTS, self.n_links), K, blocks=self._summary_blocks)
        self._launch(C.k_end, 1, K)

    # ------------------------------------------------------------------ CUDA graph
    def _graph_wanted(self) -> bool:
        """Whether steady steps replay a captured graph (:attr:`graphs`)."""
        if self.graphs == "off":
            return False
        return self.order_mode == "lanes" and self.profile is None and not self.order_check

    def _capture_step(self) -> Any:
        """The steady step (a step after the first) captured once as a cupy Graph."""
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
        self._replay(self._graph)
        self.graph_steps += 1
        return True

    def _replay(self, graph: Any) -> None:
        """Launch the captured step on the current (default) stream, ordered with transfers."""
        graph.launch()

    def _counters(self) -> np.ndarray:
        return self.to_host(self.dev["W"].cnt)

    def run_steps(self, n_steps: int) -> int:
        """Advance up to ``n_steps`` steps; stops early when the summary or event buffer is nearly
        full (as the CPU driver does). Returns the number of steps run."""
        from mobsim.kernels.runtime import layout as Y

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
        self.synchronize()
        return done

    def describe(self) -> str:
        """The GPU, for the result file's ``device`` attribute."""
        dev = self._cuda.get_current_device()
        name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
        return f"cuda: {name} (compute capability {dev.compute_capability[0]}.{dev.compute_capability[1]})"

    def order_scratch(self, n: int) -> np.ndarray:
        """The CUDA drivers sort on the device: no host scratch."""
        return np.zeros(1, np.int32)

    def device_bytes(self) -> int:
        """Bytes of device memory held by the state (the buffer of the car state with its alignment
        padding, and the parts of other modes)."""
        own = int(self._buf.nbytes) if hasattr(self, "_buf") else 0
        return own + int(sum(a.nbytes for p in self.dev if p not in (*PARTS, "P") for a in self.dev[p]
                             if hasattr(a, "nbytes")))
