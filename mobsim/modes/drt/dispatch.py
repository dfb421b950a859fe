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

:class:`GreedyDispatcher` is SUMO's taxi dispatch ``greedy`` (the nearest idle vehicle, no
pooling, no deadlines), for comparisons with SUMO on the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
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


class Fleet:
    """The on-demand vehicles as a dispatcher sees them (module docstring).

    Per vehicle ``v``: ``node``, ``time`` (s), ``load``, ``cap``, and its schedule as row ``v`` of
    the stop arrays (``stop_n[v]`` stops: ``stop_node``, ``stop_delta`` the persons boarding or
    alighting, ``stop_early`` and ``stop_due`` in s, ``stop_req`` the request served), which the
    dispatchers extend in place (the arrays grow when a schedule outgrows ``max_stops``).
    :meth:`schedule` gives a vehicle's stops as :class:`ScheduledStop` objects."""

    def __init__(self, node: np.ndarray, time: float | np.ndarray, load: int | np.ndarray,
                 cap: int | np.ndarray, max_stops: int = 8) -> None:
        self.node = np.array(node, np.int64, ndmin=1)
        n = len(self.node)
        self.time = np.broadcast_to(np.asarray(time, np.float64), (n,)).copy()
        self.load = np.broadcast_to(np.asarray(load, np.int64), (n,)).copy()
        #: where on its node (a link) the vehicle is, m (0 where nodes are points)
        self.pos = np.zeros(n, np.float64)
        self.cap = np.broadcast_to(np.asarray(cap, np.int64), (n,)).copy()
        if (self.load > self.cap).any() or (self.cap < 1).any():
            raise InputError("a vehicle has no seats or more persons on board than seats",
                             fix="give every vehicle cap >= 1 and load <= cap")
        k = max(2, int(max_stops))
        self.stop_n = np.zeros(n, np.int64)
        self.stop_node = np.zeros((n, k), np.int64)
        self.stop_delta = np.zeros((n, k), np.int64)
        self.stop_early = np.zeros((n, k), np.float64)
        self.stop_due = np.zeros((n, k), np.float64)
        self.stop_req = np.full((n, k), -1, np.int64)
        self.stop_pos = np.zeros((n, k), np.float64)

    def __len__(self) -> int:
        return len(self.node)

    def one(self, v: int) -> Fleet:
        """A fleet of vehicle ``v`` alone (copies of its rows), to evaluate it anew."""
        f = Fleet.__new__(Fleet)
        for name in ("node", "pos", "time", "load", "cap", "stop_n"):
            setattr(f, name, getattr(self, name)[v:v + 1].copy())
        for name in ("stop_node", "stop_delta", "stop_early", "stop_due", "stop_req", "stop_pos"):
            setattr(f, name, getattr(self, name)[v:v + 1].copy())
        return f

    def schedule(self, v: int) -> list[ScheduledStop]:
        """Vehicle ``v``'s stops, in the order it serves them."""
        return [ScheduledStop(int(self.stop_node[v, k]), int(self.stop_delta[v, k]),
                              float(self.stop_early[v, k]), float(self.stop_due[v, k]),
                              int(self.stop_req[v, k]))
                for k in range(int(self.stop_n[v]))]

    def arrays(self) -> tuple[np.ndarray, ...]:
        """What :func:`mobsim.kernels.drt.insertion.best_insertion` reads of the fleet."""
        return (self.node, self.pos, self.time, self.load, self.cap, self.stop_n, self.stop_node,
                self.stop_pos, self.stop_delta, self.stop_early, self.stop_due)

    def _grow(self) -> None:
        k = self.stop_node.shape[1]
        for name in ("stop_node", "stop_delta", "stop_early", "stop_due", "stop_req", "stop_pos"):
            a = getattr(self, name)
            setattr(self, name, np.concatenate([a, np.full_like(a, -1 if name == "stop_req" else 0)], axis=1))
        assert self.stop_node.shape[1] == 2 * k


