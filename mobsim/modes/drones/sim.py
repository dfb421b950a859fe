"""Drones in the run: the flight state as arrays, the drone step on the CPU or CUDA, and its output.

:class:`DroneSim` is built from the scenario's :class:`mobsim.modes.drones.airspace.Airspace` and flight plans
(:mod:`mobsim.modes.drones.flights`). The :class:`mobsim.engine.Simulation` advances it on the same clock as
the road traffic: after every chunk of road steps it runs the same number of drone steps
(drones and cars do not interact, so the interleaving by chunk gives the same result as by step).

Output (schema in :mod:`mobsim.output.schema`): ``/drones/flights`` (one row per request, written at
the end), ``/drones/events`` (conflicts, losses of separation, geofence violations, battery
depletions), ``/drones/summary`` and ``/drones/pad_queue`` (every ``drones.summary_period``),
``/drones/tracks`` (every ``drones.track_period``), and the static ``/drones/vertiports``,
``/drones/geofences`` and ``/drones/geofence_vertices``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mobsim.kernels import air_layout as K
from mobsim.kernels.air_flight import F_RETURNS
from mobsim.modes.drones.airspace import Airspace
from mobsim.modes.drones.fields import AirArrays, DroneState, allocate_drones, drone_bytes
from mobsim.modes.drones.flights import REFUSE_REASONS, FlightPlans

RESO_MODES = {"off": 0, "mvp": 1, "mvp3d": 2}
#: Most grid cells (the cell size grows when the area would need more).
MAX_CELLS = 1 << 22
EVENT_CAP_MIN = 1 << 14
EVENT_CAP_MAX = 1 << 20


def grid_geometry(
    xmin: float, ymin: float, xmax: float, ymax: float, reach: float
) -> tuple[float, float, float, int, int]:
    """(x0, y0, cell, nx, ny) of a grid over the box with cells of at least ``reach`` m."""
    w = max(xmax - xmin, 1.0)
    h = max(ymax - ymin, 1.0)
    cell = max(reach, 1.0)
    while (math.ceil(w / cell) + 1) * (math.ceil(h / cell) + 1) > MAX_CELLS:
        cell *= 1.25
    return xmin, ymin, cell, int(math.ceil(w / cell)) + 1, int(math.ceil(h / cell)) + 1


def build_air_arrays(
    n: int,
    tab: np.ndarray,
    par: np.ndarray,
    vp: dict[str, np.ndarray],
    dep: tuple[np.ndarray, np.ndarray],
    land: tuple[np.ndarray, np.ndarray],
    wx: np.ndarray,
    wy: np.ndarray,
    gf: dict[str, np.ndarray],
    ev_cap: int,
) -> AirArrays:
    """The :data:`AirArrays` of a drone run (host numpy arrays)."""
    ncell = int(par[K.AP_NX]) * int(par[K.AP_NY])
    return AirArrays(
        tab=np.ascontiguousarray(tab, np.float64),
        par=par,
        cnt=np.zeros(K.N_ACNT, np.int64),
        vp_x=vp["x"],
        vp_y=vp["y"],
        vp_pad0=vp["pad0"],
        pad_free=vp["pad_free"],
        vp_turn=vp["turn"],
        vp_charge=vp["charge"],
        vp_dep_int=vp["dep_int"],
        vp_next_off=np.full(len(vp["x"]), -1e30),
        dep0=dep[0],
        dep=dep[1] if len(dep[1]) else np.zeros(1, np.int32),
        dep_next=dep[0][:-1].copy(),
        land0=land[0],
        land=land[1] if len(land[1]) else np.zeros(1, np.int32),
        vp_nhold=np.zeros(len(vp["x"]), np.int32),
        wx=wx,
        wy=wy,
        gf_v0=gf["v0"],
        gf_x=gf["x"],
        gf_y=gf["y"],
        gf_zlo=gf["zlo"],
        gf_zhi=gf["zhi"],
        gf_t0=gf["t0"],
        gf_t1=gf["t1"],
        gf_bb=gf["bb"],
        cell_start=np.zeros(ncell + 1, np.int32),
        cell_items=np.zeros(max(n, 1), np.int32),
        cell_cnt=np.zeros(ncell, np.int32),
        **{f"g_{k}": np.zeros(max(n, 1)) for k in ("x", "y", "z", "vx", "vy", "vz", "r", "h")},
        ev_kind=np.zeros(ev_cap, np.int8),
        ev_a=np.zeros(ev_cap, np.int32),
        ev_b=np.zeros(ev_cap, np.int32),
        ev_t0=np.zeros(ev_cap),
        ev_t1=np.zeros(ev_cap),
        ev_val=np.zeros(ev_cap),
    )


def _groups(keys: np.ndarray, items: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(start offsets, items grouped by key, stable)."""
    order = np.argsort(keys, kind="stable")
    start = np.searchsorted(keys[order], np.arange(n_groups + 1)).astype(np.int32)
    return start, items[order].astype(np.int32)


