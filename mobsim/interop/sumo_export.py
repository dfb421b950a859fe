"""Export a mobsim scenario for SUMO, so that any scenario can be run in SUMO for comparison.

``mobsim convert to-sumo scenario.toml --out DIR`` writes::

    DIR/<name>.nod.xml, .edg.xml, .con.xml, .tll.xml   plain-XML network (netconvert's input)
    DIR/<name>.net.xml                                 built from them with SUMO's netconvert
    DIR/<name>.rou.xml                                 vTypes (their model and parameters) and
                                                       vehicles with mobsim's routes
    DIR/<name>.sumocfg                                 begin, end, step-length, seed, update method

Mapping: nodes keep their coordinates; signal nodes become ``traffic_light`` junctions whose
program is mobsim's (phases, durations, offset; actuated ones with minDur, maxDur, next and
their max-gap, detector-gap and passing-time), every movement a connection with
``linkIndex`` = its signal index; priority nodes become ``priority`` (``priority_stop`` where a
movement is a stop movement, ``zipper`` where one is a zipper movement), right of way following
the link priorities; other nodes
``priority``. Links keep length (m), speed (m/s), lanes, priority and shape. Vehicle types keep
their car-following model: IDM types with mobsim's parameters, ``sigma = 0`` and ``stepping`` =
the step (SUMO's IDM otherwise integrates in internal sub-steps of 0.25 s, mobsim in one step per
``sim.dt``); Krauss types with their ``sigma``. Speed deviation is kept (``speedDev``). Routes
are the ones mobsim computes at set-up (free-flow shortest paths, or the trips' own), so both
simulators drive the same paths. SUMO's position update is global: Euler (SUMO's default, as
mobsim moves Krauss types) when every type is Krauss, else ballistic (as mobsim moves IDM types).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.demand.trips import DEPART_POS_WORDS
from mobsim.errors import InputError
from mobsim.interop.sumo_transit import bus_stops, persons, service_elements, vtype_extra
from mobsim.interop.sumo_vtypes import ACC_ATTRS, CACC_ATTRS
from mobsim.interop.sumo_xml import xml_attrs

_a = xml_attrs


def _write(path: Path, root: str, lines: list[str]) -> Path:
    body = "\n".join(lines)
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n{body}\n</{root}>\n'
    path.write_text(text, encoding="utf-8")
    return path


def export_network(net: Any, folder: Path, name: str) -> dict[str, Path]:
    """Plain-XML network files of ``net`` in ``folder``; returns them by kind."""
    stop_nodes = {m.node for m in net.movements if m.kind == "stop"}
    zipper_nodes = {m.node for m in net.movements if m.kind == "zipper"}
    nodes = []
    for n in net.nodes:
        prio = "zipper" if n.id in zipper_nodes else "priority_stop" if n.id in stop_nodes else "priority"
        jtype = {"signal": "traffic_light", "priority": prio}
        kind = jtype.get(n.control, "priority")
        nodes.append(f"  <node {_a(id=n.id, x=float(n.x), y=float(n.y), type=kind)}/>")
    edges = []
    for lk in net.links:
        attrs = _a(id=lk.id, from_=lk.from_node, to=lk.to_node, numLanes=lk.lanes, speed=float(lk.speed),
                   priority=lk.priority, length=float(lk.length))
        if lk.shape:
            attrs += " " + _a(shape=" ".join(f"{x!r},{y!r}" for x, y in lk.shape))
        edges.append(f"  <edge {attrs}/>")
    control = {n.id: n.control for n in net.nodes}
    cons = []
    tl_cons = []
    for m in net.movements:
        c = _a(from_=m.from_link, to=m.to_link, fromLane=m.from_lane, toLane=m.to_lane)
        cons.append(f"  <connection {c}/>")
        if control[m.node] == "signal":
            tl_cons.append(f"  <connection {c} {_a(tl=m.node, linkIndex=m.signal_index)}/>")
    tls = []
    for p in net.signals:
        head = _a(id=p.node, type=p.kind, programID=p.program_id, offset=float(p.offset))
        tls.append(f"  <tlLogic {head}>")
        for ph in p.phases:
            attrs = _a(duration=float(ph.duration), state=ph.state)
            if p.kind in ("actuated", "delay_based"):
                attrs += " " + _a(minDur=float(ph.duration if ph.min_dur is None else ph.min_dur),
                                  maxDur=float(ph.duration if ph.max_dur is None else ph.max_dur))
                if ph.next >= 0:
                    attrs += " " + _a(next=ph.next)
            tls.append(f"    <phase {attrs}/>")
        params: tuple[tuple[str, float], ...] = ()
        if p.kind == "actuated":
            params = (("max-gap", p.max_gap), ("detector-gap", p.detector_gap),
                      ("passing-time", p.passing_time))
        elif p.kind == "delay_based":
            params = (("detectorRange", p.detector_range), ("minTimeloss", p.min_time_loss))
        tls += [f"    <param {_a(key=k, value=float(v))}/>" for k, v in params]
        if p.kind == "delay_based" and p.extend_max_dur:
            tls.append(f"    <param {_a(key='extendMaxDur', value='true')}/>")
        tls.append("  </tlLogic>")
    tls += tl_cons
    return {
        "nod": _write(folder / f"{name}.nod.xml", "nodes", nodes),
        "edg": _write(folder / f"{name}.edg.xml", "edges", edges),
        "con": _write(folder / f"{name}.con.xml", "connections", cons),
        "tll": _write(folder / f"{name}.tll.xml", "tlLogics", tls),
    }


def build_net(files: dict[str, Path], out: Path, internal_links: bool = True) -> Path:
    """Run netconvert on the plain-XML files; SUMO's own junction geometry, no extra connections.

    ``internal_links=False``: no internal junction lanes (netconvert's ``--no-internal-links``),
    so that vehicles cross a junction at once, as in mobsim, and the two networks have the same
    distances; with them a route is longer in SUMO by the junctions' internal lanes (about 14 m
    per junction of a two-lane street grid), which shifts every platoon's arrival at the next
    signal."""
    from mobsim.interop.convert import netconvert_binary

    cmd = [netconvert_binary(), "--node-files", str(files["nod"]), "--edge-files", str(files["edg"]),
           "--connection-files", str(files["con"]), "--tllogic-files", str(files["tll"]),
           "--output-file", str(out), "--no-turnarounds", "--offset.disable-normalization", "true"]
    if not internal_links:
        cmd += ["--no-internal-links", "true"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 or not out.is_file():
        tail = (r.stderr or r.stdout).strip().splitlines()[-5:]
        raise InputError("netconvert could not build the exported network: " + " / ".join(tail),
                         source=str(files["nod"]), fix="report this network as a mobsim export bug")
    return out


@dataclass(frozen=True)
class RoutedDemand:
    """The vehicle types and trips of a scenario with the routes mobsim computes for them (the
    route service, :func:`mobsim.demand.routing.route_trips`): route ``k`` is
    ``route_links[route_start[k]:route_end[k]]``, link indices of ``link_ids``."""

    vtypes: list[Any]
    trips: list[Any]
    link_ids: list[str]
    route_links: np.ndarray
    route_start: np.ndarray
    route_end: np.ndarray
    dt: float
    #: The transit plan whose services are among ``trips`` (:mod:`mobsim.demand.transit`), or None.
    transit: Any = None


def routed_demand(sc: Any) -> RoutedDemand:
    """Every trip of scenario ``sc`` routed as a run routes it at set-up (free-flow travel times;
    trips without a route get their shortest route now, also those a run would route when due);
    trips whose destination is unreachable are left out where ``demand.unreachable = "drop"``."""
    from mobsim.demand.routing import route_trips
    from mobsim.demand.vtypes import VehicleType
    from mobsim.net.compile import compile_network

    cn = compile_network(sc.network)
    trips = list(sc.trips)
    plan = getattr(sc, "transit", None)
    if plan is not None:
        from mobsim.demand.route_service import RouteService
        from mobsim.demand.transit import service_trips

        speeds = {lk.id: float(lk.speed) for lk in sc.network.links}
        trips += service_trips(plan, RouteService(cn), speeds, {v.id: v for v in sc.vtypes})
    rl, rs, re_, dropped = route_trips(cn, trips, unreachable=sc.settings.get("demand.unreachable", "error"),
                                       source=str(getattr(sc, "path", "demand")))
    if dropped:
        keep = np.ones(len(trips), bool)
        keep[dropped] = False
        trips = [t for t, k in zip(trips, keep, strict=True) if k]
        rs, re_ = rs[keep], re_[keep]
    return RoutedDemand(list(sc.vtypes) or [VehicleType()], trips, list(cn.link_ids), rl, rs, re_,
                        float(sc.settings["sim.dt"]), plan)


def export_routes(demand: RoutedDemand, path: Path, stepping: float | None = None) -> Path:
    """vTypes and vehicles with the routes mobsim computed (:func:`routed_demand`).

    ``stepping`` (s): SUMO's internal IDM integration step; default ``demand.dt``, one step per
    simulation step as in mobsim."""
    lines = []
    step = float(demand.dt if stepping is None else stepping)
    for v in demand.vtypes:
        attrs = _a(id=v.id, carFollowModel=v.cf_model, accel=float(v.accel), decel=float(v.decel),
                   emergencyDecel=float(v.emergency_decel), tau=float(v.tau), minGap=float(v.min_gap),
                   length=float(v.length), maxSpeed=float(v.max_speed), speedFactor=float(v.speed_factor),
                   speedDev=float(v.speed_dev))
        if v.cf_model == "IDM":
            attrs += " " + _a(delta=float(v.delta), sigma=0.0, stepping=step)
        elif v.cf_model in ("ACC", "CACC"):
            names = ACC_ATTRS | CACC_ATTRS if v.cf_model == "CACC" else ACC_ATTRS
            attrs += " " + _a(**{sumo: float(getattr(v, name)) for sumo, name in names.items()})
        else:
            attrs += " " + _a(sigma=float(v.sigma))
        if demand.transit is not None and vtype_extra(demand.transit, v.id):
            attrs += " " + vtype_extra(demand.transit, v.id)
        lines.append(f"  <vType {attrs}/>")
    ids = demand.link_ids
    rl = demand.route_links
    for k, t in enumerate(demand.trips):
        route = " ".join(ids[int(x)] for x in rl[demand.route_start[k]:demand.route_end[k]])
        lane = {"best": "best", "first": "first"}.get(t.depart_lane, t.depart_lane)
        speed = "max" if t.depart_speed == "max" else t.depart_speed
        attrs = _a(id=t.id, depart=float(t.depart), type=t.vtype, departLane=lane, departSpeed=speed)
        if t.depart_pos != "base":
            word = t.depart_pos in DEPART_POS_WORDS
            attrs += " " + _a(departPos=t.depart_pos if word else float(t.depart_pos))
        stops: list[str] = []
        if t.stops and demand.transit is not None:
            line, stops = service_elements(demand.transit, t)
            attrs += " " + line
        lines.append(f"  <vehicle {attrs}>")
        lines.append(f"    <route {_a(edges=route)}/>")
        lines += stops
        lines.append("  </vehicle>")
    return _write(path, "routes", lines)


def export_scenario(sc: Any, out: str | Path, internal_links: bool = True) -> Path:
    """Write scenario ``sc`` as SUMO files into folder ``out``; returns the ``.sumocfg`` path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = sc.name
    files = export_network(sc.network, out, name)
    net = build_net(files, out / f"{name}.net.xml", internal_links)
    demand = routed_demand(sc)
    rou = export_routes(demand, out / f"{name}.rou.xml")
    s = sc.settings
    routes, extra = rou.name, ""
    if demand.transit is not None:
        from mobsim.demand.transit import passenger_rows

        add = _write(out / f"{name}.add.xml", "additional", bus_stops(demand.transit))
        pax = _write(out / f"{name}.pax.rou.xml", "routes",
                     persons(demand.transit, passenger_rows(demand.transit, int(s["sim.seed"]),
                                                            float(s["sim.end"]))))
        routes = f"{rou.name},{pax.name}"
        extra = f'\n    <additional-files value="{add.name}"/>'
    s = sc.settings
    euler = all(v.cf_model in ("Krauss", "ACC", "CACC") for v in demand.vtypes)
    cfg = out / f"{name}.sumocfg"
    cfg.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <input>
    <net-file value="{net.name}"/>
    <route-files value="{routes}"/>{extra}
  </input>
  <time>
    <begin value="{s['sim.begin']!r}"/>
    <end value="{s['sim.end']!r}"/>
    <step-length value="{s['sim.dt']!r}"/>
  </time>
  <processing>
    <step-method.ballistic value="{'false' if euler else 'true'}"/>
  </processing>
  <random_number>
    <seed value="{int(s['sim.seed'])}"/>
  </random_number>
</configuration>
""", encoding="utf-8")
    return cfg
