"""CPU drivers of the drone step (numba ``njit``, ``parallel=True`` over flights, ``cache=True``).

One drone step at time t: pads (per vertiport, serial: few items), motion (per flight,
serial: see :func:`drone_steps`), then, every detection interval, at the step's end time:
grid keys (parallel), the cell buckets (counting sort, serial), the gather into cell order
(parallel) and detection with resolution and geofence checks (parallel). Parallel loops split
the flights into :data:`N_CHUNKS` contiguous chunks and call the same range function as the
CUDA kernels; counters and event slots use real atomics
(:func:`mobsim.kernels.runtime.atomics.atomic_add_mt`), and the host sorts events at each flush, so the
results do not depend on the number of threads.
"""

from __future__ import annotations

from numba import njit, prange

from ..air.detect import build_cells, detect_range, gather_range, keys_range
from ..air.flight import move_range, pads_range, step_end
from ..air.layout import (
    AC_CONF_NOW,
    AC_DETECTIONS,
    AC_LOS_NOW,
    AC_NEV,
    AC_STEP,
    AP_BEGIN,
    AP_DET_EVERY,
    AP_DT,
)

N_CHUNKS = 64
#: Which phases of :data:`mobsim.kernels.runtime.phases.AIR_PHASES` each call of :func:`drone_steps` runs
#: (``tests/test_phases.py`` holds their order to that list).
PHASE_OF: dict[str, tuple[str, ...]] = {
    "pads_range": ("pads",), "move_range": ("move",),
    "detect_all": ("detect_cells", "detect_gather", "detect"), "step_end": ("end_step",),
}
#: Below this many flights the loops run serially (the thread pool costs more than it saves).
PARALLEL_MIN = 2048


@njit(cache=True, parallel=True)
def _keys_par(D, A, n):
    nch = min(N_CHUNKS, n)
    for c in prange(nch):
        keys_range(D, A, c * n // nch, (c + 1) * n // nch, 1)


@njit(cache=True, parallel=True)
def _gather_par(D, A, m):
    nch = min(N_CHUNKS, m)
    for c in prange(nch):
        gather_range(D, A, c * m // nch, (c + 1) * m // nch, 1)


@njit(cache=True, parallel=True)
def _detect_par(D, A, n, t):
    nch = min(N_CHUNKS, n)
    for c in prange(nch):
        detect_range(D, A, c * n // nch, (c + 1) * n // nch, 1, t)


@njit(cache=True)
def detect_all(D, A, n, t, parallel):
    """One detection pass at time ``t`` over all ``n`` flights."""
    if parallel:
        _keys_par(D, A, n)
    else:
        keys_range(D, A, 0, n, 1)
    build_cells(D, A, n)
    m = A.cell_start[A.cell_start.shape[0] - 1]
    if parallel and m > 0:
        _gather_par(D, A, m)
    else:
        gather_range(D, A, 0, m, 1)
    A.cnt[AC_CONF_NOW] = 0
    A.cnt[AC_LOS_NOW] = 0
    if parallel:
        _detect_par(D, A, n, t)
    else:
        detect_range(D, A, 0, n, 1, t)
    A.cnt[AC_DETECTIONS] += 1


@njit(cache=True)
def drone_steps(D, A, n_steps, ev_margin, parallel):
    """Run up to ``n_steps`` drone steps; stops early when fewer than ``ev_margin`` event slots are
    left. Returns the number of steps run."""
    n = D.phase.shape[0]
    n_vp = A.vp_x.shape[0]
    dt = A.par[AP_DT]
    every = int(A.par[AP_DET_EVERY])
    cap = A.ev_kind.shape[0]
    done = 0
    while done < n_steps:
        if A.cnt[AC_NEV] + ev_margin > cap:
            break
        step = A.cnt[AC_STEP]
        t = A.par[AP_BEGIN] + step * dt
        pads_range(D, A, 0, n_vp, 1, t)
        # serial on purpose: a parallel motion pass was measured slower (100k drones, 60 s: real-time
        # factor 6.80 serial, 6.16 parallel); detection, the bulk, is parallel
        move_range(D, A, 0, n, 1, t)
        if (step + 1) % every == 0:
            detect_all(D, A, n, t + dt, parallel)
        step_end(A)
        done += 1
    return done
