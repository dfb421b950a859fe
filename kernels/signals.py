"""Fixed-time signal programs: the state of every signal slot at a time (one call per slot)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def signal_slots(N, W, s0, s1, stride, t):
    """State codes of signal slots ``s0, s0 + stride, ... < s1`` at time ``t`` (s) into ``W.sig_state``."""
    for s in range(s0, s1, stride):
        signal_slot(N, W, s, t)


@njit(cache=True)
def signal_slot(N, W, s, t):
    """State code of signal slot ``s`` at time ``t`` (s) into ``W.sig_state[s]``."""
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
