"""Drivers: the CPU drivers (numba njit, chunks over threads) and the CUDA kernels (grid-stride), which
call the phases in the declared order.
"""
