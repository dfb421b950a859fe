"""Vehicle slots: the per-vehicle arrays are renumbered now and then so that the running vehicles
sit in memory in the order the kernels visit them (by lane, then position).

Why: every pass of the step walks the vehicles in sorted order ``W.order`` and reads and writes
their fields. With the vehicles stored by trip number, each visit is a random access into some
30 arrays: at 100k vehicles that was most of the step's time, and with two threads the writes of
both threads landed on the same cache lines. After a renumbering, sorted index ``k`` and slot
``k`` coincide, so the passes stream through memory and each thread writes its own block. The
order drifts slowly (lane changes, junction crossings, insertions, arrivals), so renumbering
every :data:`mobsim.kernels.runtime.layout.REORDER_STEPS` steps keeps most accesses local at a cost of a
few percent of the step.

A slot is not a trip: ``V.trip[s]`` is the trip (row of the trip table) of the vehicle in slot
``s``. Every stored slot reference (the sorted order, the lanes' last-exit and rear vehicles, the
departure queues, the vehicles in transit, the event buffer) is renumbered with the state, and
``W.trip_slot`` (the slot of every trip) follows. The
kernels break ties between vehicles by trip number, never by slot, and draw random numbers by
trip number, so results do not depend on when (or whether) slots are renumbered; a test runs
the same scenario with different intervals and compares the files byte for byte. Host code reads
trip-ordered copies through :func:`by_trip` (``Simulation.vehicles()``).

The functions take the array module ``xp`` (numpy, or cupy on a GPU): the CPU and CUDA backends
renumber with the same code at the same steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Per-lane fields that hold a vehicle slot (-1: none).
LANE_SLOT_FIELDS = ("lane_last_exit", "lane_rear", "lane_cand")


def renumber(V: Any, L: Any, W: Any, xp: Any, n_run: int, n_events: int, fast: bool = True) -> int:
    """Move the ``n_run`` vehicles of ``W.order[:n_run]`` to slots ``0..n_run-1`` in that order.

    The vehicles those slots held before move into the slots the moved ones left (both lists in
    ascending slot order, so the result is deterministic); no other slot changes. Every slot
    reference is remapped, including the first ``n_events`` entries of the event buffer. Returns
    how many vehicles changed slot. ``fast``: move numpy arrays with a numba kernel (else with
    ``xp`` fancy indexing, as on a GPU; the CUDA backend passes False, so that its tests under the
    simulator run the code a GPU runs).
    """
    n_tr = int(V.status.shape[0])
    if n_run <= 0 or n_tr == 0:
        return 0
    front = W.order[:n_run].astype(np.int64)
    ar = xp.arange(n_run, dtype=np.int64)
    moved_front = front != ar
    if not bool(moved_front.any()):
        return 0
    in_front = xp.zeros(n_tr, dtype=bool)
    in_front[front] = True
    displaced = xp.nonzero(~in_front[:n_run])[0]           # slots < n_run held by others
    freed = xp.sort(front[front >= n_run])                  # slots >= n_run the front leaves
    src = xp.concatenate([front, displaced])
    dst = xp.concatenate([ar, freed])
    if fast and xp is np:
        from mobsim.kernels.road.order import move_slots

        tmp: dict[Any, np.ndarray] = {}
        for name in V._fields:
            a = getattr(V, name)
            if a.dtype not in tmp:
                tmp[a.dtype] = np.empty(src.shape[0], a.dtype)
            move_slots(a, src, dst, tmp[a.dtype])
    else:
        for name in V._fields:
            a = getattr(V, name)
            a[dst] = a[src]
    W.trip_slot[V.trip[dst]] = dst.astype(np.int32)  # the slot of every moved trip
    new_of_old = xp.arange(n_tr, dtype=np.int32)
    new_of_old[src] = dst.astype(np.int32)
    # The whole order stays a permutation of the slots (the CUDA backend merges the next order
    # into this one, mobsim.backends.cuda): its running part becomes 0..n_run-1.
    W.order[:n_tr] = new_of_old[W.order[:n_tr]]

    def remap(a: Any) -> None:
        ok = a >= 0
        a[...] = xp.where(ok, new_of_old[xp.where(ok, a, 0)], a)

    for name in LANE_SLOT_FIELDS:
        remap(getattr(L, name))
    if W.link_dep.shape[0] == n_tr:
        remap(W.link_dep)
    remap(W.tp_list)  # -1 past the vehicles in transit
    if n_events > 0:
        remap(W.ev_veh[:n_events])
    return int(src.shape[0] - int((src == dst).sum()))


def by_trip(V: Any) -> Any:
    """A copy of the vehicle state ``V`` (a namedtuple of numpy arrays) in trip order."""
    slot_of = slot_of_trip(V.trip)
    return type(V)(*[np.asarray(a)[slot_of] for a in V])


def slot_of_trip(trip: np.ndarray) -> np.ndarray:
    """The inverse of ``V.trip``: the slot of every trip."""
    out = np.empty(trip.shape[0], np.int64)
    out[trip] = np.arange(trip.shape[0])
    return out
