"""Routes that change during a run: re-routing of every vehicle on measured travel times
(``routing.reroute_period``) and routing of trips when they are due (``routing.departure =
"current"``), both replacing routes in the pool the kernels read. A part of
:class:`~mobsim.modes.road.mode.RoadMode` (it works on the road's state)."""

from __future__ import annotations

import numpy as np


def _runs(src: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``src[starts[k]:starts[k] + lengths[k]]`` for every k, concatenated (vectorised)."""
    starts = np.asarray(starts, np.int64)
    offs = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return src[np.repeat(starts, lengths) + offs]


class RouteUpdates:
    """Re-routing and routing when due, for :class:`~mobsim.modes.road.mode.RoadMode`."""

    def reroute(self) -> int:
        """Re-route every running and waiting vehicle on current link travel times; returns how many
        routes changed.

        The travel time of a link is its length over the mean speed of the vehicles on it now
        (at least 0.5 m/s), or the free-flow time when it is empty, smoothed over successive calls
        by an exponential average (weight 0.5), as SUMO's rerouting device smooths edge speeds.
        """
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
        flat, starts, lengths = self.route_service.routes(cur, dest, cost)
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
            cost = self.route_service.free_flow_cost()
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
        flat, starts, lengths = self.route_service.routes(origin, dest, cost)
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
            # entry it took on leaving (kernels.road.lanes.straddler_a): that entry moved.
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
