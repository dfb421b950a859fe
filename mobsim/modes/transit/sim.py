"""Transit lines in the run: their vehicles are road vehicles (trips with scheduled stops, added
by :func:`shuttle_trips`), their passengers and stop events are this mode's arrays, and after every
road step the boarding phase (:func:`mobsim.kernels.transit.boarding.serve_line`, one item per
line) serves the stops, on the run's backend (a CPU loop or a CUDA kernel from the same source).

The road releases a dwelling vehicle once its dwell has ended, and the dwell depends on the
boardings of each step, so while any service runs the mode asks the engine to come back after
every step (:meth:`TransitMode.next_stop`). Output at the end of the run: ``/transit/stops``,
``/transit/lines``, ``/transit/line_stops``, ``/transit/stop_events`` and ``/transit/passengers``
(:mod:`.schema`).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from mobsim.demand.transit import DWELL_LAWS, TransitPlan, passenger_rows, ride_on, service_trips
from mobsim.kernels.transit.boarding import serve_line

#: The mode's arrays on the backend (see :func:`mobsim.kernels.transit.boarding.serve_line`):
#: lines, vehicles (services), stop visits (indexed like the road's ``W.visit_*``), queues (line,
#: stop of its pattern) and passengers (sorted by queue, then arrival).
TransitState = namedtuple("TransitState", [
    "line_veh_start", "line_pattern", "line_q0",
    "veh_trip", "veh_visit0", "veh_nvis", "veh_cap", "veh_a", "veh_b", "veh_doors", "veh_law",
    "veh_cur", "veh_load", "veh_alight",
    "ev_arr", "ev_dep", "ev_board", "ev_alight", "ev_load", "alight_cnt",
    "q_start", "q_head", "p_arr", "p_ride", "p_board", "p_veh", "p_visit", "p_denied", "visit_bay", "vt",
])

#: Steps between checks (on the host) whether every service has ended.
DONE_CHECK_STEPS = 50


def shuttle_trips(scenario: Any, routes: Any) -> list[Any]:
    """The road trips of the scenario's transit services (none without ``[transit]``)."""
    plan = getattr(scenario, "transit", None)
    if plan is None:
        return []
    speed = {lk.id: float(lk.speed) for lk in scenario.network.links}
    return service_trips(plan, routes, speed, {v.id: v for v in scenario.vtypes})


