"""Backends: where the state lives and which drivers advance it. Chosen once per Simulation.

The CPU backend keeps numpy arrays and runs the numba ``njit`` drivers of
:mod:`mobsim.kernels.cpu_step`. A CUDA backend (cupy arrays, ``numba.cuda`` drivers over the same
physics functions) slots in behind the same interface; until it exists, asking for it is a clear
error and ``auto`` picks the CPU.
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np

from .errors import InputError


class CPUBackend:
    """State in host memory (numpy); drivers compiled by numba for the CPU, parallel over threads."""

    name = "cpu"
    xp = np

    def __init__(self, threads: int | None = None) -> None:
        import numba

        self.max_threads = numba.config.NUMBA_NUM_THREADS
        n = int(threads) if threads else self.max_threads
        if n < 1 or n > self.max_threads:
            raise InputError(f"threads={n} is outside 1..{self.max_threads}", source="--threads",
                             fix=f"use a thread count between 1 and {self.max_threads} (0 = all)")
        numba.set_num_threads(n)
        self.threads = n

    def to_device(self, a: np.ndarray) -> np.ndarray:
        return a

    def to_host(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def run_steps(self, V: Any, N: Any, L: Any, W: Any, vt: np.ndarray, par: np.ndarray, n: int) -> int:
        """Advance up to ``n`` steps; returns how many were run."""
        from .kernels.cpu_step import run_steps

        return int(run_steps(V, N, L, W, vt, par, n))

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


def select_backend(name: str = "auto", threads: int | None = None) -> CPUBackend:
    """The backend called ``name`` (``auto``, ``cpu`` or ``cuda``)."""
    if name in ("auto", "cpu"):
        return CPUBackend(threads)
    if name == "cuda":
        raise InputError("the CUDA backend is not available in this build of mobsim", source="--backend",
                         fix="use --backend cpu (or auto); the CUDA backend is tracked in issue 3")
    raise InputError(f"unknown backend {name!r}", source="--backend", fix="use auto, cpu or cuda")
