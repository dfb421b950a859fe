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

from mobsim.kernels.air import layout as K
from mobsim.kernels.air.flight import F_RETURNS
from mobsim.modes.drones.airspace import Airspace
from mobsim.modes.drones.arrays import (
    EVENT_CAP_MAX,
    EVENT_CAP_MIN,
    RESO_MODES,
    build_air_arrays,
    grid_geometry,
    groups,
)
from mobsim.modes.drones.drivers import DRIVERS
from mobsim.modes.drones.fields import DroneState, allocate_drones, drone_bytes
from mobsim.modes.drones.flights import FlightPlans
from mobsim.modes.drones.recording import DroneRecording


class DroneSim(DroneRecording):
    """The drone part of a run: state, stepping on a backend, and output.

    Parameters
    ----------
    air, plans: the airspace and its planned flights.
    settings: the scenario settings (``drones.*``, ``sim.dt``, ``sim.begin``).
    backend: the run's backend (:mod:`mobsim.backends`), shared with the road traffic; or its name
        (``"cpu"``, ``"cuda"``) for a drone-only set-up, with ``threads`` CPU threads (the CPU
        driver runs detection in parallel from
        :data:`mobsim.kernels.drivers.air_cpu.PARALLEL_MIN` flights on).
    """

    def __init__(
        self,
        air: Airspace | None,
        plans: FlightPlans,
        settings: dict,
        backend: Any = "cpu",
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
        dep = groups(plans.origin, ids, nvp)  # request order is (depart, id): stable keeps it
        ret = np.nonzero(plans.flags & F_RETURNS)[0]
        tovp = np.nonzero(plans.dest_vp >= 0)[0]
        lk = np.concatenate([plans.origin[ret], plans.dest_vp[tovp]])
        li = np.concatenate([ret, tovp])
        o = np.lexsort((li, lk))
        land = groups(lk[o], li[o], nvp)
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
        self.events_lost = 0
        if isinstance(backend, str):
            from mobsim.backends.select import select_backend

            backend = select_backend(backend, threads)
        self.backend = backend
        # the drone state becomes two more parts of the backend (its pull and push serve them)
        self._driver = backend.driver(DRIVERS)(backend, self.D, self.A)

    # ------------------------------------------------------------------ backends
    def pull(self, name: str, fields: tuple[str, ...] | None = None) -> None:
        """Copy device arrays of ``D`` or ``A`` to the host (nothing to copy on the CPU)."""
        self.backend.pull(name, fields)

    def push(self, name: str, fields: tuple[str, ...]) -> None:
        """Copy host arrays of ``D`` or ``A`` to the device (nothing to copy on the CPU)."""
        self.backend.push(name, fields)

    def run_steps(self, n_steps: int) -> int:
        """Advance up to ``n_steps`` drone steps; stops early when the event buffer is half full.
        Returns the number of steps run. Zero steps compiles (or loads) the CPU driver, so
        Simulation.run can do it before its clock."""
        if self.n == 0:
            self.A.cnt[K.AC_STEP] += max(n_steps, 0)
            return max(n_steps, 0)
        return self._driver.run(max(n_steps, 0), self.A.ev_kind.shape[0] // 2)

    # ------------------------------------------------------------------ output
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

    def attrs(self) -> dict[str, Any]:
        """No root attributes of its own."""
        return {}

    def callbacks(self) -> list[Any]:
        """Its records are scheduled by :meth:`next_stop` and :meth:`record`."""
        return []

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


def attach(scenario: Any, settings: dict, backend: Any, services: Any) -> DroneSim | None:
    """The drone mode of ``scenario`` (its flights planned), or None without an airspace: the
    factory :mod:`mobsim.modes.registry` calls."""
    air = getattr(scenario, "airspace", None)
    if air is None:
        return None
    from mobsim.modes.drones.flights import plan_flights

    return DroneSim(air, plan_flights(air, settings), settings, backend)


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
    sim.push("D", ("phase", "x", "y", "z", "lx", "ly", "hdg", "vx", "vy", "t_off"))
    return sim