@dataclass
class Requests:
    """Ride requests (module docstring): node ids, group sizes and times in s."""

    origin: np.ndarray
    destination: np.ndarray
    group: np.ndarray
    early: np.ndarray
    pick_due: np.ndarray
    drop_due: np.ndarray
    #: positions (m) of the pick-up and the drop-off on their nodes (links); zeros by default
    origin_pos: np.ndarray | None = None
    destination_pos: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.origin)
        if self.origin_pos is None:
            self.origin_pos = np.zeros(n)
        if self.destination_pos is None:
            self.destination_pos = np.zeros(n)

    def __len__(self) -> int:
        return len(self.origin)

    def subset(self, idx: np.ndarray) -> Requests:
        return Requests(*(np.ascontiguousarray(a[idx]) for a in (
            self.origin, self.destination, self.group, self.early, self.pick_due, self.drop_due,
            self.origin_pos, self.destination_pos)))


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


#: Pairs from which the CPU evaluates them on all its threads. Starting a parallel loop costs far
#: more than one request's pairs take: immediate insertion of 2,000 requests into 1,500 vehicles
#: (one call per request) ran at 139 requests/s with the parallel loop and 1,320 requests/s on
#: one thread, on a 2-core machine with another process busy.
PARALLEL_MIN_PAIRS = 50_000


def dwells(dwell: float | tuple[float, float]) -> tuple[float, float]:
    """The halt (s) at a pick-up and at a drop-off: ``dwell`` is one for both, or the pair."""
    if np.ndim(dwell) == 0:
        return float(dwell), float(dwell)  # type: ignore[arg-type]
    d_pick, d_drop = dwell  # type: ignore[misc]
    return float(d_pick), float(d_drop)


def insertion_args(fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float | tuple[float, float],
                   loop: np.ndarray | None = None) -> tuple:
    """The arguments of :func:`mobsim.kernels.drt.insertion.best_insertion` after the pair index,
    with fresh output arrays (cost ``inf``, positions -1) at the end; ``dwell``: the halt at every
    stop (s), or the pair (pick-up, drop-off); ``loop`` (s per node): the
    time once round the block from a node back to it (default 0)."""
    n = len(fleet) * len(req)
    lp = np.zeros(tt.shape[0]) if loop is None else np.ascontiguousarray(loop, np.float64)
    d_pick, d_drop = dwells(dwell)
    (node, pos, time, load, cap, stop_n, stop_node, stop_pos, stop_delta, stop_early,
     stop_due) = fleet.arrays()
    return (len(req), np.ascontiguousarray(tt, np.float64), lp, node, pos, time, load, cap, stop_n, stop_node,
            stop_pos, stop_delta, stop_early, stop_due, req.origin, np.asarray(req.origin_pos, np.float64),
            req.destination, np.asarray(req.destination_pos, np.float64), req.group, req.early, req.pick_due,
            req.drop_due, d_pick, d_drop, np.full(n, np.inf), np.full(n, -1, np.int64),
            np.full(n, -1, np.int64))


