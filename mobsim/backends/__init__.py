"""Backends: where the state lives and which drivers advance it. :mod:`.cpu` (numba ``njit``,
threads) and :mod:`.cuda` (cupy arrays, ``numba.cuda`` kernels, or numba's CUDA simulator);
:func:`.cpu.select_backend` picks one.
"""
