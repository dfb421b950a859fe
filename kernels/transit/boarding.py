"""Boarding and alighting at stops, after each road step, in two phases: one item per transit
vehicle (:func:`track_vehicle`), then one item per stop (:func:`serve_stop`).

The road holds a vehicle while it dwells at a scheduled stop (:mod:`mobsim.kernels.road.stops`) and
releases it once ``V.stop_end`` has passed.

**Vehicles** (:func:`track_vehicle`): when the road has released a vehicle, the departure and the
load are recorded (``veh_left``: the call it left in this step); when one has newly halted at a
stop (the road's planning saw it halted at the start of the step), its arrival (``veh_new``); a
stop with a bay (``visit_bay``) takes the vehicle out of its lane (status ``S_BAY`` keeps it out of
the lane's order, so the traffic behind passes). Each item writes only its vehicle's memory; the
stop it marks busy (``stop_busy``) gets the same value from every writer.

**Stops** (:func:`serve_stop`, only the busy ones): one item owns one stop, its queues and the
passengers in them, and serves the vehicles of the lines that call there (``stop_veh``, in the
order of their lines and departures):

* a vehicle that left full counts a denied boarding for every passenger it could have taken who
  was waiting when it left;
* a vehicle that newly arrived lets out the passengers bound here (and those bound to stops it
  skipped); a passenger whose journey goes on from here (a transfer, ``p_next``) joins the queue of
  the next leg, ``transfer_time`` s later;
* while a vehicle dwells, the waiting passengers it will take to their destination board, in the
  order they came (FIFO across the queues), up to its capacity. A queue holds the passengers from
  this stop to one destination who accept the same lines (``q_set``: 0 any line, else a set of
  ``set_has``): **common lines**, the first vehicle of any of them that calls at the destination
  takes them;
* the dwell ends by the dwell law ``door_time + (board_time * boardings + alight_time *
  alightings) / doors`` (``veh_law`` 0; the door time is the stop's minimum dwell,
  ``W.visit_dur``), or the larger of the two terms (1: SUMO's, passengers board while the doors
  are open for the stop's duration), not before the time point's scheduled departure nor before
  the layover has passed since the halt (``visit_hold``, s); a vehicle in
  a bay pulls out once its dwell is over and the lane leaves room (:func:`bay_exit_clear`).

A queue has two parts, both in order of arrival: the passengers who start their journey here
(``[q_start, q_mid)``, sorted before the run, head ``q_head``) and those who transfer here,
appended as they alight (``qe[q_mid .. q_fill)``, head ``q_thead``). A passenger boards once:
the vehicles that serve a stop do so one after another within the stop's item, so items write
disjoint memory and the result does not depend on the order of items or threads. The visits a
boarding passenger will alight at (``alight_cnt``, ``tr_first``) belong to the boarding vehicle,
which is at this stop, so no other item touches them in this step. Times in s; ``t`` is the end
of the step just run.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

from ..physics.pullout import bay_exit_clear
from ..runtime.atomics import atomic_add_mt
from ..runtime.layout import C_NRUN, S_BAY, STOP_DWELL


@register_jitable
def track_vehicle(j, t, dt, status, stop_next, stop_state, stop_end, trip_slot, veh_trip, veh_cur,
                  veh_load, veh_left, veh_new, ev_arr, ev_dep, ev_board, ev_load, visit_bay, visit_stop,
                  stop_busy):
    """Departures and arrivals of transit vehicle ``j`` in the step just run (module docstring)."""
    veh_left[j] = -1
    s = trip_slot[veh_trip[j]]
    st = status[s]
    if st == 0:
        return
    cur = veh_cur[j]
    here = stop_state[s] == STOP_DWELL and (st == 1 or st == S_BAY)
    if cur >= 0:
        if here and stop_next[s] == cur:
            stop_busy[visit_stop[cur]] = 1  # dwelling: passengers may still board
            return
        # released by the road (stop_end: the departure time)
        ev_dep[cur] = stop_end[s]
        ev_load[cur] = veh_load[j]
        veh_left[j] = cur
        veh_cur[j] = -1
        stop_busy[visit_stop[cur]] = 1
    if not here or stop_next[s] < 0:
        return
    cur = stop_next[s]
    veh_cur[j] = cur
    veh_new[j] = 1
    ev_arr[cur] = t - dt
    ev_board[cur] = 0
    if visit_bay[cur] == 1:
        status[s] = S_BAY  # into the bay: out of the lane's order from the next step
    stop_busy[visit_stop[cur]] = 1


@register_jitable
def _off_visit(q, cur, end, q_dest, q_set, set_has, veh_line_j, visit_stop):
    """The first call of the vehicle after visit ``cur`` (its calls end before ``end``) at queue
    ``q``'s destination, if its line is one the queue accepts; -1 if none."""
    if q_set[q] > 0 and set_has[q_set[q], veh_line_j] == 0:
        return -1
    d = q_dest[q]
    for w in range(cur + 1, end):
        if visit_stop[w] == d:
            return w
    return -1


