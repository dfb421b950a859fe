"""The CUDA backend under numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``): the very same
kernels, launch sequence and host transfers as on a GPU, run as Python on numpy arrays, slowly.
Tests without a GPU use it to hold the CUDA driver to the CPU driver.

Only the primitives differ from :class:`~mobsim.backends.cuda.CUDABackend`: the "device" arrays
are numpy copies, kept apart from the host's as on a GPU (so every :meth:`pull` and :meth:`push`
the recorder needs is exercised); numpy stands in for cupy's sort and for the lane-count scan;
timing is wall-clock; a captured step is the recorded list of its launches.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import numpy as np

from mobsim.backends.cuda import PARTS, CUDABackend

#: The simulator runs every thread as a Python thread: small blocks.
SIM_THREADS_PER_BLOCK = 32


class _NoArrayOps:
    """Stands in for the array module while the simulator records a step as a graph: the step
    must be kernels only, so any array-library call in it is a bug."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the captured CUDA step uses an array operation (xp.{name}); a CUDA graph "
                             "replays kernels only")


class CUDASimBackend(CUDABackend):
    """The CUDA backend's kernels in numba's simulator, numpy arrays standing in for device memory."""

    tpb = SIM_THREADS_PER_BLOCK
    #: One block for the summary: every simulated thread is a Python thread.
    _summary_blocks = 1

    def _array_module(self) -> Any:
        return np

    # ------------------------------------------------------------------ primitives
    def to_host(self, a: Any) -> np.ndarray:
        return np.array(a, copy=True)

    def _set(self, d: Any, h: np.ndarray) -> None:
        d[...] = h

    def _from_host(self, a: np.ndarray) -> Any:
        return a

    def argsort(self, a: Any) -> Any:
        return np.argsort(a, kind="stable")

    def synchronize(self) -> None:
        """Simulated launches have finished when they return."""

    def _threads_for(self, n: int) -> int:
        return min(self.tpb, n)  # no more (Python) threads than items

    def _to_device(self, host: Any) -> tuple[Any, Any]:
        dev = type(host)(*[np.array(a, copy=True) for a in host])
        return dev, dev

    def _packed(self, buf: Any, lay: np.ndarray, views: dict[str, Any]) -> Any:
        """The simulator runs kernels as Python, once per thread: the views of the packed state are
        built here, once per (re)pack, and passed in (:func:`mobsim.kernels.drivers.cuda_step.unpack`)."""
        from mobsim.kernels.drivers.cuda_step import SimPacked

        return SimPacked(buf, lay, tuple(views[p] for p in (*PARTS, "P")))

    def _scan_lanes(self, n_lanes: int) -> None:
        """numpy stands in for the scan kernels: the simulator runs their barriers at some 0.3 s a
        launch (it polls every thread of a block), which made the parity cases ten times slower
        (``tests/test_cuda_scan.py`` checks the kernels against this; a GPU runs the kernels)."""
        if self._capture is not None:
            self._capture.append(self._scan_lanes_host)
        else:
            self._scan_lanes_host()

    def _scan_lanes_host(self) -> None:
        """Lane starts from the lane counts, which it leaves zero, as the kernels do."""
        L = self.dev["L"]
        L.lane_start[0] = 0
        np.cumsum(L.lane_cnt, out=L.lane_start[1:])
        L.lane_cnt[:] = 0

    # ------------------------------------------------------------------ timing
    def _timed(self, name: str) -> Any:
        prof = self.profile
        assert prof is not None

        @contextlib.contextmanager
        def cm() -> Any:
            t0 = time.perf_counter()
            yield
            prof.setdefault(name, []).append(time.perf_counter() - t0)

        return cm()

    def profile_seconds(self) -> dict[str, float]:
        return {name: float(sum(recs)) for name, recs in (self.profile or {}).items()}

    # ------------------------------------------------------------------ the captured step
    def _graph_wanted(self) -> bool:
        """Only when asked for (``graphs = "on"``): replaying a recording saves the simulator nothing."""
        return self.graphs == "on" and super()._graph_wanted()

    def _capture_step(self) -> Any:
        """The list of the steady step's launches (and of the scan's numpy stand-in). While
        recording, ``xp`` is a guard that fails on any array-library call (a real capture could
        not replay one that allocates; the step's work must all be kernels)."""
        self._capture, xp = [], self.xp
        self.xp = _NoArrayOps()
        try:
            self._step(1)
            return self._capture
        finally:
            self._capture, self.xp = None, xp

    def _replay(self, graph: Any) -> None:
        for op in graph:
            op()

    def describe(self) -> str:
        return "cuda simulator (NUMBA_ENABLE_CUDASIM=1; numpy arrays stand in for device memory)"
