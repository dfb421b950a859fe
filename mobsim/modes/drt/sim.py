"""An on-demand fleet in the run: its vehicles are road vehicles whose routes and stops the host
replaces whenever their schedules change, their requests are this mode's arrays.

* **Vehicles.** Each vehicle of ``[drt]`` is a road trip (:func:`fleet_trips`) that leaves its
  depot at the start of its service hours. It owns a block of :func:`visits_per_vehicle` stop
  visits of the road (``W.visit_*``, :mod:`mobsim.kernels.road.stops`): the stops of its
  schedule, then an *idle* visit whose earliest departure lies far ahead, where it holds once
  its work is done. Dwelling there it pulls out of its lane to the curb
  (:mod:`mobsim.kernels.drt.parking`), so an idle vehicle never blocks a street.
* **Watching.** After every road step the host reads the fleet's stop fields: a vehicle that
  halts at the next stop of its schedule has served it (pick-up or drop-off at the time of the
  halt); one that passed it without halting gets its route again.
* **Dispatch.** Requests become known at their request time. With ``period = 0`` the dispatcher
  runs in every step in which requests come in (immediate insertion), else every ``period`` s.
  It sees the fleet as :class:`mobsim.modes.drt.dispatch.Fleet`: a vehicle is free at the link it
  is on (from the time it reaches the link's end at the speed limit, or the end of its dwell)
  with its remaining stops. Travel times between links come from the route service on the links'
  current travel times (the mean speed of the vehicles on each link, refreshed every
  ``travel_time_update`` s), one shortest-path tree per link a dispatch needs, kept until the
  next refresh.
* **Routes.** A vehicle whose schedule changed gets a new route from its current link through
  the links of its stops (a loop round the block where a stop lies behind it on the same link)
  and its visits rewritten; the road then drives it there, as any vehicle with stops.

Output at the end of the run: ``/drt/requests``, ``/drt/vehicles`` and ``/drt/events``
(:mod:`.schema`).
"""

from __future__ import annotations

import time as _time
from collections import namedtuple
from typing import Any

import numpy as np

from mobsim.demand.trips import Stop, Trip
from mobsim.errors import InputError
from mobsim.kernels.drt.parking import park_idle, pull_out
from mobsim.kernels.runtime.layout import (
    S_BAY,
    S_RUNNING,
    STOP_APPROACH,
    STOP_DWELL,
    T_ACC,
    T_DEC,
    T_LEN,
    T_VMAX,
)
from mobsim.modes.drt.dispatch import (
    BatchDispatcher,
    Fleet,
    GreedyDispatcher,
    InsertionDispatcher,
    Requests,
)
from mobsim.modes.drt.schema import (
    EV_ASSIGN,
    EV_DROPOFF,
    EV_LOST,
    EV_PICKUP,
    EV_REJECT,
    R_ASSIGNED,
    R_DONE,
    R_ONBOARD,
    R_OPEN,
    R_REJECTED,
)

#: Earliest departure (s) of an idle visit: the vehicle holds there until the host gives it work.
IDLE_HOLD = 1.0e9
#: Stop area (m) beyond the vehicle's length: where a vehicle halting behind another still counts
#: as at the stop.
AREA_EXTRA = 5.0
#: Fleet vehicles from which the CPU runs the curb phases on its threads: an item takes a few ns
#: (most vehicles are driving), and a parallel loop cost 2 ms per call at fleet 1,500 on a busy
#: 2-core machine against about 15 us as a plain loop.
CURB_PARALLEL_MIN = 200_000
#: Seconds between the samples of the links' mean speeds behind the dispatcher's travel times.
SAMPLE_PERIOD = 5.0
#: Most links for the dispatcher's link-to-link travel-time matrix (8 bytes per pair).
MAX_MATRIX_LINKS = 8_000


DrtState = namedtuple("DrtState", ["veh_trip", "idle_slot", "want", "vt"])


def visits_per_vehicle(capacity: int) -> int:
    """Stop visits a vehicle of ``capacity`` seats owns: a schedule of up to ``4 * capacity`` stops
    (pick-ups and drop-offs of twice as many requests as it has seats), its idle visit, and one
    kept for the stop it dwells at while its schedule is rewritten."""
    return 4 * int(capacity) + 2


def curb_pos(length: float, vehicle_length: float) -> float:
    """Default halt position (m) on a link ``length`` m long: its middle, at least one vehicle
    length and a metre from its start."""
    return float(min(length, max(0.5 * length, vehicle_length + 1.0)))


def trip_id(vehicle_id: str) -> str:
    """The road trip of fleet vehicle ``vehicle_id``."""
    return f"drt.{vehicle_id}"