def insertion_costs(fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float | tuple[float, float],
                    backend: str = "cpu", loop: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cost, i, j)``, each ``(len(fleet), len(req))``: the operating time (s) the cheapest
    feasible insertion of each request into each vehicle's schedule adds (``inf``: none) and where
    the pick-up and the drop-off go (before old stop ``i`` and ``j``; -1: none). ``backend``:
    ``"cpu"`` (the CPU's threads) or ``"cuda"`` (one GPU thread per pair; also under the CUDA
    simulator)."""
    from mobsim.kernels.drt.insertion import best_insertion

    nv, nr = len(fleet), len(req)
    args = insertion_args(fleet, req, tt, dwell, loop)
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
        from mobsim.backends.items import cpu_items

        cpu_items(best_insertion, len(args), parallel=nv * nr >= PARALLEL_MIN_PAIRS)(nv * nr, *args)
    else:
        raise InputError(f"unknown backend '{backend}'", fix="use cpu or cuda")
    return cost.reshape(nv, nr), bi.reshape(nv, nr), bj.reshape(nv, nr)


def insert(fleet: Fleet, v: int, req: Requests, r: int, i: int, j: int, request_id: int) -> None:
    """Put request ``r`` into vehicle ``v``'s schedule: its pick-up before old stop ``i``, its
    drop-off before old stop ``j``."""
    n = int(fleet.stop_n[v])
    if n + 2 > fleet.stop_node.shape[1]:
        fleet._grow()
    g = int(req.group[r])
    rows = (fleet.stop_node, fleet.stop_delta, fleet.stop_early, fleet.stop_due, fleet.stop_req,
            fleet.stop_pos)
    pick = (req.origin[r], g, req.early[r], req.pick_due[r], request_id, req.origin_pos[r])
    drop = (req.destination[r], -g, -np.inf, req.drop_due[r], request_id, req.destination_pos[r])
    for a, p, d in zip(rows, pick, drop, strict=True):
        old = a[v, :n].copy()
        a[v, :n + 2] = np.concatenate([old[:i], [p], old[i:j], [d], old[j:]])
    fleet.stop_n[v] = n + 2


class Dispatcher(Protocol):
    """What a dispatcher does: assign requests to vehicles and extend their schedules.

    ``dispatch`` receives the fleet (arrays and schedules), the requests, the travel-time matrix
    (s), the dwell per stop (s) and the time once round the block from each node (s; None: 0),
    extends the fleet's schedules in place and returns, per request, the vehicle that serves it,
    or -1 (rejected, or left for a later batch)."""

    def dispatch(self, fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float | tuple[float, float],
                 loop: np.ndarray | None = None) -> np.ndarray: ...


@dataclass
class InsertionDispatcher:
    """Immediate insertion (module docstring); ``backend`` as for :func:`insertion_costs`."""

    backend: str = "cpu"

    def dispatch(self, fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float | tuple[float, float],
                 loop: np.ndarray | None = None) -> np.ndarray:
        # Every request against every vehicle once; after each insertion only the vehicle that
        # took it has other costs for the requests still to come (one row anew), so the result
        # is that of evaluating the whole fleet for each request in turn, at a fraction of it.
        out = np.full(len(req), -1, np.int64)
        if len(fleet) == 0 or len(req) == 0:
            return out
        cost, bi, bj = insertion_costs(fleet, req, tt, dwell, self.backend, loop)
        order = np.argsort(req.early, kind="stable")
        for k, r in enumerate(order):
            v = int(np.argmin(cost[:, r]))
            if not np.isfinite(cost[v, r]):
                continue
            insert(fleet, v, req, int(r), int(bi[v, r]), int(bj[v, r]), int(r))
            out[r] = v
            rest = order[k + 1:]
            if len(rest):
                c, i, j = insertion_costs(fleet.one(v), req.subset(rest), tt, dwell, self.backend, loop)
                cost[v, rest], bi[v, rest], bj[v, rest] = c[0], i[0], j[0]
        return out


@dataclass
class BatchDispatcher:
    """Batch assignment (module docstring): at most one new request per vehicle per call."""

    backend: str = "cpu"

    def dispatch(self, fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float | tuple[float, float],
                 loop: np.ndarray | None = None) -> np.ndarray:
        try:
            from scipy.optimize import linear_sum_assignment
        except ImportError:
            raise InputError("the batch dispatcher needs scipy", fix="pip install -e '.[drt]'") from None

        out = np.full(len(req), -1, np.int64)
        cost, bi, bj = insertion_costs(fleet, req, tt, dwell, self.backend, loop)
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


@dataclass
class GreedyDispatcher:
    """SUMO's taxi dispatch ``greedy`` (``MSDispatch_Greedy``), to compare with SUMO on identical
    rules: requests in order of their earliest pick-up, each to the idle vehicle (an empty
    schedule) that reaches its origin first, one request per vehicle, no pooling and no deadlines
    (SUMO's taxis have none: a request waits until a vehicle is free); a request with no idle
    vehicle, or too large a group for every idle one, is left for the next call (-1)."""

    def dispatch(self, fleet: Fleet, req: Requests, tt: np.ndarray, dwell: float | tuple[float, float],
                 loop: np.ndarray | None = None) -> np.ndarray:
        out = np.full(len(req), -1, np.int64)
        idle = fleet.stop_n == 0
        for r in np.argsort(req.early, kind="stable"):
            ok = idle & (fleet.cap >= req.group[r])
            if not ok.any():
                continue
            way = tt[fleet.node, req.origin[r]]
            if loop is not None:  # behind it on its own link: round the block
                way = np.where((fleet.node == req.origin[r]) & (req.origin_pos[r] < fleet.pos),
                               loop[fleet.node], way)
            reach = np.where(ok, fleet.time + way, np.inf)
            v = int(np.argmin(reach))
            free = Requests(req.origin[[r]], req.destination[[r]], req.group[[r]], req.early[[r]],
                            np.array([np.inf]), np.array([np.inf]), req.origin_pos[[r]],
                            req.destination_pos[[r]])
            insert(fleet, v, free, 0, 0, 0, int(r))
            idle[v] = False
            out[r] = v
        return out
