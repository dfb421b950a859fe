"""CUDA drivers of the simulation step: one thread per item, the same per-item functions as the CPU.

Every kernel here is one call of the range function that the CPU driver (:mod:`.cpu_step`)
calls for a chunk, with a grid-stride range: ``f(..., cuda.grid(1), n, cuda.gridsize(1), ...)``.
numba-cuda compiles those ``njit`` functions as device functions. Integer counters go through
:mod:`.atomics` (``cuda.atomic`` here), and every pass writes only what its item owns, so a GPU
step gives the same events as a CPU step. The default step ("lanes" order) is kernels only, the
scan of the lane counts included (:func:`k_scan_tiles`), so that it can be captured as a CUDA graph;
the other orders sort with array primitives of the backend (cupy on a GPU, numpy under the CUDA
simulator; see :mod:`mobsim.backends.cuda`).

The state arrives packed: one device buffer and its layout table (``K``, see
:mod:`.cuda_args`; a launch then prepares two arrays instead of some 130), unpacked on the device
into namedtuples of views (``VehicleState``, ``NetArrays``, ``LaneState``, ``Work``, and
:data:`Params` for the vehicle-type table and parameters) that the shared functions read exactly
as they read the CPU's StructRefs (``V.pos[i]``). (``K`` is a namedtuple: the CUDA simulator wraps
bare array arguments in objects that the shared ``njit`` functions cannot take; inside a tuple
they pass.)

Item counts that change during a run (running vehicles) are read on the device from
``W.cnt[C_NRUN]``; the host launches enough threads for every trip (a grid-stride range covers
any count), so no step waits for the host.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import config as numba_config
from numba import cuda

from .. import cuda_kernel
from ..road.follow import plan_range
from ..road.gridlock import flags_range, gridlock_range
from ..road.insertion import insert_links
from ..road.junction import junction_sources, junction_targets
from ..road.lanechange import apply_range, cooldown_steps, decide_range
from ..road.move import advance_lanes
from ..road.order import bucket_count_range, bucket_scatter_range, bucket_sort_range
from ..road.record import clock, end_step, summary_parts
from ..road.signals import controllers, delay_controllers, signal_slots
from ..road.transfer import transfer_pass
from ..runtime.atomics import register_cuda
from ..runtime.cuda_args import SPEC, Packed
from ..runtime.cuda_args import unpack as _unpack
from ..runtime.layout import (
    C_NMOVE,
    C_NRUN,
    INS_BEGIN,
    INS_END,
    INS_POSITIONED,
    P_DT,
    P_GRID_MODE,
    P_GRID_TIME,
)

register_cuda()  # cuda.atomic implementations of the shared step code's atomics

#: Under the simulator: the packed state plus its views, built once per (re)pack by the backend.
SimPacked = namedtuple("SimPacked", ["buf", "lay", "views"])

if numba_config.ENABLE_CUDASIM:  # numba's own switch: its cuda module is the simulator then
    def unpack(K):
        """The simulator runs kernels as Python, once per thread: the backend built the views
        (:func:`.cuda_args.views`) once per launch and passes them in ``K.views``."""
        return K.views
else:
    unpack = _unpack


#: cuda.jit with a disk cache keyed by the kernel sources and the state layout
_kernel = cuda_kernel(repr(SPEC))


@_kernel
def k_controllers(K):
    """Actuated and delay-based controllers' decisions at the step's start time (controllers,
    delay_controllers: each controller's thread runs both, one of them decides)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    controllers(N, W, cuda.grid(1), N.ctrl_kind.shape[0], cuda.gridsize(1), t)
    delay_controllers(V, N, L, W, cuda.grid(1), N.ctrl_kind.shape[0], cuda.gridsize(1), t, P.par[P_DT])


@_kernel
def k_signals(K):
    """Signal states for the step (signal slots; fixed-time programs at its end, see kernels.road.signals)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    signal_slots(N, W, cuda.grid(1), N.slot_ctrl.shape[0], cuda.gridsize(1), t + P.par[P_DT])


@_kernel
def k_insert(K, phase):
    """Insert due departures (links). ``phase`` (the one launch argument that is not the state):
    INS_BEGIN the departures due at sim.begin, before the first step; INS_POSITIONED the pass for a
    departPos inside the lane, after the sort; INS_END the end-of-step pass."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    marker = step
    if phase == INS_BEGIN:
        marker = -2
    elif phase == INS_END:
        t = t + P.par[P_DT]
    insert_links(V, N, L, W, P.vt, P.par, cuda.grid(1), W.link_dep_start.shape[0] - 1, cuda.gridsize(1), t,
                 marker, phase == INS_POSITIONED)


@_kernel
def k_decide(K):
    """Lane-change decisions (running vehicles, in sorted order)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    direction = 1 - 2 * (step % 2)
    decide_range(V, N, L, W, P.vt, cuda.grid(1), W.cnt[C_NRUN], cuda.gridsize(1), step, direction,
                 cooldown_steps(P.par), P.par[P_DT])


@_kernel
def k_apply(K):
    """Carry out the lane changes (running vehicles)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    apply_range(V, N, W, cuda.grid(1), W.cnt[C_NRUN], cuda.gridsize(1), step)


@_kernel
def k_plan(K):
    """Accelerations (running vehicles); thread 0 records how many move this step."""
    V, N, L, W, P = unpack(K)
    k = cuda.grid(1)
    n = W.cnt[C_NRUN]
    if k == 0:
        W.cnt[C_NMOVE] = n
    plan_range(V, N, L, W, P.vt, P.par, k, n, cuda.gridsize(1))


@_kernel
def k_advance(K):
    """Ballistic move (lanes, each front to back)."""
    V, N, L, W, P = unpack(K)
    par = P.par
    step, t = clock(W, par)
    n_lanes = L.lane_start.shape[0] - 1
    advance_lanes(V, N, L, W, P.vt, cuda.grid(1), n_lanes, cuda.gridsize(1), par[P_DT],
                  par[P_GRID_MODE] > 0, par[P_GRID_TIME], t + par[P_DT])
    # The lane-change requests of this step were read by the planning; clearing them here rather
    # than with an array fill before the next decisions keeps the step free of non-kernel work
    # (a CUDA graph captures kernels only).
    for l in range(cuda.grid(1), n_lanes, cuda.gridsize(1)):
        L.lane_req[l] = 0


@_kernel
def k_junction_source(K):
    """Arrivals and crossing candidates (lanes)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    junction_sources(V, N, L, W, P.vt, P.par, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), t)


@_kernel
def k_junction_target(K):
    """Crossings into each lane in (key, id) order (lanes)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    junction_targets(V, N, L, W, P.vt, P.par, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), t)


