"""Which backend a run gets: :func:`select_backend`."""

from __future__ import annotations

import logging
from typing import Any

from mobsim.backends.cpu import CPUBackend
from mobsim.backends.gpu_check import gpu_status, simulator_enabled
from mobsim.errors import InputError

log = logging.getLogger("mobsim")


def _cuda() -> Any:
    """The CUDA backend: on the GPU, or in numba's simulator when ``NUMBA_ENABLE_CUDASIM=1``."""
    if simulator_enabled():
        from mobsim.backends.cudasim import CUDASimBackend

        return CUDASimBackend()
    from mobsim.backends.cuda import CUDABackend

    return CUDABackend()


def select_backend(name: str = "auto", threads: int | None = None) -> Any:
    """The backend called ``name``: ``cpu``, ``cuda`` (a GPU, or numba's CUDA simulator when
    ``NUMBA_ENABLE_CUDASIM=1``), or ``auto`` (CUDA when a usable GPU is present, else the CPU; the
    choice is logged)."""
    if name == "cpu":
        return CPUBackend(threads)
    if name == "cuda":
        return _cuda()
    if name == "auto":
        ok, why = gpu_status()
        if ok:
            be: Any = _cuda()
            be.choice = "auto: a usable GPU"
        else:
            be = CPUBackend(threads)
            be.choice = f"auto: {why}"
        log.info("backend %s (%s)", be.name, be.choice)
        return be
    raise InputError(f"unknown backend {name!r}", source="--backend", fix="use auto, cpu or cuda")
