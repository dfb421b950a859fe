"""Signal programs: actuated and delay-based controllers' decisions (one call per controller),
then the state of every signal slot (one call per slot), and the detectors that actuated control
reads (delay-based control reads the time each vehicle lost in its lane's detector zone,
``V.det_loss``, kept by the move).

Fixed-time controllers are a function of time: their phase is the one that contains
``(t - offset) mod cycle``. Actuated controllers (``N.ctrl_kind == 1``) follow SUMO's default
gap-based algorithm (``MSActuatedTrafficLightLogic::trySwitch``, ``gapControl`` and
``duration``), with their state in ``W.ctrl_phase``/``ctrl_since``/``ctrl_try``:

* a controller decides only at ``W.ctrl_try`` (s); a green phase (one with ``G``/``g`` and no
  yellow) that is below its ``maxDur`` stays while one of its detectors saw a vehicle less than
  ``max-gap`` s ago (``t - W.det_last``): the next decision comes after
  ``max(minDur - elapsed, detector-gap - gap)``, with the phase's total duration rounded up to
  whole seconds and capped at ``maxDur``;
* otherwise the phase ends: the next is the phase's ``next`` or the following one, and the
  first decision in it comes after ``max(1 s, its minDur)`` (yellow and all-red phases, whose
  minDur is their duration, so last exactly that long).

The decision pass runs before the slot pass and writes only its controller's state; the slot
pass only reads it, so both run in parallel on CPU and GPU.

Timing, as SUMO runs it (measured in SUMO 1.28, ``tests/validation``): SUMO's step ``T`` moves
vehicles from ``T - dt`` to ``T`` under the signal state of time ``T``, so the step that mobsim
starts at ``t`` reads fixed-time programs at ``t + dt``. SUMO's actuated controllers decide at the
start of that step with their clock one step ahead (the first switch of a 5 s minDur phase comes
at 4.5 s with a 0.5 s step) and measure detector gaps from ``t``: mobsim starts their phase
clock at ``begin - dt`` and decides at ``t``. With these, the queue discharge, the actuated
switch sequence and the Krauss arterial match SUMO vehicle by vehicle.
"""

from __future__ import annotations

import math

from numba import njit

from ..runtime.layout import E_SIGNAL, SIG_OFF
from .lanes import add_event

#: ``N.ctrl_kind`` of an actuated and of a delay-based controller (mobsim.net.compile.PROGRAM_CODES).
ACTUATED = 1
DELAY_BASED = 2
#: Signal state codes of green (mobsim.net.compile.STATE_CODES: g, G and o, off, from GREEN_MINOR up
#: to SIG_OFF; s, a stop then go on red, is not green).
GREEN_MINOR = 2


@njit(cache=True)
def controllers(N, W, c0, c1, stride, t):
    """Decisions of the actuated controllers ``c0, c0 + stride, ... < c1`` at time ``t`` (s); a
    phase switch is a ``signal_switch`` event (link: the controller's ``N.ctrl_link``, value: the
    new phase's index in its program)."""
    ctrl_kind = N.ctrl_kind
    ctrl_phase_start = N.ctrl_phase_start
    phase_min = N.phase_min
    phase_max = N.phase_max
    phase_det_start = N.phase_det_start
    phase_det = N.phase_det
    ctrl_phase = W.ctrl_phase
    ctrl_since = W.ctrl_since
    ctrl_try = W.ctrl_try
    det_last = W.det_last
    for c in range(c0, c1, stride):
        if ctrl_kind[c] != ACTUATED or t + 1e-9 < ctrl_try[c]:
            continue
        p = ctrl_phase[c]
        act = t - ctrl_since[c]
        gap = math.inf
        if N.phase_green[p] == 1 and act + 1e-9 < phase_max[p]:
            max_gap = N.ctrl_max_gap[c]
            for q in range(phase_det_start[p], phase_det_start[p + 1]):
                g = t - det_last[phase_det[q]]
                if g < max_gap and g < gap:
                    gap = g
        if gap < math.inf:
            # Extend: let the last detected vehicle reach the line, whole seconds of phase.
            nd = max(phase_min[p] - act, N.ctrl_det_gap[c] - gap, 0.001)
            if abs(nd - round(nd)) > 1e-9:
                nd = math.floor(act + nd + 1e-9) + 1.0 - act
            if nd > phase_max[p] - act:
                nd = phase_max[p] - act
            ctrl_try[c] = t + nd
        else:
            nxt = N.phase_next[p]
            if nxt < 0:
                nxt = p + 1
                if nxt >= ctrl_phase_start[c + 1]:
                    nxt = ctrl_phase_start[c]
            ctrl_phase[c] = nxt
            ctrl_since[c] = t
            ctrl_try[c] = t + max(1.0, phase_min[nxt])
            add_event(W, t, E_SIGNAL, -1, N.ctrl_link[c], nxt - ctrl_phase_start[c])


