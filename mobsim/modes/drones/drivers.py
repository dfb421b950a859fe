"""How the drone step runs on each backend: the phases of :data:`mobsim.kernels.runtime.phases.AIR_PHASES`,
by the CPU driver (:func:`mobsim.kernels.drivers.air_cpu.drone_steps`, many steps in one call) or as CUDA
launches (:mod:`mobsim.kernels.drivers.air_cuda`, one per phase, with the cell buckets of detection from a
device sort). :class:`~mobsim.modes.drones.sim.DroneSim` asks the backend for its entry of
:data:`DRIVERS`; neither driver knows which backend it is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mobsim.backends.cuda import CHECK_EVERY  # steps between reads of the device's event counter
from mobsim.kernels.air import layout as K


class CPUDriver:
    """The drone state as StructRefs over the host arrays; many steps per call of the njit driver,
    its detection parallel over the backend's threads from ``PARALLEL_MIN`` flights on."""

    def __init__(self, backend: Any, D: Any, A: Any) -> None:
        from mobsim.kernels.drivers.air_cpu import PARALLEL_MIN

        self.backend = backend
        self.k = (backend.add_part("D", D), backend.add_part("A", A))
        self.parallel = backend.threads > 1 and D.phase.shape[0] >= PARALLEL_MIN

    def run(self, n_steps: int, margin: int) -> int:
        """Up to ``n_steps`` steps (0: compile or load the driver); stops with fewer than
        ``margin`` event slots left. Returns the steps run."""
        from mobsim.kernels.drivers.air_cpu import drone_steps

        with self.backend.parallel():
            return int(drone_steps(self.k[0], self.k[1], n_steps, margin, self.parallel))


class CUDADriver:
    """The drone state as two parts of the run's CUDA backend; one launch per phase and step."""

    #: Which phases of :data:`mobsim.kernels.runtime.phases.AIR_PHASES` each launch of :meth:`run` runs
    #: (``tests/test_phases.py`` holds the order of the launches to that list).
    PHASE_OF: dict[str, tuple[str, ...]] = {
        "k_pads": ("pads",), "k_move": ("move",), "k_keys": ("detect_cells",), "argsort": ("detect_cells",),
        "k_gather": ("detect_gather",), "k_detect_begin": ("detect",), "k_detect": ("detect",),
        "k_step_end": ("end_step",),
    }

    def __init__(self, backend: Any, D: Any, A: Any) -> None:
        self.backend = backend
        self.k = (backend.add_part("D", D), backend.add_part("A", A))
        self.begin = float(A.par[K.AP_BEGIN])
        self.dt = float(A.par[K.AP_DT])
        self.every = int(A.par[K.AP_DET_EVERY])
        self.ncell = int(A.par[K.AP_NX]) * int(A.par[K.AP_NY])
        self.n = int(D.phase.shape[0])
        self.n_vp = int(A.vp_x.shape[0])
        self.cap = int(A.ev_kind.shape[0])

    def counters(self) -> np.ndarray:
        return self.backend.to_host(self.backend.device("A").cnt)

    def run(self, n_steps: int, margin: int) -> int:
        """Up to ``n_steps`` steps (0: nothing to load, kernels compile at their first launch);
        stops with fewer than ``margin`` event slots left. Returns the steps run."""
        from mobsim.kernels.drivers import air_cuda as C

        be = self.backend
        xp = be.xp
        Dk, Ak = self.k
        Ad = be.device("A")
        n, ncell = self.n, self.ncell
        cnt = self.counters()
        step = int(cnt[K.AC_STEP])
        nev = int(cnt[K.AC_NEV])
        done = 0
        while done < n_steps:
            if done and done % CHECK_EVERY == 0:
                nev = int(self.counters()[K.AC_NEV])
            if nev + margin > self.cap:
                break
            t = self.begin + step * self.dt
            be.launch(C.k_pads, self.n_vp, Dk, Ak, t)
            be.launch(C.k_move, n, Dk, Ak, t)
            if (step + 1) % self.every == 0:
                be.launch(C.k_keys, n, Dk, Ak)
                key = be.device("D").cell
                key = xp.where(key < 0, ncell, key)
                order = be.argsort(key)
                skey = key[order]
                Ad.cell_items[:] = order.astype(np.int32)
                Ad.cell_start[:] = xp.searchsorted(skey, xp.arange(ncell + 1)).astype(np.int32)
                m = int(Ad.cell_start[ncell])
                be.launch(C.k_gather, m, Dk, Ak, m)
                be.launch(C.k_detect_begin, 1, Ak)
                be.launch(C.k_detect, n, Dk, Ak, t + self.dt)
            be.launch(C.k_step_end, 1, Ak)
            step += 1
            done += 1
        be.synchronize()
        return done


#: The drone driver of each backend family (:meth:`mobsim.backends.protocol.Backend.driver`).
DRIVERS = {"cpu": CPUDriver, "cuda": CUDADriver}
