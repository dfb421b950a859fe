"""On-demand vehicles at the curb, one item per fleet vehicle, after every road step.

An idle vehicle holds at its last visit (``idle_slot[j]``, a visit of the road's stop arrays
``W.visit_*`` whose earliest departure lies far ahead). Standing in its lane it would block
everyone behind it for as long as no request comes, which on a one-lane street is a gridlock:
so once it dwells there it leaves the lane's order (status ``S_BAY``, as a bus in a bay) and
the traffic passes. With ``curb`` set, every halt of the fleet (pick-ups and drop-offs too) is
off the lane, as SUMO's taxis stop (``parking = true``). A vehicle at the curb wants to pull out
once its halt is over (``t`` past its ``stop_end``) or, idle, once the host has given it work
(its next visit is elsewhere); it pulls back into the lane as soon as that is safe
(:func:`mobsim.kernels.physics.pullout.bay_exit_clear`), and the road releases it from its stop
and drives it on from the next step. Two passes: the first marks who may pull out, the second
lets them, the first of two at the same curb before the other. Every item writes only its own
vehicle's status and flag and one entry of the order (an atomic counter), so the result does
not depend on the order of the items or threads. SUMO's idle taxis park off the road the same
way (``MSIdling_Stop``). Times in s; ``t`` is the end of the step just run.
"""

from __future__ import annotations

from numba.extending import register_jitable

from ..physics.pullout import bay_exit_clear
from ..runtime.atomics import atomic_add_mt
from ..runtime.layout import C_NRUN, S_BAY, S_RUNNING, STOP_DWELL, T_LEN, T_S0


@register_jitable
def park_idle(j, t, dt, curb, status, stop_next, stop_state, stop_end, trip_slot, veh_trip, idle_slot, want,
              lane_of, pos, speed, vtype, lane_start, order, vt):
    """First pass, fleet vehicle ``j``: to the curb once it dwells at its idle visit (or at any
    stop with ``curb``); ``want[j]`` = 1 if it stands at the curb, its halt is over and its lane
    leaves room to pull out (module docstring)."""
    s = trip_slot[veh_trip[j]]
    st = status[s]
    want[j] = 0
    dwell = stop_state[s] == STOP_DWELL
    idle = dwell and idle_slot[j] >= 0 and stop_next[s] == idle_slot[j]
    if st == S_RUNNING and (idle or (curb != 0 and dwell)):
        status[s] = S_BAY
    elif st == S_BAY and not idle and not (dwell and t < stop_end[s] - 1e-9) and bay_exit_clear(
            s, lane_of, pos, speed, vtype, lane_start, order, vt, dt):
        want[j] = 1


@register_jitable
def pull_out(j, status, trip_slot, veh_trip, want, lane_of, pos, vtype, order, cnt, vt):
    """Second pass, fleet vehicle ``j``: back into its lane if it wants to and no vehicle before it
    in the fleet that wants to as well stands beside the same lane within a car length and a gap
    of it (two vehicles parked at the same curb must not pull out into the same place, and
    ``bay_exit_clear`` sees only the vehicles already in the lane). Reads only what the first
    pass wrote, so the items do not depend on each other's order."""
    if want[j] == 0:
        return
    s = trip_slot[veh_trip[j]]
    reach = vt[vtype[s], T_LEN] + vt[vtype[s], T_S0]
    for k in range(j):
        if want[k] == 0:
            continue
        q = trip_slot[veh_trip[k]]
        if lane_of[q] != lane_of[s]:
            continue
        d = pos[q] - pos[s]
        if -reach - vt[vtype[q], T_LEN] < d < reach + vt[vtype[q], T_LEN]:
            return
    status[s] = S_RUNNING
    order[atomic_add_mt(cnt, C_NRUN, 1)] = s
