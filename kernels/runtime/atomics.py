"""Target-specific primitives that the shared step code calls: integer atomic add and minimum.

The per-vehicle and per-lane step functions are written once and compiled for the CPU (``njit``)
and for CUDA (as device functions). Where several of them may write one counter in the same pass
(arrivals, blocked crossings, events), they call :func:`atomic_add`: a plain read-modify-write on
the CPU, where those passes run sequentially, and ``cuda.atomic.add`` on the GPU. Only integers
go through atomics, so the result never depends on the order in which threads arrive.
"""

from __future__ import annotations

from typing import Any

from numba.core import cgutils, types
from numba.core.extending import intrinsic, overload


def atomic_add(a: Any, i: int, v: Any) -> Any:
    """``a[i] += v``; returns the old value (plain Python: the CUDA simulator and unit tests)."""
    old = a[i]
    a[i] += v
    return old


def atomic_min(a: Any, i: int, v: Any) -> Any:
    """``a[i] = min(a[i], v)``; returns the old value."""
    old = a[i]
    if v < old:
        a[i] = v
    return old


def atomic_add_mt(a: Any, i: int, v: Any) -> Any:
    """``a[i] += v`` that is atomic on the CPU too (for passes that run on several threads, like
    the drone kernels); returns the old value. Integers only."""
    old = a[i]
    a[i] += v
    return old


@intrinsic
def _cpu_atomic_add(typingctx, arr, idx, val):
    """LLVM ``atomicrmw add`` on ``arr[idx]`` (an integer array), returning the old value."""
    if not (isinstance(arr, types.Array) and isinstance(arr.dtype, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        arr_t, idx_t, val_t = sig.args
        a, i, v = args
        ary = context.make_array(arr_t)(context, builder, a)
        i = context.cast(builder, i, idx_t, types.intp)
        ptr = cgutils.get_item_pointer(context, builder, arr_t, ary, [i], wraparound=True)
        v = context.cast(builder, v, val_t, arr_t.dtype)
        return builder.atomic_rmw("add", ptr, v, "monotonic")

    return arr.dtype(arr, idx, val), codegen


@overload(atomic_add_mt, target="cpu")
def _atomic_add_mt_cpu(a, i, v):
    def impl(a, i, v):
        return _cpu_atomic_add(a, i, v)

    return impl


@overload(atomic_add, target="cpu")
def _atomic_add_cpu(a, i, v):
    def impl(a, i, v):
        old = a[i]
        a[i] += v
        return old

    return impl


@overload(atomic_min, target="cpu")
def _atomic_min_cpu(a, i, v):
    def impl(a, i, v):
        old = a[i]
        if v < old:
            a[i] = v
        return old

    return impl


_cuda_registered = False


def register_cuda() -> None:
    """Register the CUDA implementations (once). The CUDA drivers call it when they are imported
    (:mod:`.cuda_step`, :mod:`.air_cuda`): importing numba-cuda costs a quarter of a second, which
    a CPU run need not pay at every start."""
    global _cuda_registered
    if _cuda_registered:
        return
    _cuda_registered = True
    from numba import cuda

    @overload(atomic_add, target="cuda")
    def _atomic_add_cuda(a, i, v):
        def impl(a, i, v):
            return cuda.atomic.add(a, i, v)

        return impl

    @overload(atomic_add_mt, target="cuda")
    def _atomic_add_mt_cuda(a, i, v):
        def impl(a, i, v):
            return cuda.atomic.add(a, i, v)

        return impl

    @overload(atomic_min, target="cuda")
    def _atomic_min_cuda(a, i, v):
        def impl(a, i, v):
            return cuda.atomic.min(a, i, v)

        return impl

