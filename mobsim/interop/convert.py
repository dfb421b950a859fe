"""``mobsim convert``: turn SUMO inputs into a native mobsim scenario folder.

``mobsim convert sumo city.sumocfg --out DIR`` (or ``mobsim convert sumo city.net.xml
city.rou.xml ... --out DIR``) reads the SUMO files as ``mobsim run`` does and writes::

    DIR/scenario.toml     vehicle types, demand and the simulation settings
    DIR/net/              the network as GMNS-style CSV (node, link, movement, signal tables)
    DIR/trips.csv         one row per vehicle (flows expanded), with SUMO's fixed routes

so the scenario runs without sumolib and can be edited like any mobsim scenario.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mobsim.errors import InputError
from mobsim.settings import format_value


def write_native(sc: Any, out: str | Path) -> Path:
    """Write scenario ``sc`` as a native scenario folder ``out`` (see the module docstring)."""
    from mobsim.demand.sources import write_trips
    from mobsim.net.netio import write_network

    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    write_network(sc.network, tmp / "net")
    write_trips(sc.trips, tmp / "trips.csv")
    s = sc.settings
    lines = ["# Converted by mobsim convert sumo from: " + sc.network.source, "",
             "[scenario]", f"name = {format_value(sc.name)}", "", "[network]", 'dir = "net"', ""]
    for v in sc.vtypes:
        lines.append("[[vtypes]]")
        lines += [f"{k} = {format_value(val)}" for k, val in v.as_dict().items()]
        lines.append("")
    lines += ["[demand]", 'trips = "trips.csv"', "", "[sim]"]
    for key in ("sim.begin", "sim.end", "sim.dt", "sim.seed"):
        lines.append(f"{key.split('.', 1)[1]} = {format_value(s[key])}")
    (tmp / "scenario.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out / "scenario.toml"


#: netconvert options for an urban car network from OpenStreetMap (see ``convert_osm``).
NETCONVERT_OSM_OPTIONS = (
    "--geometry.remove",             # straight runs of OSM nodes become one edge with a shape
    "--roundabouts.guess", "--ramps.guess",
    "--junctions.join",              # one junction for the cluster of OSM nodes at a crossing
    "--tls.guess-signals", "--tls.discard-simple", "--tls.join",
    "--tls.default-type", "static",  # mobsim runs fixed-time programs
    "--keep-edges.by-vclass", "passenger",
    "--remove-edges.isolated",
    "--no-turnarounds.except-deadend",  # U-turns only where a street ends
    "--output.street-names",
)


def sumo_tool(name: str) -> str:
    """Path of a SUMO program (``netconvert``, ``sumo``): the ``eclipse-sumo`` wheel's, else one on PATH."""
    import os

    try:
        import sumo

        exe = os.path.join(sumo.SUMO_HOME, "bin", name)
        if os.path.isfile(exe):
            return exe
    except ImportError:
        pass
    exe = shutil.which(name)
    if exe:
        return exe
    raise InputError(f"SUMO's {name} was not found", source=name,
                     fix="pip install -e '.[sumo]' (the eclipse-sumo wheel ships it)")


def netconvert_binary() -> str:
    """Path of SUMO's netconvert (see :func:`sumo_tool`)."""
    return sumo_tool("netconvert")


def convert_osm(osm: str | Path, net_out: str | Path) -> Path:
    """Build a SUMO network ``net_out`` from a local OpenStreetMap XML file with netconvert
    (:data:`NETCONVERT_OSM_OPTIONS`); nothing is downloaded."""
    import subprocess

    osm = Path(osm)
    if not osm.is_file():
        raise InputError("OpenStreetMap file not found", source=str(osm),
                         fix="give a local .osm or .osm.xml file")
    net_out = Path(net_out)
    cmd = [netconvert_binary(), "--osm-files", str(osm), "--output-file", str(net_out),
           *NETCONVERT_OSM_OPTIONS]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 or not net_out.is_file():
        tail = (r.stderr or r.stdout).strip().splitlines()[-5:]
        raise InputError("netconvert could not build a network: " + " / ".join(tail), source=str(osm),
                         fix="check that the file is OpenStreetMap XML with car roads (highway=* ways)")
    return net_out


def random_trips(net: Any, n: int, end: float, seed: int = 1) -> list[Any]:
    """``n`` trips between random links of ``net`` that reach each other over at least three
    links, departing uniformly in ``[0, end)`` s (rounded to 0.1 s); SUMO's randomTrips.py in
    spirit. Origins and destinations are drawn in proportion to link length."""
    import numpy as np

    from mobsim.demand.routing import shortest_routes
    from mobsim.demand.trips import Trip
    from mobsim.net.compile import compile_network

    cn = compile_network(net)
    a = cn.arrays
    rng = np.random.default_rng(seed)
    p = a.link_len / a.link_len.sum()
    cost = a.link_len / a.link_speed
    trips: list[Trip] = []
    tries = 0
    while len(trips) < n and tries < 50:
        tries += 1
        m = 2 * (n - len(trips))
        o = rng.choice(len(p), size=m, p=p)
        d = rng.choice(len(p), size=m, p=p)
        # Candidates are taken in order; route only as many as are likely needed (routing is
        # most of the cost), then more of the same draws if too few reach their destination.
        lo = 0
        while lo < m and len(trips) < n:
            need = n - len(trips)
            hi = min(m, lo + need + need // 8 + 16)
            _, _, lengths = shortest_routes(cn, o[lo:hi], d[lo:hi], cost)
            for k in np.nonzero((lengths >= 3) & (o[lo:hi] != d[lo:hi]))[0] + lo:
                if len(trips) == n:
                    break
                trips.append(Trip(f"r{len(trips)}", cn.link_ids[o[k]], cn.link_ids[d[k]],
                                  round(float(rng.uniform(0.0, end)), 1)))
            lo = hi
    if len(trips) < n:
        raise InputError(f"only {len(trips)} of {n} random trips found a route", source=net.source,
                         fix="the network is too fragmented for random trips")
    return sorted(trips, key=lambda t: (t.depart, t.id))