class DroneSim:
    """The drone part of a run: state, stepping on a backend, and output.

    Parameters
    ----------
    air, plans: the airspace and its planned flights.
    settings: the scenario settings (``drones.*``, ``sim.dt``, ``sim.begin``).
    backend: ``"cpu"`` or ``"cuda"`` (the road traffic's backend).
    threads: CPU threads (the CPU backend runs its loops in parallel from
        :data:`mobsim.kernels.air_cpu.PARALLEL_MIN` flights on).
    """

    def __init__(
        self,
        air: Airspace | None,
        plans: FlightPlans,
        settings: dict,
        backend: str = "cpu",
        threads: int = 1,
        extent: tuple[float, float, float, float] | None = None,
    ) -> None:
        self.air = air
        self.plans = plans
        self.settings = settings
        dt = float(settings["sim.dt"])
        self.dt = dt
        self.begin = float(settings["sim.begin"])
        n = len(plans.t_req)
        self.n = n
        types = air.types if air is not None else []
        tab = np.array([t.row() for t in types], np.float64).reshape(-1, K.N_DT)
        self.tab = tab
        wind = [float(v) for v in settings.get("drones.wind", [0.0, 0.0])]
        look = float(settings.get("drones.lookahead", 20.0))
        vmax = float(tab[:, K.DT_VMAX].max()) if len(tab) else 20.0
        rmax = float(tab[:, K.DT_RPZ].max()) if len(tab) else 50.0
        reach = (
            rmax * float(settings.get("drones.resolution_margin", 1.05))
            + 2.0 * (vmax + math.hypot(*wind)) * look
        )
        if extent is None:
            xs = [plans.wx, np.array([v.x for v in air.vertiports])] if air is not None else [plans.wx]
            ys = [plans.wy, np.array([v.y for v in air.vertiports])] if air is not None else [plans.wy]
            xa, ya = np.concatenate(xs), np.concatenate(ys)
            extent = (
                float(xa.min()) - 500,
                float(ya.min()) - 500,
                float(xa.max()) + 500,
                float(ya.max()) + 500,
            )
        x0, y0, cell, nx, ny = grid_geometry(*extent, reach)
        par = np.zeros(K.N_APAR, np.float64)
        par[K.AP_DT] = dt
        par[K.AP_BEGIN] = self.begin
        det = float(settings.get("drones.detection_interval", 1.0))
        par[K.AP_DET_EVERY] = max(1, round(det / dt))
        par[K.AP_LOOKAHEAD] = look
        par[K.AP_RESO] = RESO_MODES[settings.get("drones.resolution", "mvp")]
        par[K.AP_WIND_X], par[K.AP_WIND_Y] = wind
        par[K.AP_RESOFAC] = float(settings.get("drones.resolution_margin", 1.05))
        par[K.AP_X0], par[K.AP_Y0], par[K.AP_CELL], par[K.AP_NX], par[K.AP_NY] = x0, y0, cell, nx, ny
        par[K.AP_PAD_CLEAR] = float(settings.get("drones.pad_clearance", 10.0))
        par[K.AP_TERMINAL] = float(settings.get("drones.terminal_radius", 100.0))
        fences = air.geofences if air is not None else []
        par[K.AP_NGF] = len(fences)
        cruise = [la for la in (air.layers if air is not None else [])]
        par[K.AP_ZMIN] = min((la.bottom for la in cruise), default=0.0)
        par[K.AP_ZMAX] = max((la.top for la in cruise), default=1e4)
        self.par = par
        # vertiports and pads
        vps = air.vertiports if air is not None else []
        pads = np.array([v.pads for v in vps], np.int64)
        vp = {
            "x": np.array([v.x for v in vps], np.float64),
            "y": np.array([v.y for v in vps], np.float64),
            "pad0": np.concatenate([[0], np.cumsum(pads)]).astype(np.int32),
            "pad_free": np.full(max(int(pads.sum()), 1), -1e30),
            "turn": np.array([v.turnaround for v in vps]),
            "charge": np.array([v.charge_power for v in vps], np.float64),
            "dep_int": np.array([v.departure_interval for v in vps], np.float64),
        }
        nvp = len(vps)
        ids = np.arange(n)
        dep = _groups(plans.origin, ids, nvp)  # request order is (depart, id): stable keeps it
        ret = np.nonzero(plans.flags & F_RETURNS)[0]
        tovp = np.nonzero(plans.dest_vp >= 0)[0]
        lk = np.concatenate([plans.origin[ret], plans.dest_vp[tovp]])
        li = np.concatenate([ret, tovp])
        o = np.lexsort((li, lk))
        land = _groups(lk[o], li[o], nvp)
        # geofences
        verts = [g.polygon for g in fences]
        gf = {
            "v0": np.concatenate([[0], np.cumsum([len(v) for v in verts])]).astype(np.int32),
            "x": np.concatenate([v[:, 0] for v in verts]) if verts else np.zeros(1),
            "y": np.concatenate([v[:, 1] for v in verts]) if verts else np.zeros(1),
            "zlo": np.array([g.bottom for g in fences], np.float64).reshape(-1),
            "zhi": np.array([g.top for g in fences], np.float64).reshape(-1),
            "t0": np.array([g.begin for g in fences], np.float64).reshape(-1),
            "t1": np.array([min(g.end, 1e300) for g in fences], np.float64).reshape(-1),
            "bb": np.array(
                [[v[:, 0].min(), v[:, 1].min(), v[:, 0].max(), v[:, 1].max()] for v in verts], np.float64
            ).reshape(-1),
        }
        for key in ("zlo", "zhi", "t0", "t1", "bb"):
            if not len(gf[key]):
                gf[key] = np.zeros(1)
        ev_cap = int(min(EVENT_CAP_MAX, max(EVENT_CAP_MIN, 4 * n)))
        self.A = build_air_arrays(n, tab, par, vp, dep, land, plans.wx, plans.wy, gf, ev_cap)
        D = allocate_drones(n)
        D.phase[:] = np.where(plans.refused > 0, K.PH_REFUSED, K.PH_SCHED)
        D.dtype[:] = plans.dtype
        D.prio[:] = plans.prio
        D.flags[:] = plans.flags
        D.x[:] = vp["x"][plans.origin] if nvp else 0.0
        D.y[:] = vp["y"][plans.origin] if nvp else 0.0
        D.wp[:] = plans.wp_start
        D.wp_end[:] = plans.wp_end
        D.ret_start[:] = plans.ret_start
        D.ret_end[:] = plans.ret_end
        D.alt0[:] = plans.alt0
        D.alt1[:] = plans.alt1
        D.drop_h[:] = float(settings.get("drones.drop_height", 15.0))
        D.service[:] = float(settings.get("drones.service_time", 30.0))
        D.origin[:] = plans.origin
        D.dest_vp[:] = plans.dest_vp
        D.t_req[:] = plans.t_req
        D.pfac[:] = plans.pfac
        self.D = D
        self.backend_name = backend
        self.events_lost = 0
        self._attach(backend, threads)

    # ------------------------------------------------------------------ backends
    def _attach(self, backend: str, threads: int) -> None:
        if backend == "cuda":
            from mobsim.backends.cuda import CUDABackend

            cb = CUDABackend.__new__(CUDABackend)
            CUDABackend.__init__(cb)
            self._cb = cb
            # the drone state is two more parts of a CUDA backend: its pull and push serve them
            cb.host = {"D": self.D, "A": self.A}
            for name, host in cb.host.items():
                cb.dev[name], cb.karg[name] = cb._to_device(host)
            self._dev, self._karg = cb.dev, cb.karg
        else:
            from mobsim.kernels.air_cpu import PARALLEL_MIN
            from mobsim.kernels.structs import to_struct

            self._k = (to_struct(self.D), to_struct(self.A))
            self._parallel = threads > 1 and self.n >= PARALLEL_MIN

    def pull(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Copy device arrays of ``D`` or ``A`` to the host (no-op on the CPU)."""
        if self.backend_name == "cuda":
            self._cb.pull(name, fields)

    def push(self, name: str, fields: tuple[str, ...]) -> None:
        """Copy host arrays of ``D`` or ``A`` to the device (no-op on the CPU)."""
        if self.backend_name == "cuda":
            self._cb.push(name, fields)

    def run_steps(self, n_steps: int) -> int:
        """Advance up to ``n_steps`` drone steps; stops early when the event buffer is half full.
        Returns the number of steps run."""
        if n_steps <= 0 or self.n == 0:
            if self.n == 0:
                self.A.cnt[K.AC_STEP] += max(n_steps, 0)
                return max(n_steps, 0)
            if self.backend_name != "cuda":
                # Zero steps: compiles (or loads) the kernels, so Simulation.run can do it before its clock.
                from mobsim.kernels.air_cpu import drone_steps

                drone_steps(self._k[0], self._k[1], 0, 0, self._parallel)
            return 0
        cap = self.A.ev_kind.shape[0]
        margin = cap // 2
        if self.backend_name != "cuda":
            from mobsim.kernels.air_cpu import drone_steps

            return int(drone_steps(self._k[0], self._k[1], n_steps, margin, self._parallel))
        return self._run_cuda(n_steps, margin)

    def _run_cuda(self, n_steps: int, margin: int) -> int:
        from mobsim.kernels import air_cuda as C

        cb = self._cb
        Dk, Ak = self._karg["D"], self._karg["A"]
        Ad = self._dev["A"]
        n, nvp = self.n, len(self.A.vp_x)
        every = int(self.par[K.AP_DET_EVERY])
        ncell = int(self.par[K.AP_NX]) * int(self.par[K.AP_NY])
        xp = cb.xp
        cnt = self._counters()
        step = int(cnt[K.AC_STEP])
        nev = int(cnt[K.AC_NEV])
        cap = self.A.ev_kind.shape[0]
        done = 0
        while done < n_steps:
            if done and done % 16 == 0:
                nev = int(self._counters()[K.AC_NEV])
            if nev + margin > cap:
                break
            t = self.begin + step * self.dt
            cb._launch(C.k_pads, nvp, Dk, Ak, t)
            cb._launch(C.k_move, n, Dk, Ak, t)
            if (step + 1) % every == 0:
                cb._launch(C.k_keys, n, Dk, Ak)
                key = self._dev["D"].cell
                key = xp.where(key < 0, ncell, key)
                order = cb._argsort(key)
                skey = key[order]
                Ad.cell_items[:] = order.astype(np.int32)
                Ad.cell_start[:] = xp.searchsorted(skey, xp.arange(ncell + 1)).astype(np.int32)
                m = int(Ad.cell_start[ncell])
                cb._launch(C.k_gather, m, Dk, Ak, m)
                cb._launch(C.k_detect_begin, 1, Ak)
                cb._launch(C.k_detect, n, Dk, Ak, t + self.dt)
            cb._launch(C.k_step_end, 1, Ak)
            step += 1
            done += 1
        if not cb.simulated:
            cb._cuda.synchronize()
        return done

    def _counters(self) -> np.ndarray:
        cnt = self._dev["A"].cnt
        return cnt.copy() if self._cb.simulated else cnt.get()

    # ------------------------------------------------------------------ output
    def static_tables(self) -> dict[str, dict[str, Any]]:
        """Rows of the static drone tables (vertiports, types, geofences and their vertices)."""
        air = self.air
        vps = air.vertiports if air is not None else []
        fences = air.geofences if air is not None else []
        types = air.types if air is not None else []
        verts = [(k, p) for k, g in enumerate(fences) for p in g.polygon]
        return {
            "drones/vertiports": {
                "id": np.array([v.id for v in vps], dtype=object),
                "x": np.array([v.x for v in vps]),
                "y": np.array([v.y for v in vps]),
                "pads": np.array([v.pads for v in vps], np.int32),
            },
            "drones/types": {
                "id": np.array([t.id for t in types], dtype=object),
                "cruise_speed": np.array([t.cruise_speed for t in types]),
                "rpz": np.array([t.rpz for t in types]),
                "hpz": np.array([t.hpz for t in types]),
                "battery_wh": np.array([t.battery_wh for t in types]),
            },
            "drones/geofences": {
                "id": np.array([g.id for g in fences], dtype=object),
                "bottom": np.array([g.bottom for g in fences]),
                "top": np.array([g.top for g in fences]),
                "begin": np.array([g.begin for g in fences]),
                "end": np.array([g.end for g in fences]),
            },
            "drones/geofence_vertices": {
                "geofence": np.array([k for k, _ in verts], np.int32),
                "x": np.array([p[0] for _, p in verts]),
                "y": np.array([p[1] for _, p in verts]),
            },
        }

    def flush_events(self, rec: Any) -> None:
        """Write the buffered drone events (sorted, so every backend and thread count writes the same
        table) and empty the buffer."""
        self.pull("A", ("cnt",))
        A = self.A
        n = int(A.cnt[K.AC_NEV])
        if n == 0:
            return
        self.pull("A", ("ev_kind", "ev_a", "ev_b", "ev_t0", "ev_t1", "ev_val"))
        cap = len(A.ev_kind)
        if n > cap:
            self.events_lost += n - cap
            n = cap
        srt = np.lexsort((A.ev_val[:n], A.ev_t1[:n], A.ev_b[:n], A.ev_a[:n], A.ev_kind[:n], A.ev_t0[:n]))
        rec.append(
            "drones/events",
            {
                "kind": A.ev_kind[:n][srt],
                "drone": A.ev_a[:n][srt],
                "other": A.ev_b[:n][srt],
                "start": A.ev_t0[:n][srt],
                "end": A.ev_t1[:n][srt],
                "value": A.ev_val[:n][srt],
            },
        )
        A.cnt[K.AC_NEV] = 0
        self.push("A", ("cnt",))

    def record_summary(self, rec: Any, t: float) -> None:
        """One ``/drones/summary`` row and one ``/drones/pad_queue`` row per vertiport at time ``t``."""
        self.pull("D", ("phase", "energy", "leg", "origin", "dest_vp"))
        self.pull("A", ("cnt",))
        D, A = self.D, self.A
        ph = D.phase
        air = (ph >= K.AIRBORNE_FIRST) & (ph <= K.AIRBORNE_LAST)
        rec.append(
            "drones/summary",
            {
                "time": [t],
                "queued": [int(np.count_nonzero(ph == K.PH_QUEUE))],
                "airborne": [int(np.count_nonzero(air))],
                "done": [int(np.count_nonzero((ph == K.PH_DONE) | (ph == K.PH_DEPLETED)))],
                "conflicts": [int(A.cnt[K.AC_CONF_NOW])],
                "los": [int(A.cnt[K.AC_LOS_NOW])],
                "energy": [float(D.energy.sum())],
            },
        )
        nvp = len(A.vp_x)
        if nvp:
            q = np.bincount(D.origin[ph == K.PH_QUEUE], minlength=nvp)
            hold_at = np.where(D.leg == 1, D.origin, D.dest_vp)[ph == K.PH_HOLD]
            hold_at = hold_at[hold_at >= 0]
            h = np.bincount(hold_at, minlength=nvp)
            rec.append(
                "drones/pad_queue",
                {
                    "time": np.full(nvp, t),
                    "vertiport": np.arange(nvp, dtype=np.int32),
                    "queue": q.astype(np.int32),
                    "holding": h.astype(np.int32),
                },
            )

    def record_tracks(self, rec: Any, t: float) -> None:
        """Positions of the airborne drones at time ``t`` to ``/drones/tracks``."""
        self.pull("D", ("phase", "x", "y", "z", "vx", "vy"))
        D = self.D
        idx = np.nonzero((D.phase >= K.AIRBORNE_FIRST) & (D.phase <= K.AIRBORNE_LAST))[0]
        rec.append(
            "drones/tracks",
            {
                "time": np.full(len(idx), t),
                "drone": idx.astype(np.int32),
                "x": D.x[idx].astype(np.float32),
                "y": D.y[idx].astype(np.float32),
                "z": D.z[idx].astype(np.float32),
                "speed": np.hypot(D.vx[idx], D.vy[idx]).astype(np.float32),
                "phase": D.phase[idx].astype(np.int8),
            },
        )

    def finish(self, rec: Any, t_end: float) -> None:
        """Close open episodes at ``t_end`` (as events without an end: NaN), flush events, write flights."""
        self.pull("D")
        D = self.D
        open_rows: dict[str, list] = {
            "kind": [],
            "drone": [],
            "other": [],
            "start": [],
            "end": [],
            "value": [],
        }
        ids = D.sl_id.reshape(self.n, K.N_SLOTS) if self.n else np.zeros((0, K.N_SLOTS), np.int32)
        for _name, t0f, vf, kind in (
            ("conflict", D.sl_t0, D.sl_dmin, K.DE_CONFLICT),
            ("los", D.sl_los0, D.sl_losmin, K.DE_LOS),
        ):
            t0 = t0f.reshape(ids.shape)
            v = vf.reshape(ids.shape)
            own = (ids >= 0) & (np.arange(self.n)[:, None] < ids) & (t0 >= 0)
            a, s = np.nonzero(own)
            open_rows["kind"] += [kind] * len(a)
            open_rows["drone"] += a.tolist()
            open_rows["other"] += ids[a, s].tolist()
            open_rows["start"] += t0[a, s].tolist()
            open_rows["end"] += [np.nan] * len(a)
            open_rows["value"] += v[a, s].tolist()
        gi = np.nonzero(D.gf_in)[0]
        for i in gi:
            for g in range(int(self.par[K.AP_NGF])):
                if int(D.gf_in[i]) & (1 << g):
                    for key, val in (
                        ("kind", K.DE_GEOFENCE),
                        ("drone", int(i)),
                        ("other", g),
                        ("start", float(D.gf_t0[i])),
                        ("end", np.nan),
                        ("value", 0.0),
                    ):
                        open_rows[key].append(val)
        self.flush_events(rec)
        if open_rows["kind"]:
            rec.append("drones/events", {k: np.array(v) for k, v in open_rows.items()})
        rec.append("drones/flights", self.flight_table())

    def flight_table(self) -> dict[str, np.ndarray]:
        """Columns of ``/drones/flights`` from the current state."""
        D, P = self.D, self.plans
        air = self.air
        reqs = air.requests if air is not None else []
        turn = self.A.vp_turn[D.origin] if len(self.A.vp_turn) else np.zeros(self.n)
        ph = D.phase
        status = np.select(
            [ph == K.PH_REFUSED, ph == K.PH_DEPLETED, ph == K.PH_DONE, ph <= K.PH_PREP], [3, 4, 2, 0], 1
        ).astype(np.int8)
        return {
            "id": np.array([r.id for r in reqs] if reqs else [str(i) for i in range(self.n)], dtype=object),
            "type": D.dtype.astype(np.int16),
            "mission": np.array([r.mission for r in reqs] if reqs else ["delivery"] * self.n, dtype=object),
            "origin": D.origin.copy(),
            "dest_vertiport": D.dest_vp.copy(),
            "dest_x": np.array([r.dest_x for r in reqs]) if reqs else np.full(self.n, np.nan),
            "dest_y": np.array([r.dest_y for r in reqs]) if reqs else np.full(self.n, np.nan),
            "payload": np.array([r.payload for r in reqs]) if reqs else np.zeros(self.n),
            "t_request": D.t_req.copy(),
            "t_takeoff": D.t_off.copy(),
            "t_delivery": D.t_deliv.copy(),
            "t_done": D.t_done.copy(),
            "departure_delay": D.t_off - D.t_req - turn,
            "status": status,
            "refused": np.array([REFUSE_REASONS[int(c)] for c in P.refused], dtype=object),
            "energy": D.energy.copy(),
            "energy_climb": D.e_climb.copy(),
            "energy_cruise": D.e_cruise.copy(),
            "energy_descent": D.e_desc.copy(),
            "energy_hover": D.e_hover.copy(),
            "time_climb": D.tm_climb.copy(),
            "time_cruise": D.tm_cruise.copy(),
            "time_descent": D.tm_desc.copy(),
            "time_hover": D.tm_hover.copy(),
            "distance": D.dist.copy(),
            "direct_distance": P.direct.copy(),
            "energy_planned": P.est_energy.copy(),
            "min_separation": np.where(D.min_sep >= 1e29, np.nan, D.min_sep),
            "recharge_time": self._recharge_time(),
            "battery_left": 1.0 - D.energy / self.tab[D.dtype, K.DT_BAT] if self.n else np.zeros(0),
        }

    def _recharge_time(self) -> np.ndarray:
        D, A = self.D, self.A
        if not len(A.vp_charge):
            return np.full(self.n, np.nan)
        land = np.where(D.flags & F_RETURNS, D.origin, np.maximum(D.dest_vp, 0))
        power = A.vp_charge[land]
        ok = (D.phase == K.PH_DONE) & (power > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ok, D.energy / power * 3600.0, np.nan)

    def health(self) -> dict[str, Any]:
        """Drone totals for ``/health``."""
        self.pull("A", ("cnt",))
        c = self.A.cnt
        return {
            "drone_steps": int(c[K.AC_DSTEPS]),
            "drone_pair_checks": int(c[K.AC_CHECKS]),
            "drone_detections": int(c[K.AC_DETECTIONS]),
            "drone_untracked_conflicts": int(c[K.AC_OVERFLOW]),
            "drone_battery_depleted": int(c[K.AC_DEPLETED]),
            "drone_events_lost": int(self.events_lost),
            "drone_bytes_per_flight": drone_bytes(),
            "drone_grid_cell_m": float(self.par[K.AP_CELL]),
        }

    def finished(self) -> bool:
        """Every flight done, refused or depleted."""
        self.pull("D", ("phase",))
        return bool(np.all(self.D.phase >= K.PH_DONE))

    # ------------------------------------------------------------------ the engine's mode protocol
    name = "drones"

    def compile(self) -> None:
        """Load (or compile) the drone kernels: a zero-step call."""
        self.run_steps(0)

    def _periods(self) -> tuple[int, int]:
        """Steps between summary rows, and between track rows (0: no tracks)."""
        s, dt = self.settings, self.dt
        ds_every = max(1, round(float(s.get("drones.summary_period", 10.0)) / dt))
        tp = float(s.get("drones.track_period", 5.0))
        return ds_every, (max(1, round(tp / dt)) if tp > 0 else 0)

    def start(self, rec: Any, t: float) -> None:
        """The summary row of the first step's start."""
        self.record_summary(rec, t)

    def next_stop(self, step: int) -> int:
        """The next step that ends a summary or track period."""
        ds_every, tr_every = self._periods()
        nxt = (step // ds_every + 1) * ds_every
        if tr_every:
            nxt = min(nxt, (step // tr_every + 1) * tr_every)
        return nxt

    def advance(self, n_steps: int, rec: Any | None) -> None:
        """The drones advance over the road's steps (they do not interact with road traffic); the
        event buffer is emptied into ``rec`` whenever the kernel stops at half full."""
        left = n_steps
        while left > 0:
            left -= self.run_steps(left)
            if rec is not None:
                self.flush_events(rec)
            else:
                self.pull("A", ("cnt",))
                self.A.cnt[K.AC_NEV] = 0
                self.push("A", ("cnt",))

    def record(self, rec: Any, step: int, t: float, last: bool) -> None:
        """A summary row at the end of every summary period and of the run; track rows at the end
        of every track period."""
        ds_every, tr_every = self._periods()
        if step % ds_every == 0 or last:
            self.record_summary(rec, t)
        if tr_every and step % tr_every == 0:
            self.record_tracks(rec, t)


def attach(scenario: Any, settings: dict, backend: Any) -> DroneSim | None:
    """The drone mode of ``scenario`` (its flights planned), or None without an airspace: the
    factory :mod:`mobsim.modes.registry` calls."""
    air = getattr(scenario, "airspace", None)
    if air is None:
        return None
    from mobsim.modes.drones.flights import plan_flights

    return DroneSim(air, plan_flights(air, settings), settings, backend.name, getattr(backend, "threads", 1))


__all__ = ["DroneSim", "DroneState", "grid_geometry"]


def free_flight(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    heading_deg: np.ndarray,
    speed: np.ndarray,
    settings: dict | None = None,
    dtype: Any = None,
    backend: str = "cpu",
    threads: int = 1,
    goal_distance: float = 1e6,
    extent: tuple[float, float, float, float] | None = None,
) -> DroneSim:
    """Drones already in cruise at (x, y, z) (m), flying straight at ``heading_deg`` (clockwise from
    north) and ``speed`` (m/s) towards a waypoint ``goal_distance`` m ahead: the set-up of the
    separation tests and of the drone benchmark (no vertiports, no planning).

    ``settings``: scenario settings (defaults of :mod:`mobsim.settings` where missing); ``dtype``:
    a :class:`mobsim.modes.drones.airspace.DroneType` for all drones (default: cruise speed = max(speed)).
    """
    from mobsim import settings as st
    from mobsim.modes.drones.airspace import Airspace, DroneType, Layer

    s = st.defaults()
    s.update(settings or {})
    n = len(x)
    x, y, z = (np.asarray(a, np.float64) for a in (x, y, z))
    h = np.radians(np.asarray(heading_deg, np.float64))
    sp = np.broadcast_to(np.asarray(speed, np.float64), (n,)).copy()
    if dtype is None:
        vmax = float(sp.max()) if n else 15.0
        dtype = DroneType(cruise_speed=vmax, max_speed=vmax, battery_wh=1e12)
    gx = x + goal_distance * np.sin(h)
    gy = y + goal_distance * np.cos(h)
    zero = np.zeros(n, np.int32)
    plans = FlightPlans(
        origin=zero,
        dest_vp=np.full(n, -1, np.int32),
        dtype=zero,
        prio=np.ones(n, np.int8),
        flags=np.zeros(n, np.int8),
        alt0=z.copy(),
        alt1=z.copy(),
        wp_start=np.arange(n, dtype=np.int32),
        wp_end=np.arange(1, n + 1, dtype=np.int32),
        ret_start=zero,
        ret_end=zero,
        pfac=np.ones(n),
        t_req=np.zeros(n),
        refused=np.zeros(n, np.int8),
        direct=np.full(n, goal_distance),
        est_energy=np.zeros(n),
        wx=gx if n else np.zeros(1),
        wy=gy if n else np.zeros(1),
    )
    zlo, zhi = (float(z.min()), float(z.max())) if n else (0.0, 1.0)
    air = Airspace(
        types=[dtype],
        vertiports=[],
        layers=[Layer("all", max(zlo - 500, 0.0), zhi + 500)],
        geofences=[],
        requests=[],
        corridor_xy=np.zeros((0, 2)),
        corridor_edges=np.zeros((0, 2), np.int64),
    )
    if extent is None and n:
        extent = (float(x.min()) - 100, float(y.min()) - 100, float(x.max()) + 100, float(y.max()) + 100)
    sim = DroneSim(air, plans, s, backend, threads, extent=extent or (0.0, 0.0, 1.0, 1.0))
    D = sim.D
    D.phase[:] = K.PH_CRUISE
    D.x[:] = x
    D.y[:] = y
    D.lx[:] = np.inf
    D.ly[:] = np.inf
    D.z[:] = z
    D.hdg[:] = h
    D.vx[:] = sp * np.sin(h)
    D.vy[:] = sp * np.cos(h)
    D.t_off[:] = float(s["sim.begin"])
    if backend == "cuda":
        sim.push("D", ("phase", "x", "y", "z", "lx", "ly", "hdg", "vx", "vy", "t_off"))
    return sim