def signal_wait(a: Any, stop_loss: float = 0.0) -> np.ndarray:
    """Per link, the mean time (s) the signal at its end costs a vehicle arriving at a random time
    with no queue: the wait ``red^2 / (2 * cycle)`` and, with the chance ``red / cycle`` of
    arriving at red, ``stop_loss`` (s: braking to a halt and speeding up again), for each
    signalised movement from the link (yellow counts as green), averaged over them; 0 without a
    signal. The dispatcher's travel times start from free flow plus this where no vehicle has
    been seen on a link yet."""
    n_links = len(a.link_len)
    wait = np.zeros(n_links)
    cnt = np.zeros(n_links)
    for m in np.nonzero(a.mv_sig >= 0)[0]:
        slot = int(a.mv_sig[m])
        c = int(a.slot_ctrl[slot])
        k = int(a.slot_index[slot])
        p0, p1 = int(a.ctrl_phase_start[c]), int(a.ctrl_phase_start[c + 1])
        ends = a.phase_end[p0:p1]
        dur = np.diff(np.concatenate([[0.0], ends]))
        cycle = float(ends[-1]) if p1 > p0 else 0.0
        if cycle <= 0:
            continue
        states = np.array([a.phase_states[int(a.phase_state_start[q]) + k] for q in range(p0, p1)])
        red = float(dur[states == 0].sum())
        link = int(a.lane_link[a.mv_from_lane[m]])
        wait[link] += red * red / (2.0 * cycle) + red / cycle * stop_loss
        cnt[link] += 1
    return np.where(cnt > 0, wait / np.maximum(cnt, 1), 0.0)


def fleet_trips(scenario: Any, routes: Any) -> list[Trip]:
    """The road trips of the scenario's on-demand vehicles (none without ``[drt]``): from the
    depot, to an idle hold at the depot, with the vehicle's block of visits."""
    plan = getattr(scenario, "drt", None)
    if plan is None:
        return []
    vt = {v.id: v for v in scenario.vtypes}
    length = {lk.id: float(lk.length) for lk in scenario.network.links}
    out = []
    for v in plan.vehicles:
        p = curb_pos(length[v.depot], float(vt[v.vtype].length))
        hold = Stop(v.depot, p, length=float(vt[v.vtype].length) + AREA_EXTRA, until=IDLE_HOLD)
        spare = Stop(v.depot, p)
        out.append(Trip(id=trip_id(v.id), origin=v.depot, destination=v.depot, depart=v.start, vtype=v.vtype,
                        route=(v.depot,), stops=(hold,) + (spare,) * (visits_per_vehicle(v.capacity) - 1)))
    return out


