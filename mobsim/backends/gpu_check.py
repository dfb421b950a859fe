"""Is there a GPU? Checks that run before any CUDA library is imported, so a CPU-only run pays
nothing for them: numba's CUDA simulator switch, the CUDA driver library, numba-cuda and cupy."""

from __future__ import annotations

import os
import sys


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
