"""CUDA drivers of the drone step: one thread per flight (or vertiport), the same range functions as
the CPU drivers (:mod:`.air_cpu`) with a grid-stride range. The cell buckets of the detection come
from a stable device sort of the cell keys (cupy; numpy under the CUDA simulator), which gives the
same (cell, id) order as the CPU's counting sort.
"""

from __future__ import annotations

from numba import cuda

from .. import cuda_kernel
from ..air.detect import detect_range, gather_range, keys_range
from ..air.flight import move_range, pads_range, step_end
from ..air.layout import AC_CONF_NOW, AC_DETECTIONS, AC_LOS_NOW
from ..runtime.atomics import register_cuda

register_cuda()  # cuda.atomic implementations of the shared step code's atomics

#: cuda.jit with a disk cache keyed by the kernel sources
_kernel = cuda_kernel()


@_kernel
def k_pads(D, A, t):
    """Pad allocation (vertiports)."""
    pads_range(D, A, cuda.grid(1), A.vp_x.shape[0], cuda.gridsize(1), t)


@_kernel
def k_move(D, A, t):
    """One step of motion and energy (flights)."""
    move_range(D, A, cuda.grid(1), D.phase.shape[0], cuda.gridsize(1), t)


@_kernel
def k_keys(D, A):
    """Grid cell of each flight (flights)."""
    keys_range(D, A, cuda.grid(1), D.phase.shape[0], cuda.gridsize(1))


@_kernel
def k_gather(D, A, m):
    """Copy the scanned state into cell order (grid entries)."""
    gather_range(D, A, cuda.grid(1), m, cuda.gridsize(1))


@_kernel
def k_detect_begin(A):
    """Reset the per-detection counters (one thread)."""
    if cuda.grid(1) == 0:
        A.cnt[AC_CONF_NOW] = 0
        A.cnt[AC_LOS_NOW] = 0
        A.cnt[AC_DETECTIONS] += 1


@_kernel
def k_detect(D, A, t):
    """Detection, resolution and geofence checks (flights)."""
    detect_range(D, A, cuda.grid(1), D.phase.shape[0], cuda.gridsize(1), t)


@_kernel
def k_step_end(A):
    """Advance the step counter (one thread)."""
    if cuda.grid(1) == 0:
        step_end(A)


#: Every drone kernel, by name (PTX compile test, benchmark timing).
KERNELS = {
    "pads": k_pads,
    "move": k_move,
    "keys": k_keys,
    "gather": k_gather,
    "detect_begin": k_detect_begin,
    "detect": k_detect,
    "step_end": k_step_end,
}


def signatures(D, A) -> dict:
    """Argument types of every drone kernel from example host state (for the PTX compile check)."""
    from numba import typeof, types

    tD, tA = typeof(D), typeof(A)
    f8 = types.float64
    return {
        "pads": (tD, tA, f8),
        "move": (tD, tA, f8),
        "keys": (tD, tA),
        "gather": (tD, tA, types.int64),
        "detect_begin": (tA,),
        "detect": (tD, tA, f8),
        "step_end": (tA,),
    }
