"""CUDA drivers of the simulation step: one thread per item, the same per-item functions as the CPU.

Every kernel here is one call of the range function that the CPU driver (:mod:`.cpu_step`)
calls for a chunk, with a grid-stride range: ``f(..., cuda.grid(1), n, cuda.gridsize(1), ...)``.
numba-cuda compiles those ``njit`` functions as device functions. Integer counters go through
:mod:`.atomics` (``cuda.atomic`` here), and every pass writes only what its item owns, so a GPU
step gives the same events as a CPU step. Sorting, scans and fills are array primitives of the
backend (cupy on a GPU, numpy under the CUDA simulator; see :mod:`mobsim.cuda_backend`).

The state arrives as namedtuples of device arrays (``VehicleState``, ``NetArrays``,
``LaneState``, ``Work``, and :data:`Params` for the vehicle-type table and parameters): kernels
accept them directly, and the shared functions read them exactly as they read the CPU's
StructRefs (``V.pos[i]``). (Bare array arguments would do on a GPU, but the CUDA simulator
wraps them in objects that the shared ``njit`` functions cannot take; inside a tuple they pass.)

Item counts that change during a run (running vehicles) are read on the device from
``W.cnt[C_NRUN]``; the host launches enough threads for every trip (a grid-stride range covers
any count), so no step waits for the host.
"""

from __future__ import annotations

from collections import namedtuple

from numba import cuda

from .follow import plan_range
from .gridlock import flags_range, gridlock_range
from .insertion import insert_links, load_due
from .junction import junction_sources, junction_targets
from .lanechange import apply_range, decide_range
from .layout import C_NMOVE, C_NRUN
from .move import advance_lanes
from .record import end_step
from .signals import signal_slots

#: Vehicle-type table (``vt``, 2-D) and parameter vector (``par``) of the kernels.
Params = namedtuple("Params", ["vt", "par"])


@cuda.jit
def k_signals(N, W, t):
    """Signal states at time ``t`` (signal slots)."""
    signal_slots(N, W, cuda.grid(1), N.slot_ctrl.shape[0], cuda.gridsize(1), t)


@cuda.jit
def k_load(V, W, t):
    """Count departures due by ``t`` as loaded (one thread)."""
    if cuda.grid(1) == 0:
        load_due(V, W, t)


@cuda.jit
def k_insert(V, N, L, W, P, t, step, positioned):
    """Insert due departures (links); ``positioned``: the pass for departPos inside the lane."""
    insert_links(V, N, L, W, P.vt, P.par, cuda.grid(1), W.link_dep_start.shape[0] - 1, cuda.gridsize(1), t,
                 step, positioned)


@cuda.jit
def k_decide(V, N, L, W, P, t, direction, cooldown):
    """Lane-change decisions (running vehicles, in sorted order)."""
    decide_range(V, N, L, W, P.vt, cuda.grid(1), W.cnt[C_NRUN], cuda.gridsize(1), t, direction, cooldown)


@cuda.jit
def k_apply(V, N, W, t):
    """Carry out the lane changes (running vehicles)."""
    apply_range(V, N, W, cuda.grid(1), W.cnt[C_NRUN], cuda.gridsize(1), t)


@cuda.jit
def k_plan(V, N, L, W, P):
    """Accelerations (running vehicles); thread 0 records how many move this step."""
    k = cuda.grid(1)
    n = W.cnt[C_NRUN]
    if k == 0:
        W.cnt[C_NMOVE] = n
    plan_range(V, N, L, W, P.vt, P.par, k, n, cuda.gridsize(1))


@cuda.jit
def k_advance(V, N, L, W, P, dt, grid_on, grid_time):
    """Ballistic move (lanes, each front to back)."""
    advance_lanes(V, N, L, W, P.vt, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), dt, grid_on,
                  grid_time)


@cuda.jit
def k_junction_source(V, N, L, W, P, t):
    """Arrivals and crossing candidates (lanes)."""
    junction_sources(V, N, L, W, P.vt, P.par, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), t)


@cuda.jit
def k_junction_target(V, N, L, W, P, t):
    """Crossings into each lane in (key, id) order (lanes)."""
    junction_targets(V, N, L, W, P.vt, P.par, cuda.grid(1), L.lane_start.shape[0] - 1, cuda.gridsize(1), t)


@cuda.jit
def k_flags(V, N, L, W, P, t):
    """Events and gridlock decisions (vehicles that moved this step)."""
    flags_range(V, N, L, W, P.vt, P.par, cuda.grid(1), W.cnt[C_NMOVE], cuda.gridsize(1), t)


@cuda.jit
def k_gridlock(V, N, L, W, P, t):
    """Removals and winning teleports (vehicles that moved this step)."""
    gridlock_range(V, N, L, W, P.vt, P.par, cuda.grid(1), W.cnt[C_NMOVE], cuda.gridsize(1), t)


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


def signatures(V, N, L, W, P) -> dict:
    """Argument types of every kernel, from example host state (namedtuples of numpy arrays): the
    PTX compile check compiles each kernel for a GPU without one (device arrays type like these)."""
    from numba import typeof, types

    tV, tN, tL, tW, tP = (typeof(x) for x in (V, N, L, W, P))
    f8, i8, b1 = types.float64, types.int64, types.boolean
    return {
        "signals": (tN, tW, f8), "load": (tV, tW, f8), "insert": (tV, tN, tL, tW, tP, f8, i8, b1),
        "decide": (tV, tN, tL, tW, tP, f8, i8, f8), "apply": (tV, tN, tW, f8),
        "plan": (tV, tN, tL, tW, tP), "advance": (tV, tN, tL, tW, tP, f8, b1, f8),
        "junction_source": (tV, tN, tL, tW, tP, f8), "junction_target": (tV, tN, tL, tW, tP, f8),
        "flags": (tV, tN, tL, tW, tP, f8), "gridlock": (tV, tN, tL, tW, tP, f8),
        "end": (tV, tN, tL, tW, tP),
    }
