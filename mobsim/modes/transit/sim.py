"""Transit lines in the run: their vehicles are road vehicles (trips with scheduled stops, added
by :func:`shuttle_trips`), their passengers and stop events are this mode's arrays, and after every
road step the boarding phases (:mod:`mobsim.kernels.transit.boarding`: one item per vehicle, then
one per stop) serve the stops, on the run's backend (a CPU loop or a CUDA kernel from the same
source).

A passenger's journey is one or more rides (legs, :class:`mobsim.demand.transit.Journeys`);
legs wait in queues per (stop, destination, the lines they accept). The road releases a dwelling
vehicle once its dwell has ended, and the dwell depends on the boardings of each step, so while
any service runs the mode asks the engine to come back after every step
(:meth:`TransitMode.next_stop`). Output at the end of the run: ``/transit/stops``,
``/transit/lines``, ``/transit/line_stops``, ``/transit/stop_events``, ``/transit/passengers``
and ``/transit/legs`` (:mod:`.schema`).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from mobsim.demand.transit import DWELL_LAWS, Journeys, TransitPlan, passenger_rows, service_trips
from mobsim.kernels.transit.boarding import serve_stop, track_vehicle

#: The mode's arrays on the backend (see :mod:`mobsim.kernels.transit.boarding`): stops, queues,
#: line sets, vehicles (services), stop visits (indexed like the road's ``W.visit_*``) and legs
#: (sorted by queue; in each queue first the legs that start a journey, by arrival).
TransitState = namedtuple("TransitState", [
    "stop_busy", "stop_veh_start", "stop_veh", "stop_q_start",
    "q_dest", "q_set", "set_has", "q_mid", "q_head", "q_thead", "q_fill", "q_off", "qe",
    "veh_trip", "veh_line", "veh_visit0", "veh_nvis", "veh_cap", "veh_a", "veh_b", "veh_doors", "veh_law",
    "veh_cur", "veh_load", "veh_alight", "veh_left", "veh_new",
    "ev_arr", "ev_dep", "ev_board", "ev_alight", "ev_load", "alight_cnt", "tr_first", "visit_stop",
    "visit_bay", "visit_hold", "p_q", "p_arr", "p_next", "p_link", "p_board", "p_veh", "p_visit", "p_off",
    "p_denied", "vt",
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
        veh_trip, veh_line, veh_service = [], [], []
        for li, ln in enumerate(lines):
            for k, tid in enumerate(plan.service_ids(ln)):
                if tid not in index:
                    continue  # an imported service dropped with its trip (outside the run)
                veh_trip.append(index[tid])
                veh_line.append(li)
                veh_service.append(k)
        trips = np.array(veh_trip, np.int32)
        self.trips = trips
        self.veh_line = np.array(veh_line, np.int32)
        self.veh_service = np.array(veh_service, np.int32)
        nveh = len(trips)
        per = [plan.vehicle(lines[li]) for li in veh_line]
        n_visits = max(int(road.W.visit_rp.shape[0]), 1)
        v0 = road.first_visit[trips].astype(np.int32)
        nvis = np.array([lines[li].visits() for li in veh_line], np.int32)
        visit_stop, visit_bay, visit_hold = self._visits(plan, v0, nvis, n_visits)
        n_stops = len(plan.stops)
        # the vehicles of the lines that call at each stop (each once), by stop, line, departure
        sv = np.unique(np.stack([visit_stop[np.repeat(v0, nvis) + _within(nvis)],
                                 np.repeat(np.arange(nveh, dtype=np.int32), nvis)], axis=1), axis=0) \
            if nveh else np.zeros((0, 2), np.int32)
        legs = self._legs(passenger_rows(plan, int(settings["sim.seed"]), float(settings["sim.end"])))
        nq = legs["q_dest"].shape[0]
        n_legs = legs["p_arr"].shape[0]
        self.legs = legs
        self.state = TransitState(
            stop_busy=np.zeros(n_stops, np.uint8),
            stop_veh_start=np.searchsorted(sv[:, 0], np.arange(n_stops + 1)).astype(np.int32),
            stop_veh=np.ascontiguousarray(sv[:, 1], np.int32),
            stop_q_start=legs["stop_q_start"], q_dest=legs["q_dest"], q_set=legs["q_set"],
            set_has=legs["set_has"], q_mid=legs["q_mid"], q_head=legs["q_start"][:-1].copy(),
            q_thead=legs["q_mid"].copy(), q_fill=legs["q_mid"].copy(),
            q_off=np.full(max(nq, 1), -1, np.int32), qe=np.full(max(n_legs, 1), -1, np.int32),
            veh_trip=trips, veh_line=self.veh_line, veh_visit0=v0, veh_nvis=nvis,
            veh_cap=np.array([v.capacity for v in per], np.int32),
            veh_a=np.array([v.board_time for v in per], np.float64),
            veh_b=np.array([v.alight_time for v in per], np.float64),
            veh_doors=np.array([v.doors for v in per], np.float64),
            veh_law=np.array([DWELL_LAWS[v.dwell] for v in per], np.int8),
            veh_cur=np.full(nveh, -1, np.int32), veh_load=np.zeros(nveh, np.int32), veh_alight=v0.copy(),
            veh_left=np.full(nveh, -1, np.int32), veh_new=np.zeros(nveh, np.int8),
            ev_arr=np.full(n_visits, np.nan), ev_dep=np.full(n_visits, np.nan),
            ev_board=np.zeros(n_visits, np.int32), ev_alight=np.zeros(n_visits, np.int32),
            ev_load=np.zeros(n_visits, np.int32), alight_cnt=np.zeros(n_visits, np.int32),
            tr_first=np.full(n_visits, -1, np.int32), visit_stop=visit_stop, visit_bay=visit_bay,
            visit_hold=visit_hold,
            p_q=legs["p_q"], p_arr=legs["p_arr"], p_next=legs["p_next"],
            p_link=np.full(n_legs, -1, np.int32), p_board=np.full(n_legs, np.nan),
            p_veh=np.full(n_legs, -1, np.int32), p_visit=np.full(n_legs, -1, np.int32),
            p_off=np.full(n_legs, -1, np.int32), p_denied=np.zeros(n_legs, np.int32),
            vt=np.ascontiguousarray(road.vt, np.float64))
        self.k = backend.add_part("transit", self.state)
        dep = road.depart_planned[trips] if nveh else np.zeros(0)
        self._first_step = int(np.floor((dep.min() - self.begin) / self.dt)) if nveh else 2**62
        self._done = nveh == 0

    def _visits(self, plan: TransitPlan, v0: np.ndarray, nvis: np.ndarray, n_visits: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """By the road's visit index: the stop of every call of a service (row of ``plan.stops``;
        -1: not a service's call), 1 for a stop with a bay, and the layover there (s)."""
        sidx = plan.stop_index()
        bay = np.array([s.bay for s in plan.stops], np.uint8)
        stop = np.full(n_visits, -1, np.int32)
        hold = np.zeros(n_visits)
        for j, li in enumerate(self.veh_line):
            ln = plan.lines[li]
            pat = np.array([sidx[x] for x in ln.stops], np.int32)
            lay = np.array([ln.layover.get(x, 0.0) for x in ln.stops])
            k = np.arange(nvis[j]) % ln.pattern
            stop[v0[j]:v0[j] + nvis[j]] = pat[k]
            hold[v0[j]:v0[j] + nvis[j]] = lay[k]
        return stop, np.where(stop >= 0, bay[np.maximum(stop, 0)], 0).astype(np.uint8), hold

    def _legs(self, rows: list[tuple[int, int, float, tuple[int, ...]]]) -> dict[str, np.ndarray]:
        """Passengers (``rows``: origin, destination, arrival s, lines taken) as journeys of legs,
        and the legs in queues: every array of the state about them (see ``TransitState``), plus
        the host's view (person, leg number, origin, destination of every leg; the persons)."""
        plan = self.plan
        n_lines, n_stops = len(plan.lines), len(plan.stops)
        sid = [s.id for s in plan.stops]
        n = len(rows)
        orig = np.array([r[0] for r in rows], np.int32)
        dest = np.array([r[1] for r in rows], np.int32)
        arr = np.array([r[2] for r in rows], np.float64)
        sets = {(): 0}
        for r in rows:
            sets.setdefault(r[3], len(sets))
        set_of = np.array([sets[r[3]] for r in rows], np.int32)
        set_has = np.ones((len(sets), max(n_lines, 1)), np.uint8)
        for members, k in sets.items():
            if k:
                set_has[k] = 0
                set_has[k, list(members)] = 1
        # the legs of every distinct (origin, destination, lines), then spread over the persons
        keys, which = (np.unique(np.stack([orig, dest, set_of], axis=1), axis=0, return_inverse=True)
                       if n else (np.zeros((0, 3), np.int32), np.zeros(0, np.int64)))
        which = which.reshape(-1)
        journeys = Journeys(plan)
        sidx = plan.stop_index()
        key_legs = []
        for o, d, k in keys:
            legs = [(o, d)] if k else journeys.legs(sid[o], sid[d])
            key_legs.append([(int(o), int(d))] if k or legs is None else
                            [(sidx[a], sidx[b]) for a, b in legs])
        n_key = np.array([len(x) for x in key_legs], np.int64)
        key_start = np.concatenate([[0], np.cumsum(n_key)]).astype(np.int64)
        flat = np.array([x for legs in key_legs for x in legs], np.int32).reshape(-1, 2)
        per = n_key[which] if n else np.zeros(0, np.int64)
        person = np.repeat(np.arange(n, dtype=np.int32), per)
        leg_no = _within(per).astype(np.int32)
        at = key_start[which][person] + leg_no if n else np.zeros(0, np.int64)
        l_orig, l_dest = flat[at, 0], flat[at, 1]
        l_set = np.where(per[person] == 1, set_of[person], 0).astype(np.int32) if n else np.zeros(0, np.int32)
        l_arr = np.where(leg_no == 0, arr[person], np.nan)
        nxt = np.where(leg_no < per[person] - 1, np.arange(person.shape[0]) + 1, -1)
        qkeys, q = (np.unique(np.stack([l_orig, l_dest, l_set], axis=1), axis=0, return_inverse=True)
                    if person.size else (np.zeros((0, 3), np.int32), np.zeros(0, np.int64)))
        q = q.reshape(-1).astype(np.int32)
        transfer = leg_no > 0
        order = np.lexsort((np.arange(q.shape[0]), np.nan_to_num(l_arr), transfer, q))
        pos = np.empty_like(order)
        pos[order] = np.arange(order.shape[0])
        nq = qkeys.shape[0]
        q_start = np.searchsorted(q[order], np.arange(nq + 1)).astype(np.int32)
        first = np.bincount(q[~transfer], minlength=nq) if nq else np.zeros(0, np.int64)
        p_next = nxt[order]
        return {
            "stop_q_start": np.searchsorted(qkeys[:, 0], np.arange(n_stops + 1)).astype(np.int32),
            "q_dest": np.ascontiguousarray(qkeys[:, 1], np.int32),
            "q_set": np.ascontiguousarray(qkeys[:, 2], np.int32), "set_has": set_has,
            "q_start": q_start, "q_mid": (q_start[:-1] + first).astype(np.int32),
            "p_q": q[order], "p_arr": l_arr[order],
            "p_next": np.where(p_next >= 0, pos[np.maximum(p_next, 0)], -1).astype(np.int32),
            "person": person[order], "leg": leg_no[order], "origin": l_orig[order],
            "destination": l_dest[order],
            "person_origin": orig, "person_destination": dest, "person_arrival": arr,
            "person_legs": per.astype(np.int32)}

    # ------------------------------------------------------------------ the Mode protocol
    def static_tables(self) -> dict[str, dict[str, Any]]:
        return {}

    def attrs(self) -> dict[str, Any]:
        return {"transit_lines": len(self.plan.lines), "transit_services": int(self.trips.shape[0]),
                "transit_passengers": int(self.legs["person_arrival"].shape[0])}

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
                self._serve(2**31)
        if not self._done and self.step_no > self._first_step and self.step_no % DONE_CHECK_STEPS == 0:
            self._done = self._all_ended()

    def _serve(self, n_items: int) -> None:
        V = self.backend.device("V")
        W = self.backend.device("W")
        L = self.backend.device("L")
        k = self.k
        t = self.begin + self.step_no * self.dt
        n_veh = min(n_items, int(self.trips.shape[0]))
        n_stops = min(n_items, len(self.plan.stops))
        self.backend.run_items(
            track_vehicle, n_veh, t, self.dt, V.status, V.stop_next, V.stop_state, V.stop_end, W.trip_slot,
            k.veh_trip, k.veh_cur, k.veh_load, k.veh_left, k.veh_new, k.ev_arr, k.ev_dep, k.ev_board,
            k.ev_load, k.visit_bay, k.visit_stop, k.stop_busy)
        self.backend.run_items(
            serve_stop, n_stops, t, self.dt, self.plan.transfer_time, V.status, V.stop_end, W.trip_slot,
            W.visit_until, W.visit_dur, k.visit_hold, k.visit_stop, k.visit_bay, k.stop_busy,
            k.stop_veh_start, k.stop_veh,
            k.stop_q_start, k.q_dest, k.q_set, k.set_has, k.q_mid, k.q_head, k.q_thead, k.q_fill, k.q_off,
            k.qe,
            k.veh_trip, k.veh_line, k.veh_visit0, k.veh_nvis, k.veh_cap, k.veh_a, k.veh_b, k.veh_doors,
            k.veh_law, k.veh_cur, k.veh_load, k.veh_alight, k.veh_left, k.veh_new,
            k.ev_arr, k.ev_dep, k.ev_board, k.ev_alight, k.ev_load, k.alight_cnt, k.tr_first,
            k.p_q, k.p_arr, k.p_next, k.p_link, k.p_board, k.p_veh, k.p_visit, k.p_off, k.p_denied,
            V.lane, V.pos, V.speed, V.vtype, L.lane_start, W.order, W.cnt, k.vt)

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
        return {"transit_services": int(self.trips.shape[0]),
                "transit_passengers": int(self.legs["person_arrival"].shape[0]),
                "transit_boarded": int(np.isfinite(s.p_board[self.legs["leg"] == 0]).sum())}


def attach(scenario: Any, settings: dict, backend: Any, services: Any) -> TransitMode | None:
    """The transit mode of ``scenario``, or None without ``[transit]`` (the factory
    :mod:`mobsim.modes.registry` calls)."""
    plan = getattr(scenario, "transit", None)
    if plan is None:
        return None
    return TransitMode(plan, settings, backend, services)


def _within(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for every count c of ``counts``, concatenated."""
    counts = np.asarray(counts, np.int64)
    start = np.concatenate([[0], np.cumsum(counts)])[:-1]
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(start, counts)
