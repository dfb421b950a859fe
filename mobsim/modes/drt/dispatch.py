"""Dispatch of ride requests to an on-demand fleet by insertion into the vehicles' schedules.

The state a dispatcher works on is plain arrays, so that a researcher's own algorithm receives
the same (:class:`Dispatcher`):

* :class:`Fleet`: per vehicle the node where it is free next (``node``), from when (``time``, s),
  the persons on board (``load``), its capacity (``cap``) and its schedule, the stops it still
  serves in order (:class:`ScheduledStop`);
* :class:`Requests`: per request origin and destination node, group size, earliest pick-up, and
  the deadlines of pick-up and drop-off (:func:`make_requests`: MATSim DRT's maximum wait and
  maximum travel time ``alpha * direct + beta``);
* a travel-time matrix between the nodes (s), from the route service on current link travel
  times, and the dwell per stop (s).

:func:`insertion_costs` evaluates every (vehicle, request) pair at once with the kernel
:func:`mobsim.kernels.drt.insertion.best_insertion`, one item per pair, on the CPU's threads or
on the GPU (the same source). Two dispatchers use it:

* :class:`InsertionDispatcher` (immediate): requests one by one in order of their earliest
  pick-up, each into the schedule where it adds the least operating time, or rejected when no
  vehicle can serve it within its deadlines and the capacities (MATSim DRT's default);
* :class:`BatchDispatcher`: all requests of a batch against all vehicles, at most one new request
  per vehicle, the assignment of least total added time
  (``scipy.optimize.linear_sum_assignment``); a request left over waits for the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mobsim.errors import InputError


@dataclass(frozen=True)
class ScheduledStop:
    """One stop of a vehicle's schedule: ``node``, the persons boarding (> 0) or alighting (< 0),
    the earliest service time and the deadline (s), and the request it serves."""

    node: int
    delta: int
    early: float
    due: float
    request: int


@dataclass
class Fleet:
    """The on-demand vehicles as a dispatcher sees them (module docstring); ``stops[v]`` is
    vehicle ``v``'s schedule, which the dispatchers extend."""

    node: np.ndarray
    time: np.ndarray
    load: np.ndarray
    cap: np.ndarray
    stops: list[list[ScheduledStop]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.node = np.asarray(self.node, np.int64)
        n = len(self.node)
        self.time = np.broadcast_to(np.asarray(self.time, np.float64), (n,)).copy()
        self.load = np.broadcast_to(np.asarray(self.load, np.int64), (n,)).copy()
        self.cap = np.broadcast_to(np.asarray(self.cap, np.int64), (n,)).copy()
        if not self.stops:
            self.stops = [[] for _ in range(n)]
        if len(self.stops) != n:
            raise InputError(f"the fleet has {n} vehicles but {len(self.stops)} schedules",
                             fix="give one schedule (list of stops) per vehicle")

    def __len__(self) -> int:
        return len(self.node)

    def packed(self) -> tuple[np.ndarray, ...]:
        """The schedules as the kernel reads them: ``stop_start`` (CSR), node, load change,
        earliest time and deadline of every stop."""
        start = np.zeros(len(self) + 1, np.int64)
        start[1:] = np.cumsum([len(s) for s in self.stops])
        flat = [x for s in self.stops for x in s]
        return (start, np.array([x.node for x in flat], np.int64),
                np.array([x.delta for x in flat], np.int64), np.array([x.early for x in flat], np.float64),
                np.array([x.due for x in flat], np.float64))


@dataclass
class Requests:
    """Ride requests (module docstring): node ids, group sizes and times in s."""

    origin: np.ndarray
    destination: np.ndarray
    group: np.ndarray
    early: np.ndarray
    pick_due: np.ndarray
    drop_due: np.ndarray

    def __len__(self) -> int:
        return len(self.origin)

    def subset(self, idx: np.ndarray) -> Requests:
        return Requests(*(np.ascontiguousarray(a[idx]) for a in (self.origin, self.destination, self.group,
                                                                  self.early, self.pick_due, self.drop_due)))


def make_requests(time: np.ndarray, origin: np.ndarray, destination: np.ndarray, tt: np.ndarray,
                  max_wait: float, alpha: float, beta: float, group: np.ndarray | None = None,
                  earliest: np.ndarray | None = None) -> Requests:
    """Requests made at ``time`` (s) from node ``origin`` to ``destination``: picked up by
    ``time + max_wait`` (s) and dropped off by ``time + alpha * direct + beta``, where ``direct`` is
    the travel time ``tt[origin, destination]`` (s; MATSim DRT's maximum travel time, which
    includes the wait); picked up not before ``earliest`` (default: ``time``)."""
    time = np.asarray(time, np.float64)
    o = np.asarray(origin, np.int64)
    d = np.asarray(destination, np.int64)
    if not (max_wait >= 0 and alpha >= 1.0 and beta >= 0):
        raise InputError(f"max_wait={max_wait} s, alpha={alpha}, beta={beta} s do not make a service",
                         fix="give max_wait >= 0 s, alpha >= 1 and beta >= 0 s")
    g = np.ones(len(o), np.int64) if group is None else np.asarray(group, np.int64)
    early = time.copy() if earliest is None else np.maximum(np.asarray(earliest, np.float64), time)
    direct = tt[o, d]
    return Requests(o, d, g, early, early + max_wait, time + alpha * direct + beta)


def insertion_args(fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float) -> tuple:
    """The arguments of :func:`mobsim.kernels.drt.insertion.best_insertion` after the pair index,
    with fresh output arrays (cost ``inf``, positions -1) at the end."""
    n = len(fleet) * len(req)
    return (len(req), np.ascontiguousarray(tt, np.float64), fleet.node, fleet.time, fleet.load, fleet.cap,
            *fleet.packed(), req.origin, req.destination, req.group, req.early, req.pick_due, req.drop_due,
            float(dwell), np.full(n, np.inf), np.full(n, -1, np.int64), np.full(n, -1, np.int64))


def insertion_costs(fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float,
                    backend: str = "cpu") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cost, i, j)``, each ``(len(fleet), len(req))``: the operating time (s) the cheapest
    feasible insertion of each request into each vehicle's schedule adds (``inf``: none) and where
    the pick-up and the drop-off go (before old stop ``i`` and ``j``; -1: none). ``backend``:
    ``"cpu"`` (the CPU's threads) or ``"cuda"`` (one GPU thread per pair; also under the CUDA
    simulator)."""
    from mobsim.kernels.drt.insertion import best_insertion

    nv, nr = len(fleet), len(req)
    args = insertion_args(fleet, req, tt, dwell)
    cost, bi, bj = args[-3:]
    if nv == 0 or nr == 0:
        return cost.reshape(nv, nr), bi.reshape(nv, nr), bj.reshape(nv, nr)
    if backend == "cuda":
        from numba import cuda

        from mobsim.backends.items import cuda_items

        dev = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
        cuda_items(best_insertion, len(args))[max(1, (nv * nr + 127) // 128), 128](nv * nr, *dev)
        for host, d in zip(args[-3:], dev[-3:], strict=True):
            d.copy_to_host(host)
    elif backend == "cpu":
        from mobsim.backends.items import PARALLEL_MIN_ITEMS, cpu_items

        cpu_items(best_insertion, len(args), parallel=nv * nr >= PARALLEL_MIN_ITEMS)(nv * nr, *args)
    else:
        raise InputError(f"unknown backend '{backend}'", fix="use cpu or cuda")
    return cost.reshape(nv, nr), bi.reshape(nv, nr), bj.reshape(nv, nr)


def insert(fleet: Fleet, v: int, req: Requests, r: int, i: int, j: int, request_id: int) -> None:
    """Put request ``r`` into vehicle ``v``'s schedule: its pick-up before old stop ``i``, its
    drop-off before old stop ``j``."""
    s = fleet.stops[v]
    g = int(req.group[r])
    pick = ScheduledStop(int(req.origin[r]), g, float(req.early[r]), float(req.pick_due[r]), request_id)
    drop = ScheduledStop(int(req.destination[r]), -g, -np.inf, float(req.drop_due[r]), request_id)
    fleet.stops[v] = s[:i] + [pick] + s[i:j] + [drop] + s[j:]


class Dispatcher(Protocol):
    """What a dispatcher does: assign requests to vehicles and extend their schedules.

    ``dispatch`` receives the fleet (arrays and schedules), the requests, the travel-time matrix
    (s) and the dwell per stop (s), extends ``fleet.stops`` in place and returns, per request, the
    vehicle that serves it, or -1 (rejected, or left for a later batch)."""

    def dispatch(self, fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float) -> np.ndarray: ...


@dataclass
class InsertionDispatcher:
    """Immediate insertion (module docstring); ``backend`` as for :func:`insertion_costs`."""

    backend: str = "cpu"

    def dispatch(self, fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float) -> np.ndarray:
        out = np.full(len(req), -1, np.int64)
        for r in np.argsort(req.early, kind="stable"):
            one = req.subset(np.array([r]))
            cost, bi, bj = insertion_costs(fleet, one, tt, dwell, self.backend)
            v = int(np.argmin(cost[:, 0])) if len(fleet) else -1
            if v >= 0 and np.isfinite(cost[v, 0]):
                insert(fleet, v, one, 0, int(bi[v, 0]), int(bj[v, 0]), int(r))
                out[r] = v
        return out


@dataclass
class BatchDispatcher:
    """Batch assignment (module docstring): at most one new request per vehicle per call."""

    backend: str = "cpu"

    def dispatch(self, fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float) -> np.ndarray:
        try:
            from scipy.optimize import linear_sum_assignment
        except ImportError:
            raise InputError("the batch dispatcher needs scipy", fix="pip install -e '.[drt]'") from None

        out = np.full(len(req), -1, np.int64)
        cost, bi, bj = insertion_costs(fleet, req, tt, dwell, self.backend)
        ok = np.isfinite(cost)
        if not ok.any():
            return out
        big = float(cost[ok].max()) * (len(fleet) + len(req) + 1) + 1.0  # worse than any feasible sum
        rows, cols = linear_sum_assignment(np.where(ok, cost, big))
        for v, r in zip(rows, cols, strict=True):
            if ok[v, r]:
                insert(fleet, int(v), req, int(r), int(bi[v, r]), int(bj[v, r]), int(r))
                out[r] = v
        return out
