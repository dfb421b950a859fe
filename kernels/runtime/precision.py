"""Rounding of stored state to the precision it is kept in.

Speeds are stored as float32 (4 bytes per vehicle less on a GPU). A speed is only ever stored
rounded *down* (toward zero), so a stored speed never exceeds the bound it was computed against
(desired speed, safe speed, the leader's speed in the move's no-overlap clamp). Rounding to
nearest would be unbiased but could put a speed one float32 step above such a bound; rounding
down lowers speeds by half a float32 step on average, 3e-8 relative, about 5 µs over a
three-minute trip.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

#: 2**-24: ``f * _F32_STEP`` is between half a float32 step of ``f`` and one (f > 0)
_F32_STEP = 2.0**-24
#: the smallest float32 step (between subnormals)
_F32_TINY = 2.0**-149


@register_jitable
def f32_down(x):
    """The float32 nearest ``x`` (>= 0, float64) that is not above it.

    Why ``f - f * 2**-24`` is the next float32 below ``f``: for ``f`` in [2**e, 2**(e+1)) the
    float32 step is 2**(e-23) and ``f * 2**-24`` lies in [half a step, a step), so the float64
    difference (exact: 48 significant bits) rounds to ``f`` minus one step; at ``f = 2**e`` it is
    exactly the float32 below."""
    f = np.float32(x)
    g = float(f)  # compare in float64 (numpy would compare a float32 with a Python float in float32)
    if g > x:
        d = g * _F32_STEP
        if d < _F32_TINY:
            d = _F32_TINY  # subnormal: the step is fixed
        f = np.float32(g - d)
    return f
