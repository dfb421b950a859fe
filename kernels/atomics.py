"""Target-specific primitives that the shared step code calls: integer atomic add and minimum.

The per-vehicle and per-lane step functions are written once and compiled for the CPU (``njit``)
and for CUDA (as device functions). Where several of them may write one counter in the same pass
(arrivals, blocked crossings, events), they call :func:`atomic_add`: a plain read-modify-write on
the CPU, where those passes run sequentially, and ``cuda.atomic.add`` on the GPU. Only integers
go through atomics, so the result never depends on the order in which threads arrive.
"""

from __future__ import annotations

from typing import Any

from numba.core.extending import overload


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


def _register_cuda() -> None:
    """CUDA implementations, registered only where numba-cuda is installed."""
    try:
        from numba import cuda
    except ImportError:  # pragma: no cover - numba without the CUDA target
        return

    @overload(atomic_add, target="cuda")
    def _atomic_add_cuda(a, i, v):
        def impl(a, i, v):
            return cuda.atomic.add(a, i, v)

        return impl

    @overload(atomic_min, target="cuda")
    def _atomic_min_cuda(a, i, v):
        def impl(a, i, v):
            return cuda.atomic.min(a, i, v)

        return impl


try:
    _register_cuda()
except Exception:  # pragma: no cover - a broken CUDA installation must not break the CPU path
    pass