@_kernel
def k_flags(K):
    """Gridlock decisions at the step's end (vehicles that moved this step)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    flags_range(V, N, L, W, P.vt, P.par, cuda.grid(1), W.cnt[C_NMOVE], cuda.gridsize(1), t + P.par[P_DT])


@_kernel
def k_gridlock(K):
    """Removals and winning teleports at the step's end (vehicles that moved this step)."""
    V, N, L, W, P = unpack(K)
    step, t = clock(W, P.par)
    gridlock_range(V, N, L, W, P.vt, P.par, cuda.grid(1), W.cnt[C_NMOVE], cuda.gridsize(1), t + P.par[P_DT])


@_kernel
def k_transfer(K):
    """Vehicles in transit after a teleport (one thread: a short list, taken in trip order)."""
    V, N, L, W, P = unpack(K)
    if cuda.grid(1) == 0:
        transfer_pass(V, N, L, W, P.vt, P.par)


@_kernel
def k_order_count(K):
    """(Lane, position) order, pass 1 (slots): a ticket on the lane for every running vehicle."""
    V, N, L, W, P = unpack(K)
    bucket_count_range(V, L, W, cuda.grid(1), V.status.shape[0], cuda.gridsize(1))


@_kernel
def k_order_scatter(K):
    """Pass 2 (slots, after the scan of the counts into ``lane_start``): into the lane segments."""
    V, N, L, W, P = unpack(K)
    bucket_scatter_range(V, L, W, cuda.grid(1), V.status.shape[0], cuda.gridsize(1))


@_kernel
def k_order_sort(K):
    """Pass 3 (lanes): each segment sorted by (position, trip); the running count."""
    V, N, L, W, P = unpack(K)
    bucket_sort_range(V, L, W, cuda.grid(1), L.lane_cnt.shape[0], cuda.gridsize(1))


#: Threads per block of the scan kernels (one tile = one block's items). 256 threads fit any
#: kernel's register count; the shared array is sized for it, a launch may use fewer.
SCAN_TPB = 256


@cuda.jit(device=True)
def _block_scan(sh, t, nt, v):
    """Inclusive prefix sum of the ``nt`` threads' values ``v`` into ``sh[:nt]`` (Hillis-Steele),
    by the ``nt`` threads of a block; every thread of the block must call it."""
    sh[t] = v
    cuda.syncthreads()
    off = 1
    while off < nt:
        v = 0
        if t >= off:
            v = sh[t - off]
        cuda.syncthreads()
        sh[t] += v
        cuda.syncthreads()
        off *= 2


