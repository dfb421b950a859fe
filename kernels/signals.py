"""Fixed-time signal programs: the state of every signal slot at a time (one call per slot)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def signal_slots(N, W, s0, s1, stride, t):
    """State codes of signal slots ``s0, s0 + stride, ... < s1`` at time ``t`` (s) into ``W.sig_state``."""
    signal_slots_a(N.slot_ctrl, N.slot_index, N.ctrl_cycle, N.ctrl_offset, N.ctrl_phase_start, N.phase_end,
                   N.phase_state_start, N.phase_states, W.sig_state, s0, s1, stride, t)


@njit(cache=True, _nrt=False)
def signal_slots_a(slot_ctrl, slot_index, ctrl_cycle, ctrl_offset, ctrl_phase_start, phase_end,
                   phase_state_start, phase_states, sig_state, s0, s1, stride, t):
    """:func:`signal_slots` on plain arrays (no reference counting in the loop).

    A controller's slots are numbered consecutively, so a chunk of slots finds the current phase
    once per controller rather than once per slot.
    """
    last = -1
    p = 0
    for s in range(s0, s1, stride):
        c = slot_ctrl[s]
        if c != last:
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
