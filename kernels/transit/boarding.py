"""Boarding and alighting at stops, one transit line per item, after each road step.

The road holds a vehicle while it dwells at a scheduled stop (:mod:`mobsim.kernels.road.stops`) and
releases it once ``V.stop_end`` has passed. This phase, run after every road step for every line,
watches the line's vehicles (in departure order): when one has newly halted at a stop it records
the arrival and lets out the passengers bound there (and those bound to stops it skipped); while
it dwells, the passengers waiting at the stop for the line board in the order they came (FIFO),
as long as there is room and the vehicle will still reach their destination; it sets the dwell's
end by the dwell law ``door_time + (board_time * boardings + alight_time * alightings) / doors``
(``veh_law`` 0; the door time is the stop's minimum dwell, ``W.visit_dur``), or the larger of
the two terms (1: SUMO's, passengers board while the doors are open for the stop's duration),
not before the time point's scheduled departure; and once the road has released it, it records
the departure, the load, and a denied boarding for every passenger the full vehicle left behind.

A stop with a bay (``visit_bay``) takes the vehicle out of its lane while it dwells: status
``S_BAY`` keeps it out of the lane's order, so the traffic behind passes; once its dwell is over
it pulls out when the lane leaves room (:func:`bay_exit_clear`), and the road releases it.

One item owns one line: its vehicles, the queues at its stops and their passengers, so items
write disjoint memory and the result does not depend on the order of items or threads. Times in
s; ``t`` is the end of the step just run.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

from ..runtime.atomics import atomic_add_mt
from ..runtime.layout import C_NRUN, S_BAY, STOP_DWELL, T_DEC, T_LEN, T_S0


@register_jitable
def serve_line(l, t, dt, status, stop_next, stop_state, stop_end, trip_slot, visit_until, visit_dur,
               line_veh_start, line_pattern, line_q0,
               veh_trip, veh_visit0, veh_nvis, veh_cap, veh_a, veh_b, veh_doors, veh_law,
               veh_cur, veh_load, veh_alight,
               ev_arr, ev_dep, ev_board, ev_alight, ev_load, alight_cnt,
               q_start, q_head, p_arr, p_ride, p_board, p_veh, p_visit, p_denied,
               visit_bay, lane_of, pos, speed, vtype, lane_start, order, cnt, vt):
    """One step of line ``l`` (see the module docstring)."""
    pat = line_pattern[l]
    for j in range(line_veh_start[l], line_veh_start[l + 1]):
        s = trip_slot[veh_trip[j]]
        st = status[s]
        if st == 0:
            continue
        v0 = veh_visit0[j]
        nv = veh_nvis[j]
        cur = veh_cur[j]
        here = stop_state[s] == STOP_DWELL and (st == 1 or st == S_BAY)
        if cur >= 0 and not (here and stop_next[s] == cur):
            # released by the road (stop_end: the departure time)
            dep = stop_end[s]
            ev_dep[cur] = dep
            ev_load[cur] = veh_load[j]
            if veh_load[j] >= veh_cap[j]:
                lv = cur - v0
                q = line_q0[l] + lv % pat
                for p in range(q_head[q], q_start[q + 1]):
                    if p_arr[p] > dep:
                        break
                    if math.isnan(p_board[p]) and lv + p_ride[p] <= nv - 1:
                        p_denied[p] += 1
            veh_cur[j] = -1
            cur = -1
        if not here or stop_next[s] < 0:
            continue
        if cur < 0:
            # arrived: at the start of the step just run (the road's planning saw it halted)
            cur = stop_next[s]
            veh_cur[j] = cur
            ev_arr[cur] = t - dt
            if visit_bay[cur] == 1:
                status[s] = S_BAY  # into the bay: out of the lane's order from the next step
            out = 0
            for w in range(veh_alight[j], cur + 1):  # also those bound to stops it skipped
                out += alight_cnt[w]
            veh_alight[j] = cur + 1
            veh_load[j] -= out
            ev_alight[cur] = out
            ev_board[cur] = 0
        lv = cur - v0
        q = line_q0[l] + lv % pat
        h = q_head[q]
        moved = True
        for p in range(h, q_start[q + 1]):
            if p_arr[p] > t:
                break
            if not math.isnan(p_board[p]):
                if moved:
                    h = p + 1
                continue
            if veh_load[j] >= veh_cap[j]:
                break
            if lv + p_ride[p] > nv - 1:
                moved = False  # this vehicle ends before the passenger's stop: it waits on
                continue
            p_board[p] = t
            p_veh[p] = j
            p_visit[p] = cur
            alight_cnt[cur + p_ride[p]] += 1
            veh_load[j] += 1
            ev_board[cur] += 1
            if moved:
                h = p + 1
        q_head[q] = h
        work = (veh_a[j] * ev_board[cur] + veh_b[j] * ev_alight[cur]) / veh_doors[j]
        if veh_law[j] == 1:
            end = ev_arr[cur] + max(visit_dur[cur], work)  # SUMO's: they board while the doors are open
        else:
            end = ev_arr[cur] + visit_dur[cur] + work
        if visit_until[cur] > end:
            end = visit_until[cur]
        stop_end[s] = end
        if status[s] == S_BAY and end <= t + 1e-9 and bay_exit_clear(s, lane_of, pos, speed, vtype,
                                                                      lane_start, order, vt, dt):
            # back in the lane, and in its order (as a vehicle back from a teleport): the road
            # releases it at the start of the next step
            status[s] = 1
            order[atomic_add_mt(cnt, C_NRUN, 1)] = s


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
