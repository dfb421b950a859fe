"""Per-item phases of a mode, run by any backend: a mode writes one function ``fn(i, *args)`` for
item ``i`` (a flight, a shuttle, a passenger), decorated with
:func:`numba.extending.register_jitable` so that every numba target can compile it, and a backend
runs it over ``0..n-1``: :func:`cpu_items` as a ``prange`` loop of the CPU's threads,
:func:`cuda_items` as a grid-stride CUDA kernel. The loops are written here once, for every
mode; a mode's phase list is then data (functions and their arguments), not driver code.

The wrappers are built per function and arity and kept for the process (numba cannot cache a
function built at run time on disk, so they compile once per process).
"""

from __future__ import annotations

from typing import Any

_CPU: dict[tuple[Any, int, bool], Any] = {}
_CUDA: dict[tuple[Any, int], Any] = {}

#: Below this many items the CPU runs a phase as a plain loop: starting the threads of a parallel
#: loop costs 0.3-1.5 ms per call (measured with a transit line's boarding phase, called after
#: every step: 6 us as a plain loop), more than a few hundred items take.
PARALLEL_MIN_ITEMS = 1024


def _source(name: str, nargs: int, cuda: bool, serial: bool = False) -> str:
    args = "".join(f", a{k}" for k in range(nargs))
    if cuda:
        return (f"def {name}(n{args}):\n"
                f"    i = cuda.grid(1)\n"
                f"    step = cuda.gridsize(1)\n"
                f"    while i < n:\n"
                f"        fn(i{args})\n"
                f"        i += step\n")
    return (f"def {name}(n{args}):\n"
            f"    for i in {'range' if serial else 'prange'}(n):\n"
            f"        fn(i{args})\n")


def cpu_items(fn: Any, nargs: int, parallel: bool = True) -> Any:
    """A numba function ``run(n, *args)`` that calls ``fn(i, *args)`` for every ``i`` in
    ``0..n-1``: ``njit(parallel=True)`` over ``prange`` (items in any order, on any thread: ``fn``
    must not depend on it), or with ``parallel=False`` a plain loop in order on one thread (for
    few items: :data:`PARALLEL_MIN_ITEMS`)."""
    key = (fn, nargs, parallel)
    if key not in _CPU:
        from numba import njit, prange

        scope: dict[str, Any] = {"fn": fn, "prange": prange}
        exec(_source("run_items", nargs, cuda=False, serial=not parallel), scope)  # noqa: S102 - a fixed template
        _CPU[key] = njit(parallel=parallel)(scope["run_items"])
    return _CPU[key]


def cuda_items(fn: Any, nargs: int) -> Any:
    """A ``numba.cuda`` kernel ``k(n, *args)`` that calls ``fn(i, *args)`` for every ``i`` in
    ``0..n-1`` with a grid-stride range (any grid size covers every item)."""
    key = (fn, nargs)
    if key not in _CUDA:
        from numba import cuda

        scope: dict[str, Any] = {"fn": fn, "cuda": cuda}
        exec(_source("k_items", nargs, cuda=True), scope)  # noqa: S102 - a fixed template
        _CUDA[key] = cuda.jit(scope["k_items"])
    return _CUDA[key]
