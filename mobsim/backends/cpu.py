"""Backends: where the state lives and which drivers advance it. Chosen once per Simulation.

The CPU backend keeps numpy arrays and runs the numba ``njit`` drivers of
:mod:`mobsim.kernels.cpu_step`; the CUDA backend (:mod:`mobsim.backends.cuda`) keeps cupy arrays
and runs the ``numba.cuda`` drivers of :mod:`mobsim.kernels.cuda_step` over the same per-item
functions. Both have one interface: ``attach`` the host state, ``run_steps``, ``pull`` device
arrays to the host before recording and ``push`` host changes back (no-ops on the CPU, where host
and device are the same arrays), ``update`` one part after the host replaced it.
"""

from __future__ import annotations

import logging
import os
import platform
from typing import Any

import numpy as np

from mobsim.errors import InputError

log = logging.getLogger("mobsim")


class CPUBackend:
    """State in host memory (numpy); drivers compiled by numba for the CPU, parallel over threads."""

    name = "cpu"
    xp = np
    choice = "requested"
    #: Renumber vehicle slots every this many steps (0: never) when at least ``reorder_min``
    #: vehicles run; both set by the Simulation.
    reorder_every = 0
    reorder_min = 0

    def __init__(self, threads: int | None = None) -> None:
        import numba

        self.max_threads = numba.config.NUMBA_NUM_THREADS
        n = int(threads) if threads else self.max_threads
        if n < 1 or n > self.max_threads:
            raise InputError(f"threads={n} is outside 1..{self.max_threads}", source="--threads",
                             fix=f"use a thread count between 1 and {self.max_threads} (0 = all)")
        numba.set_num_threads(n)
        self.threads = n

    def attach(self, V: Any, N: Any, L: Any, W: Any, vt: np.ndarray, par: np.ndarray) -> None:
        """Hand the state to the kernels: StructRefs over the very same arrays (no copies)."""
        from mobsim.kernels.structs import to_struct

        self._k = {"V": to_struct(V), "N": to_struct(N), "L": to_struct(L), "W": to_struct(W)}
        self._host = {"V": V, "L": L, "W": W}
        self.vt, self.par = vt, par

    def update(self, name: str, host: Any) -> None:
        """Replace one part of the state (e.g. ``W`` after re-routing grew the route pool)."""
        from mobsim.kernels.structs import to_struct

        self._k[name] = to_struct(host)
        self._host[name] = host

    def pull(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Host and device are the same memory: nothing to copy."""

    def push(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Host and device are the same memory: nothing to copy."""

    def run_steps(self, n: int) -> int:
        """Advance up to ``n`` steps; returns how many were run (fewer when a buffer filled up).

        Every ``reorder_every`` steps (counted from the first step, whatever the chunking) the
        vehicle slots are renumbered to follow the sorted order (:mod:`mobsim.state.slots`).
        """
        from mobsim.kernels.cpu_step import run_steps
        from mobsim.kernels.layout import C_NEV, C_NRUN, C_STEP

        k = self._k
        W = self._host["W"]
        every, least = self.reorder_every, self.reorder_min
        if n <= 0:
            # Still call the kernel: Simulation.run compiles it (or loads it) this way before its clock.
            return int(run_steps(k["V"], k["N"], k["L"], k["W"], self.vt, self.par, 0, every, least))
        done = 0
        while done < n:
            # The kernel returns after a step that ends a renumbering period (with enough vehicles),
            # so small runs stay in one call and large ones renumber on time from their first period.
            got = int(run_steps(k["V"], k["N"], k["L"], k["W"], self.vt, self.par, n - done, every, least))
            done += got
            if every > 0 and got > 0 and int(W.cnt[C_STEP]) % every == 0 and int(W.cnt[C_NRUN]) >= least:
                from mobsim.state.slots import renumber

                renumber(self._host["V"], self._host["L"], W, np, int(W.cnt[C_NRUN]), int(W.cnt[C_NEV]))
            elif got == 0 or done < n:
                break  # a buffer is nearly full: the host flushes it
        return done

    def describe(self) -> str:
        """Processor and thread count, for the result file's ``device`` attribute."""
        cpu = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        return f"cpu: {cpu} ({self.threads} of {os.cpu_count()} threads)"


def select_backend(name: str = "auto", threads: int | None = None) -> Any:
    """The backend called ``name``: ``cpu``, ``cuda`` (a GPU, or numba's CUDA simulator when
    ``NUMBA_ENABLE_CUDASIM=1``), or ``auto`` (CUDA when a usable GPU is present, else the CPU; the
    choice is logged)."""
    if name == "cpu":
        return CPUBackend(threads)
    if name == "cuda":
        from mobsim.backends.cuda import CUDABackend

        return CUDABackend()
    if name == "auto":
        from mobsim.backends.cuda import CUDABackend, gpu_status

        ok, why = gpu_status()
        if ok:
            be: Any = CUDABackend()
            be.choice = "auto: a usable GPU"
        else:
            be = CPUBackend(threads)
            be.choice = f"auto: {why}"
        log.info("backend %s (%s)", be.name, be.choice)
        return be
    raise InputError(f"unknown backend {name!r}", source="--backend", fix="use auto, cpu or cuda")
