"""CUDA drivers of the simulation step: one thread per item, the same per-item functions as the CPU.

Every kernel here is one call of the range function that the CPU driver (:mod:`.cpu_step`)
calls for a chunk, with a grid-stride range: ``f(..., cuda.grid(1), n, cuda.gridsize(1), ...)``.
numba-cuda compiles those ``njit`` functions as device functions. Integer counters go through
:mod:`.atomics` (``cuda.atomic`` here), and every pass writes only what its item owns, so a GPU
step gives the same events as a CPU step. Sorting, scans and fills are array primitives of the
backend (cupy on a GPU, numpy under the CUDA simulator; see :mod:`mobsim.cuda_backend`).

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

import os
from collections import namedtuple

import numpy as np
from numba import cuda

from .cuda_args import Packed
from .cuda_args import unpack as _unpack
from .follow import plan_range
from .gridlock import flags_range, gridlock_range
from .insertion import insert_links
from .junction import junction_sources, junction_targets
from .lanechange import apply_range, decide_range
from .layout import C_NMOVE, C_NRUN
from .move import advance_lanes
from .record import end_step
from .signals import signal_slots

#: Under the simulator: the packed state plus its views, built once per (re)pack by the backend.
SimPacked = namedtuple("SimPacked", ["buf", "lay", "views"])

if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
    def unpack(K):
        """The simulator runs kernels as Python, once per thread: the backend built the views
        (:func:`.cuda_args.views`) once per launch and passes them in ``K.views``."""
        return K.views
else:
    unpack = _unpack


@cuda.jit
def k_signals(K, t):
    """Signal states at time ``t`` (signal slots)."""
    V, N, L, W, P = unpack(K)
    signal_slots(N, W, cuda.grid(1), N.slot_ctrl.shape[0], cuda.gridsize(1), t)


@cuda.jit
def k_insert(K, t, step, positioned):
    """Insert due departures (links); ``positioned``: the pass for departPos inside the lane."""
    V, N, L, W, P = unpack(K)
    insert_links(V, N, L, W, P.vt, P.par, cuda.grid(1), W.link_dep_start.shape[0] - 1, cuda.gridsize(1), t,
                 step, positioned)


@cuda.jit
def k_decide(K, step, direction, cooldown):
    """Lane-change decisions (running vehicles, in sorted order); ``cooldown`` in steps."""
    V, N, L, W, P = unpack(K)
    decide_range(V, N, L, W, P.vt, cuda.grid(1), W.cnt[C_NRUN], cuda.gridsize(1), step, direction, cooldown)


@cuda.jit
def k_apply(K, step):
    """Carry out the lane changes (running vehicles)."""
    V, N, L, W, P = unpack(K)
    apply_range(V, N, W, cuda.grid(1), W.cnt[C_NRUN], cuda.gridsize(1), step)


@cuda.jit
def k_plan(K):
    """Accelerations (running vehicles); thread 0 records how many move this step."""
    V, N, L, W, P = unpack(K)
    k = cuda.grid(1)
    n = W.cnt[C_NRUN]
    if k == 0:
        W.cnt[C_NMOVE] = n
    plan_range(V, N, L, W, P.vt, P.par, k, n, cuda.gridsize(1))


@cuda.jit
def k_advance(K, dt, grid_on, grid_time):
    """Ballistic move (lanes, each front to back)."""
    V, N, L, W, P = unpack(K)
    advance_lanes(V, N, L, W, P.vt, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), dt, grid_on,
                  grid_time)


@cuda.jit
def k_junction_source(K, t):
    """Arrivals and crossing candidates (lanes)."""
    V, N, L, W, P = unpack(K)
    junction_sources(V, N, L, W, P.vt, P.par, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), t)


@cuda.jit
def k_junction_target(K, t):
    """Crossings into each lane in (key, id) order (lanes)."""
    V, N, L, W, P = unpack(K)
    junction_targets(V, N, L, W, P.vt, P.par, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), t)


@cuda.jit
def k_flags(K, t):
    """Events and gridlock decisions (vehicles that moved this step)."""
    V, N, L, W, P = unpack(K)
    flags_range(V, N, L, W, P.vt, P.par, cuda.grid(1), W.cnt[C_NMOVE], cuda.gridsize(1), t)


@cuda.jit
def k_gridlock(K, t):
    """Removals and winning teleports (vehicles that moved this step)."""
    V, N, L, W, P = unpack(K)
    gridlock_range(V, N, L, W, P.vt, P.par, cuda.grid(1), W.cnt[C_NMOVE], cuda.gridsize(1), t)


@cuda.jit
def k_end(K):
    """Counters and the summary row (one thread)."""
    V, N, L, W, P = unpack(K)
    if cuda.grid(1) == 0:
        end_step(V, N, L, W, P.par, W.cnt[C_NMOVE])


#: Every kernel, by name: the PTX compile test and the benchmark's per-kernel timing use this.
KERNELS = {
    "signals": k_signals, "insert": k_insert, "decide": k_decide, "apply": k_apply,
    "plan": k_plan, "advance": k_advance, "junction_source": k_junction_source,
    "junction_target": k_junction_target, "flags": k_flags, "gridlock": k_gridlock, "end": k_end,
}


def signatures(V, N, L, W, P) -> dict:
    """Argument types of every kernel, from example host state (namedtuples of numpy arrays): the
    PTX compile check compiles each kernel for a GPU without one (device arrays type like these)."""
    from numba import typeof, types

    from .cuda_args import layout

    lay, size = layout({"V": V, "N": N, "L": L, "W": W, "P": P})
    tK = typeof(Packed(np.zeros(size, np.uint8), lay))
    f8, i8, b1 = types.float64, types.int64, types.boolean
    return {
        "signals": (tK, f8), "insert": (tK, f8, i8, b1), "decide": (tK, i8, i8, i8),
        "apply": (tK, i8), "plan": (tK,), "advance": (tK, f8, b1, f8), "junction_source": (tK, f8),
        "junction_target": (tK, f8), "flags": (tK, f8), "gridlock": (tK, f8), "end": (tK,),
    }