class TransitMode:
    """The transit part of a run (see the module docstring)."""

    name = "transit"

    def __init__(self, plan: TransitPlan, settings: dict[str, Any], backend: Any, services: Any) -> None:
        self.plan = plan
        self.backend = backend
        self.road = road = services.road
        self.dt = float(services.dt)
        self.begin = float(services.begin)
        self.step_no = 0
        index = {t.id: k for k, t in enumerate(road.trips)}
        lines = plan.lines
        veh_trip, veh_line, veh_service, line_start = [], [], [], [0]
        for li, ln in enumerate(lines):
            for k, tid in enumerate(plan.service_ids(ln)):
                if tid not in index:
                    continue  # an imported service dropped with its trip (outside the run)
                veh_trip.append(index[tid])
                veh_line.append(li)
                veh_service.append(k)
            line_start.append(len(veh_trip))
        trips = np.array(veh_trip, np.int32)
        self.veh_line = np.array(veh_line, np.int32)
        self.veh_service = np.array(veh_service, np.int32)
        nveh = len(trips)
        tv = [plan.vehicle(ln) for ln in lines]
        per = [tv[li] for li in veh_line]
        n_visits = int(road.W.visit_rp.shape[0])
        pattern = np.array([ln.pattern for ln in lines], np.int32)
        q0 = np.concatenate([[0], np.cumsum(pattern)]).astype(np.int32)
        # passengers: (origin, destination, arrival, line) -> queue (line, pattern index), ride length
        rows = passenger_rows(plan, int(settings["sim.seed"]), float(settings["sim.end"]))
        sid = [s.id for s in plan.stops]
        n_p = len(rows)
        p_orig = np.array([r[0] for r in rows], np.int32)
        p_dest = np.array([r[1] for r in rows], np.int32)
        p_arr = np.array([r[2] for r in rows], np.float64)
        p_line = np.array([r[3] for r in rows], np.int32)
        p_q = np.zeros(n_p, np.int32)
        p_ride = np.zeros(n_p, np.int32)
        # the ride of each distinct (line, origin, destination), then spread over the passengers
        keys, which = np.unique(np.stack([p_line, p_orig, p_dest], axis=1).reshape(-1, 3), axis=0,
                                return_inverse=True)
        rides = np.array([ride_on(lines[li], sid[o], sid[d]) for li, o, d in keys], np.int64).reshape(-1, 2)
        which = which.reshape(-1)
        if n_p:
            p_q = (q0[keys[:, 0]] + rides[:, 0]).astype(np.int32)[which]
            p_ride = rides[:, 1].astype(np.int32)[which]
        order = np.lexsort((np.arange(n_p), p_arr, p_q)) if n_p else np.zeros(0, np.int64)
        self.p_orig, self.p_dest, self.p_line = p_orig[order], p_dest[order], p_line[order]
        p_q, p_ride, p_arr = p_q[order], p_ride[order], p_arr[order]
        q_start = np.searchsorted(p_q, np.arange(int(q0[-1]) + 1)).astype(np.int32)
        self.trips = trips
        self.state = TransitState(
            line_veh_start=np.array(line_start, np.int32), line_pattern=pattern, line_q0=q0,
            veh_trip=trips, veh_visit0=road.first_visit[trips].astype(np.int32),
            veh_nvis=np.array([lines[li].visits() for li in veh_line], np.int32),
            veh_cap=np.array([v.capacity for v in per], np.int32),
            veh_a=np.array([v.board_time for v in per], np.float64),
            veh_b=np.array([v.alight_time for v in per], np.float64),
            veh_doors=np.array([v.doors for v in per], np.float64),
            veh_law=np.array([DWELL_LAWS[v.dwell] for v in per], np.int8),
            veh_cur=np.full(nveh, -1, np.int32), veh_load=np.zeros(nveh, np.int32),
            veh_alight=road.first_visit[trips].astype(np.int32),
            ev_arr=np.full(n_visits, np.nan), ev_dep=np.full(n_visits, np.nan),
            ev_board=np.zeros(n_visits, np.int32), ev_alight=np.zeros(n_visits, np.int32),
            ev_load=np.zeros(n_visits, np.int32), alight_cnt=np.zeros(n_visits, np.int32),
            q_start=q_start, q_head=q_start[:-1].copy(),
            p_arr=p_arr, p_ride=p_ride, p_board=np.full(n_p, np.nan), p_veh=np.full(n_p, -1, np.int32),
            p_visit=np.full(n_p, -1, np.int32), p_denied=np.zeros(n_p, np.int32),
            visit_bay=self._visit_bays(plan, lines, veh_line, road.first_visit[trips], n_visits),
            vt=np.ascontiguousarray(road.vt, np.float64))
        self.k = backend.add_part("transit", self.state)
        dep = road.depart_planned[trips] if nveh else np.zeros(0)
        self._first_step = int(np.floor((dep.min() - self.begin) / self.dt)) if nveh else 2**62
        self._done = nveh == 0

    @staticmethod
    def _visit_bays(plan: TransitPlan, lines: list[Any], veh_line: list[int], v0: np.ndarray,
                    n_visits: int) -> np.ndarray:
        """1 for every stop visit of a service at a stop with a bay (by the road's visit index)."""
        bay = {s.id: s.bay for s in plan.stops}
        out = np.zeros(max(n_visits, 1), np.uint8)
        for j, li in enumerate(veh_line):
            ln = lines[li]
            for q in range(ln.visits()):
                out[int(v0[j]) + q] = 1 if bay[ln.stops[q % ln.pattern]] else 0
        return out

    # ------------------------------------------------------------------ the Mode protocol
    def static_tables(self) -> dict[str, dict[str, Any]]:
        return {}

    def attrs(self) -> dict[str, Any]:
        return {"transit_lines": len(self.plan.lines), "transit_services": int(self.trips.shape[0]),
                "transit_passengers": int(self.state.p_arr.shape[0])}

    def callbacks(self) -> list[Any]:
        return []

    def compile(self) -> None:
        self._serve(0)  # loads (or compiles) the phase: with no line it changes nothing

    def start(self, rec: Any, t: float) -> None:
        pass

    def next_stop(self, step: int) -> int:
        if self._done:
            return 2**62
        return max(step + 1, self._first_step)

    def advance(self, n_steps: int, rec: Any | None) -> None:
        for _ in range(n_steps):
            self.step_no += 1
            if not self._done and self.step_no > self._first_step:
                self._serve(len(self.plan.lines))
        if not self._done and self.step_no > self._first_step and self.step_no % DONE_CHECK_STEPS == 0:
            self._done = self._all_ended()

    def _serve(self, n_lines: int) -> None:
        V = self.backend.device("V")
        W = self.backend.device("W")
        L = self.backend.device("L")
        k = self.k
        t = self.begin + self.step_no * self.dt
        self.backend.run_items(
            serve_line, n_lines, t, self.dt, V.status, V.stop_next, V.stop_state, V.stop_end, W.trip_slot,
            W.visit_until, W.visit_dur, k.line_veh_start, k.line_pattern, k.line_q0, k.veh_trip,
            k.veh_visit0, k.veh_nvis, k.veh_cap, k.veh_a, k.veh_b, k.veh_doors, k.veh_law, k.veh_cur,
            k.veh_load, k.veh_alight,
            k.ev_arr, k.ev_dep, k.ev_board, k.ev_alight, k.ev_load, k.alight_cnt, k.q_start, k.q_head,
            k.p_arr, k.p_ride, k.p_board, k.p_veh, k.p_visit, k.p_denied, k.visit_bay, V.lane, V.pos, V.speed,
            V.vtype, L.lane_start, W.order, W.cnt, k.vt)

    def _all_ended(self) -> bool:
        """Every service has left the roads (arrived or removed)."""
        V = self.backend.device("V")
        W = self.backend.device("W")
        xp = self.backend.xp
        slots = W.trip_slot[xp.asarray(self.trips)]
        st = self.backend.to_host(V.status[slots])
        return bool(((st == 2) | (st == 3)).all())

    def record(self, rec: Any, step: int, t: float, last: bool) -> None:
        pass

    def finished(self) -> bool:
        return True  # the services are road trips: the road says when they are done

    def finish(self, rec: Any, t_end: float) -> None:
        from mobsim.modes.transit.recording import transit_tables

        self.backend.pull("transit")
        for group, table in transit_tables(self).items():
            rec.append(group, table)

    def health(self) -> dict[str, Any]:
        s = self.state
        self.backend.pull("transit", ("p_board",))
        return {"transit_services": int(self.trips.shape[0]), "transit_passengers": int(s.p_arr.shape[0]),
                "transit_boarded": int(np.isfinite(s.p_board).sum())}


def attach(scenario: Any, settings: dict, backend: Any, services: Any) -> TransitMode | None:
    """The transit mode of ``scenario``, or None without ``[transit]`` (the factory
    :mod:`mobsim.modes.registry` calls)."""
    plan = getattr(scenario, "transit", None)
    if plan is None:
        return None
    return TransitMode(plan, settings, backend, services)
