"""JIT kernels of mobsim, importable as ``mobsim.kernels``.

Physics lives in modules of pure scalar functions (:mod:`.idm`, :mod:`.mobil`, :mod:`.rng`) that
use only ``math``: scalars in, scalars out, no array indexing, no exceptions. They are decorated
with :func:`numba.extending.register_jitable`, the one place where they become compilable for
every numba target: the CPU drivers (``numba.njit``) and the CUDA drivers (``numba.cuda.jit``) call
the very same source. Without numba's JIT (plain Python, or the CUDA simulator) they are ordinary
Python functions, which is what the unit tests call.

Drivers (loops over vehicles and lanes) live in :mod:`.cpu_step` (and the CUDA module of the GPU
backend): thin loops that gather array elements, call the physics and scatter the results.
"""