@register_jitable
def serve_stop(stop, t, dt, transfer_time, status, stop_end, trip_slot, visit_until, visit_dur,
               visit_hold, visit_stop, visit_bay, stop_busy, stop_veh_start, stop_veh, stop_q_start,
               q_dest, q_set, set_has, q_mid, q_head, q_thead, q_fill, q_off, qe,
               veh_trip, veh_line, veh_visit0, veh_nvis, veh_cap, veh_a, veh_b, veh_doors, veh_law,
               veh_cur, veh_load, veh_alight, veh_left, veh_new,
               ev_arr, ev_dep, ev_board, ev_alight, ev_load, alight_cnt, tr_first,
               p_q, p_arr, p_next, p_link, p_board, p_veh, p_visit, p_off, p_denied,
               lane_of, pos, speed, vtype, lane_start, order, cnt, vt):
    """One step of ``stop`` (module docstring); nothing unless a vehicle called, dwelt or left."""
    if stop_busy[stop] == 0:
        return
    stop_busy[stop] = 0
    qa = stop_q_start[stop]
    qb = stop_q_start[stop + 1]
    for c in range(stop_veh_start[stop], stop_veh_start[stop + 1]):
        j = stop_veh[c]
        end = veh_visit0[j] + veh_nvis[j]
        w = veh_left[j]
        if w >= 0 and visit_stop[w] == stop and ev_load[w] >= veh_cap[j]:
            # left full: everyone it could have taken who was waiting then was denied
            dep = ev_dep[w]
            for q in range(qa, qb):
                if _off_visit(q, w, end, q_dest, q_set, set_has, veh_line[j], visit_stop) < 0:
                    continue
                for p in range(q_head[q], q_mid[q]):
                    if p_arr[p] > dep:
                        break
                    p_denied[p] += 1
                for k in range(q_thead[q], q_fill[q]):
                    p = qe[k]
                    if p_arr[p] > dep:
                        break
                    p_denied[p] += 1
        cur = veh_cur[j]
        if cur < 0 or visit_stop[cur] != stop:
            continue
        if veh_new[j] == 1:
            veh_new[j] = 0
            out = 0
            for w in range(veh_alight[j], cur + 1):  # also those bound to stops it skipped
                out += alight_cnt[w]
                p = tr_first[w]
                while p >= 0:
                    if w == cur:  # at the stop of the next leg (a skipped stop strands them)
                        p2 = p_next[p]
                        q2 = p_q[p2]
                        p_arr[p2] = ev_arr[cur] + transfer_time
                        qe[q_fill[q2]] = p2
                        q_fill[q2] += 1
                    p = p_link[p]
            veh_alight[j] = cur + 1
            veh_load[j] -= out
            ev_alight[cur] = out
        _board(j, cur, end, t, qa, qb, q_dest, q_set, set_has, q_mid, q_head, q_thead, q_fill, q_off, qe,
               veh_line, veh_cap, veh_load, visit_stop, ev_board, alight_cnt, tr_first,
               p_arr, p_next, p_link, p_board, p_veh, p_visit, p_off)
        work = (veh_a[j] * ev_board[cur] + veh_b[j] * ev_alight[cur]) / veh_doors[j]
        if veh_law[j] == 1:
            dwell_end = ev_arr[cur] + max(visit_dur[cur], work)  # SUMO's: they board while the doors are open
        else:
            dwell_end = ev_arr[cur] + visit_dur[cur] + work
        if visit_until[cur] > dwell_end:
            dwell_end = visit_until[cur]
        if ev_arr[cur] + visit_hold[cur] > dwell_end:
            dwell_end = ev_arr[cur] + visit_hold[cur]  # layover
        s = trip_slot[veh_trip[j]]
        stop_end[s] = dwell_end
        if status[s] == S_BAY and dwell_end <= t + 1e-9 and bay_exit_clear(
                s, lane_of, pos, speed, vtype, lane_start, order, vt, dt):
            # back in the lane, and in its order (as a vehicle back from a teleport): the road
            # releases it at the start of the next step
            status[s] = 1
            order[atomic_add_mt(cnt, C_NRUN, 1)] = s


@register_jitable
def _board(j, cur, end, t, qa, qb, q_dest, q_set, set_has, q_mid, q_head, q_thead, q_fill, q_off, qe,
           veh_line, veh_cap, veh_load, visit_stop, ev_board, alight_cnt, tr_first,
           p_arr, p_next, p_link, p_board, p_veh, p_visit, p_off):
    """Vehicle ``j``, dwelling at call ``cur``, takes the waiting passengers of the stop's queues
    ``qa..qb-1`` it will carry to their destination, earliest arrival first, while it has room."""
    if veh_load[j] >= veh_cap[j]:
        return
    # Nobody waiting who has come: nothing to do (most steps of a dwell), without the search of
    # the calls ahead that finds which queues the vehicle serves.
    waiting = False
    for q in range(qa, qb):
        h = q_head[q]
        if h < q_mid[q] and p_arr[h] <= t:
            waiting = True
            break
        h = q_thead[q]
        if h < q_fill[q] and p_arr[qe[h]] <= t:
            waiting = True
            break
    if not waiting:
        return
    n_ok = 0
    for q in range(qa, qb):
        q_off[q] = _off_visit(q, cur, end, q_dest, q_set, set_has, veh_line[j], visit_stop)
        if q_off[q] >= 0:
            n_ok += 1
    if n_ok == 0:
        return
    while veh_load[j] < veh_cap[j]:
        best = -1
        best_t = math.inf
        from_tr = False
        for q in range(qa, qb):
            if q_off[q] < 0:
                continue
            h = q_head[q]
            if h < q_mid[q] and p_arr[h] <= t and p_arr[h] < best_t:
                best, best_t, from_tr = q, p_arr[h], False
            h = q_thead[q]
            if h < q_fill[q]:
                p = qe[h]
                if p_arr[p] <= t and p_arr[p] < best_t:
                    best, best_t, from_tr = q, p_arr[p], True
        if best < 0:
            return
        if from_tr:
            p = qe[q_thead[best]]
            q_thead[best] += 1
        else:
            p = q_head[best]
            q_head[best] += 1
        off = q_off[best]
        p_board[p] = t
        p_veh[p] = j
        p_visit[p] = cur
        p_off[p] = off
        alight_cnt[off] += 1
        veh_load[j] += 1
        ev_board[cur] += 1
        if p_next[p] >= 0:
            p_link[p] = tr_first[off]
            tr_first[off] = p
