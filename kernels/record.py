"""End of a step (one thread): step counter, waiting count, summary row and per-link maximum queue."""

from __future__ import annotations

import numpy as np
from numba import njit

from .layout import (
    C_ARRIVED,
    C_COLL,
    C_INSERTED,
    C_NSUM,
    C_REMOVED,
    C_STEP,
    C_TELE,
    C_VSTEPS,
    P_BEGIN,
    P_DT,
    P_SUMMARY_EVERY,
)


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
        W.sum_buf[r, 0] = t
        W.sum_buf[r, 1] = np.nan  # loaded and waiting: filled by the host (Simulation.loaded)
        W.sum_buf[r, 2] = W.cnt[C_INSERTED]
        W.sum_buf[r, 3] = running
        W.sum_buf[r, 4] = np.nan
        W.sum_buf[r, 5] = W.cnt[C_ARRIVED]
        W.sum_buf[r, 6] = W.cnt[C_REMOVED]
        W.sum_buf[r, 7] = halt
        W.sum_buf[r, 8] = vsum / running if running > 0 else np.nan
        W.sum_buf[r, 9] = W.cnt[C_COLL]
        W.sum_buf[r, 10] = W.cnt[C_TELE]
        W.sum_buf[r, 11] = np.nan
        W.cnt[C_NSUM] = r + 1


@njit(cache=True)
def clock(W, par):
    """``(step, t)``: the step being computed (``W.cnt[C_STEP]``, which :func:`end_step` advances)
    and its start time ``begin + step * dt`` (s). Every pass reads the time here, so a step's
    launches on a GPU need no per-step arguments."""
    step = W.cnt[C_STEP]
    return step, par[P_BEGIN] + step * par[P_DT]


@njit(cache=True)
def end_step(V, N, L, W, par, n_run):
    """Close the step: counters, and a summary row every ``P_SUMMARY_EVERY`` steps.

    ``n_run`` is the number of vehicles that moved this step (vehicle-updates).
    """
    step = W.cnt[C_STEP]
    W.cnt[C_VSTEPS] += n_run
    W.cnt[C_STEP] = step + 1
    every = int(par[P_SUMMARY_EVERY])
    if every <= 1 or (step + 1) % every == 0:
        record_step(V, N, L, W, par[P_BEGIN] + (step + 1) * par[P_DT], L.lane_start.shape[0] - 1)