class DrtMode:
    """The on-demand part of a run (see the module docstring)."""

    name = "drt"

    def __init__(self, plan: Any, settings: dict[str, Any], backend: Any, services: Any) -> None:
        self.plan = plan
        self.service = svc = plan.service
        self.backend = backend
        self.road = road = services.road
        self.routes = services.routes
        self.dt = float(services.dt)
        self.begin = float(services.begin)
        self.step_no = 0
        cn = road.cn
        self.cn = cn
        if cn.n_links > MAX_MATRIX_LINKS:
            raise InputError(
                f"the network has {cn.n_links:,} links; the on-demand dispatcher holds travel times between "
                f"every two links and takes at most {MAX_MATRIX_LINKS:,}", source="[drt]",
                element="drt", fix="cut the network to the service area")
        index = {t.id: k for k, t in enumerate(road.trips)}
        veh = plan.vehicles
        self.veh_ids = [v.id for v in veh]
        self.veh_trip = np.array([index[trip_id(v.id)] for v in veh], np.int32)
        nv = len(veh)
        self.visit0 = road.first_visit[self.veh_trip].astype(np.int64)
        self.n_visits = np.array([visits_per_vehicle(v.capacity) for v in veh], np.int64)
        self.depot = np.array([cn.link_index[v.depot] for v in veh], np.int64)
        self.svc_start = np.array([v.start for v in veh], np.float64)
        self.svc_end = np.array([v.end for v in veh], np.float64)
        self.veh_len = road.vt[road.trip_vtype[self.veh_trip], T_LEN].astype(np.float64)
        self.veh_dec = road.vt[road.trip_vtype[self.veh_trip], T_DEC].astype(np.float64)
        self.depot_pos = np.array([road.W.visit_pos[v0] for v0 in self.visit0], np.float64)
        cap = np.array([v.capacity for v in veh], np.int64)
        self.fleet = Fleet(self.depot, self.begin, 0, cap, max_stops=8)
        self.cap = cap.copy()
        #: per vehicle: the visit of each scheduled stop, the stop it dwells at (served; -1: none),
        #: whether it has left the service (released or lost)
        self.sched_slots: list[list[int]] = [[] for _ in range(nv)]
        # their first entries as an array, rebuilt only after a schedule changed (not every step)
        self._first = np.full(nv, -2, np.int64)
        self._slots_changed = False
        self.dwell_slot = np.full(nv, -1, np.int64)
        self.gone = np.zeros(nv, bool)
        self.released = np.zeros(nv, bool)
        self.dirty = np.zeros(nv, bool)
        self.odo_last = np.zeros(nv)  # odometer (m) at the last load change
        self.occ_m = np.zeros(nv)  # distance driven with someone on board (m)
        self.pm = np.zeros(nv)  # person-metres
        self.km_final = np.full(nv, np.nan)  # odometer (m) when the vehicle left the network
        self.odo_now = np.zeros(nv)  # odometer (m) at the last step the vehicle was on the road
        self.state = DrtState(veh_trip=self.veh_trip, idle_slot=self.visit0.astype(np.int32).copy(),
                              want=np.zeros(max(nv, 1), np.int8),
                              vt=np.ascontiguousarray(road.vt, np.float64))
        self.k = backend.add_part("drt", self.state)
        self._requests(plan.requests)
        #: the fleet's top speed (m/s): no link is driven faster, whatever its speed limit
        self.vmax = float(road.vt[road.trip_vtype[self.veh_trip], T_VMAX].max()) if nv else np.inf
        acc = road.vt[road.trip_vtype[self.veh_trip], T_ACC].astype(np.float64) if nv else np.ones(1)
        link_v = float(np.minimum(cn.arrays.link_speed, self.vmax).max()) if nv else 0.0
        #: time (s) a stop costs beyond its dwell: braking to it and speeding up again from the
        #: top speed, ``v / 2 * (1 / a + 1 / b)`` (the dispatcher adds it to every stop)
        self.stop_loss = float((link_v / 2.0 * (1.0 / acc + 1.0 / self.veh_dec)).max()) if nv else 0.0
        a = cn.arrays
        self.tt = np.full((cn.n_links, cn.n_links), np.nan) if nv else np.zeros((0, 0))
        self.tt_ok = np.zeros(cn.n_links, bool)
        #: per link: once round the block back to its end (s; NaN: not known yet)
        self.loop = np.full(cn.n_links, np.nan)
        self._cnt = np.zeros(cn.n_links)
        self._vsum = np.zeros(cn.n_links)
        # the fleet's own link times: per vehicle its link, when it entered it (from its start)
        # and whether it went through without a stop; per link the window's sum and count
        self._link_prev = np.full(nv, -1, np.int64)
        self._entered = np.full(nv, np.nan)
        self._clean = np.zeros(nv, bool)
        self._fsum = np.zeros(cn.n_links)
        self._fn = np.zeros(cn.n_links)
        #: the fleet's link times over the other vehicles' (an exponential average over the
        #: refreshes; shuttles accelerate and drive slower than cars)
        self.fleet_ratio = 1.0
        self._tt_every = max(1, round(svc.travel_time_update / self.dt))
        self._sample_every = max(1, round(SAMPLE_PERIOD / self.dt))
        #: the free-flow time of every link at the fleet's top speed plus the wait at its signal (s)
        self.free = a.link_len / np.minimum(a.link_speed, self.vmax) + signal_wait(a, self.stop_loss)
        self.cost = self.free.copy()
        self._period = max(1, round(svc.period / self.dt)) if svc.period > 0 else 0
        #: 1: every halt off the lane, at the curb (0: pick-ups and drop-offs in the lane)
        self.curb = 0 if svc.stop_in_lane else 1
        #: the halts (s) at a pick-up and at a drop-off, at least a step
        self.d_pick = max(svc.pickup_time, self.dt)
        self.d_drop = max(svc.dropoff_time, self.dt)
        # the insertion costs on the run's device: the CPU's threads or one GPU thread per pair
        on = "cuda" if getattr(backend, "name", "cpu") == "cuda" else "cpu"
        if ":" in svc.dispatch:  # a researcher's own (mobsim.modes.drt.dispatch.Dispatcher)
            from mobsim.named import resolve

            self.dispatcher = resolve(svc.dispatch)()
        else:
            make = {"insertion": lambda: InsertionDispatcher(on), "batch": lambda: BatchDispatcher(on),
                    "greedy": GreedyDispatcher}
            self.dispatcher = make[svc.dispatch]()
        self.dispatch_wall = 0.0
        self.dispatch_calls = 0
        #: stops passed without a halt (each sent round the block again)
        self.missed = 0
        self.events: list[tuple[float, int, int, int, int, int]] = []
        self._first_step = int(np.floor((self.svc_start.min() - self.begin) / self.dt)) if nv else 2**62
        self._done = nv == 0

    def _requests(self, rq: Any) -> None:
        cn = self.cn
        li = cn.link_index
        n = len(rq)
        self.r_ids = rq.id
        self.r_time = rq.time
        self.r_early = rq.earliest
        self.r_group = rq.group
        self.r_o = np.array([li[x] for x in rq.origin], np.int64)
        self.r_d = np.array([li[x] for x in rq.destination], np.int64)
        length = cn.arrays.link_len
        vl = float(self.veh_len.max()) if len(self.veh_len) else 5.0
        self.r_opos = np.where(np.isnan(rq.origin_pos), [curb_pos(length[k], vl) for k in self.r_o],
                               rq.origin_pos)
        self.r_dpos = np.where(np.isnan(rq.destination_pos), [curb_pos(length[k], vl) for k in self.r_d],
                               rq.destination_pos)
        self.r_status = np.zeros(n, np.int8)
        self.r_veh = np.full(n, -1, np.int64)
        self.r_assigned = np.full(n, np.nan)
        self.r_pick = np.full(n, np.nan)
        self.r_drop = np.full(n, np.nan)
        self.r_direct = np.full(n, np.nan)
        self.r_plan_pick = np.full(n, np.nan)
        self.r_plan_drop = np.full(n, np.nan)
        self.r_pick_due = np.full(n, np.inf)
        self.r_drop_due = np.full(n, np.inf)
        self.r_next = 0  # the first request not yet made

    # ------------------------------------------------------------------ travel times
    def _sample(self) -> None:
        """Add the vehicles on every link now and the sum of their speeds to the window's sums."""
        road, a = self.road, self.cn.arrays
        self.backend.pull("L", ("lane_vsum", "lane_start"))
        n = self.cn.n_links
        self._cnt += np.bincount(a.lane_link, weights=np.diff(road.L.lane_start), minlength=n)
        self._vsum += np.bincount(a.lane_link, weights=road.L.lane_vsum.astype(np.float64), minlength=n)

    def _measure(self) -> None:
        """Link travel times (s) for the dispatcher, refreshed every ``travel_time_update`` s.

        Where fleet vehicles went through a link (from its start, without a stop) since the last
        refresh: the mean of their times. Elsewhere, where other vehicles were sampled: the
        link's length over their mean speed (stopped ones at a red light included, so the wait at
        signals counts; never below the free-flow time at the fleet's top speed), times the
        fleet's ratio to the others (links with both, averaged over refreshes). Where no vehicle
        was seen: the free-flow time at the fleet's top speed plus what the signal at the link's
        end costs (:func:`signal_wait`), times the same ratio. The travel-time matrix is cleared
        for new trees."""
        a = self.cn.arrays
        drive = a.link_len / np.minimum(a.link_speed, self.vmax)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = self._vsum / np.maximum(self._cnt, 1)
            seen = np.maximum(a.link_len / np.maximum(speed, 0.5), drive)
            own = self._fsum / np.maximum(self._fn, 1)
        both = (self._fn > 0) & (self._cnt > 0)
        if both.any():
            ratio = float(own[both].sum() / seen[both].sum())
            self.fleet_ratio = 0.5 * self.fleet_ratio + 0.5 * ratio
        others = np.where(self._cnt > 0, seen, self.free) * self.fleet_ratio
        self.cost = np.where(self._fn > 0, np.maximum(own, drive), others)
        self._cnt[:] = 0.0
        self._vsum[:] = 0.0
        self._fsum[:] = 0.0
        self._fn[:] = 0.0
        self.tt_ok[:] = False
        self.loop[:] = np.nan

    def _fleet_links(self, t: float, st: np.ndarray, ss: np.ndarray, lanes: np.ndarray) -> None:
        """Record the times fleet vehicles took through whole links without stopping there, for
        :meth:`_measure`; ``t`` is the end of the step just run."""
        link = np.where(st == S_RUNNING, self.cn.arrays.lane_link[np.maximum(lanes, 0)], -1).astype(np.int64)
        prev = self._link_prev
        moved = (link != prev) & (prev >= 0) & (link >= 0)
        done = moved & self._clean
        if done.any():
            np.add.at(self._fsum, prev[done], t - self.dt / 2 - self._entered[done])
            np.add.at(self._fn, prev[done], 1.0)
        self._entered[moved] = t - self.dt / 2
        self._clean[moved] = True
        self._clean[(ss == STOP_DWELL) | (st != S_RUNNING)] = False
        self._link_prev = link

    def _need_loops(self, links: np.ndarray) -> None:
        """``loop[L]`` (s) for every link of ``links``: from the end of ``L`` once round the block
        back to it, the shortest way through any of its successors (``inf`` where there is none)."""
        miss = np.unique(links[np.isnan(self.loop[links])])
        if not len(miss):
            return
        a = self.cn.arrays
        succ = [a.link_next[a.link_next_start[x]:a.link_next_start[x + 1]] for x in miss]
        allsucc = np.concatenate(succ) if succ else np.zeros(0, np.int64)
        self._need_rows(allsucc.astype(np.int64))
        for x, ss in zip(miss, succ, strict=True):
            self.loop[x] = float((self.cost[ss] + self.tt[ss, x]).min()) if len(ss) else np.inf

    def _need_rows(self, links: np.ndarray) -> None:
        miss = np.unique(links[~self.tt_ok[links]])
        if len(miss):
            self.tt[miss] = self.routes.times_from(miss, self.cost)
            self.tt_ok[miss] = True

    # ------------------------------------------------------------------ the Mode protocol
    def static_tables(self) -> dict[str, dict[str, Any]]:
        return {}

    def attrs(self) -> dict[str, Any]:
        return {"drt_vehicles": len(self.veh_ids), "drt_requests": len(self.r_ids),
                "drt_dispatch": self.service.dispatch}

    def callbacks(self) -> list[Any]:
        return []

    def compile(self) -> None:
        """Load (or compile) the parking phase, the routing and the insertion kernel."""
        self._park(0)
        if len(self.veh_ids):
            from mobsim.modes.drt.dispatch import insertion_costs

            self.routes.times_from(self.depot[:1], self.cost)
            one = Requests(*(np.zeros(1, np.int64) for _ in range(3)), *(np.zeros(1) for _ in range(3)))
            insertion_costs(Fleet(np.zeros(1, np.int64), 0.0, 0, 1), one, np.zeros((1, 1)), 1.0)

    def start(self, rec: Any, t: float) -> None:
        pass

    def next_stop(self, step: int) -> int:
        if self._done:
            return 2**62
        return max(step + 1, self._first_step)

    def advance(self, n_steps: int, rec: Any | None) -> None:
        for _ in range(n_steps):
            self.step_no += 1
            if self._done or self.step_no <= self._first_step:
                continue
            t = self.begin + self.step_no * self.dt
            self._park(2**31)
            self._watch(t)
            if self.step_no % self._sample_every == 0:
                self._sample()
            if self.step_no % self._tt_every == 0:
                self._measure()
            self._dispatch(t)
            self._close(t)
            if self.dirty.any():
                self._replan(t)

    def _park(self, n_items: int) -> None:
        V = self.backend.device("V")
        W = self.backend.device("W")
        L = self.backend.device("L")
        k = self.k
        n = min(n_items, len(self.veh_ids))
        t = self.begin + self.step_no * self.dt
        self.backend.run_items(
            park_idle, n, t, self.dt, self.curb, V.status, V.stop_next, V.stop_state, V.stop_end, W.trip_slot,
            k.veh_trip, k.idle_slot, k.want, V.lane, V.pos, V.speed, V.vtype, L.lane_start, W.order, k.vt,
            parallel_min=CURB_PARALLEL_MIN)
        self.backend.run_items(
            pull_out, n, V.status, W.trip_slot, k.veh_trip, k.want, V.lane, V.pos, V.vtype, W.order, W.cnt,
            k.vt, parallel_min=CURB_PARALLEL_MIN)

    # ------------------------------------------------------------------ watching the fleet
    def _slots(self) -> np.ndarray:
        self.backend.pull("W", ("trip_slot",))
        return self.road.W.trip_slot[self.veh_trip].astype(np.int64)

    def _watch(self, t: float) -> None:
        """Stops served (or passed) and vehicles gone in the step that ended at ``t`` (s)."""
        be, road = self.backend, self.road
        be.pull("V", ("status", "stop_next", "stop_state", "stop_end", "dist0", "pos", "lane"))
        V = road.V
        slots = self._slots()
        st = V.status[slots]
        sn = V.stop_next[slots].astype(np.int64)
        ss = V.stop_state[slots]
        fl = self.fleet
        # the visit of each vehicle's next scheduled stop (-2: none)
        first = np.array([x[0] if x else -2 for x in self.sched_slots], np.int64) if self._slots_changed \
            else self._first
        self._first, self._slots_changed = first, False
        active = ~self.gone & (st != 0)
        on = (st == S_RUNNING) | (st == S_BAY)
        self._fleet_links(t, st, ss, V.lane[slots])
        self.odo_now[on] = V.dist0[slots[on]].astype(np.float64) + V.pos[slots[on]]
        served = active & (fl.stop_n > 0) & (ss == STOP_DWELL) & (sn == first)
        for j in np.nonzero(served)[0]:
            self._serve(int(j), t, slots[j])
        # passed the next stop without halting, or every visit (it would leave at its route's end)
        idle = np.asarray(self.state.idle_slot, np.int64)
        still = (ss == STOP_DWELL) & ((sn == self.dwell_slot) | (sn == idle))
        lost_way = active & ~served & ~still & (st == S_RUNNING) & (
            ((fl.stop_n > 0) & (sn != first)) | (sn < 0))
        self.dirty |= lost_way & ~self.released
        self.missed += int((lost_way & ~self.released).sum())
        gone = active & ((st == 2) | (st == 3))
        for j in np.nonzero(gone)[0]:
            self._gone(int(j), t)

    def _serve(self, j: int, t: float, slot: int) -> None:
        fl = self.fleet
        r = int(fl.stop_req[j, 0])
        delta = int(fl.stop_delta[j, 0])
        odo = float(self.odo_now[j])
        load = int(fl.load[j])
        self.occ_m[j] += (odo - self.odo_last[j]) if load > 0 else 0.0
        self.pm[j] += (odo - self.odo_last[j]) * load
        self.odo_last[j] = odo
        t_halt = t - self.dt  # the halt happened in the step that ended at t
        if delta > 0:
            self.r_pick[r] = t_halt
            self.r_status[r] = R_ONBOARD
            self.events.append((t_halt, j, EV_PICKUP, r, int(fl.stop_node[j, 0]), load + delta))
        else:
            self.r_drop[r] = t_halt + self.d_drop  # the persons have alighted at the end of the halt
            self.r_status[r] = R_DONE
            self.events.append((t_halt, j, EV_DROPOFF, r, int(fl.stop_node[j, 0]), load + delta))
        fl.load[j] = load + delta
        self.dwell_slot[j] = self.sched_slots[j].pop(0)
        self._slots_changed = True
        n = int(fl.stop_n[j])
        for name in ("stop_node", "stop_delta", "stop_early", "stop_due", "stop_req", "stop_pos"):
            a = getattr(fl, name)
            a[j, :n - 1] = a[j, 1:n]
        fl.stop_n[j] = n - 1
        if n - 1 == 0 and self.service.rebalancing == "depot":
            self.dirty[j] = True  # back to the depot

    def _gone(self, j: int, t: float) -> None:
        """Vehicle ``j`` left the network (its service ended, or it was removed): what it had to do
        goes back to the dispatcher."""
        self.gone[j] = True
        self.km_final[j] = self.odo_now[j]
        fl = self.fleet
        for k in range(int(fl.stop_n[j])):
            r = int(fl.stop_req[j, k])
            if self.r_status[r] == R_ASSIGNED:
                self.r_status[r] = R_OPEN
                self.r_veh[r] = -1
        fl.stop_n[j] = 0
        self.sched_slots[j] = []
        self._slots_changed = True
        if not self.released[j]:
            self.events.append((t, j, EV_LOST, -1, -1, int(fl.load[j])))

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, t: float) -> None:
        """New requests (request time up to ``t``) and, when due, a dispatcher call."""
        n = len(self.r_ids)
        k = self.r_next
        while k < n and self.r_time[k] <= t + 1e-9:
            k += 1
        new = k > self.r_next
        if new:
            idx = np.arange(self.r_next, k)
            self.r_status[idx] = R_OPEN
            self._need_rows(self.r_o[idx])
            self.r_direct[idx] = self.tt[self.r_o[idx], self.r_d[idx]]
            svc = self.service
            if svc.dispatch != "greedy":
                self.r_pick_due[idx] = self.r_early[idx] + svc.max_wait
                self.r_drop_due[idx] = self.r_time[idx] + svc.alpha * self.r_direct[idx] + svc.beta
            self.r_next = k
        due = (new and self._period == 0) or (self._period > 0 and self.step_no % self._period == 0)
        if not due:
            return
        open_ = np.nonzero(self.r_status == R_OPEN)[0]
        if len(open_) == 0:
            return
        w0 = _time.perf_counter()
        fl = self.fleet
        avail = self._fleet_state(t)
        cap = fl.cap.copy()
        room = (self.n_visits - 2 - fl.stop_n) >= 2
        fl.cap[:] = np.where(avail & room, cap, 0)
        req = Requests(self.r_o[open_], self.r_d[open_], self.r_group[open_], self.r_early[open_],
                       self.r_pick_due[open_], self.r_drop_due[open_], self.r_opos[open_], self.r_dpos[open_])
        held = np.arange(fl.stop_node.shape[1])[None, :] < fl.stop_n[:, None]
        nodes = np.concatenate([fl.node, fl.stop_node[held], req.origin, req.destination])
        self._need_rows(nodes)
        self._need_loops(nodes)
        before = fl.stop_n.copy()
        # The dispatchers name a new stop's request by its row in ``req``; the stops already held
        # are coded below zero for the call, so both can be told apart afterwards.
        fl.stop_req[held] = -2 - fl.stop_req[held]
        dwell = (self.d_pick + self.stop_loss, self.d_drop + self.stop_loss)
        out = self.dispatcher.dispatch(fl, req, self.tt, dwell, self.loop)
        fl.cap[:] = cap
        held = np.arange(fl.stop_node.shape[1])[None, :] < fl.stop_n[:, None]
        code = fl.stop_req[held]
        fl.stop_req[held] = np.where(code >= 0, open_[np.maximum(code, 0)], -2 - code)
        ch = np.nonzero(fl.stop_n != before)[0]
        for j in ch:
            self._plan_times(int(j), dwell)
        assigned = np.nonzero(out >= 0)[0]
        for b in assigned:
            r = int(open_[b])
            self.r_status[r] = R_ASSIGNED
            self.r_veh[r] = int(out[b])
            self.r_assigned[r] = t
            self.events.append((t, int(out[b]), EV_ASSIGN, r, int(self.r_o[r]), int(fl.load[out[b]])))
        self.dirty[ch] = True
        reject = out < 0
        if self.service.dispatch == "insertion":
            pass  # every open request was tried once: the unassigned are rejected
        elif self.service.dispatch == "greedy":
            reject[:] = False  # waits until a vehicle is free (SUMO's taxis reject nothing)
        else:
            # batch, or one's own: waits for a later call while its pick-up can still be met
            reject &= self.r_pick_due[open_] < t + self.dt
        for b in np.nonzero(reject)[0]:
            r = int(open_[b])
            self.r_status[r] = R_REJECTED
            self.events.append((t, -1, EV_REJECT, r, int(self.r_o[r]), 0))
        self.dispatch_wall += _time.perf_counter() - w0
        self.dispatch_calls += 1

    def _plan_times(self, j: int, dwell: tuple[float, float]) -> None:
        """The times (s) vehicle ``j``'s schedule reaches its stops on the dispatcher's travel times,
        kept as the planned pick-up and drop-off of the requests that have none yet (the times the
        service promised when it took them)."""
        fl = self.fleet
        node, pos, t = int(fl.node[j]), float(fl.pos[j]), float(fl.time[j])
        for k in range(int(fl.stop_n[j])):
            nxt, npos = int(fl.stop_node[j, k]), float(fl.stop_pos[j, k])
            way = self.loop[node] if nxt == node and npos < pos else self.tt[node, nxt]
            t = max(t + float(way), float(fl.stop_early[j, k]))
            pos = npos
            r = int(fl.stop_req[j, k])
            col = self.r_plan_pick if fl.stop_delta[j, k] > 0 else self.r_plan_drop
            if np.isnan(col[r]):
                col[r] = t if fl.stop_delta[j, k] > 0 else t + self.d_drop  # as recorded: alighted
            t += dwell[0] if fl.stop_delta[j, k] > 0 else dwell[1]
            node = nxt

    def _fleet_state(self, t: float) -> np.ndarray:
        """Where and from when every vehicle is free (``fleet.node``, ``fleet.time``); returns which
        vehicles may take work."""
        road, a = self.road, self.cn.arrays
        V = road.V
        slots = self._slots()
        st = V.status[slots]
        sn = V.stop_next[slots].astype(np.int64)
        ss = V.stop_state[slots]
        lane = np.maximum(V.lane[slots], 0)
        link = a.lane_link[lane].astype(np.int64)
        fl = self.fleet
        on_road = (st == S_RUNNING) | (st == S_BAY)
        avail = on_road & ~self.gone & ~self.released & (t >= self.svc_start) & (t < self.svc_end)
        dwell = (ss == STOP_DWELL) & (sn == self.dwell_slot)
        # the rest of its link at the link's current travel time (a queue at its end included),
        # plus braking to a halt and speeding up again where it stands
        drive_t = (a.link_len[link] - V.pos[slots]) / a.link_len[link] * self.cost[link] + np.where(
            (st == S_BAY) | (ss == STOP_DWELL), 0.5 * self.stop_loss, 0.0)
        fl.node[:] = np.where(on_road, link, fl.node)
        fl.pos[:] = np.where(on_road, V.pos[slots], fl.pos)
        # A dwelling or parked vehicle also has the rest of its link ahead: the dispatcher's
        # travel times run from the end of a link (a stop's half link is counted on arrival).
        fl.time[:] = np.where(dwell, np.maximum(V.stop_end[slots], t), t) + np.maximum(drive_t, 0.0)
        return avail

    # ------------------------------------------------------------------ end of service
    def _close(self, t: float) -> None:
        """Vehicles past their service hours, or all of them once no request is left to come or
        to serve, go home: their idle hold ends and they leave the network at its end."""
        nr = len(self.r_ids)
        no_more = self.r_next >= nr and not np.isin(self.r_status, (R_OPEN, R_ASSIGNED, R_ONBOARD)).any()
        fl = self.fleet
        done = ~self.released & ~self.gone & (fl.stop_n == 0) & ((t >= self.svc_end) | no_more)
        if self.gone.all():
            self._done = True  # every vehicle has left the network: nothing more to watch
        if not done.any():
            return
        V = self.road.V
        W = self.road.W
        self.backend.pull("W", ("visit_until",))
        slots = self._slots()
        for j in np.nonzero(done)[0]:
            s = slots[j]
            if V.status[s] == 0:
                continue  # not on the road yet
            self.released[j] = True
            idle = int(self.state.idle_slot[j])
            self.state.idle_slot[j] = -1
            if idle >= 0:
                # the idle visit no longer holds it (it may still be on its way there)
                W.visit_until[idle] = -np.inf
                if V.stop_state[s] == STOP_DWELL and V.stop_next[s] == idle:
                    V.stop_end[s] = t
        self.backend.push("W", ("visit_until",))
        self.backend.push("V", ("stop_end",))
        self.backend.push("drt", ("idle_slot",))

    # ------------------------------------------------------------------ routes and visits
    def _replan(self, t: float) -> None:
        """New routes and visits for the vehicles whose schedules changed (or who lost their way)."""
        road, a = self.road, self.cn.arrays
        be = self.backend
        be.pull("V", ("status", "stop_next", "stop_state", "stop_end", "lane", "pos", "speed", "route_pos",
                      "route_end", "need_mask"))
        be.pull("W", ("visit_rp", "visit_pos", "visit_len", "visit_dur", "visit_until", "visit_next",
                      "visit_lane"))
        V = road.V
        W = road.W
        slots = self._slots()
        todo = np.nonzero(self.dirty & ~self.gone & ~self.released)[0]
        self.dirty[:] = False
        fl = self.fleet
        plans = []
        pairs: list[tuple[int, int]] = []
        for j in todo:
            s = slots[j]
            if V.status[s] not in (S_RUNNING, S_BAY):
                self.dirty[j] = V.status[s] == 0
                continue
            c = int(a.lane_link[V.lane[s]])
            x = float(V.pos[s])
            v = float(V.speed[s])
            dwelling = V.stop_state[s] == STOP_DWELL and V.stop_next[s] == self.dwell_slot[j]
            n = int(fl.stop_n[j])
            way = [(int(fl.stop_node[j, k]), float(fl.stop_pos[j, k]), k) for k in range(n)]
            if n == 0 and self.service.rebalancing == "depot":
                way.append((int(self.depot[j]), float(self.depot_pos[j]), -1))
            elif n == 0:
                way.append((c, x, -1))
            else:
                way.append((way[-1][0], way[-1][1], -1))
            # A stop on its own link ahead of it: reachable where it can brake for it comfortably,
            # or where it is already braking for a halt there (its next visit now).
            margin = v * v / (2.0 * max(self.veh_dec[j], 0.5))
            sn = int(V.stop_next[s])
            approaching = (sn >= 0 and V.stop_state[s] != STOP_DWELL and W.visit_rp[sn] == V.route_pos[s])
            legs = []
            prev_l, prev_p, first = c, x, True
            for lk, p, _k in way:
                if first and approaching and abs(float(W.visit_pos[sn]) - p) < 0.5:
                    ahead = True
                else:
                    ahead = p >= prev_p + (margin if first else 0.0) - (0.3 if first and v < 0.1 else 0.0)
                if lk == prev_l and ahead:
                    legs.append(None)
                else:
                    legs.append((prev_l, lk))
                    pairs.append((prev_l, lk))
                prev_l, prev_p, first = lk, p, False
            plans.append((j, s, c, way, legs, dwelling))
        if not plans:
            return
        paths = self._paths(pairs)
        flat: list[int] = []
        starts, lengths, cand = [], [], []
        rel_all = []
        for _j, s, c, _way, legs, _dw in plans:
            route = [c]
            rel = []
            for leg in legs:
                if leg is not None:
                    route += paths[leg]
                rel.append(len(route) - 1)
            starts.append(len(flat))
            lengths.append(len(route))
            flat += route
            cand.append(s)
            rel_all.append(rel)
        road._replace_routes(np.array(cand, np.int64), np.array(flat, np.int32), np.array(starts, np.int64),
                             np.array(lengths, np.int64))
        W = road.W
        for (j, s, _c, way, _legs, dwelling), rel in zip(plans, rel_all, strict=True):
            keep = int(self.dwell_slot[j]) if dwelling else -1
            v0 = int(self.visit0[j])
            block = [v0 + q for q in range(int(self.n_visits[j])) if v0 + q != keep]
            base = int(V.route_pos[s])
            used = block[:len(way)]
            for q, ((_lk, p, k), r_i) in enumerate(zip(way, rel, strict=True)):
                w = used[q]
                W.visit_rp[w] = base + r_i
                W.visit_pos[w] = p
                W.visit_len[w] = self.veh_len[j] + AREA_EXTRA
                if k >= 0:
                    W.visit_dur[w] = self.d_pick if fl.stop_delta[j, k] > 0 else self.d_drop
                    W.visit_until[w] = fl.stop_early[j, k] if fl.stop_delta[j, k] > 0 else -np.inf
                    W.visit_lane[w] = 0
                else:
                    W.visit_dur[w] = 0.0
                    W.visit_until[w] = IDLE_HOLD
                    W.visit_lane[w] = -1
                W.visit_next[w] = used[q + 1] if q + 1 < len(used) else -1
            self.sched_slots[j] = used[:-1]
            self._slots_changed = True
            self.state.idle_slot[j] = used[-1]
            if keep >= 0:
                W.visit_next[keep] = used[0]
                W.visit_rp[keep] = base
            else:
                V.stop_next[s] = used[0]
                if V.stop_state[s] == STOP_DWELL:
                    V.stop_state[s] = STOP_APPROACH
                    V.stop_end[s] = t
            V.need_mask[s] = -1
        be.push("W", ("visit_rp", "visit_pos", "visit_len", "visit_dur", "visit_until", "visit_next",
                      "visit_lane"))
        be.push("V", ("stop_next", "stop_state", "stop_end", "need_mask"))
        be.push("drt", ("idle_slot",))

    def _paths(self, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
        """The links after ``a`` up to ``b`` of the shortest way from the end of link ``a`` to link
        ``b`` for every pair; where ``a == b``, the shortest loop round the block."""
        a = self.cn.arrays
        uniq = sorted(set(pairs))
        o, d, key = [], [], []
        for p, (x, y) in enumerate(uniq):
            if x != y:
                o.append(x)
                d.append(y)
                key.append(p)
            else:
                for s in a.link_next[a.link_next_start[x]:a.link_next_start[x + 1]]:
                    o.append(int(s))
                    d.append(y)
                    key.append(p)
        flat, start, length = self.routes.routes(np.array(o, np.int64), np.array(d, np.int64), self.cost)
        best: dict[int, tuple[float, list[int]]] = {}
        for q, p in enumerate(key):
            if length[q] == 0:
                continue
            links = flat[start[q]:start[q] + length[q]].tolist()
            x, y = uniq[p]
            if x != y:
                links = links[1:]
            c = float(self.cost[links].sum()) if links else 0.0
            if p not in best or c < best[p][0]:
                best[p] = (c, links)
        out = {}
        for p, pair in enumerate(uniq):
            if p not in best:
                ids = self.cn.link_ids
                raise InputError(f"no way from link {ids[pair[0]]} to {ids[pair[1]]}",
                                 source="[drt]", element="drt", fix="check the network's connections")
            out[pair] = best[p][1]
        return out

    # ------------------------------------------------------------------ results
    def finished(self) -> bool:
        return True  # the vehicles are road trips: the road says when they are done

    def record(self, rec: Any, step: int, t: float, last: bool) -> None:
        pass

    def finish(self, rec: Any, t_end: float) -> None:
        from mobsim.modes.drt.recording import drt_tables

        for group, table in drt_tables(self, t_end).items():
            rec.append(group, table)

    def health(self) -> dict[str, Any]:
        return {"drt_requests": len(self.r_ids), "drt_served": int((self.r_status == R_DONE).sum()),
                "drt_rejected": int((self.r_status == R_REJECTED).sum())}


def attach(scenario: Any, settings: dict, backend: Any, services: Any) -> DrtMode | None:
    """The on-demand mode of ``scenario``, or None without ``[drt]`` (the factory
    :mod:`mobsim.modes.registry` calls)."""
    plan = getattr(scenario, "drt", None)
    if plan is None:
        return None
    return DrtMode(plan, settings, backend, services)


__all__ = ["DrtMode", "attach", "fleet_trips", "visits_per_vehicle", "curb_pos", "trip_id"]
