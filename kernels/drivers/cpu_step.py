"""CPU drivers of the simulation step (numba ``njit``, ``parallel=True`` where it pays, ``cache=True``).

One call of :func:`run_steps` advances the state by up to ``n_steps`` steps of ``dt`` s. A step is,
in order (insertion at the end of the step, as in SUMO):

1. signals: the actuated controllers' decisions, then the state of every signal slot at the
   step's start time (detectors are updated by the move, step 5);
2. order: vehicles sorted by (lane, position): a counting sort by lane that keeps the previous
   order within each lane, then an insertion sort per lane (nearly sorted, so linear);
3. lane changes: MOBIL and mandatory changes decided in parallel on the sorted state, left on even
   steps and right on odd steps so two vehicles never merge into one gap from both sides; applied,
   then the changed vehicles are merged into their new lanes' order (the full sort's result);
4. plan: the type's car-following acceleration (IDM, Krauss, ACC or CACC, :mod:`.carfollow`) against the
   leader on the lane, or for the first vehicle of a lane a
   look-ahead along the route (stop lines of red, yellow, yield and stop movements, the last vehicle
   of the next lane, room downstream);
5. advance: per lane from front to back (ballistic for IDM, Euler for Krauss), with a hard
   no-overlap bound; the detectors of actuated signals record the vehicles passing them;
6. junctions (:mod:`.junction`): arrivals, then vehicles past their stop line enter the next lane
   in order of the time they reached the line (then lower trip number), if there is room;
7. events and the gridlock policy (:mod:`.gridlock`), then the vehicles in transit after a
   teleport (:mod:`.transfer`); 8. insertion of departures, link by link (:mod:`.insertion`);
   9. record (:mod:`.record`: counters, summary row).

Every phase is a range function over items (signal slots, sorted vehicles, lanes, links),
``f(..., first, stop, stride, ...)``, shared with the CUDA drivers (:mod:`.cuda_step`), which
call it with a grid-stride range per thread. The CPU calls it with whole chunks, so each call
hoists the state arrays out of its loop once. Each item writes only what it owns, integer counters go through
:mod:`.atomics`, and every float sum is taken sequentially, so results are identical for any
number of threads and on both backends.

The state arrives as numba StructRefs (:mod:`mobsim.kernels.runtime.structs`): one pointer per call
where a namedtuple of 40 arrays costs a refcount pair per array. A parallel loop splits its
range into chunks and calls the same serial range function as its serial twin (used below
``PARALLEL_MIN`` running vehicles), so both run the very same code.
"""

from __future__ import annotations

from numba import njit

from ..road.follow import plan, plan_serial
from ..road.gridlock import flags_range, gridlock_range
from ..road.insertion import insert_departures, insert_links
from ..road.junction import junction_sources, junction_targets
from ..road.lanechange import (
    apply_lane_changes_serial,
    decide_lane_changes,
    decide_lane_changes_serial,
)
from ..road.move import advance, advance_serial
from ..road.order import build_order, resort_after_lane_changes
from ..road.record import clock, end_step, summary_parts
from ..road.signals import controllers, delay_controllers, signal_slots
from ..road.transfer import transfer_pass
from ..runtime.layout import C_NEV, C_NRUN, C_NSUM, C_NTP, C_STEP, P_DT, P_HAS_DPOS, P_PAR_MIN

#: Which phases of :data:`mobsim.kernels.runtime.phases.ROAD_PHASES` each call of :func:`step_once` runs
#: (``tests/test_phases.py`` holds the order of the calls to that list).
PHASE_OF: dict[str, tuple[str, ...]] = {
    "update_signals": ("controllers", "signals"), "insert_departures": ("insert",),
    "insert_links": ("insert",), "build_order": ("order",), "resort_after_lane_changes": ("order",),
    "decide_lane_changes": ("lane_change_decide",), "decide_lane_changes_serial": ("lane_change_decide",),
    "apply_lane_changes_serial": ("lane_change_apply",), "plan": ("plan",), "plan_serial": ("plan",),
    "advance": ("advance",), "advance_serial": ("advance",),
    "cross_junctions": ("junction_sources", "junction_targets"), "handle_flags": ("flags", "gridlock"),
    "transfer_pass": ("transfer",), "summary_parts": ("summary",), "end_step": ("end_step",),
}