@_kernel
def k_scan_tiles(K):
    """Lane starts, pass 1 (tiles of ``blockDim`` lanes): the inclusive scan of the lane counts
    within each tile into ``lane_start[l + 1]``; a tile's total replaces the count of its last lane.

    The three scan kernels replace an array-library scan (cupy's allocates its output and
    temporaries, which a CUDA graph cannot replay) and leave ``lane_cnt`` zero for the next order.
    """
    V, N, L, W, P = unpack(K)
    cnt = L.lane_cnt
    start = L.lane_start
    n = cnt.shape[0]
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    sh = cuda.shared.array(SCAN_TPB, np.int32)
    if cuda.grid(1) == 0:
        start[0] = 0
    # Tiles in a block-stride loop: the bound is the same for every thread of a block (barriers).
    for base in range(cuda.blockIdx.x * nt, n, cuda.gridDim.x * nt):
        l = base + t
        v = 0
        if l < n:
            v = cnt[l]
        _block_scan(sh, t, nt, v)
        if l < n:
            start[l + 1] = sh[t]
            if l == min(base + nt, n) - 1:
                cnt[l] = sh[t]  # only this thread read cnt[l]
        cuda.syncthreads()


@_kernel
def k_scan_totals(K):
    """Lane starts, pass 2 (one block, launched with the tile size of pass 1): the tile totals
    (each in its tile's last ``lane_cnt``) become the tiles' exclusive offsets, in place."""
    V, N, L, W, P = unpack(K)
    cnt = L.lane_cnt
    n = cnt.shape[0]
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    n_tiles = (n + nt - 1) // nt
    sh = cuda.shared.array(SCAN_TPB, np.int32)
    carry = 0
    for c0 in range(0, n_tiles, nt):
        k = c0 + t
        last = min(k * nt + nt, n) - 1
        v = 0
        if k < n_tiles:
            v = cnt[last]
        _block_scan(sh, t, nt, v)
        if k < n_tiles:
            cnt[last] = carry + sh[t] - v
        carry += sh[nt - 1]
        cuda.syncthreads()


@_kernel
def k_scan_add(K):
    """Lane starts, pass 3 (the tiles of pass 1, same tile size): each tile's offset added to its
    ``lane_start`` entries, and ``lane_cnt`` cleared (the next order's tickets start from zero)."""
    V, N, L, W, P = unpack(K)
    cnt = L.lane_cnt
    start = L.lane_start
    n = cnt.shape[0]
    nt = cuda.blockDim.x
    for base in range(cuda.blockIdx.x * nt, n, cuda.gridDim.x * nt):
        l = base + cuda.threadIdx.x
        off = cnt[min(base + nt, n) - 1]
        cuda.syncthreads()  # every thread has read the offset before its lane's count is cleared
        if l < n:
            start[l + 1] += off
            cnt[l] = 0
        cuda.syncthreads()


@_kernel
def k_summary(K):
    """The summary row's partial sums and the links' maximum queues (parts and links; nothing on
    steps without a summary row)."""
    V, N, L, W, P = unpack(K)
    summary_parts(N, L, W, P.par, cuda.grid(1), cuda.gridsize(1))


@_kernel
def k_end(K):
    """Counters and the summary row (one thread); advances the step counter the others read."""
    V, N, L, W, P = unpack(K)
    if cuda.grid(1) == 0:
        end_step(V, N, L, W, P.par, W.cnt[C_NMOVE])


#: Every kernel, by name: the PTX compile test and the benchmark's per-kernel timing use this.
KERNELS = {
    "controllers": k_controllers, "signals": k_signals, "insert": k_insert, "decide": k_decide,
    "apply": k_apply,
    "plan": k_plan, "advance": k_advance, "junction_source": k_junction_source,
    "junction_target": k_junction_target, "flags": k_flags, "gridlock": k_gridlock,
    "transfer": k_transfer,
    "summary": k_summary, "end": k_end,
    "order_count": k_order_count, "order_scatter": k_order_scatter, "order_sort": k_order_sort,
    "scan_tiles": k_scan_tiles, "scan_totals": k_scan_totals, "scan_add": k_scan_add,
}


def signatures(V, N, L, W, P) -> dict:
    """Argument types of every kernel, from example host state (namedtuples of numpy arrays): the
    PTX compile check compiles each kernel for a GPU without one (device arrays type like these)."""
    from numba import typeof, types

    from ..runtime.cuda_args import layout

    lay, size = layout({"V": V, "N": N, "L": L, "W": W, "P": P})
    tK = typeof(Packed(np.zeros(size, np.uint8), lay))
    # Every kernel reads the step and its time from the state (W.cnt[C_STEP], advanced by k_end):
    # the launches of one step have the same arguments every step.
    sigs = {name: (tK,) for name in KERNELS}
    sigs["insert"] = (tK, types.int64)
    return sigs