@njit(cache=True)
def delay_controllers(V, N, L, W, c0, c1, stride, t, dt):
    """Decisions of the delay-based controllers ``c0, c0 + stride, ... < c1`` at time ``t`` (s),
    as SUMO's ``MSDelayBasedTrafficLightLogic::trySwitch``: at ``W.ctrl_try``, a green phase
    proposes to stay for the longest time (distance to the line / speed limit) a vehicle needs
    to reach the stop line among those in a green lane's detector zone (``N.lane_dz``) that
    have lost more than ``N.ctrl_min_tloss`` s there, if it gets there before ``maxDur``; at
    least until ``minDur``; at least 1 s more while no vehicle is in the zone of a lane that
    is red; no longer than ``maxDur`` (and not at all once ``maxDur`` is reached), unless no
    one waits on red and ``N.ctrl_extend_max`` (SUMO's ``extendMaxDur``) is set. Without
    a proposal the next phase in order starts and the next decision comes after its ``minDur``.
    A switch is a ``signal_switch`` event, as for actuated control. ``dt``: the step (s)."""
    ctrl_kind = N.ctrl_kind
    phase_min = N.phase_min
    phase_max = N.phase_max
    lane_dz = N.lane_dz
    lane_len = N.lane_len
    lane_speed = N.lane_speed
    ctrl_phase = W.ctrl_phase
    ctrl_since = W.ctrl_since
    ctrl_try = W.ctrl_try
    order = W.order
    lane_start = L.lane_start
    status = V.status
    vlane = V.lane
    pos = V.pos
    det_loss = V.det_loss
    det_lane = V.det_lane
    for c in range(c0, c1, stride):
        # SUMO runs a command due within the coming step (due < now + step), at its step: a
        # prolongation of a fractional number of seconds ends at the step before, not after.
        if ctrl_kind[c] != DELAY_BASED or ctrl_try[c] >= t + dt - 1e-9:
            continue
        p = ctrl_phase[c]
        act = t - ctrl_since[c]
        if N.phase_green[p] == 1:
            pmax = phase_max[p]
            tloss = N.ctrl_min_tloss[c]
            base = N.phase_state_start[p]
            prol = 0.0
            others_empty = True
            cut = False
            for q in range(N.ctrl_lane_start[c], N.ctrl_lane_start[c + 1]):
                lane = N.ctrl_lane[q]
                st = N.phase_states[base + N.slot_index[N.ctrl_lane_slot[q]]]
                green = GREEN_MINOR <= st <= SIG_OFF
                z = lane_dz[lane]
                for k in range(lane_start[lane], lane_start[lane + 1]):
                    i = order[k]
                    if status[i] != 1 or vlane[i] != lane or pos[i] < z:
                        continue
                    if not green:
                        others_empty = False
                        if act + 1e-9 >= pmax:
                            cut = True
                        break
                    if det_lane[i] == lane and det_loss[i] > tloss:
                        # SUMO rounds the passing time to its millisecond clock
                        est = math.floor((lane_len[lane] - pos[i]) / lane_speed[lane] * 1000.0 + 0.5) / 1000.0
                        if est > 0.0 and act + est <= pmax + 1e-9 and est > prol:
                            prol = est
                if cut:
                    break
            if cut:
                prol = 0.0
            prop = max(prol, phase_min[p] - act, 0.0)
            if others_empty:
                prop = max(prop, 1.0)
            # SUMO 1.28 (parameter extendMaxDur, default false): the green ends at maxDur even
            # while no one waits on red; with it, 1 s more at a time without end
            if not others_empty or N.ctrl_extend_max[c] == 0:
                prop = min(prop, max(pmax - act, 0.0))
            if prop > 1e-9:
                ctrl_try[c] = t + prop
                continue
        nxt = p + 1
        if nxt >= N.ctrl_phase_start[c + 1]:
            nxt = N.ctrl_phase_start[c]
        ctrl_phase[c] = nxt
        ctrl_since[c] = t
        ctrl_try[c] = t + phase_min[nxt]
        add_event(W, t, E_SIGNAL, -1, N.ctrl_link[c], nxt - N.ctrl_phase_start[c])


@njit(cache=True)
def signal_slots(N, W, s0, s1, stride, t):
    """State codes of signal slots ``s0, s0 + stride, ... < s1`` at time ``t`` (s) into ``W.sig_state``."""
    signal_slots_a(N.slot_ctrl, N.slot_index, N.ctrl_cycle, N.ctrl_offset, N.ctrl_phase_start, N.phase_end,
                   N.phase_state_start, N.phase_states, N.ctrl_kind, W.ctrl_phase, W.sig_state, s0, s1,
                   stride, t)


@njit(cache=True, _nrt=False)
def signal_slots_a(slot_ctrl, slot_index, ctrl_cycle, ctrl_offset, ctrl_phase_start, phase_end,
                   phase_state_start, phase_states, ctrl_kind, ctrl_phase, sig_state, s0, s1, stride, t):
    """:func:`signal_slots` on plain arrays (no reference counting in the loop).

    A controller's slots are numbered consecutively, so a chunk of slots finds the current phase
    once per controller rather than once per slot.
    """
    last = -1
    p = 0
    for s in range(s0, s1, stride):
        c = slot_ctrl[s]
        if c != last:
            if ctrl_kind[c] != 0:  # actuated or delay-based: the phase is state
                p = ctrl_phase[c]
            else:
                cyc = ctrl_cycle[c]
                tc = (t - ctrl_offset[c]) % cyc
                if tc < 0.0:
                    tc += cyc
                p1 = ctrl_phase_start[c + 1]
                p = ctrl_phase_start[c]
                while p < p1 - 1 and tc >= phase_end[p]:
                    p += 1
            last = c
        sig_state[s] = phase_states[phase_state_start[p] + slot_index[s]]


@njit(cache=True, _nrt=False)
def detect(det_last, d, det, pos_old, pos_new, length, t0, dt):
    """Record in ``det_last[d]`` a vehicle (``length`` m) whose front moved from ``pos_old`` to
    ``pos_new`` (m) during the step from ``t0`` (s) past detector ``d`` at ``det`` m on its lane:
    still over it at the step's end, the detector is occupied (``t0 + dt``, SUMO's gap 0); its
    rear passed it during the step, the time the rear left (linear within the step)."""
    rear_new = pos_new - length
    if pos_new < det or pos_old - length > det:
        return
    if rear_new <= det:
        det_last[d] = t0 + dt
        return
    te = t0 + (det - (pos_old - length)) / (pos_new - pos_old) * dt
    if te > det_last[d]:
        det_last[d] = te
