"""What the drones write to the result file: their static tables, events, summary and pad-queue
rows, tracks and, at the end, the flight table (a part of :class:`~mobsim.modes.drones.sim.DroneSim`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mobsim.kernels.air import layout as K
from mobsim.kernels.air.flight import F_RETURNS
from mobsim.modes.drones.flights import REFUSE_REASONS


class DroneRecording:
    """The drones' output, for :class:`~mobsim.modes.drones.sim.DroneSim` (it reads its state)."""

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
