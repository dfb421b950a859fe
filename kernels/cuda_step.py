"""CUDA drivers of the simulation step: one thread per item, the same per-item functions as the CPU.

Every kernel here is a thin loop body: ``i = cuda.grid(1); if i < n: per_item(..., i)``, where
``per_item`` is the function the CPU driver (:mod:`.cpu_step`) calls in its loops: numba-cuda
compiles those ``njit`` functions as device functions. Integer counters go through
:mod:`.atomics` (``cuda.atomic`` here), and every pass writes only what its item owns, so a GPU
step gives the same events as a CPU step. Sorting, scans and fills are array primitives of the
backend (cupy on a GPU, numpy under the CUDA simulator; see :mod:`mobsim.cuda_backend`).

The state arrives as namedtuples of device arrays (``VehicleState``, ``NetArrays``,
``LaneState``, ``Work``, and :data:`Params` for the vehicle-type table and parameters): kernels
accept them directly, and the shared functions read them exactly as they read the CPU's
StructRefs (``V.pos[i]``). (Bare array arguments would do on a GPU, but the CUDA simulator
wraps them in objects that the shared ``njit`` functions cannot take; inside a tuple they pass.)

Item counts that change during a run (running vehicles) are read on the device from
``W.cnt[C_NRUN]``; the host launches enough threads for every trip, so no step waits for the host.
"""

from __future__ import annotations

from collections import namedtuple

from numba import cuda

from .follow import plan_one
from .gridlock import flag_one, gridlock_apply
from .insertion import insert_link, load_due
from .junction import junction_source, junction_target
from .lanechange import apply_one, decide_one
from .layout import C_NMOVE, C_NRUN
from .move import advance_lane
from .record import end_step
from .signals import signal_slot

#: Vehicle-type table (``vt``, 2-D) and parameter vector (``par``) of the kernels.
Params = namedtuple("Params", ["vt", "par"])


@cuda.jit
def k_signals(N, W, t):
    """Signal states at time ``t`` (one thread per signal slot)."""
    s = cuda.grid(1)
    if s < N.slot_ctrl.shape[0]:
        signal_slot(N, W, s, t)


@cuda.jit
def k_load(V, W, t):
    """Count departures due by ``t`` as loaded (one thread)."""
    if cuda.grid(1) == 0:
        load_due(V, W, t)


@cuda.jit
def k_insert(V, N, L, W, P, t, step):
    """Insert due departures (one thread per link)."""
    e = cuda.grid(1)
    if e < W.link_dep_start.shape[0] - 1:
        insert_link(V, N, L, W, P.vt, P.par, e, t, step)


@cuda.jit
def k_decide(V, N, L, W, P, t, direction, cooldown):
    """Lane-change decisions (one thread per running vehicle, in sorted order)."""
    k = cuda.grid(1)
    if k < W.cnt[C_NRUN]:
        decide_one(V, N, L, W, P.vt, k, t, direction, cooldown)


@cuda.jit
def k_apply(V, N, W, t):
    """Carry out the lane changes (one thread per running vehicle)."""
    k = cuda.grid(1)
    if k < W.cnt[C_NRUN]:
        apply_one(V, N, W, k, t)


@cuda.jit
def k_plan(V, N, L, W, P):
    """Accelerations (one thread per running vehicle)."""
    k = cuda.grid(1)
    if k == 0:
        W.cnt[C_NMOVE] = W.cnt[C_NRUN]
    if k < W.cnt[C_NRUN]:
        plan_one(V, N, L, W, P.vt, P.par, k)


@cuda.jit
def k_advance(V, N, L, W, P, dt, grid_on, grid_time):
    """Ballistic move (one thread per lane, front to back)."""
    l = cuda.grid(1)
    if l < L.lane_start.shape[0] - 1:
        advance_lane(V, N, L, W, P.vt, l, dt, grid_on, grid_time)


@cuda.jit
def k_junction_source(V, N, L, W, P, t):
    """Arrivals and crossing candidates (one thread per lane)."""
    l = cuda.grid(1)
    if l < L.lane_start.shape[0] - 1:
        junction_source(V, N, L, W, P.vt, P.par, l, t)


@cuda.jit
def k_junction_target(V, N, L, W, P, t):
    """Crossings into each lane in (key, id) order (one thread per lane)."""
    l = cuda.grid(1)
    if l < L.lane_start.shape[0] - 1:
        junction_target(V, N, L, W, P.vt, P.par, l, t)


@cuda.jit
def k_flags(V, N, L, W, P, t):
    """Events and gridlock decisions (one thread per vehicle that moved this step)."""
    k = cuda.grid(1)
    if k < W.cnt[C_NMOVE]:
        flag_one(V, N, L, W, P.vt, P.par, k, t)


@cuda.jit
def k_gridlock(V, N, L, W, P, t):
    """Removals and winning teleports (one thread per vehicle that moved this step)."""
    k = cuda.grid(1)
    if k < W.cnt[C_NMOVE]:
        gridlock_apply(V, N, L, W, P.vt, P.par, k, t)


@cuda.jit
def k_end(V, N, L, W, P):
    """Counters and the summary row (one thread)."""
    if cuda.grid(1) == 0:
        end_step(V, N, L, W, P.par, W.cnt[C_NMOVE])


#: Every kernel, by name: the PTX compile test and the benchmark's per-kernel timing use this.
KERNELS = {
    "signals": k_signals, "load": k_load, "insert": k_insert, "decide": k_decide, "apply": k_apply,
    "plan": k_plan, "advance": k_advance, "junction_source": k_junction_source,
    "junction_target": k_junction_target, "flags": k_flags, "gridlock": k_gridlock, "end": k_end,
}
