"""The Simulation: compiles a scenario into arrays, runs the step loop on a backend, records results.

>>> sim = Simulation(load_scenario("networks/default/scenario.toml"))   # doctest: +SKIP
>>> path = sim.run(out="results/default.h5")                             # doctest: +SKIP

The step loop runs in chunks inside the kernels (no Python per step); between chunks the host
flushes the summary and event buffers and, at their schedules, edge data and trajectories.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.backends.cpu import select_backend
from mobsim.demand.routing import route_trips
from mobsim.demand.vtypes import VTYPE_PARAMS, VehicleType, vtype_table
from mobsim.errors import InputError
from mobsim.kernels.layout import DP_BASE, DP_LAST, N_COUNTERS, SUM_PARTS
from mobsim.modes.registry import attach as attach_modes
from mobsim.net.compile import compile_network, signal_start
from mobsim.output.schema import SUMMARY
from mobsim.state.fields import LANE_FIELDS, VEHICLE_FIELDS, LaneState, VehicleState, allocate, bytes_per
from mobsim.state.work import Work
from mobsim.version import __version__

log = logging.getLogger("mobsim")


SUMMARY_CAPACITY = 512   # rows buffered between host flushes (a chunk ends when full)
EVENT_CAPACITY_MIN = 8192  # the kernels stop a chunk when fewer than 4096 event slots are left
EVENT_CAPACITY_MAX = 1 << 16
GRIDLOCK_MODES = {"none": 0, "teleport": 1, "remove": 2}
#: Trip.depart_pos words as W.dep_pos codes (a number is a position in m).
DEPART_POS_CODES = {"base": DP_BASE, "last": DP_LAST}


def _git_sha() -> str:
    try:
        here = Path(__file__).resolve().parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _runs(src: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``src[starts[k]:starts[k] + lengths[k]]`` for every k, concatenated (vectorised)."""
    starts = np.asarray(starts, np.int64)
    offs = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return src[np.repeat(starts, lengths) + offs]


def due_steps(planned: np.ndarray, begin: float, dt: float) -> np.ndarray:
    """For planned departures (s), the first step ``s >= 0`` whose start time ``begin + s * dt``
    reaches them (within 1e-9 s, as the kernels compare times): what ``V.dep_step`` holds until insertion."""
    s = np.maximum(np.ceil((planned - 1e-9 - begin) / dt), 0).astype(np.int64)
    # the division may land one step off: settle it with the kernels' own comparison
    s = np.where((s > 0) & (planned <= begin + (s - 1) * dt + 1e-9), s - 1, s)
    s = np.where(planned > begin + s * dt + 1e-9, s + 1, s)
    return s.astype(np.int32)