@njit(cache=True)
def update_signals(V, N, L, W, t, dt):
    """Decisions of the actuated and delay-based controllers at the step's start ``t`` (s), then
    the state code of every signal slot for the step (fixed-time programs at its end, ``t + dt``:
    see :mod:`.signals`)."""
    controllers(N, W, 0, N.ctrl_kind.shape[0], 1, t)
    delay_controllers(V, N, L, W, 0, N.ctrl_kind.shape[0], 1, t, dt)
    signal_slots(N, W, 0, N.slot_ctrl.shape[0], 1, t + dt)


@njit(cache=True)
def cross_junctions(V, N, L, W, vt, par, t):
    """Arrivals and junction crossings: pass 1 for every lane, then pass 2 (see :mod:`.junction`)."""
    n_lanes = L.lane_start.shape[0] - 1
    junction_sources(V, N, L, W, vt, par, 0, n_lanes, 1, t)
    junction_targets(V, N, L, W, vt, par, 0, n_lanes, 1, t)


@njit(cache=True)
def handle_flags(V, N, L, W, vt, par, n, t):
    """The gridlock policy (two passes)."""
    flags_range(V, N, L, W, vt, par, 0, n, 1, t)
    gridlock_range(V, N, L, W, vt, par, 0, n, 1, t)


@njit(cache=True)
def step_once(V, N, L, W, vt, par):
    """Advance the whole state by one step of ``par[P_DT]`` seconds."""
    step, t = clock(W, par)
    dt = par[P_DT]
    update_signals(V, N, L, W, t, dt)
    if step == 0:
        insert_departures(V, N, L, W, vt, par, t, -2)  # departures due at sim.begin
    n = build_order(V, L, W)
    if par[P_HAS_DPOS] > 0:
        # Departures with a departPos inside the lane: inserted on the fresh order, then re-sorted.
        insert_links(V, N, L, W, vt, par, 0, W.link_dep_start.shape[0] - 1, 1, t, step, True)
        if W.cnt[C_NRUN] > n:
            n = build_order(V, L, W)
    par_on = n >= par[P_PAR_MIN]
    if n > 0:
        L.lane_req[:] = 0
        if par_on:
            decide_lane_changes(V, N, L, W, vt, par, n, step)
        else:
            decide_lane_changes_serial(V, N, L, W, vt, par, n, step)
        changed = apply_lane_changes_serial(V, N, W, n, step)  # too little work for a parallel region
        if changed > 0 and resort_after_lane_changes(V, L, W, n) < 0:
            n = build_order(V, L, W)  # too many changes for the incremental re-sort
    flagged = 0
    if n > 0:
        if par_on:
            plan(V, N, L, W, vt, par, n)
            flagged = advance(V, N, L, W, vt, par)
        else:
            plan_serial(V, N, L, W, vt, par, n)
            flagged = advance_serial(V, N, L, W, vt, par)
    else:
        flagged = advance_serial(V, N, L, W, vt, par)  # no vehicles: resets the lane statistics
    cross_junctions(V, N, L, W, vt, par, t)
    if flagged > 0:
        handle_flags(V, N, L, W, vt, par, n, t + dt)
    if W.cnt[C_NTP] > 0:
        transfer_pass(V, N, L, W, vt, par)
    insert_departures(V, N, L, W, vt, par, t + dt, step)
    summary_parts(N, L, W, par, 0, 1)
    end_step(V, N, L, W, par, n)


@njit(cache=True)
def run_steps(V, N, L, W, vt, par, n_steps, reorder_every, reorder_min):
    """Run up to ``n_steps`` steps; stops early when the summary or event buffer is nearly full,
    and after a step that ends a ``reorder_every`` period with at least ``reorder_min`` running
    vehicles (the host then renumbers the slots, :mod:`mobsim.state.slots`; 0: never).

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
        if reorder_every > 0 and W.cnt[C_STEP] % reorder_every == 0 and W.cnt[C_NRUN] >= reorder_min:
            break
    return done
