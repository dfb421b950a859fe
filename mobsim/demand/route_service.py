"""The route service every mode shares: shortest routes and travel times on the road network.

The road vehicles use it to re-route on measured travel times and to route trips when they are
due; a shuttle line asks it for the roads between its stops, a fleet's dispatcher for the travel
times between vehicles and requests. One instance per :class:`~mobsim.engine.Simulation`
(``sim.route_service``), handed to every mode with the engine's other services
(:class:`mobsim.modes.registry.Services`). Costs are seconds per link: free flow by default, or
any array the caller measured.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mobsim.demand.routing import free_flow_cost, shortest_routes
from mobsim.errors import InputError


class RouteService:
    """Shortest routes (by link index) on a compiled network (:mod:`mobsim.net.compile`)."""

    def __init__(self, cn: Any) -> None:
        self.cn = cn

    @property
    def n_links(self) -> int:
        """Links of the network."""
        return int(self.cn.n_links)

    def link(self, link_id: str) -> int:
        """The index of link ``link_id``."""
        try:
            return int(self.cn.link_index[link_id])
        except KeyError:
            raise InputError(f"unknown link '{link_id}'", source="route service",
                             fix="use a link id of the network") from None

    def free_flow_cost(self) -> np.ndarray:
        """Free-flow traversal time of every link (s): length over speed limit."""
        return free_flow_cost(self.cn)

    def routes(self, origins: np.ndarray, dests: np.ndarray, cost: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Shortest routes from link ``origins[k]`` to link ``dests[k]`` under link costs ``cost``
        (s per link; free flow by default): ``(flat, start, length)``, route k being
        ``flat[start[k]:start[k] + length[k]]`` from the origin link to the destination link;
        length 0: unreachable. Ties go the same way on any machine and thread count."""
        c = self.free_flow_cost() if cost is None else np.asarray(cost, np.float64)
        if c.shape != (self.n_links,):
            raise ValueError(f"cost has shape {c.shape}, the network has {self.n_links} links")
        return shortest_routes(self.cn, np.asarray(origins, np.int64), np.asarray(dests, np.int64), c)

    def travel_times(self, origins: np.ndarray, dests: np.ndarray, cost: np.ndarray | None = None
                     ) -> np.ndarray:
        """Travel time (s) of the shortest route from the start of link ``origins[k]`` to the end
        of link ``dests[k]`` (both links' costs counted), ``inf`` where unreachable."""
        c = self.free_flow_cost() if cost is None else np.asarray(cost, np.float64)
        flat, start, length = self.routes(origins, dests, c)
        csum = np.concatenate([[0.0], np.cumsum(c[flat])])
        tt = csum[start + length] - csum[start]
        return np.where(length > 0, tt, np.inf)

    def times_from(self, origins: np.ndarray, cost: np.ndarray | None = None) -> np.ndarray:
        """``(len(origins), links)``: the travel time (s) from the end of link ``origins[k]`` to the
        end of every link (0 to itself; ``inf`` where unreachable), one shortest-path tree per
        origin: the rows of a dispatcher's travel-time matrix."""
        from mobsim.demand.routing import shortest_path_tree

        c = self.free_flow_cost() if cost is None else np.ascontiguousarray(cost, np.float64)
        a = self.cn.arrays
        origins = np.asarray(origins, np.int64)
        out = np.empty((len(origins), self.n_links), np.float64)
        pred = np.empty(self.n_links, np.int64)
        for k, o in enumerate(origins):
            shortest_path_tree(int(o), a.link_next_start, a.link_next, c, out[k], pred)
        return out