class Simulation:
    """One run of a scenario on one backend.

    Parameters
    ----------
    scenario: a :class:`mobsim.scenario.Scenario`.
    backend: ``"auto"``, ``"cpu"`` or ``"cuda"`` (default: the scenario's ``sim.backend``).
    seed: overrides ``sim.seed``.
    threads: CPU threads (default: ``sim.threads``; 0 = all).
    parallel_min: run the parallel loops from this many running vehicles on (default: the
        kernels' ``PARALLEL_MIN``; 0 forces them, for tests). Results do not depend on it.
    reorder_every: renumber the vehicle slots to follow the sorted order every this many steps
        (default: the kernels' ``REORDER_STEPS`` once ``REORDER_MIN`` vehicles run; given
        explicitly: at any number of vehicles; 0 never; see :mod:`mobsim.state.slots`). Results do not
        depend on it.

    The per-vehicle arrays ``sim.V`` are indexed by *slot*, not by trip: ``sim.V.trip`` maps a
    slot to its trip. :meth:`vehicles` returns them in trip order.
    """

    def __init__(self, scenario: Any, backend: str | None = None, seed: int | None = None,
                 threads: int | None = None, parallel_min: int | None = None,
                 reorder_every: int | None = None) -> None:
        self.scenario = scenario
        self._parallel_min = parallel_min
        self._reorder_every = reorder_every
        s = dict(scenario.settings)
        if seed is not None:
            s["sim.seed"] = int(seed)
        self.settings = s
        self.seed = int(s["sim.seed"])
        self.dt = float(s["sim.dt"])
        self.begin = float(s["sim.begin"])
        self.end = float(s["sim.end"])
        self.backend = select_backend(backend or s.get("sim.backend", "auto"),
                                      threads if threads is not None else s.get("sim.threads", 0))
        self.cn = compile_network(scenario.network)
        self.vtypes: list[VehicleType] = list(scenario.vtypes) or [VehicleType()]
        for v in self.vtypes:
            v.validate(self.dt, source=str(getattr(scenario, "path", "scenario")))
        self.vt = vtype_table(self.vtypes)
        self._build_trips()
        self._allocate()
        # The other modes the scenario uses (mobsim.modes.registry), on this clock and backend.
        self.modes = attach_modes(scenario, s, self.backend)
        if self._departure_every():
            # The trips due in the first routing period, on free-flow times (nothing measured yet).
            self.route_departures(self.begin + self._departure_every() * self.dt, measure=False)

    # ------------------------------------------------------------------ set-up
    def _build_trips(self) -> None:
        sc = self.scenario
        vidx = {v.id: k for k, v in enumerate(self.vtypes)}
        trips = list(sc.trips)
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
        """The route pool packed into turn codes for the kernels (:mod:`mobsim.kernels.routes`)."""
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
        W = Work(
            # order_tmp: the CPU counting sort's buffer; a GPU sorts with cupy and needs none.
            order=np.zeros(n + 1, np.int32),
            order_tmp=np.zeros(n + 1 if self.backend.name == "cpu" else 1, np.int32),
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
        )
        from mobsim.kernels import layout as K

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
        par[K.P_HAS_DPOS] = 1.0 if n and float(rows[:, 2].max()) >= 0.0 else 0.0
        pm = K.PARALLEL_MIN if self._parallel_min is None else int(self._parallel_min)
        par[K.P_PAR_MIN] = pm if self.backend.threads > 1 else 2**62
        W.cnt[K.C_PARMIN] = int(par[K.P_PAR_MIN])
        ro = K.REORDER_STEPS if self._reorder_every is None else int(self._reorder_every)
        self.backend.reorder_every = max(0, ro)
        # An explicit interval renumbers whatever the number of vehicles (tests use it on small runs).
        self.backend.reorder_min = K.REORDER_MIN if self._reorder_every is None else 0
        if hasattr(self.backend, "graphs"):
            self.backend.graphs = str(s.get("sim.cuda_graphs", "auto"))
        self.V, self.L, self.W, self.par = V, L, W, par
        self.backend.attach(V, cn.arrays, L, W, self.vt, par)

    def memory_bytes(self) -> dict[str, int]:
        """Engine memory (bytes): per-vehicle state, per-lane state, routes and work arrays."""
        n = len(self.trips)
        work = sum(a.nbytes for a in self.W if isinstance(a, np.ndarray))
        return {"vehicles": bytes_per(VEHICLE_FIELDS) * n, "lanes": bytes_per(LANE_FIELDS) * self.cn.n_lanes,
                "work": int(work), "per_vehicle": bytes_per(VEHICLE_FIELDS)}

    # ------------------------------------------------------------------ run
    def run(self, out: str | Path | None = None, end: float | None = None, progress: str = "auto",
            stop_when_empty: bool = True) -> Path:
        """Run from ``sim.begin`` to ``end`` (s; default ``sim.end``) and write the result file.

        ``progress``: ``"bar"`` (tqdm), ``"log"`` (a line every ``output.log_period`` simulated
        seconds), ``"none"``, or ``"auto"`` (a bar on a terminal, else log lines). With
        ``stop_when_empty`` the run ends early once every trip has arrived or was removed.
        Returns the path of the complete result file.
        """
        from mobsim.output.recorder import HDF5Recorder

        s = self.settings
        end_t = self.end if end is None else float(end)
        if end_t <= self.begin:
            raise InputError(f"end time {end_t} s is not after the begin time {self.begin} s",
                             source="--end", fix="give an end time later than sim.begin")
        out = Path(out or s.get("output.file") or f"results/{self.scenario.name}.h5")
        n_steps = int(round((end_t - self.begin) / self.dt))
        rec = HDF5Recorder(out, compression=s.get("output.compression", "gzip"))
        attrs = {
            "seed": self.seed, "dt": self.dt, "begin": self.begin, "end": end_t,
            "backend": self.backend.name, "device": self.backend.describe(),
            "threads": getattr(self.backend, "threads", 1), "git_sha": _git_sha(),
            "scenario": str(self.scenario.name), "mobsim_version": __version__,
            "n_trips": len(self.trips),
        }
        static = self.cn.static_tables()
        static["vtypes"] = {"id": np.array([v.id for v in self.vtypes], dtype=object)}
        for k, name in enumerate(VTYPE_PARAMS):
            static["vtypes"][name] = (np.array([v.cf_model for v in self.vtypes], dtype=object)
                                      if name == "cf_model" else self.vt[:, k].copy())
        provenance = {"config": getattr(self.scenario, "resolved_toml", ""),
                      "files": list(getattr(self.scenario, "input_files", []))}
        try:
            rec.open(attrs, static, provenance)
            for m in self.modes:
                for group, cols in m.static_tables().items():
                    rec.append(group, cols)
            # Compile (or load from the numba cache) before the clock starts: a zero-step call.
            t_c = time.perf_counter()
            self.backend.run_steps(0)
            for m in self.modes:
                m.compile()
            self._compile_s = time.perf_counter() - t_c
            steps_done, wall = self._loop(rec, n_steps, progress, stop_when_empty)
            for m in self.modes:
                m.finish(rec, self.begin + steps_done * self.dt)
            self._write_trips(rec)
            rec.set_health(self._health(steps_done, wall))
            rec.close(completed_steps=steps_done)
        except BaseException as exc:
            rec.fail(f"{type(exc).__name__}: {exc}")
            raise
        return out

    def _loop(self, rec: Any, n_steps: int, progress: str, stop_when_empty: bool) -> tuple[int, float]:
        s = self.settings
        be = self.backend
        dt = self.dt
        ed_period = float(s.get("output.edgedata_period", 300.0))
        ed_on = ed_period > 0
        ed_every = max(1, round(ed_period / dt)) if ed_on else n_steps + 1
        fcd_on = bool(s.get("output.fcd", False))
        fcd_every = max(1, round(float(s.get("output.fcd_period", 1.0)) / dt))
        log_every = max(1, round(float(s.get("output.log_period", 300.0)) / dt))
        rr_period = float(s.get("routing.reroute_period", 0.0))
        rr_every = max(1, round(rr_period / dt)) if rr_period > 0 else 0
        dr_every = self._departure_every()
        mode = progress
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "log"
        bar = None
        if mode == "log" and not log.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("mobsim %(asctime)s %(message)s", "%H:%M:%S"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
        if mode == "bar":
            from tqdm import tqdm

            bar = tqdm(total=n_steps, unit="step", desc="simulating", leave=False)
        self._ed_begin = self.begin
        step = 0
        t_wall0 = time.perf_counter()
        compute = 0.0
        n_total = len(self.trips)
        cnt = self.W.cnt
        from mobsim.kernels.layout import C_ARRIVED, C_NEV, C_NSUM, C_REMOVED, C_VSTEPS

        if fcd_on:
            self._record_fcd(rec, self.begin)
        for m in self.modes:
            m.start(rec, self.begin)
        while step < n_steps:
            nxt = min(n_steps, (step // ed_every + 1) * ed_every, (step // log_every + 1) * log_every)
            if fcd_on:
                nxt = min(nxt, (step // fcd_every + 1) * fcd_every)
            if rr_every:
                nxt = min(nxt, (step // rr_every + 1) * rr_every)
            if dr_every:
                nxt = min(nxt, (step // dr_every + 1) * dr_every)
            for m in self.modes:
                nxt = min(nxt, m.next_stop(step))
            t0 = time.perf_counter()
            done = be.run_steps(nxt - step)
            for m in self.modes:
                m.advance(done, rec)  # the same steps as the road vehicles
            t1 = time.perf_counter()
            compute += t1 - t0
            be.pull("W", ("cnt",))
            # Summary rows: wall time interpolated over the chunk.
            nrow = int(cnt[C_NSUM])
            if nrow:
                be.pull("W", ("sum_buf",))
                rows = self.W.sum_buf[:nrow].copy()
                rows[:, 1] = self.loaded(rows[:, 0])
                rows[:, 4] = rows[:, 1] - rows[:, 2]
                rows[:, -1] = np.linspace(t0 - t_wall0, t1 - t_wall0, nrow + 1)[1:]
                rec.append("summary", {c.name: rows[:, k].astype(c.dtype) for k, c in enumerate(SUMMARY)})
                cnt[C_NSUM] = 0
            if int(cnt[C_NEV]):
                self._flush_events(rec)
            be.push("W", ("cnt",))
            step += done
            t_now = self.begin + step * dt
            finished = stop_when_empty and int(cnt[C_ARRIVED] + cnt[C_REMOVED]) >= n_total
            for m in self.modes:
                m.record(rec, step, t_now, step >= n_steps)
                finished = finished and m.finished()
            if ed_on and (step % ed_every == 0 or step >= n_steps or finished):
                self._record_edgedata(rec, t_now)
            if fcd_on and step % fcd_every == 0:
                self._record_fcd(rec, t_now)
            if rr_every and step % rr_every == 0 and step < n_steps:
                self.reroute()
            if dr_every and step % dr_every == 0 and step < n_steps:
                self.route_departures(t_now + dr_every * dt)
            if bar is not None:
                bar.update(done)
            if mode == "log" and (step % log_every == 0 or step >= n_steps or finished):
                el = time.perf_counter() - t_wall0
                running = int(self.W.cnt[2] - cnt[C_ARRIVED] - cnt[C_REMOVED])
                log.info("t=%8.0f s  running=%7d  arrived=%7d  RTF=%8.1f  veh-updates/s=%.3g",
                         t_now, running, int(cnt[C_ARRIVED]), (t_now - self.begin) / max(el, 1e-9),
                         cnt[C_VSTEPS] / max(compute, 1e-9))
            if finished:
                break
        if bar is not None:
            bar.close()
        self._steps = step
        self._compute = compute
        return step, time.perf_counter() - t_wall0

    def reroute(self) -> int:
        """Re-route every running and waiting vehicle on current link travel times; returns how many
        routes changed.

        The travel time of a link is its length over the mean speed of the vehicles on it now
        (at least 0.5 m/s), or the free-flow time when it is empty, smoothed over successive calls
        by an exponential average (weight 0.5), as SUMO's rerouting device smooths edge speeds.
        """
        from mobsim.demand.routing import shortest_routes

        self.backend.pull("V")
        V, a = self.V, self.cn.arrays
        n_links = self.cn.n_links
        free = a.link_len / a.link_speed
        run = np.nonzero(V.status == 1)[0]
        link_of = a.lane_link[V.lane[run]]
        cnt = np.bincount(link_of, minlength=n_links)
        vsum = np.bincount(link_of, weights=V.speed[run], minlength=n_links)
        with np.errstate(divide="ignore", invalid="ignore"):
            meas = np.where(cnt > 0, a.link_len / np.maximum(vsum / np.maximum(cnt, 1), 0.5), free)
        prev = getattr(self, "_route_cost", None)
        cost = meas if prev is None else 0.5 * prev + 0.5 * meas
        self._route_cost = cost
        cand = np.nonzero(((V.status == 1) & (V.route_pos + 1 < V.route_end)) | (V.status == 0))[0]
        cand = cand[np.argsort(V.trip[cand], kind="stable")]  # slots in trip order: the same pool
        origin = self.route_links[self.route_start[V.trip[cand]]]
        cur = np.where(V.status[cand] == 1, a.lane_link[np.maximum(V.lane[cand], 0)], origin)
        dest = self.route_links[V.route_end[cand] - 1]
        flat, starts, lengths = shortest_routes(self.cn, cur, dest, cost)
        return self._replace_routes(cand, flat, starts, lengths)

    def _departure_every(self) -> int:
        """Steps between the routings of due trips (``routing.update_period``); 0 unless trips are
        routed when due (``routing.departure = "current"``)."""
        s = self.settings
        if s.get("routing.departure", "setup") != "current":
            return 0
        return max(1, round(float(s.get("routing.update_period", 10.0)) / self.dt))

    def route_departures(self, until: float, measure: bool = True) -> int:
        """Route the trips without a given route that are due by ``until`` (s) and not inserted
        yet, on the travel times the vehicles measure now (``routing.departure = "current"``, as
        SUMO routes trips when they are inserted); each trip is routed once. Returns how many
        routes changed.

        Every call samples the mean speed of the vehicles on each link (its speed limit where it
        is empty); the travel time of a link is its length over the mean of the samples of the
        last ``routing.average_window`` s (SUMO's moving average of ``adaptation-steps``, which
        also starts from free flow), and never below its free-flow time. ``measure=False``
        routes on the current averages without taking a sample (the call before the first step).
        """
        from mobsim.demand.routing import free_flow_cost, shortest_routes

        a = self.cn.arrays
        be = self.backend
        if not hasattr(self, "_dep_ring"):
            period = self._departure_every() * self.dt
            window = float(self.settings.get("routing.average_window", 180.0))
            self._dep_free = np.array([not t.route for t in self.trips], bool)  # routed when due
            self._dep_ring = np.tile(a.link_speed.astype(np.float64), (max(1, round(window / period)), 1))
            self._dep_k = 0
        ring = self._dep_ring
        if measure:
            be.pull("L", ("lane_vsum", "lane_start"))
            n_links = self.cn.n_links
            cnt = np.bincount(a.lane_link, weights=np.diff(self.L.lane_start), minlength=n_links)
            vsum = np.bincount(a.lane_link, weights=self.L.lane_vsum.astype(np.float64), minlength=n_links)
            speed = np.where(cnt > 0, vsum / np.maximum(cnt, 1), a.link_speed)
            ring[self._dep_k % ring.shape[0]] = speed
            self._dep_k += 1
        if self._dep_k == 0:
            # Nothing measured yet: the free-flow times, to the bit those of routing at set-up
            # (the mean of a ring of equal speeds may differ in the last bit, and a grid has
            # routes of equal cost).
            cost = free_flow_cost(self.cn)
        else:
            mean = ring.mean(axis=0)
            with np.errstate(divide="ignore"):
                cost = np.maximum(a.link_len / np.maximum(mean, 1e-3), a.link_len / a.link_speed)
        be.pull("V", ("trip", "status", "route_pos", "route_end"))
        V = self.V
        trip = V.trip
        due = (V.status == 0) & self._dep_free[trip] & (self.depart_planned[trip] <= until + 1e-9)
        cand = np.nonzero(due)[0]
        if len(cand) == 0:
            return 0
        cand = cand[np.argsort(trip[cand], kind="stable")]
        self._dep_free[trip[cand]] = False  # routed once
        origin = self.route_links[self.route_start[trip[cand]]]
        dest = self.route_links[V.route_end[cand] - 1]
        flat, starts, lengths = shortest_routes(self.cn, origin, dest, cost)
        # Every one of them holds the set-up's placeholder [origin, destination], which is no
        # route even where the route is just those two links (its second entry is no turn code).
        return self._replace_routes(cand, flat, starts, lengths, force=True)

    def _replace_routes(self, cand: np.ndarray, flat: np.ndarray, starts: np.ndarray,
                        lengths: np.ndarray, force: bool = False) -> int:
        """Give the vehicles in slots ``cand`` the routes ``flat[starts[k]:starts[k] + lengths[k]]``
        from their current (or first) link on, where they differ (every one with ``force``);
        returns how many changed. The new routes are appended to the route pool (the old entries
        stay: a pool is append-only)."""
        V = self.V
        rl = self.route_links
        # The appended part starts on a whole byte of the packed pool (8 entries hold a whole
        # number of bytes at every code width): only it is packed, and the turn codes of the old
        # part stay as they are (packing the whole pool at every call cost 10 ms per call on the
        # hour-grid benchmark, more than its step loop). The padding entries belong to no route.
        pad = (-len(rl)) % 8
        cand = np.asarray(cand, np.int64)
        lengths = np.asarray(lengths, np.int64)
        starts = np.asarray(starts, np.int64)
        old_len = (V.route_end[cand] - V.route_pos[cand]).astype(np.int64)
        # Which routes differ, vectorised (a Python loop over 10,000 due trips cost 0.17 s of
        # the hour-grid run): a different length, or any entry that differs.
        differ = (lengths > 0) & ((lengths != old_len) | force)
        same_len = np.nonzero((lengths > 0) & (lengths == old_len) & (not force))[0]
        if len(same_len):
            m = lengths[same_len]
            old_e = _runs(rl, V.route_pos[cand[same_len]], m)
            new_e = _runs(flat, starts[same_len], m)
            bad = np.zeros(len(same_len), bool)
            mism = np.nonzero(old_e != new_e)[0]
            if len(mism):
                bad[np.searchsorted(np.cumsum(m), mism, side="right")] = True
            differ[same_len] = bad
        ch = np.nonzero(differ)[0]
        moved_slots = cand[ch].tolist()
        moved_from = V.route_pos[cand[ch]].astype(np.int64).tolist()
        if len(ch):
            from mobsim.demand.route_codes import encode

            m = lengths[ch]
            tail = _runs(flat, starts[ch], m).astype(np.int32)
            begins = len(rl) + pad + np.cumsum(m) - m
            V.route_pos[cand[ch]] = begins  # the new route starts with the current (or first) link
            V.route_end[cand[ch]] = begins + m
            V.need_mask[cand[ch]] = -1  # its next links may differ: the lanes it needs are recomputed
            heads = np.zeros(len(tail), bool)
            heads[np.cumsum(m) - m] = True
            a = self.cn.arrays
            filler = np.full(pad, rl[-1] if len(rl) else 0, np.int32)
            self._route_heads = np.concatenate([self._route_heads, np.ones(pad, bool), heads])
            self.route_links = np.concatenate([rl, filler, tail]).astype(np.int32)
            self.backend.pull("W")
            old = self.W.route_codes
            packed = encode(a.link_next_start, a.link_next, tail, heads, lw=int(old[0]))
            keep = 1 + (len(rl) + pad) // (8 >> int(old[0]))  # header byte + the old part's bytes
            base = old[:keep] if len(old) >= keep else np.concatenate(
                [old, np.zeros(keep - len(old), np.uint8)])
            codes = np.concatenate([base, packed[1:]])
            # A vehicle whose rear still reaches back over a stop line is known there by the route
            # entry it took on leaving (kernels.lanes.straddler_a): that entry moved.
            self.backend.pull("L", ("lane_last_exit", "lane_exit_rp"))
            Lh = self.L
            sl = np.array(moved_slots, np.int64)
            new_rp = np.full(len(V.status), -1, np.int64)
            old_rp = np.full(len(V.status), -1, np.int64)
            new_rp[sl] = V.route_pos[sl]
            old_rp[sl] = moved_from
            x = Lh.lane_last_exit
            was = old_rp[np.maximum(x, 0)]
            hit = np.nonzero((x >= 0) & (was == Lh.lane_exit_rp) & (was >= 0))[0]
            Lh.lane_exit_rp[hit] = new_rp[x[hit]]
            self.backend.push("L", ("lane_exit_rp",))
            self.backend.push("V", ("route_pos", "route_end", "need_mask"))
            self.W = self.W._replace(route_codes=codes)
            self.backend.update("W", self.W)
        return len(moved_slots)

    def _flush_events(self, rec: Any) -> None:
        from mobsim.kernels.layout import C_NEV, E_INSDELAY

        W = self.W
        self.backend.pull("W", ("ev_time", "ev_kind", "ev_veh", "ev_link", "ev_val"))
        self.backend.pull("V", ("trip",))
        n = int(W.cnt[C_NEV])
        cap = len(W.ev_time)
        if n > cap:
            self._events_lost = getattr(self, "_events_lost", 0) + n - cap
            log.warning("%d event(s) lost: the event buffer (%d) overflowed between flushes", n - cap, cap)
            n = cap
        # Events of one step come in the order threads took their slots: sort them, so that every
        # backend and thread count writes the same table.
        slots = W.ev_veh[:n]
        veh = np.full(n, -1, dtype=self.V.trip.dtype)  # slots to trips; -1: no vehicle (signal events)
        own = slots >= 0
        veh[own] = self.V.trip[slots[own]]
        # The device measures an insertion delay from the step the departure fell due; the exact
        # planned time is here.
        ins = W.ev_kind[:n] == E_INSDELAY
        W.ev_val[:n][ins] = W.ev_time[:n][ins] - self.depart_planned[veh[ins]]
        srt = np.lexsort((W.ev_val[:n], W.ev_link[:n], veh, W.ev_kind[:n], W.ev_time[:n]))
        rec.append("events", {"time": W.ev_time[:n][srt], "kind": W.ev_kind[:n][srt],
                              "vehicle": veh[srt], "link": W.ev_link[:n][srt],
                              "value": W.ev_val[:n][srt]})
        W.cnt[C_NEV] = 0

    def _record_edgedata(self, rec: Any, t_end: float) -> None:
        L, a = self.L, self.cn.arrays
        span = t_end - self._ed_begin
        if span <= 0:
            return
        acc = ("a_samp", "a_dist", "a_ent", "a_left", "a_wait", "a_tloss", "a_occ")
        self.backend.pull("L", acc)
        self.backend.pull("W", ("link_maxq",))
        first = a.link_first_lane

        def per_link(x: np.ndarray) -> np.ndarray:
            return np.add.reduceat(np.asarray(x, np.float64), first) if len(first) else np.zeros(0)

        samp = per_link(L.a_samp) * self.dt
        wait = per_link(L.a_wait) * self.dt
        dist = per_link(L.a_dist)
        left = per_link(L.a_left)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(samp > 0, dist / samp, np.nan)
            cols = {
                "sampled_seconds": samp, "distance": dist,
                "entered": per_link(L.a_ent).astype(np.int32), "left": left.astype(np.int32),
                "speed": speed,
                "density": samp / span / (a.link_len / 1000.0),
                "flow": left / span * 3600.0,
                "occupancy": per_link(L.a_occ) / span / (a.link_len * a.link_nlanes),
                "waiting_time": wait, "time_loss": per_link(L.a_tloss),
                "queue": wait / span, "max_queue": self.W.link_maxq.copy(),
                "traveltime": np.where(samp > 0, a.link_len / np.maximum(speed, 1e-3),
                                       a.link_len / a.link_speed),
            }
        rec.append_edgedata(self._ed_begin, t_end, cols)
        for f in acc:
            getattr(L, f)[:] = 0
        self.W.link_maxq[:] = 0
        self.backend.push("L", acc)
        self.backend.push("W", ("link_maxq",))
        self._ed_begin = t_end

    def _record_fcd(self, rec: Any, t: float) -> None:
        from mobsim.kernels.rng import u01_many

        self.backend.pull("V", ("trip", "status", "lane", "pos", "speed", "acc"))
        V, a = self.V, self.cn.arrays
        idx = np.nonzero(V.status == 1)[0]
        idx = idx[np.argsort(V.trip[idx], kind="stable")]  # rows in trip order
        share = float(self.settings.get("output.fcd_share", 1.0))
        if share < 1.0 and len(idx):
            # A fixed subset of vehicles (by trip), the same at every sample and on every backend.
            idx = idx[u01_many(self.seed, 2, V.trip[idx].astype(np.int64), 0) < share]
        lane = V.lane[idx]
        link = a.lane_link[lane]
        pos = V.pos[idx]
        x0, y0 = a.node_x[a.link_from_node[link]], a.node_y[a.link_from_node[link]]
        x1, y1 = a.node_x[a.link_to_node[link]], a.node_y[a.link_to_node[link]]
        ln = np.maximum(np.hypot(x1 - x0, y1 - y0), 1e-9)
        f = pos / a.link_len[link]
        off = (a.lane_index[lane] + 0.5) * 3.2
        x = x0 + (x1 - x0) * f + (y1 - y0) / ln * off
        y = y0 + (y1 - y0) * f - (x1 - x0) / ln * off
        rec.append_fcd(t, {"vehicle": V.trip[idx].astype(np.int32), "link": link.astype(np.int32),
                           "lane": a.lane_index[lane].astype(np.int8), "pos": pos.astype(np.float32),
                           "speed": V.speed[idx].astype(np.float32), "accel": V.acc[idx].astype(np.float32),
                           "x": x.astype(np.float32), "y": y.astype(np.float32)})

    def trip_table(self) -> dict[str, np.ndarray]:
        """The trip output columns (``/trips`` of the result file, :data:`mobsim.output.schema`), in trip
        order, from the current state: times in s, distances in m. The state stores some of them
        compactly (distance as ``dist0 + pos``, float32 accumulators); this is where they are
        turned back into the schema's units and dtypes."""
        V = self.vehicles()
        rl = self.route_links
        st = V.status.copy()
        st[st == 4] = 1  # in transit after a teleport: still on its way (SUMO counts it running)
        arrived = st == 2
        depart = np.where(st != 0, self.begin + V.dep_step * self.dt, np.nan)
        dur = np.where(arrived, V.travel.astype(np.float64), np.nan)
        return {
            "id": np.array([t.id for t in self.trips], dtype=object),
            "vtype": V.vtype.astype(np.int16),
            "origin": rl[self.route_start].astype(np.int32) if len(rl) else np.zeros(0, np.int32),
            "destination": rl[self.route_end - 1].astype(np.int32) if len(rl) else np.zeros(0, np.int32),
            "depart_planned": self.depart_planned.copy(), "depart": depart,
            "arrival": depart + dur, "duration": dur,
            "route_length": V.dist0.astype(np.float64) + V.pos, "waiting_time": V.wait_steps * self.dt,
            "stops": V.stops.astype(np.int32), "time_loss": V.time_loss.astype(np.float64),
            "insertion_delay": depart - self.depart_planned, "teleports": V.teleports.astype(np.int32),
            "status": st.astype(np.int8),
        }

    def _write_trips(self, rec: Any) -> None:
        rec.write_trips(self.trip_table())

    def _health(self, steps: int, wall: float) -> dict:
        from mobsim.kernels import layout as K

        self.backend.pull("W", ("cnt",))
        c = self.W.cnt
        vsteps = int(c[K.C_VSTEPS])
        sim_time = steps * self.dt
        return {
            "steps": steps, "vehicle_steps": vsteps, "wall_time_s": wall, "loop_time_s": self._compute,
            "compile_time_s": getattr(self, "_compile_s", 0.0),
            "vehicle_updates_per_s": vsteps / self._compute if self._compute > 0 else 0.0,
            "real_time_factor": sim_time / wall if wall > 0 else 0.0,
            "collisions": int(c[K.C_COLL]), "teleports": int(c[K.C_TELE]), "removed": int(c[K.C_REMOVED]),
            "emergency_braking": int(c[K.C_EMERG]), "junction_blocked": int(c[K.C_BLOCKED]),
            "trips_loaded": int(self.loaded(self.begin + steps * self.dt)),
            "trips_inserted": int(c[K.C_INSERTED]),
            "trips_arrived": int(c[K.C_ARRIVED]), "trips_dropped_unreachable": int(self.dropped),
            "threads": getattr(self.backend, "threads", 1),
            "bytes_per_vehicle": self.memory_bytes()["per_vehicle"],
            "events_lost": int(getattr(self, "_events_lost", 0)),
            **{k: v for m in self.modes for k, v in m.health().items()},
        }

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

    def step(self, n: int = 1) -> int:
        """Advance ``n`` steps without recording (for notebooks and tests); returns steps run."""
        from mobsim.kernels.layout import C_NEV, C_NSUM, C_STEP

        done = 0
        be = self.backend
        dr_every = self._departure_every()
        while done < n:
            want = n - done
            if dr_every:
                # stop where run() routes the trips that are due next
                be.pull("W", ("cnt",))
                want = min(want, dr_every - int(self.W.cnt[C_STEP]) % dr_every)
            k = be.run_steps(want)
            done += k
            be.pull("W", ("cnt",))
            self.W.cnt[C_NSUM] = 0
            self.W.cnt[C_NEV] = 0
            be.push("W", ("cnt",))
            at = int(self.W.cnt[C_STEP])
            if dr_every and k and at % dr_every == 0:
                self.route_departures(self.begin + (at + dr_every) * self.dt)
            for m in self.modes:
                m.advance(k, None)
        return done

    @property
    def time(self) -> float:
        """Simulation time (s) at the start of the next step."""
        self.backend.pull("W", ("cnt",))
        return self.begin + int(self.W.cnt[12]) * self.dt
