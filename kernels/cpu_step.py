"""CPU drivers of the simulation step (numba ``njit``, ``parallel=True`` where it pays, ``cache=True``).

One call of :func:`run_steps` advances the state by up to ``n_steps`` steps of ``dt`` s. A step is,
in order (DESIGN.md §4, with insertion moved to the end of the step as in SUMO):

1. signals: the state of every signal slot at the step's start time;
2. order: vehicles sorted by (lane, position): a counting sort by lane that keeps the previous
   order within each lane, then an insertion sort per lane (nearly sorted, so linear);
3. lane changes: MOBIL and mandatory changes decided in parallel on the sorted state, left on even
   steps and right on odd steps so two vehicles never merge into one gap from both sides; applied,
   then the order is rebuilt;
4. plan: IDM acceleration against the leader on the lane, or for the first vehicle of a lane a
   look-ahead along the route (stop lines of red, yellow, yield and stop movements, the last vehicle
   of the next lane, room downstream);
5. advance: ballistic update per lane from front to back, with a hard no-overlap bound;
6. junctions: vehicles past their stop line enter the next lane in order of the time they reached
   the line (then lower vehicle id), if there is room; arrivals at the end of the route;
7. gridlock policy; 8. insertion of departures; 9. record (summary row, lane accumulators).

Every parallel loop writes only the vehicle or lane it owns, and every float sum is taken
sequentially, so results are identical for any number of threads.

The state arrives as numba StructRefs (:mod:`mobsim.kernels.structs`); with namedtuples, a
``prange`` body that stored through a field lost the stores (numba 0.68), and every call passed
hundreds of words. A parallel loop splits its range into chunks and calls the same serial range
function as its serial twin (used below ``PARALLEL_MIN`` running vehicles), so both run the very
same code. The phases live in modules by behaviour: :mod:`.order`, :mod:`.lanechange`,
:mod:`.follow`, :mod:`.move`, :mod:`.insertion`; shared helpers in :mod:`.lanes`, table layouts
in :mod:`.layout`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .follow import plan, plan_serial
from .insertion import insert_departures
from .lanechange import (
    apply_lane_changes,
    apply_lane_changes_serial,
    decide_lane_changes,
    decide_lane_changes_serial,
)
from .layout import (
    C_ARRIVED,
    C_COLL,
    C_INSERTED,
    C_LOADED,
    C_NEV,
    C_NSUM,
    C_NWAIT,
    C_REMOVED,
    C_STEP,
    C_TELE,
    C_VSTEPS,
    P_BEGIN,
    P_DT,
    P_PAR_MIN,
    P_SUMMARY_EVERY,
)
from .move import advance, advance_serial, cross_junctions, handle_flags
from .order import build_order


@njit(cache=True)
def update_signals(N, W, t):
    """State code of every signal slot at time ``t``."""
    for s in range(N.slot_ctrl.shape[0]):
        c = N.slot_ctrl[s]
        cyc = N.ctrl_cycle[c]
        tc = (t - N.ctrl_offset[c]) % cyc
        if tc < 0.0:
            tc += cyc
        p0 = N.ctrl_phase_start[c]
        p1 = N.ctrl_phase_start[c + 1]
        p = p0
        while p < p1 - 1 and tc >= N.phase_end[p]:
            p += 1
        W.sig_state[s] = N.phase_states[N.phase_state_start[p] + N.slot_index[s]]


@njit(cache=True)
def record_step(V, N, L, W, t, n_lanes):
    """Append a summary row and update per-link maximum queues."""
    halt = 0
    vsum = 0.0
    for l in range(n_lanes):
        halt += L.lane_halt[l]
        vsum += L.lane_vsum[l]
    n_links = N.link_nlanes.shape[0]
    for e in range(n_links):
        h = 0
        f = N.link_first_lane[e]
        for q in range(N.link_nlanes[e]):
            h += L.lane_halt[f + q]
        if h > W.link_maxq[e]:
            W.link_maxq[e] = h
    running = W.cnt[C_INSERTED] - W.cnt[C_ARRIVED] - W.cnt[C_REMOVED]
    r = W.cnt[C_NSUM]
    if r < W.sum_buf.shape[0]:
        row = W.sum_buf[r]
        row[0] = t
        row[1] = W.cnt[C_LOADED]
        row[2] = W.cnt[C_INSERTED]
        row[3] = running
        row[4] = W.cnt[C_NWAIT]
        row[5] = W.cnt[C_ARRIVED]
        row[6] = W.cnt[C_REMOVED]
        row[7] = halt
        row[8] = vsum / running if running > 0 else np.nan
        row[9] = W.cnt[C_COLL]
        row[10] = W.cnt[C_TELE]
        row[11] = np.nan
        W.cnt[C_NSUM] = r + 1


@njit(cache=True)
def step_once(V, N, L, W, vt, par):
    """Advance the whole state by one step of ``par[P_DT]`` seconds."""
    step = W.cnt[C_STEP]
    dt = par[P_DT]
    t = par[P_BEGIN] + step * dt
    n_lanes = L.lane_start.shape[0] - 1
    update_signals(N, W, t)
    if step == 0:
        insert_departures(V, N, L, W, vt, par, t, -2)  # departures due at sim.begin
    n = build_order(V, L, W)
    par_on = n >= par[P_PAR_MIN]
    if n > 0:
        for l in range(n_lanes):
            L.lane_req[l] = 0
        if par_on:
            decide_lane_changes(V, N, L, W, vt, par, n, t, step)
            changed = apply_lane_changes(V, N, W, n, t)
        else:
            decide_lane_changes_serial(V, N, L, W, vt, par, n, t, step)
            changed = apply_lane_changes_serial(V, N, W, n, t)
        if changed > 0:
            n = build_order(V, L, W)
    if n > 0:
        if par_on:
            plan(V, N, L, W, vt, par, n)
            flagged = advance(V, N, L, W, vt, par)
        else:
            plan_serial(V, N, L, W, vt, par, n)
            flagged = advance_serial(V, N, L, W, vt, par)
        W.cnt[C_VSTEPS] += n
        cross_junctions(V, N, L, W, vt, par, t)
        if flagged > 0:
            handle_flags(V, N, L, W, vt, par, n, t + dt)
    else:
        for l in range(n_lanes):
            L.lane_rear[l] = -1
            L.lane_halt[l] = 0
            L.lane_vsum[l] = 0.0
    insert_departures(V, N, L, W, vt, par, t + dt, step)
    W.cnt[C_STEP] = step + 1
    every = int(par[P_SUMMARY_EVERY])
    if every <= 1 or (step + 1) % every == 0:
        record_step(V, N, L, W, t + dt, n_lanes)


@njit(cache=True)
def run_steps(V, N, L, W, vt, par, n_steps):
    """Run up to ``n_steps`` steps; stops early when the summary or event buffer is nearly full.

    Returns the number of steps run.
    """
    done = 0
    ev_cap = W.ev_time.shape[0]
    sum_cap = W.sum_buf.shape[0]
    while done < n_steps:
        if W.cnt[C_NSUM] >= sum_cap or W.cnt[C_NEV] + 4 * 1024 > ev_cap:
            break
        step_once(V, N, L, W, vt, par)
        done += 1
    return done
