"""The routes of SUMO demand as mobsim reads them: edges checked against the network's links and
connections, named routes and route distributions, and each vehicle's route choices (the part of
the demand importer in :mod:`mobsim.interop.sumo_demand` that reads routes)."""

from __future__ import annotations

import numpy as np

from mobsim.errors import InputError
from mobsim.interop.sumo_xml import Elem, listed, number, probabilities
from mobsim.settings import suggest


class RouteError(InputError):
    """A broken route (unknown edge or route, edges without a connection): dropped, not fatal, with
    ``route_errors="drop"`` (SUMO's ``--ignore-route-errors``)."""


#: One route choice of a vehicle: (origin, destination, route edges; () = routed by mobsim), or the
#: error of a broken route (``route_errors="drop"``: vehicles that draw it are dropped).
RouteChoice = tuple[str, str, tuple[str, ...]] | RouteError


class RouteReader:
    """The route part of the SUMO demand importer (a mixin of its importer class, which holds the
    links, their connections, the named routes and the warnings)."""

    def edge(self, edge: str, source: str, element: str, attr: str) -> str:
        if edge not in self.links:
            raise RouteError(f"{attr}: unknown edge '{edge}'{suggest(edge, self.links)}", source=source,
                              element=element, fix="use an edge id of the imported network")
        return edge

    def edges(self, text: str | None, source: str, element: str) -> tuple[str, ...]:
        """The edge list of a route, each edge in the network and connected to the one before."""
        route = tuple((text or "").split())
        if not route:
            raise InputError("route without edges", source=source, element=element,
                             fix='list the route\'s edges: edges="e1 e2 ..."')
        for e in route:
            self.edge(e, source, element, "route")
        for a, b in zip(route, route[1:], strict=False):
            if self.successors is not None:
                # As SUMO: consecutive edges must be joined by a connection (a movement).
                if b not in self.successors.get(a, ()):
                    raise RouteError(f"route is not connected: no connection from edge '{a}' to edge "
                                      f"'{b}'", source=source, element=element,
                                      fix="list every edge of the route in driving order, each one "
                                          "reachable from the one before by a connection")
                continue
            # No connections given: links of a mobsim network know their nodes; check where both do.
            to_node = getattr(self.links[a], "to_node", None)
            from_node = getattr(self.links[b], "from_node", None)
            if to_node is not None and from_node is not None and to_node != from_node:
                raise RouteError(f"route is not contiguous: edge '{a}' ends at '{to_node}', edge '{b}' "
                                  f"starts at '{from_node}'", source=source, element=element,
                                  fix="list every edge of the route in driving order")
        return route

    def checked_edges(self, text: str | None, source: str, element: str) -> tuple[str, ...] | RouteError:
        """:meth:`edges`, or (``route_errors="drop"``) the error of a broken route."""
        try:
            return self.edges(text, source, element)
        except RouteError as exc:
            if not self.drop_route_errors:
                raise
            return exc

    def route(self, el: Elem) -> None:
        rid = el.attrs.get("id", "")
        if not rid:
            raise InputError("route without id outside a vehicle", source=el.source, element="route",
                             fix="give the route an id, or nest it in its vehicle")
        if rid in self.routes or rid in self.route_dists:
            first = self.route_source[rid]
            raise InputError(f"duplicate route (or routeDistribution) id '{rid}' (first in {first})",
                             source=el.source, element=el.label, fix="make route ids unique")
        if number(el.attrs.get("repeat", "0"), "repeat", el.source, el.label) > 0:
            raise InputError("repeated routes (repeat) are not supported", source=el.source,
                             element=el.label, fix="write the repeated edges out, or use a flow")
        self.route_source[rid] = el.source
        self.route_prob[rid] = el.attrs.get("probability", "1")
        self.routes[rid] = self.checked_edges(el.attrs.get("edges"), el.source, el.label)

    def route_ref(self, rid: str, source: str, element: str) -> RouteChoice:
        if rid not in self.routes:
            raise RouteError(f"unknown route '{rid}'{suggest(rid, [*self.routes, *self.route_dists])}",
                              source=source, element=element,
                              fix="define the route (<route id=... edges=...>)")
        r = self.routes[rid]
        return r if isinstance(r, RouteError) else (r[0], r[-1], r)

    def route_dist(self, el: Elem, source: str, element: str) -> tuple[list[RouteChoice], np.ndarray]:
        """The routes and probabilities of a ``<routeDistribution>`` (top-level or nested)."""
        paths: list[RouteChoice] = []
        probs: list[str] = []
        for child in el.kids("route"):
            if "refId" in child.attrs:
                ref = child.attrs["refId"]
                paths.append(self.route_ref(ref, source, element))
                probs.append(child.attrs.get("probability", self.route_prob.get(ref, "1")))
            elif "id" in child.attrs and child.attrs["id"] in self.routes:
                # a named route of a top-level distribution, defined by route() already
                paths.append(self.route_ref(child.attrs["id"], source, element))
                probs.append(child.attrs.get("probability", "1"))
            else:
                r = self.checked_edges(child.attrs.get("edges"), source, element)
                paths.append(r if isinstance(r, RouteError) else (r[0], r[-1], r))
                probs.append(child.attrs.get("probability", "1"))
        if "routes" in el.attrs:
            names, given = listed(el.attrs, "routes", source, element)
            for k, ref in enumerate(names):
                paths.append(self.route_ref(ref, source, element))
                probs.append(given[k] if given else self.route_prob.get(ref, "1"))
        if not paths:
            raise InputError("routeDistribution without routes", source=source, element=element,
                             fix='nest <route edges="..." probability="..."/> elements or give routes="a b"')
        return paths, probabilities(probs, source, element)

    def top_route_dist(self, el: Elem) -> None:
        did = el.attrs.get("id", "")
        if not did:
            raise InputError("routeDistribution without id outside a vehicle", source=el.source,
                             element="routeDistribution", fix="give the routeDistribution an id")
        if did in self.routes or did in self.route_dists:
            raise InputError(f"duplicate route (or routeDistribution) id '{did}' (first in "
                             f"{self.route_source[did]})", source=el.source, element=el.label,
                             fix="make route ids unique")
        self.route_source[did] = el.source
        self.route_dists[did] = self.route_dist(el, el.source, el.label)

    # ---------------------------------------------------------------- vehicles, trips, flows

    def paths(self, el: Elem) -> tuple[list[RouteChoice], np.ndarray]:
        """The route choices of a vehicle, trip or flow and their probabilities; a route ``()``:
        mobsim routes from origin to destination."""
        source, label, a = el.source, el.label, el.attrs
        nested = el.kids("route")
        nested_dist = el.kids("routeDistribution")
        if len(nested) + len(nested_dist) + ("route" in a) > 1:
            raise InputError("more than one of a route attribute, a nested <route> and a nested "
                             "<routeDistribution>", source=source, element=label,
                             fix="give one route (or one routeDistribution) per vehicle")
        one = np.ones(1)
        if nested:
            r = self.edges(nested[0].attrs.get("edges"), source, label)
            return [(r[0], r[-1], r)], one
        if nested_dist:
            return self.route_dist(nested_dist[0], source, label)
        if "route" in a:
            rid = a["route"]
            if rid in self.route_dists:
                return self.route_dists[rid]
            path = self.route_ref(rid, source, label)
            if isinstance(path, RouteError):
                raise path
            return [path], one
        if "from" in a or "to" in a:
            if "from" not in a or "to" not in a:
                missing = "to" if "from" in a else "from"
                raise InputError(f"'{missing}' is missing", source=source, element=label,
                                 fix="give both from and to edges (or a route)")
            origin = self.edge(a["from"], source, label, "from")
            destination = self.edge(a["to"], source, label, "to")
            if a.get("via", "").split():
                for e in a["via"].split():
                    self.edge(e, source, label, "via")
                self.warn.add(source, "via", label)
            return [(origin, destination, ())], one
        other = [k for k in ("fromTaz", "toTaz", "fromJunction", "toJunction", "fromXY", "toXY",
                             "fromLonLat", "toLonLat") if k in a]
        what = (f"{', '.join(other)} is not supported" if other
                else "neither a route nor from/to edges")
        raise InputError(what, source=source, element=label,
                         fix='give route="id", a nested <route edges=...>, or from/to edges')
