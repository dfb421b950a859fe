"""Flight planning: requests become flight plans on the corridor graph, or are refused.

For each leg (outbound, and the return when the flight comes back):

1. the cruise layer is the first cruise layer whose heading range takes the leg's direct track
   (origin to destination, degrees clockwise from north), at the middle of its band;
2. the route is the shortest path on the corridor graph (Dijkstra on edge lengths,
   :mod:`mobsim.net.graph`) from the corridor node nearest the start to the one nearest the end,
   on edges that cross no geofence whose altitude band reaches the cruise altitude (or the heights
   the drone climbs and descends through) and whose time window meets the flight's planned
   window; the connectors from the start to the graph and from the graph to the end must not
   cross one either (the next-nearest nodes are tried);
3. the energy estimate is the sum over phases of power times time: climb, cruise along the
   route at the ground speed of the wind triangle, descent, and the drop hover, for both legs.

A flight is refused (never flies, counted in ``drone_flights_refused``) when no geofence-free
route exists (``no_route``), its destination point lies inside an active geofence
(``geofence``), or its estimated energy times ``1 + drones.reserve`` exceeds the battery
(``battery``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mobsim.kernels.air.flight import F_DEST_VP, F_RETURNS, ground_speed
from mobsim.modes.drones.airspace import MISSIONS, Airspace, Geofence
from mobsim.modes.drones.geometry import points_in_polygon, segments_cross_polygon
from mobsim.net.graph import shortest_paths

REFUSE_REASONS = {0: "", 1: "battery", 2: "no_route", 3: "geofence"}
#: Nearest corridor nodes tried for a geofence-free connector.
CONNECT_TRIES = 8


@dataclass
class FlightPlans:
    """Per-flight plan arrays (flights in request order) and the waypoint pool (m)."""

    origin: np.ndarray
    dest_vp: np.ndarray
    dtype: np.ndarray
    prio: np.ndarray
    flags: np.ndarray
    alt0: np.ndarray
    alt1: np.ndarray
    wp_start: np.ndarray
    wp_end: np.ndarray
    ret_start: np.ndarray
    ret_end: np.ndarray
    pfac: np.ndarray
    t_req: np.ndarray
    refused: np.ndarray  # REFUSE_REASONS code
    direct: np.ndarray  # m, great-circle (straight) distance of all legs
    est_energy: np.ndarray  # Wh, planning estimate (without reserve)
    wx: np.ndarray
    wy: np.ndarray


class Planner:
    """Routes on the corridor graph with geofence-aware edge blocking (cached per fence set)."""

    def __init__(self, air: Airspace, settings: dict) -> None:
        self.air = air
        self.settings = settings
        xy, edges = air.corridor_xy, air.corridor_edges
        self.xy = xy
        n = len(xy)
        a, b = edges[:, 0], edges[:, 1]
        length = np.hypot(xy[a, 0] - xy[b, 0], xy[a, 1] - xy[b, 1])
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        eid = np.concatenate([np.arange(len(a)), np.arange(len(a))])
        order = np.lexsort((dst, src))
        # Each corridor is an edge both ways; eid (the corridor of an edge) indexes both its
        # length and its geofence blocking.
        self.nbr, self.eid, self.length = dst[order], eid[order], length
        self.indptr = np.searchsorted(src[order], np.arange(n + 1)).astype(np.int64)
        self.edges = edges
        self._cross: dict[int, np.ndarray] = {}
        self._paths: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._connectable: dict[tuple, bool] = {}

    def _edge_cross(self, g: int) -> np.ndarray:
        if g not in self._cross:
            e = self.edges
            self._cross[g] = segments_cross_polygon(
                self.xy[e[:, 0]], self.xy[e[:, 1]], self.air.geofences[g].polygon
            )
        return self._cross[g]

    def fences(self, alt: float, t0: float, t1: float) -> tuple[int, ...]:
        """Geofences a flight at cruise altitude ``alt`` must avoid in ``[t0, t1]``: active then, and
        reaching down below the cruise altitude (the drone climbs through every height up to it)."""
        return tuple(k for k, g in enumerate(self.air.geofences)
                     if g.known and g.active(t0, t1) and g.bottom <= alt)

    def _tree(self, src: int, fences: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        key = (src, fences)
        if key not in self._paths:
            blocked = np.zeros(len(self.edges), np.bool_)
            for g in fences:
                blocked |= self._edge_cross(g)
            # lowest_pred=False: at equal length the first predecessor settled stays, the rule
            # the flight plans have always been made with.
            self._paths[key] = shortest_paths(self.indptr, self.nbr, self.length, src, cidx=self.eid,
                                              blocked=blocked, bidx=self.eid, lowest_pred=False)
        return self._paths[key]

    def _clear(self, p: np.ndarray, q: np.ndarray, fences: tuple[int, ...]) -> bool:
        for g in fences:
            if segments_cross_polygon(p[None, :], q[None, :], self.air.geofences[g].polygon)[0]:
                return False
        return True

    def _candidates(self, p: np.ndarray, fences: tuple[int, ...]) -> list[int]:
        d = np.hypot(self.xy[:, 0] - p[0], self.xy[:, 1] - p[1])
        order = np.lexsort((np.arange(len(d)), d))[:CONNECT_TRIES]
        return [int(k) for k in order if self._clear(p, self.xy[k], fences)]

    def route(self, p: np.ndarray, q: np.ndarray, fences: tuple[int, ...]) -> np.ndarray | None:
        """Waypoints (k, 2) from ``p`` to ``q`` (the start point itself is not a waypoint), or None."""
        starts = self._candidates(p, fences)
        ends = self._candidates(q, fences)
        # The corridor nodes nearest the start and the end (the next-nearest where a connector
        # crosses a geofence or no path joins them). Not the pair that minimises the total: that
        # would trade corridor for long free-flight connectors.
        best = None
        for s in starts:
            dist, pred = self._tree(s, fences)
            e = next((e for e in ends if np.isfinite(dist[e])), None)
            if e is not None:
                best = (s, e, pred)
                break
        if best is None:
            return None
        s, e, pred = best
        path = [e]
        while path[-1] != s:
            path.append(int(pred[path[-1]]))
        pts = self.xy[np.array(path[::-1])]
        if np.hypot(*(pts[-1] - q)) < 1e-6:
            return pts  # the route ends on a corridor node: no zero-length last segment
        return np.vstack([pts, q[None, :]])


def _layer_alt(air: Airspace, p: np.ndarray, q: np.ndarray) -> float:
    track = math.degrees(math.atan2(q[0] - p[0], q[1] - p[1])) % 360.0
    for layer in air.layers:
        if layer.use == "cruise" and layer.takes(track):
            return layer.altitude
    raise AssertionError("the layer check guarantees a cruise layer for every track")


def leg_energy_wh(
    dt_row,
    p: np.ndarray,
    wps: np.ndarray,
    alt: float,
    end_height: float,
    wind: tuple[float, float],
    pfac: float,
) -> float:
    """Planning energy (Wh) of one leg: climb from the ground to ``alt``, cruise along the waypoints
    from ``p`` at the wind-triangle ground speed, descend to ``end_height``."""
    e = dt_row.power_climb * alt / dt_row.climb_rate
    pts = np.vstack([p[None, :], wps])
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        d = float(np.hypot(*(b - a)))
        if d <= 0:
            continue
        vg = ground_speed((b[0] - a[0]) / d, (b[1] - a[1]) / d, dt_row.cruise_speed, wind[0], wind[1])
        if vg <= 0:
            return math.inf
        e += dt_row.power_cruise * d / vg
    e += dt_row.power_descent * (alt - end_height) / dt_row.descent_rate
    return e * pfac / 3600.0


def plan_flights(air: Airspace, settings: dict) -> FlightPlans:
    """Plan every request of ``air`` (see the module docstring)."""
    reqs = air.requests
    n = len(reqs)
    vpi = air.vertiport_index()
    tyi = air.type_index()
    planner = Planner(air, settings)
    wind = tuple(float(v) for v in settings.get("drones.wind", [0.0, 0.0]))
    reserve = float(settings.get("drones.reserve", 0.2))
    drop_h = float(settings.get("drones.drop_height", 15.0))
    service = float(settings.get("drones.service_time", 30.0))
    out = {
        k: np.zeros(n, dt)
        for k, dt in (
            ("origin", np.int32),
            ("dest_vp", np.int32),
            ("dtype", np.int32),
            ("prio", np.int8),
            ("flags", np.int8),
            ("alt0", np.float64),
            ("alt1", np.float64),
            ("wp_start", np.int32),
            ("wp_end", np.int32),
            ("ret_start", np.int32),
            ("ret_end", np.int32),
            ("pfac", np.float64),
            ("t_req", np.float64),
            ("refused", np.int8),
            ("direct", np.float64),
            ("est_energy", np.float64),
        )
    }
    wx: list[float] = []
    wy: list[float] = []
    for k, r in enumerate(reqs):
        ty = air.types[tyi[r.dtype]]
        o = air.vertiports[vpi[r.origin]]
        p = np.array([o.x, o.y])
        q = np.array([r.dest_x, r.dest_y])
        pf = ty.power_factor(r.payload)
        out["origin"][k] = vpi[r.origin]
        out["dest_vp"][k] = vpi[r.dest_vp] if r.dest_vp is not None else -1
        out["dtype"][k] = tyi[r.dtype]
        out["prio"][k] = MISSIONS[r.mission]
        out["flags"][k] = (F_RETURNS if r.returns else 0) | (F_DEST_VP if r.dest_vp is not None else 0)
        out["pfac"][k] = pf
        out["t_req"][k] = r.depart
        direct = float(np.hypot(*(q - p)))
        out["direct"][k] = direct * (2 if r.returns else 1)
        # planned window: generous (twice the direct flight time plus an hour of queueing)
        t1 = r.depart + 3600.0 + 4.0 * direct / max(ty.cruise_speed, 0.1)
        legs = [(p, q)] + ([(q, p)] if r.returns else [])
        energy = 0.0
        reason = 0
        pos = len(wx)
        bounds = []
        for leg, (a, b) in enumerate(legs):
            alt = _layer_alt(air, a, b)
            fences = planner.fences(alt, r.depart, t1)
            if (
                leg == 0
                and r.dest_vp is None
                and any(points_in_polygon(q[None, :], air.geofences[g].polygon)[0] for g in fences)
            ):
                reason = 3
                break
            wps = planner.route(a, b, fences)
            if wps is None:
                reason = 2
                break
            end_h = drop_h if (leg == 0 and r.dest_vp is None) else 0.0
            energy += leg_energy_wh(ty, a, wps, alt, end_h, wind, pf)
            if leg == 0 and r.dest_vp is None:
                energy += ty.power_hover * pf * service / 3600.0
                energy -= ty.power_climb * pf * end_h / ty.climb_rate / 3600.0  # climbs back from drop height
            out["alt0" if leg == 0 else "alt1"][k] = alt
            bounds.append((len(wx), len(wx) + len(wps)))
            wx.extend(wps[:, 0].tolist())
            wy.extend(wps[:, 1].tolist())
        out["est_energy"][k] = energy
        if reason == 0 and energy * (1.0 + reserve) > ty.battery_wh:
            reason = 1
        if reason:
            del wx[pos:], wy[pos:]
            out["refused"][k] = reason
            out["wp_start"][k] = out["wp_end"][k] = out["ret_start"][k] = out["ret_end"][k] = 0
            continue
        out["wp_start"][k], out["wp_end"][k] = bounds[0]
        if r.returns:
            out["ret_start"][k], out["ret_end"][k] = bounds[1]
    return FlightPlans(**out, wx=np.array(wx or [0.0]), wy=np.array(wy or [0.0]))


def fences_on_route(plans: FlightPlans, k: int, fences: list[Geofence]) -> list[str]:
    """Ids of geofences whose polygon a planned leg of flight ``k`` touches (for tests)."""
    hits = []
    for a, b in ((plans.wp_start[k], plans.wp_end[k]), (plans.ret_start[k], plans.ret_end[k])):
        if b - a < 2:
            continue
        pts = np.column_stack([plans.wx[a:b], plans.wy[a:b]])
        for g in fences:
            if segments_cross_polygon(pts[:-1], pts[1:], g.polygon).any():
                hits.append(g.id)
    return hits
