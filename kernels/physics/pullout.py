"""Whether a vehicle standing beside its lane (in a bay, or parked at the curb while idle) can
pull out into the lane: the check of the transit bays and of idle on-demand vehicles."""

from __future__ import annotations

from numba.extending import register_jitable

from ..runtime.layout import T_DEC, T_LEN, T_S0


@register_jitable
def bay_exit_clear(s, lane_of, pos, speed, vtype, lane_start, order, vt, dt):
    """Whether the vehicle in slot ``s``, waiting in a bay, can pull out into its lane: the nearest
    vehicle ahead leaves it its minimum gap, and the nearest behind can stop short of it (its
    minimum gap, a step's travel and its comfortable braking distance)."""
    ln = lane_of[s]
    p = pos[s]
    rear = p - vt[vtype[s], T_LEN]
    for k in range(lane_start[ln], lane_start[ln + 1]):
        i = order[k]
        q = pos[i]
        if q > p:
            if q - vt[vtype[i], T_LEN] - p < vt[vtype[s], T_S0]:
                return False
        else:
            v = speed[i]
            if rear - q < vt[vtype[i], T_S0] + v * dt + v * v / (2.0 * vt[vtype[i], T_DEC]):
                return False
    return True
