"""What the road vehicles write while a run goes on and when it ends: events, edge data,
trajectories, the trip table and the road's health totals. A part of
:class:`~mobsim.modes.road.mode.RoadMode` (it reads the road's state)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger("mobsim")


class RoadRecording:
    """The road vehicles' output, for :class:`~mobsim.modes.road.mode.RoadMode`."""

    def _flush_events(self, rec: Any) -> None:
        from mobsim.kernels.runtime.layout import C_NEV, E_INSDELAY

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
        from mobsim.kernels.physics.rng import u01_many

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
        st[st == 5] = 1  # dwelling in a bay beside its lane
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

    def health(self) -> dict[str, Any]:
        """The road's totals for ``/health``: vehicle steps and updates per second of the road's
        kernels, collisions, teleports, removals, trips loaded, inserted and arrived."""
        from mobsim.kernels.runtime import layout as K

        self.backend.pull("W", ("cnt",))
        c = self.W.cnt
        vsteps = int(c[K.C_VSTEPS])
        return {
            "vehicle_steps": vsteps,
            "vehicle_updates_per_s": vsteps / self._compute if self._compute > 0 else 0.0,
            "collisions": int(c[K.C_COLL]), "teleports": int(c[K.C_TELE]), "removed": int(c[K.C_REMOVED]),
            "emergency_braking": int(c[K.C_EMERG]), "junction_blocked": int(c[K.C_BLOCKED]),
            "trips_loaded": int(self.loaded(self.begin + int(c[K.C_STEP]) * self.dt)),
            "trips_inserted": int(c[K.C_INSERTED]),
            "trips_arrived": int(c[K.C_ARRIVED]), "trips_dropped_unreachable": int(self.dropped),
            "bytes_per_vehicle": self.memory_bytes()["per_vehicle"],
            "events_lost": int(getattr(self, "_events_lost", 0)),
        }
