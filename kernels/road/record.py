"""End of a step: the summary row's partial sums and per-link maximum queues (in parallel, by part and
by link), then counters and the summary row (one thread)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..runtime.layout import (
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
    SUM_PARTS,
)


@njit(cache=True)
def summary_step(W, par):
    """Whether the step being computed (``W.cnt[C_STEP]``) ends with a summary row."""
    every = int(par[P_SUMMARY_EVERY])
    return every <= 1 or (W.cnt[C_STEP] + 1) % every == 0


@njit(cache=True)
def summary_parts(N, L, W, par, first, stride):
    """What a summary row sums, in parallel pieces (items ``first, first + stride, ...``): the
    halting vehicles and speeds of the lanes ``l`` with ``l % SUM_PARTS == p`` into
    ``W.sum_part[p]`` for parts ``p``, and every link's halting vehicles into its maximum queue
    ``W.link_maxq`` (veh). Nothing on steps without a summary row.

    The one-thread summary summed every lane and link itself: at a million vehicles (200,000
    lanes) that is a few milliseconds of one GPU thread per step, more than the whole rest of the
    step. Parts of interleaved lanes keep a GPU warp's reads contiguous, and a fixed part count
    keeps the sum's rounding the same on the CPU (stride 1) and on a GPU.
    """
    if not summary_step(W, par):
        return
    n_lanes = L.lane_start.shape[0] - 1
    for p in range(first, SUM_PARTS, stride):
        halt = 0
        vsum = 0.0
        for l in range(p, n_lanes, SUM_PARTS):
            halt += L.lane_halt[l]
            vsum += L.lane_vsum[l]
        W.sum_part[p, 0] = halt
        W.sum_part[p, 1] = vsum
    for e in range(first, N.link_nlanes.shape[0], stride):
        h = 0
        f = N.link_first_lane[e]
        for q in range(N.link_nlanes[e]):
            h += L.lane_halt[f + q]
        if h > W.link_maxq[e]:
            W.link_maxq[e] = h


@njit(cache=True)
def record_step(W, t):
    """Append a summary row at time ``t`` (s) from the partial sums of :func:`summary_parts`."""
    halt = 0
    vsum = 0.0
    for p in range(SUM_PARTS):
        halt += int(W.sum_part[p, 0])
        vsum += W.sum_part[p, 1]
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
    """Close the step: a summary row every ``P_SUMMARY_EVERY`` steps (after :func:`summary_parts`),
    and the counters.

    ``n_run`` is the number of vehicles that moved this step (vehicle-updates).
    """
    step = W.cnt[C_STEP]
    if summary_step(W, par):
        record_step(W, par[P_BEGIN] + (step + 1) * par[P_DT])
    W.cnt[C_VSTEPS] += n_run
    W.cnt[C_STEP] = step + 1
