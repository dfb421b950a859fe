"""Counter-based random numbers: ``u01(seed, stream, agent, step)``.

A stateless hash (SplitMix64 finaliser over a combination of the four counters), so a random
number depends only on *what it is for* and never on thread order, device or how many numbers were
drawn before. The same source compiles for CPU and CUDA (see :mod:`mobsim.kernels`), and a
checkpoint needs only ``(seed, step)``.

Streams in use (keep them distinct):

* ``STREAM_SPEED_FACTOR`` (1): the per-vehicle desired-speed factor drawn at insertion.
* ``STREAM_DAWDLE`` (2): Krauss dawdling, one draw per vehicle (trip number) and step.
* ``STREAM_DEPART_POS`` (3): random departure positions, per vehicle (trip number), step and try
  (``step * DEPART_TRIES + try``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import register_jitable

STREAM_SPEED_FACTOR = 1
STREAM_DAWDLE = 2
STREAM_DEPART_POS = 3

# Every constant is a uint64 so numba never mixes signed and unsigned integers (which it would
# promote to float64). In plain Python the products wrap like C; numpy may warn about the
# overflow, which is intended here (see ``wrapping``).
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)
_K1 = np.uint64(0x632BE59BD9B4E019)
_K2 = np.uint64(0x85157AF5)
_K3 = np.uint64(0xD6E8FEB86659FD93)
_K4 = np.uint64(0x2545F491)
_K5 = np.uint64(0xCA5A826395121157)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0

class _Wrapping:
    """Re-usable context manager: integer overflow wraps silently (numpy's errstate objects cannot
    be entered twice under numpy 2, so a fresh one is made each time)."""

    def __enter__(self) -> _Wrapping:
        self._state = np.errstate(over="ignore")
        self._state.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._state.__exit__(*exc)


wrapping = _Wrapping()
"""Context manager for calling these functions as plain Python (tests, CUDA simulator)."""


@register_jitable
def _mix64(z):
    z = (z ^ (z >> _S30)) * _C1
    z = (z ^ (z >> _S27)) * _C2
    return z ^ (z >> _S31)


@register_jitable
def hash4(seed, stream, agent, step):
    """64-bit hash of four non-negative integers."""
    z = np.uint64(seed) * _G
    z = _mix64(z ^ (np.uint64(stream) + _K1))
    z = _mix64(z ^ ((np.uint64(agent) + _K2) * _K3))
    z = _mix64(z ^ ((np.uint64(step) + _K4) * _K5))
    return z


@register_jitable
def u01(seed, stream, agent, step):
    """A uniform number in the open interval (0, 1), from four counters."""
    z = hash4(seed, stream, agent, step)
    return (float(z >> _S11) + 0.5) * _INV53


@register_jitable
def normal01(seed, stream, agent, step):
    """A standard normal number (Box-Muller on two counter-based uniforms)."""
    a = u01(seed, stream, agent, 2 * step)
    b = u01(seed, stream, agent, 2 * step + 1)
    return math.sqrt(-2.0 * math.log(a)) * math.cos(2.0 * math.pi * b)


@njit(cache=True)
def u01_many(seed, stream, agents, step):
    """:func:`u01` for every agent id in ``agents`` (one array out; for host-side sampling)."""
    out = np.empty(agents.shape[0])
    for k in range(agents.shape[0]):
        out[k] = u01(seed, stream, agents[k], step)
    return out
