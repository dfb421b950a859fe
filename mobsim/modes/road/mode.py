"""The road vehicles as a mode of the run: their state (built from the scenario's network, vehicle
types and trips), their step on the backend, their scheduled writers and route updates, and their
tables. :class:`~mobsim.engine.Simulation` builds one for every run and runs it first on each
chunk of steps: the road sets the pace (its kernels may stop a chunk early when an output buffer
fills), and every other mode follows it over the same steps.

Its output is :mod:`.recording`; routes changed during a run, :mod:`.rerouting`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from mobsim.demand.route_service import RouteService
from mobsim.demand.routing import route_trips
from mobsim.demand.vtypes import VTYPE_PARAMS, VehicleType, vtype_table
from mobsim.errors import InputError
from mobsim.kernels.runtime.layout import (
    DP_BASE,
    DP_FREE,
    DP_LAST,
    DP_RANDOM,
    DP_RANDOM_FREE,
    N_COUNTERS,
    SUM_PARTS,
)
from mobsim.modes.registry import road_trips
from mobsim.modes.road.recording import RoadRecording
from mobsim.modes.road.rerouting import RouteUpdates
from mobsim.net.compile import compile_network, signal_start
from mobsim.output.schema import SUMMARY
from mobsim.schedules import NEVER, Callback, StepInterval, TimeInterval
from mobsim.state.fields import LANE_FIELDS, VEHICLE_FIELDS, LaneState, VehicleState, allocate, bytes_per
from mobsim.state.work import Work

log = logging.getLogger("mobsim")


SUMMARY_CAPACITY = 512   # rows buffered between host flushes (a chunk ends when full)
EVENT_CAPACITY_MIN = 8192  # the kernels stop a chunk when fewer than 4096 event slots are left
EVENT_CAPACITY_MAX = 1 << 16
GRIDLOCK_MODES = {"none": 0, "teleport": 1, "remove": 2}
#: Trip.depart_pos words as W.dep_pos codes (a number is a position in m).
DEPART_POS_CODES = {"base": DP_BASE, "last": DP_LAST, "free": DP_FREE, "random": DP_RANDOM,
                    "random_free": DP_RANDOM_FREE}


def due_steps(planned: np.ndarray, begin: float, dt: float) -> np.ndarray:
    """For planned departures (s), the first step ``s >= 0`` whose start time ``begin + s * dt``
    reaches them (within 1e-9 s, as the kernels compare times): what ``V.dep_step`` holds until insertion."""
    s = np.maximum(np.ceil((planned - 1e-9 - begin) / dt), 0).astype(np.int64)
    # the division may land one step off: settle it with the kernels' own comparison
    s = np.where((s > 0) & (planned <= begin + (s - 1) * dt + 1e-9), s - 1, s)
    s = np.where(planned > begin + s * dt + 1e-9, s + 1, s)
    return s.astype(np.int32)


class RoadMode(RouteUpdates, RoadRecording):
    """The road vehicles of a run (a :class:`~mobsim.modes.registry.Mode`, and the one that sets
    the pace).

    Parameters: the scenario, its resolved settings (``seed`` applied), the run's backend;
    ``parallel_min`` and ``reorder_every`` as for :class:`~mobsim.engine.Simulation`.

    The per-vehicle arrays ``V`` are indexed by *slot*, not by trip: ``V.trip`` maps a slot to its
    trip; :meth:`vehicles` returns them in trip order.
    """

    name = "road"

    def __init__(self, scenario: Any, settings: dict[str, Any], backend: Any,
                 parallel_min: int | None = None, reorder_every: int | None = None) -> None:
        self.scenario = scenario
        self.settings = s = settings
        self.backend = backend
        self._parallel_min = parallel_min
        self._reorder_every = reorder_every
        self.seed = int(s["sim.seed"])
        self.dt = float(s["sim.dt"])
        self.begin = float(s["sim.begin"])
        self.cn = compile_network(scenario.network)
        #: Shortest routes and travel times for every mode (the road's re-routing among them).
        self.route_service = RouteService(self.cn)
        self.vtypes: list[VehicleType] = list(scenario.vtypes) or [VehicleType()]
        for v in self.vtypes:
            v.validate(self.dt, source=str(getattr(scenario, "path", "scenario")))
        self.vt = vtype_table(self.vtypes)
        self._build_trips()
        self._allocate()
        self._compute = 0.0  # s of wall time in the road's kernels (health: updates per second)
        self._t_wall0 = time.perf_counter()
        self._held_since: float | None = None  # wall time of the first chunk with buffered rows
        self._ed_begin = self.begin
        if self._departure_every():
            # The trips due in the first routing period, on free-flow times (nothing measured yet).
            self.route_departures(self.begin + self._departure_every() * self.dt, measure=False)

    # ------------------------------------------------------------------ set-up
    def _build_trips(self) -> None:
        sc = self.scenario
        vidx = {v.id: k for k, v in enumerate(self.vtypes)}
        trips = list(sc.trips)
        extra = road_trips(sc, self.route_service)  # the road vehicles of other modes (transit lines)
        if extra:
            ids = {t.id for t in trips}
            clash = next((t.id for t in extra if t.id in ids), None)
            if clash is not None:
                raise InputError(f"trip id '{clash}' is used by a transit service and by the demand",
                                 source=str(getattr(sc, "path", "demand")), element=f"trip '{clash}'",
                                 fix="rename the trip or the line (services are named <line>.<k>)")
            trips += extra
        for tr in trips:
            if tr.vtype not in vidx:
                raise InputError(f"trip '{tr.id}' uses unknown vehicle type '{tr.vtype}'",
                                 source=str(getattr(sc, "path", "demand")), element=f"trip '{tr.id}'",
                                 fix=f"define [[vtypes]] id = \"{tr.vtype}\" or use one of {sorted(vidx)}")
            for lk in (tr.origin, tr.destination):
                if lk not in self.cn.link_index:
                    raise InputError(f"trip '{tr.id}' refers to unknown link '{lk}'",
                                     source=str(getattr(sc, "path", "demand")), element=f"trip '{tr.id}'",
                                     fix="use link ids of the network")
        # Routed when due (routing.departure = "current"): here only checked for reachability.
        defer = self._departure_every() > 0
        route_links, rs, re_, dropped = route_trips(
            self.cn, trips, unreachable=self.settings.get("demand.unreachable", "error"),
            source=str(getattr(sc, "path", "demand")), defer=defer)
        if dropped:
            keep = np.ones(len(trips), bool)
            keep[dropped] = False
            log.warning("%d trip(s) dropped: destination unreachable (demand.unreachable = drop)",
                        len(dropped))
            trips = [t for t, k in zip(trips, keep, strict=True) if k]
            rs, re_ = rs[keep], re_[keep]
        self.dropped = len(dropped)
        self.trips = trips
        self.route_links = route_links  # host pool, int32; the kernels read it packed (route_codes)
        self.route_start = rs
        self.route_end = re_
        self._route_heads = np.zeros(len(route_links), bool)
        self._route_heads[rs] = True
        if defer:
            # A placeholder [origin, destination] is no route: neither entry is a turn code.
            unrouted = np.array([not t.route for t in trips], bool)
            self._route_heads[re_[unrouted] - 1] = True
        self.trip_vtype = np.array([vidx[t.vtype] for t in trips], np.int32)

    def _encode_routes(self) -> np.ndarray:
        """The route pool packed into turn codes for the kernels (:mod:`mobsim.kernels.road.routes`)."""
        from mobsim.demand.route_codes import encode

        a = self.cn.arrays
        return encode(a.link_next_start, a.link_next, self.route_links, self._route_heads)

    def _allocate(self) -> None:
        xp = np  # host arrays; a GPU backend copies them to the device in attach()
        n = len(self.trips)
        cn = self.cn
        ev_cap = int(min(EVENT_CAPACITY_MAX, max(EVENT_CAPACITY_MIN, 8 * n)))
        V = allocate(VEHICLE_FIELDS, n, VehicleState, xp)
        V.trip[:] = np.arange(n, dtype=np.int32)  # slot = trip until the first renumbering
        V.vtype[:] = self.trip_vtype
        V.route_end[:] = self.route_end
        V.route_pos[:] = self.route_start
        dep = np.array([t.depart for t in self.trips], np.float64)
        #: planned departure times (s), by trip: the device holds them as due steps (V.dep_step)
        self.depart_planned = dep
        self._planned_sorted = np.sort(dep)
        V.dep_step[:] = due_steps(dep, self.begin, self.dt)
        # Departure lane, speed and position: most trips share a few combinations (often just
        # best/max/base), so the vehicles hold a row number instead of 20 bytes each.
        lanes = {"best": -1, "first": -2, "free": -3}
        spec = np.array([(lanes[t.depart_lane] if t.depart_lane in lanes else int(t.depart_lane),
                          -1.0 if t.depart_speed == "max" else float(t.depart_speed),
                          DEPART_POS_CODES.get(t.depart_pos, None) or float(t.depart_pos))
                         for t in self.trips],
                        np.float64).reshape(-1, 3)
        rows, dspec = np.unique(spec, axis=0, return_inverse=True) if n else (np.array([[-1.0, -1.0, -1.0]]),
                                                                           np.zeros(0, np.int64))
        V.dspec[:] = dspec.reshape(-1)
        L = allocate(LANE_FIELDS, cn.n_lanes, LaneState, xp, extra={"lane_start": cn.n_lanes + 1})
        ids = np.array([t.id for t in self.trips], dtype=object)
        dep_order = np.lexsort((ids.astype(str), dep)).astype(np.int32) if n else np.zeros(0, np.int32)
        # Departures grouped by first link, each group in the global (departure, id) order.
        first_link = (self.route_links[self.route_start[dep_order]] if n else np.zeros(0, np.int32))
        link_dep = dep_order[np.argsort(first_link, kind="stable")].astype(np.int32)
        link_dep_start = np.searchsorted(np.sort(first_link), np.arange(cn.n_links + 1)).astype(np.int32)
        ctrl_phase, ctrl_since, ctrl_try = signal_start(cn, self.begin, self.dt)
        visits, first_visit = self._stop_visits()
        V.stop_next[:] = first_visit
        #: every trip's first stop visit (-1: none; W.visit_*, kernels.road.stops), by trip
        self.first_visit = first_visit
        W = Work(
            # order_tmp: the CPU counting sort's buffer; a GPU sorts with cupy and needs none.
            order=np.zeros(n + 1, np.int32),
            order_tmp=self.backend.order_scratch(n),
            link_dep_start=link_dep_start, link_dep=link_dep if n else np.zeros(1, np.int32),
            link_dep_next=link_dep_start[:-1].copy(),
            sig_state=np.zeros(max(cn.n_slots, 1), np.int8),
            link_maxq=np.zeros(cn.n_links, np.int32), cnt=np.zeros(N_COUNTERS, np.int64),
            sum_buf=np.zeros((SUMMARY_CAPACITY, len(SUMMARY)), np.float64),
            sum_part=np.zeros((SUM_PARTS, 2), np.float64),
            ev_time=np.zeros(ev_cap), ev_kind=np.zeros(ev_cap, np.int8),
            ev_veh=np.zeros(ev_cap, np.int32), ev_link=np.zeros(ev_cap, np.int32),
            ev_val=np.zeros(ev_cap),
            route_codes=self._encode_routes(),
            acc_k=np.zeros(n + 1, np.float32), stop_k=np.zeros(n + 1, np.int8),
            mv_k=np.full(n + 1, -1, np.int32),
            dir_k=np.zeros(n + 1, np.int8),
            dep_lane=rows[:, 0].astype(np.int32), dep_speed=rows[:, 1].copy(), dep_pos=rows[:, 2].copy(),
            ctrl_phase=ctrl_phase, ctrl_since=ctrl_since, ctrl_try=ctrl_try,
            det_last=np.full(cn.arrays.det_pos.shape[0], self.begin, np.float64),
            tp_list=np.full(max(n, 1), -1, np.int32),
            trip_slot=np.arange(max(n, 1), dtype=np.int32),
            **visits,
        )
        from mobsim.kernels.runtime import layout as K

        par = np.zeros(K.N_PARAMS, np.float64)
        s = self.settings
        par[K.P_DT] = self.dt
        par[K.P_BEGIN] = self.begin
        par[K.P_TIMEGAP_MINOR] = float(s.get("junction.timegap_minor", 1.0))
        par[K.P_STOP_TIME] = float(s.get("junction.stop_time", 1.0))
        par[K.P_GRID_MODE] = GRIDLOCK_MODES[s.get("sim.gridlock", "teleport")]
        par[K.P_GRID_TIME] = float(s.get("sim.gridlock_time", 300.0))
        par[K.P_INS_DELAY] = float(s.get("demand.insertion_delay_event", 120.0))
        par[K.P_LC_COOLDOWN] = 3.0
        sp = float(s.get("output.summary_period", 0.0))
        par[K.P_SUMMARY_EVERY] = max(1, round(sp / self.dt)) if sp > 0 else 1
        par[K.P_SEED] = float(self.seed)
        par[K.P_HORIZON] = 250.0
        par[K.P_HAS_DPOS] = 1.0 if n and bool(np.any((rows[:, 2] >= 0.0) | (rows[:, 2] <= DP_FREE))) else 0.0
        pm = K.PARALLEL_MIN if self._parallel_min is None else int(self._parallel_min)
        par[K.P_PAR_MIN] = pm if self.backend.threads > 1 else 2**62
        W.cnt[K.C_PARMIN] = int(par[K.P_PAR_MIN])
        ro = K.REORDER_STEPS if self._reorder_every is None else int(self._reorder_every)
        self.backend.reorder_every = max(0, ro)
        # An explicit interval renumbers whatever the number of vehicles (tests use it on small runs).
        self.backend.reorder_min = K.REORDER_MIN if self._reorder_every is None else 0
        self.backend.configure(s)
        self.V, self.L, self.W, self.par = V, L, W, par
        self.backend.attach(V, cn.arrays, L, W, self.vt, par)

    def _stop_visits(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The trips' scheduled stops as the kernels' visit arrays (``W.visit_*``, each trip's
        visits contiguous and in order) and every trip's first visit (-1: none).

        A stop is matched to the first entry of its link in the route at or after the previous
        stop's (the same entry again only further along it), as SUMO places the stops of a route
        that passes a link twice."""
        trips = self.trips
        n = len(trips)
        first = np.full(n, -1, np.int32)
        rows: list[tuple[int, float, float, float, float, int]] = []
        li = self.cn.link_index
        src = str(getattr(self.scenario, "path", "demand"))
        for k, tr in enumerate(trips):
            if not tr.stops:
                continue
            first[k] = len(rows)
            r0, r1 = int(self.route_start[k]), int(self.route_end[k])
            links = self.route_links[r0:r1]
            e, last_pos = 0, -np.inf
            for j, st in enumerate(tr.stops):
                lk = li.get(st.link, -1)
                hit = -1
                for q in range(e, r1 - r0):
                    if links[q] == lk and (q > e or st.pos >= last_pos):
                        hit = q
                        break
                if hit < 0:
                    raise InputError(
                        f"trip '{tr.id}': its stop {j + 1} on link '{st.link}' at {st.pos:g} m is not on its "
                        "route after the stop before it", source=src, element=f"trip '{tr.id}'",
                        fix="give the trip a route through the stops' links, in the stops' order")
                length = float(self.cn.arrays.link_len[lk])
                if not 0.0 <= st.pos <= length + 1e-6:
                    raise InputError(
                        f"trip '{tr.id}': its stop {j + 1} is at {st.pos:g} m on link '{st.link}', which is "
                        f"{length:g} m long", source=src, element=f"trip '{tr.id}'",
                        fix="give a stop position between 0 and the link's length")
                e, last_pos = hit, st.pos
                lane = st.lane if st.lane < int(self.cn.arrays.link_nlanes[lk]) else -1
                rows.append((r0 + hit, st.pos, st.length, st.duration, st.until, lane))
        m = max(len(rows), 1)
        a = np.array(rows, np.float64).reshape(-1, 6) if rows else np.zeros((0, 6))
        nxt = np.arange(1, len(rows) + 1, dtype=np.int32)
        # the last visit of each trip ends its chain
        ends = [int(first[k]) + len(trips[k].stops) - 1 for k in range(n) if trips[k].stops]
        nxt[ends] = -1
        pad = m - len(rows)
        return {
            "visit_rp": np.concatenate([a[:, 0].astype(np.int32), np.full(pad, -1, np.int32)]),
            "visit_pos": np.concatenate([a[:, 1], np.zeros(pad)]),
            "visit_len": np.concatenate([a[:, 2], np.zeros(pad)]),
            "visit_dur": np.concatenate([a[:, 3], np.zeros(pad)]),
            "visit_until": np.concatenate([a[:, 4], np.full(pad, -np.inf)]),
            "visit_next": np.concatenate([nxt, np.full(pad, -1, np.int32)]),
            "visit_lane": np.concatenate([a[:, 5].astype(np.int32), np.full(pad, -1, np.int32)]),
        }, first

    def memory_bytes(self) -> dict[str, int]:
        """Engine memory (bytes): per-vehicle state, per-lane state, routes and work arrays."""
        n = len(self.trips)
        work = sum(a.nbytes for a in self.W if isinstance(a, np.ndarray))
        return {"vehicles": bytes_per(VEHICLE_FIELDS) * n, "lanes": bytes_per(LANE_FIELDS) * self.cn.n_lanes,
                "work": int(work), "per_vehicle": bytes_per(VEHICLE_FIELDS)}

    # ------------------------------------------------------------------ the mode protocol
    def static_tables(self) -> dict[str, dict[str, Any]]:
        """The network's tables and ``/vtypes``."""
        static = self.cn.static_tables()
        static["vtypes"] = {"id": np.array([v.id for v in self.vtypes], dtype=object)}
        for k, name in enumerate(VTYPE_PARAMS):
            static["vtypes"][name] = (np.array([v.cf_model for v in self.vtypes], dtype=object)
                                      if name == "cf_model" else self.vt[:, k].copy())
        return static

    def attrs(self) -> dict[str, Any]:
        """Root attributes of the result file."""
        return {"n_trips": len(self.trips)}

    def compile(self) -> None:
        """Load (or compile) the road kernels: a zero-step call."""
        self.backend.run_steps(0)

    def callbacks(self) -> list[Callback]:
        """The road's scheduled work, in order: edge data (also at the run's end), trajectories,
        re-routing on measured times, routing of the trips due next (also in ``Simulation.step``)."""
        s, dt = self.settings, self.dt
        cbs = []
        ed_period = float(s.get("output.edgedata_period", 300.0))
        if ed_period > 0:
            cbs.append(Callback("edgedata", TimeInterval(ed_period, dt),
                                lambda rec, step, t: self._record_edgedata(rec, t), final=True))
        if self._fcd_on():
            cbs.append(Callback("fcd", TimeInterval(float(s.get("output.fcd_period", 1.0)), dt),
                                lambda rec, step, t: self._record_fcd(rec, t)))
        rr_period = float(s.get("routing.reroute_period", 0.0))
        if rr_period > 0:
            cbs.append(Callback("reroute", TimeInterval(rr_period, dt), lambda rec, step, t: self.reroute(),
                                before_end=True))
        dr_every = self._departure_every()
        if dr_every:
            cbs.append(Callback("route_departures", StepInterval(dr_every),
                                lambda rec, step, t: self.route_departures(t + dr_every * dt),
                                before_end=True, in_step=True))
        return cbs

    def _fcd_on(self) -> bool:
        return bool(self.settings.get("output.fcd", False))

    def start(self, rec: Any, t: float) -> None:
        """The first trajectory sample (at the run's begin) and the clocks of edge data and
        the summary's wall time."""
        self._t_wall0 = time.perf_counter()
        self._ed_begin = t
        if self._fcd_on():
            self._record_fcd(rec, t)

    def next_stop(self, step: int) -> int:
        """None of its own: the road's schedule is its :meth:`callbacks`."""
        return NEVER

    def advance(self, n_steps: int, rec: Any | None) -> int:
        """Run up to ``n_steps`` steps (fewer where the summary or event buffer filled up); the
        summary rows and events go to ``rec`` (None: dropped). Returns the steps run."""
        from mobsim.kernels.runtime.layout import C_NEV, C_NSUM

        be = self.backend
        t0 = time.perf_counter()
        done = be.run_steps(n_steps)
        t1 = time.perf_counter()
        self._compute += t1 - t0
        cnt = self.W.cnt
        be.pull("W", ("cnt",))
        if self._held_since is None:
            self._held_since = t0
        if rec is None:
            cnt[C_NSUM] = 0
            cnt[C_NEV] = 0
        elif (int(cnt[C_NSUM]) >= SUMMARY_CAPACITY // 2 or int(cnt[C_NEV]) >= len(self.W.ev_time) // 2
              or done < n_steps):
            # Rows and events stay in the buffers until they are half full (or the kernels ended
            # the chunk early because one filled): a mode that comes back after every step (transit
            # lines) would otherwise append one summary row per step, at 0.2 ms each.
            self._flush(rec, t1)
        be.push("W", ("cnt",))
        return done

    def _flush(self, rec: Any, t1: float) -> None:
        """Append the buffered summary rows (wall time interpolated since the first chunk they
        span) and events to ``rec``; empties both buffers."""
        from mobsim.kernels.runtime.layout import C_NEV, C_NSUM

        be = self.backend
        cnt = self.W.cnt
        nrow = int(cnt[C_NSUM])
        if nrow:
            be.pull("W", ("sum_buf",))
            rows = self.W.sum_buf[:nrow].copy()
            rows[:, 1] = self.loaded(rows[:, 0])
            rows[:, 4] = rows[:, 1] - rows[:, 2]
            t0 = self._held_since if self._held_since is not None else t1
            rows[:, -1] = np.linspace(t0 - self._t_wall0, t1 - self._t_wall0, nrow + 1)[1:]
            rec.append("summary", {c.name: rows[:, k].astype(c.dtype) for k, c in enumerate(SUMMARY)})
            cnt[C_NSUM] = 0
        if int(cnt[C_NEV]):
            self._flush_events(rec)
        self._held_since = None

    def record(self, rec: Any, step: int, t: float, last: bool) -> None:
        """Nothing outside :meth:`callbacks`."""

    def finished(self) -> bool:
        """Every trip has arrived or was removed (as of the last chunk)."""
        from mobsim.kernels.runtime.layout import C_ARRIVED, C_REMOVED

        cnt = self.W.cnt
        return int(cnt[C_ARRIVED] + cnt[C_REMOVED]) >= len(self.trips)

    def finish(self, rec: Any, t_end: float) -> None:
        """The summary rows and events still buffered, and the trip table."""
        self.backend.pull("W", ("cnt",))
        self._flush(rec, time.perf_counter())
        self.backend.push("W", ("cnt",))
        self._write_trips(rec)

    def progress(self) -> str:
        """The road's part of a log line."""
        from mobsim.kernels.runtime.layout import C_ARRIVED, C_INSERTED, C_REMOVED, C_VSTEPS

        cnt = self.W.cnt
        running = int(cnt[C_INSERTED] - cnt[C_ARRIVED] - cnt[C_REMOVED])
        return (f"running={running:7d}  arrived={int(cnt[C_ARRIVED]):7d}  "
                f"veh-updates/s={cnt[C_VSTEPS] / max(self._compute, 1e-9):.3g}")

    @property
    def step_count(self) -> int:
        """Steps run since ``sim.begin`` (read from the device)."""
        from mobsim.kernels.runtime.layout import C_STEP

        self.backend.pull("W", ("cnt",))
        return int(self.W.cnt[C_STEP])

    # ------------------------------------------------------------------ notebook helpers
    def loaded(self, t: Any) -> Any:
        """Trips whose planned departure is due by ``t`` (s; a number or an array): SUMO's
        loaded count. Counted here, not on the device, from the sorted planned departures."""
        return np.searchsorted(self._planned_sorted, np.asarray(t, np.float64) + 1e-9, side="right")

    def vehicles(self) -> VehicleState:
        """The per-vehicle state in trip order (row ``k`` = trip ``k`` of ``sim.trips``): a copy,
        pulled from the device first. ``sim.V`` itself is in slot order (see :mod:`mobsim.state.slots`)."""
        from mobsim.state.slots import by_trip

        self.backend.pull("V")
        return by_trip(self.V)

