"""SUMO networks in: import with sumolib, run, convert to a native scenario, run a .sumocfg.

Networks are built for each test with SUMO's own netconvert (from the ``eclipse-sumo`` wheel of the
``sumo`` extra) from small plain-XML node and edge files, so the tests see what real SUMO files
look like (internal lanes, joined connections, tlLogic programs).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sumolib = pytest.importorskip("sumolib", reason="sumolib not installed (pip install -e '.[sumo]')")
sumo = pytest.importorskip("sumo", reason="eclipse-sumo not installed (pip install -e '.[sumo]')")

from mobsim.errors import InputError  # noqa: E402
from mobsim.interop.sumo_net import read_sumo_network  # noqa: E402
from mobsim.net.netcheck import check_network  # noqa: E402

NODES = """<nodes>
  <node id="A" x="0" y="0" type="priority"/>
  <node id="B" x="200" y="0" type="traffic_light"/>
  <node id="C" x="400" y="0" type="priority"/>
  <node id="D" x="200" y="200" type="priority"/>
  <node id="E" x="200" y="-200" type="priority"/>
  <node id="F" x="600" y="0" type="priority"/>
  <node id="G" x="400" y="200" type="priority"/>
</nodes>
"""
# A signalised junction B, a priority junction C (G-C is a minor road), a bus lane on CF.
EDGES = """<edges>
  <edge id="AB" from="A" to="B" numLanes="2" speed="13.89"/>
  <edge id="BA" from="B" to="A" numLanes="2" speed="13.89"/>
  <edge id="BC" from="B" to="C" numLanes="2" speed="13.89" priority="3"/>
  <edge id="CB" from="C" to="B" numLanes="2" speed="13.89" priority="3"/>
  <edge id="DB" from="D" to="B" numLanes="1" speed="13.89"/>
  <edge id="BD" from="B" to="D" numLanes="1" speed="13.89"/>
  <edge id="EB" from="E" to="B" numLanes="1" speed="13.89"/>
  <edge id="BE" from="B" to="E" numLanes="1" speed="13.89"/>
  <edge id="CF" from="C" to="F" numLanes="2" speed="13.89" priority="3">
    <lane index="0" allow="bus"/>
  </edge>
  <edge id="FC" from="F" to="C" numLanes="1" speed="13.89" priority="3"/>
  <edge id="GC" from="G" to="C" numLanes="1" speed="8.33" priority="1"/>
  <edge id="CG" from="C" to="G" numLanes="1" speed="8.33" priority="1"/>
</edges>
"""


def netconvert(tmp: Path, nodes: str = NODES, edges: str = EDGES, extra: tuple[str, ...] = ()) -> Path:
    (tmp / "n.nod.xml").write_text(nodes)
    (tmp / "n.edg.xml").write_text(edges)
    exe = os.path.join(sumo.SUMO_HOME, "bin", "netconvert")
    out = tmp / "n.net.xml"
    r = subprocess.run([exe, "-n", str(tmp / "n.nod.xml"), "-e", str(tmp / "n.edg.xml"), "-o", str(out),
                        "--no-turnarounds", *extra], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return netconvert(tmp_path_factory.mktemp("sumo"))


def test_network_maps_edges_lanes_signals_and_priorities(net_file: Path) -> None:
    warnings: list[str] = []
    net = read_sumo_network(net_file, warnings=warnings)
    assert check_network(net) is not None  # passes mobsim's own network checks
    links = {lk.id: lk for lk in net.links}
    assert set(links) == {"AB", "BA", "BC", "CB", "DB", "BD", "EB", "BE", "CF", "FC", "GC", "CG"}
    assert links["AB"].lanes == 2
    assert links["CF"].lanes == 1, "the bus-only lane is not a car lane"
    # The junction's internal lanes are not lost: links leaving a junction start with its length.
    sn = sumolib.net.readNet(str(net_file))
    assert links["BC"].length > sn.getEdge("BC").getLength() + 5.0
    assert links["AB"].length == pytest.approx(sn.getEdge("AB").getLength())  # nothing flows into AB
    assert len(links["AB"].shape) >= 2
    control = {n.id: n.control for n in net.nodes}
    assert control["B"] == "signal" and control["C"] == "priority"
    (prog,) = [p for p in net.signals if p.node == "B"]
    assert len(prog.phases) >= 4 and all(len(ph.state) == len(prog.phases[0].state) for ph in prog.phases)
    assert sum(ph.duration for ph in prog.phases) == pytest.approx(90.0)
    kinds = {(m.from_link, m.to_link): m.kind for m in net.movements if m.node == "C"}
    assert kinds[("BC", "CF")] == "major"
    assert kinds[("GC", "CF")] == "minor", "the minor road yields"
    # Edges that end without a connection (no turnarounds) become destination-only links; at
    # dead-end junctions, where SUMO's edges end so too, without a warning.
    assert {n.id for n in net.nodes if "~end~" in n.id} == {"A~end~BA", "D~end~BD", "E~end~BE", "F~end~CF",
                                                             "G~end~CG"}
    assert not any("end without any connection" in w for w in warnings)


def test_run_on_imported_network(tmp_path: Path, net_file: Path) -> None:
    (tmp_path / "s.toml").write_text(f"""
[network]
sumo = "{net_file}"
[[demand.flows]]
id = "main"
from = "AB"
to = "CF"
end = 300
vehs_per_hour = 720
[[demand.flows]]
id = "side"
from = "GC"
to = "CB"
end = 300
vehs_per_hour = 360
[sim]
end = 600
""")
    from mobsim.cli import main

    out = tmp_path / "r.h5"
    assert main(["run", str(tmp_path / "s.toml"), "--out", str(out), "--progress", "none"]) == 0
    import mobsim

    k = mobsim.open(out).kpis()
    assert k["trips_completed"] == k["trips_loaded"] > 80
    assert k["collisions"] == 0 and k["teleports"] == 0


def test_bad_sumo_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.net.xml"
    bad.write_text("<net><edge id='x'")
    with pytest.raises(InputError) as exc:
        read_sumo_network(bad)
    assert "bad.net.xml" in str(exc.value) and "cannot read the SUMO network" in str(exc.value)
    with pytest.raises(InputError, match="does not exist"):
        read_sumo_network(tmp_path / "missing.net.xml")
    (tmp_path / "s.toml").write_text('[network]\nsumo = "bad.net.xml"\n')
    r = subprocess.run([sys.executable, "-m", "mobsim", "run", str(tmp_path / "s.toml")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and "bad.net.xml" in r.stderr and "Traceback" not in r.stderr


def test_network_source_must_be_one(tmp_path: Path, net_file: Path) -> None:
    from mobsim.scenario import load_scenario

    (tmp_path / "s.toml").write_text(f'[network]\nsumo = "{net_file}"\ngenerator = "grid"\n')
    with pytest.raises(InputError, match="exactly one of 'dir', 'generator' and 'sumo'"):
        load_scenario(tmp_path / "s.toml")


def _shipped(rel: str) -> Path:
    p = Path(sumo.SUMO_HOME) / "tools" / "game" / rel
    if not p.is_file():
        pytest.skip(f"{rel} is not shipped with this eclipse-sumo wheel")
    return p


#: SUMO 1.28 on the DRT city with the trips of ``random_trips(net, 1000, 900.0, seed=k)``, Krauss
#: with sigma 0, static signals: mean trip duration (s), every trip arrives in each (2 teleports
#: with seed 2, none with the others).
SUMO_CITY = {1: 128.3, 2: 175.2, 3: 128.1, 4: 127.8, 5: 132.9}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_real_osm_network_imports_and_runs_without_gridlock(tmp_path: Path, seed: int) -> None:
    """An OpenStreetMap-derived city network shipped with SUMO (740 car links, 17 signals) with
    the benchmark's dense demand (``bench.vs_sumo`` case ``city``: 1,000 random trips in 15
    minutes, seed 1, and other seeds of the same draw) and SUMO's default driver (Krauss, sigma
    0): every trip completes, nothing is teleported or removed, and the mean travel time is
    within 15 % of SUMO's on the same trips and network (:data:`SUMO_CITY`; seeds 1 to 5:
    134.0, 127.0, 135.0, 123.8, 139.6 s). Seed 3 had 2 teleports (140.4 s) until a change the
    route needs became urgent only where the lane's continuation along the route ends (SUMO's
    ``currentDist``) and a left turner waiting inside stopped waiting for a foe standing in a
    queue short of its crossing point. A left turner waiting inside a junction had waited for every
    movement whose internal lanes cross its way (the internal junction's ``intLanes``),
    vehicles still standing at their lines included, and they for it (SUMO's checks only the
    approaches it lists, its ``incLanes``); and only one left turner at a time waited inside,
    where SUMO's internal lanes hold two or three (``kernels.road.move.join_inside``); and a car
    crossing into a queue stood in the exit's first metres, which stand for the junction (SUMO's
    cars keep the junction clear): seeds 1 to 5 took 143.3, 142.2, 282.3 (935 trips, 37
    teleports), 152.3, 163.7 s before. Before the junction fixes of
    ``tests/test_junction_cases.py`` a gridlock loop next to the big cluster junction left 8
    trips unfinished and teleported 14 vehicles; until a standing foe before a full exit stopped
    holding its foes (``kernels.road.yielding.yield_blocked_at``), seeds 2, 4 and 5 locked (882, 1,000
    and 937 trips, 27, 15 and 11 teleports)."""
    import dataclasses

    from mobsim.demand.vtypes import VehicleType
    from mobsim.engine import Simulation
    from mobsim.interop.convert import random_trips
    from mobsim.scenario import scenario_from_objects

    w: list[str] = []
    net = read_sumo_network(_shipped("DRT/osm.net.xml"), warnings=w)
    assert len(net.links) > 500 and len(net.signals) > 10
    trips = random_trips(net, 1000, 900.0, seed=seed)
    assert len(trips) == 1000
    sc = scenario_from_objects(net, trips, settings={"sim.end": 1800.0})
    sc = dataclasses.replace(sc, vtypes=[VehicleType(cf_model="Krauss", sigma=0.0)])
    out = Simulation(sc, backend="cpu").run(out=tmp_path / "osm.h5", progress="none")
    import mobsim

    k = mobsim.open(out).kpis()
    assert k["trips_completed"] == len(trips)
    assert k["teleports"] == 0 and k["removed"] == 0 and k["collisions"] == 0
    assert k["mean_travel_time_s"] < 1.15 * SUMO_CITY[seed]
    if seed != 2:  # SUMO's run with seed 2 jams at one junction (2 teleports) and is 17 % slower
        assert k["mean_travel_time_s"] > 0.85 * SUMO_CITY[seed]


#: SUMO 1.28 on the same trips with mobsim's default IDM driver (exported with its parameters,
#: ``stepping`` = the step): (mean trip duration s, teleports); every trip arrives.
SUMO_CITY_IDM = {1: (173.4, 3), 2: (150.1, 0), 3: (153.5, 0), 4: (150.6, 0), 5: (166.3, 0)}


@pytest.mark.parametrize("seed", [1, 2, 4, pytest.param(3, marks=pytest.mark.xfail(
    reason="1,000 of 1,000 trips and 153.1 s (-0.3 %) but 3 teleports, where SUMO has none: a "
           "left turner waiting inside yields to a car whose rear stayed in the junction area "
           "of a full exit, and that exit's queue waits for the approach the left turner's "
           "queue fills (letting cars pass the waiter, tried, leaves the lock)", strict=True)),
    pytest.param(5, marks=pytest.mark.xfail(
        reason="1,000 of 1,000 trips and 159.8 s (-3.9 %) but 1 teleport, where SUMO has none, "
               "since queues back up into junctions whose links have no foes (SUMO's keepClear "
               "rule): on the 21.6 m link 143308549#2 before a signal a car in lane 1 that needs "
               "lane 0 finds no gap for 300 s in lane 0's queue, which the cars behind refill "
               "from the link before", strict=True))])
def test_real_osm_network_with_idm_drivers(tmp_path: Path, seed: int) -> None:
    """The DRT city of :func:`test_real_osm_network_imports_and_runs_without_gridlock` with
    mobsim's default IDM driver, in both simulators: every trip completes, with no more
    teleports than SUMO, and the mean travel time is within 15 % of SUMO's
    (:data:`SUMO_CITY_IDM`; seeds 1, 2, 4, 5: 142.3, 140.8, 159.2, 145.8 s; SUMO's own run
    with seed 1 jams, 3 teleports, and takes 18 % longer; seed 5 had 2 teleports and 179.3 s
    before SUMO's ``currentDist`` in the urgency of a lane change). Before left turners inside
    a junction stopped waiting for vehicles standing at lines SUMO does not check from there,
    could wait there two or three at a time, and cars kept the junction clear: 224.2, 289.5
    (20 teleports), 288.8 (8 teleports) s."""
    from mobsim.engine import Simulation
    from mobsim.interop.convert import random_trips
    from mobsim.scenario import scenario_from_objects

    net = read_sumo_network(_shipped("DRT/osm.net.xml"))
    sc = scenario_from_objects(net, random_trips(net, 1000, 900.0, seed=seed), settings={"sim.end": 1800.0})
    out = Simulation(sc, backend="cpu").run(out=tmp_path / "idm.h5", progress="none")
    import mobsim

    k = mobsim.open(out).kpis()
    tt, teleports = SUMO_CITY_IDM[seed]
    assert k["trips_completed"] == 1000 and k["teleports"] <= teleports and k["removed"] == 0
    assert k["mean_travel_time_s"] < 1.15 * tt
    if teleports == 0:  # where SUMO jams (seed 1), it is slower
        assert k["mean_travel_time_s"] > 0.85 * tt


def _osm_grid(path: Path) -> Path:
    """A synthetic OpenStreetMap extract: a 3 x 3 street grid (about 200 m blocks), signals at the centre."""
    lat0, lon0, dlat, dlon = 52.52, 13.40, 0.0018, 0.0030
    nodes, ways, ids = [], [], {}
    for i in range(3):
        for j in range(3):
            ids[(i, j)] = len(ids) + 1
            tag = '<tag k="highway" v="traffic_signals"/>' if (i, j) == (1, 1) else ""
            nodes.append(f'<node id="{ids[(i, j)]}" lat="{lat0 + i * dlat:.6f}" lon="{lon0 + j * dlon:.6f}" '
                         f'version="1">{tag}</node>')
    for k in range(3):
        row = "".join(f'<nd ref="{ids[(k, j)]}"/>' for j in range(3))
        col = "".join(f'<nd ref="{ids[(i, k)]}"/>' for i in range(3))
        ways.append(f'<way id="{100 + k}" version="1">{row}<tag k="highway" v="secondary"/></way>')
        ways.append(f'<way id="{200 + k}" version="1">{col}<tag k="highway" v="residential"/></way>')
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n' + "\n".join(nodes + ways)
                    + "\n</osm>\n")
    return path


def test_convert_osm_with_random_trips_runs(tmp_path: Path) -> None:
    from mobsim.cli import main

    osm = _osm_grid(tmp_path / "grid.osm")
    out = tmp_path / "scn"
    assert main(["convert", "osm", str(osm), "--out", str(out), "--random-trips", "60"]) == 0
    assert (out / "scenario.toml").is_file() and (out / "net" / "link.csv").is_file()
    assert not (tmp_path / "scn.partial").exists()
    res = tmp_path / "r.h5"
    assert main(["run", str(out), "--out", str(res), "--progress", "none"]) == 0
    import mobsim

    k = mobsim.open(res).kpis()
    assert k["trips_loaded"] == 60 and k["trips_completed"] == 60
    assert k["collisions"] == 0


def test_convert_osm_bad_input_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text("this is not xml")
    cmd = [sys.executable, "-m", "mobsim", "convert", "osm", str(bad), "--out", str(tmp_path / "o")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "bad.osm" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


ROUTES = """<routes>
  <vType id="car" carFollowModel="IDM" accel="2.0" decel="3.0" tau="1.2" minGap="2.0" length="5" delta="4"/>
  <route id="r1" edges="AB BC CF"/>
  <vehicle id="v0" depart="0" type="car" route="r1"/>
  <trip id="t0" depart="5" from="DB" to="BE" type="car"/>
  <flow id="f" begin="0" end="300" vehsPerHour="600" from="AB" to="BD" type="car"/>
  <flow id="g" begin="10" end="300" period="12" route="r1"/>
</routes>
"""


def _sumocfg(folder: Path, net_file: Path) -> Path:
    (folder / "r.rou.xml").write_text(ROUTES)
    cfg = folder / "x.sumocfg"
    cfg.write_text(f"""<configuration>
  <input><net-file value="{net_file}"/><route-files value="r.rou.xml"/></input>
  <time><begin value="0"/><end value="600"/><step-length value="0.5"/></time>
  <random_number><seed value="7"/></random_number>
</configuration>
""")
    return cfg


def test_run_sumocfg_and_convert_give_the_same_trips(tmp_path: Path, net_file: Path) -> None:
    import mobsim
    from mobsim.cli import main

    cfg = _sumocfg(tmp_path, net_file)
    direct = tmp_path / "direct.h5"
    assert main(["run", str(cfg), "--out", str(direct), "--progress", "none"]) == 0
    res = mobsim.open(direct)
    assert res.attrs["seed"] == 7 and res.attrs["dt"] == 0.5 and res.attrs["end"] == 600.0
    trips = res.trips
    # 1 vehicle + 1 trip + 50 (600 veh/h for 300 s) + 25 (every 12 s from 10 s) flow vehicles
    assert len(trips) == 77 and trips["arrival"].notna().all()
    assert {"v0", "t0", "f.0", "g.24"} <= set(trips["id"])
    # v0 follows its route AB BC CF: its distance is about the length of those three links.
    from mobsim.scenario import load_scenario

    links = {lk.id: lk.length for lk in load_scenario(cfg).network.links}
    v0 = trips.set_index("id").loc["v0"]
    assert v0["route_length"] == pytest.approx(links["AB"] + links["BC"] + links["CF"], rel=0.02)
    out = tmp_path / "native"
    assert main(["convert", "sumo", str(cfg), "--out", str(out)]) == 0
    converted = tmp_path / "conv.h5"
    assert main(["run", str(out), "--out", str(converted), "--progress", "none"]) == 0
    assert mobsim.open(converted).trips.equals(trips)


def test_sumocfg_errors(tmp_path: Path) -> None:
    from mobsim.scenario import load_scenario

    cfg = tmp_path / "x.sumocfg"
    cfg.write_text("<configuration><time><end value='10'/></time></configuration>")
    with pytest.raises(InputError, match="no net-file") as exc:
        load_scenario(cfg)
    assert "x.sumocfg" in str(exc.value)
    cfg.write_text("<configuration><input><net-file value='n.net.xml'/></input><time><end value='x'/></time>"
                   "</configuration>")
    with pytest.raises(InputError, match="not a time"):
        load_scenario(cfg)


def test_depart_lane_uses_sumo_lane_indices(tmp_path: Path, net_file: Path) -> None:
    """CF has a bus lane (SUMO index 0) and a car lane (SUMO index 1), imported as lane 0."""
    from mobsim.interop.sumo_demand import read_sumo_demand

    net = read_sumo_network(net_file)
    assert net.sumo_lanes["CF"] == (1,)
    links = {lk.id: lk for lk in net.links}
    rou = tmp_path / "r.rou.xml"
    rou.write_text('<routes><trip id="a" depart="0" from="CF" to="CF" departLane="1"/></routes>')
    _, trips = read_sumo_demand([rou], links, lane_map=net.sumo_lanes)
    assert trips[0].depart_lane == "0"
    rou.write_text('<routes><trip id="a" depart="0" from="CF" to="CF" departLane="0"/></routes>')
    with pytest.raises(InputError, match="not a lane that cars may use"):
        read_sumo_demand([rou], links, lane_map=net.sumo_lanes)


def test_imported_network_is_cached(tmp_path: Path, net_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second import of the same file comes from the cache (no parse), with the same network and
    warnings; an edited file is imported again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    local = tmp_path / "n.net.xml"
    local.write_bytes(net_file.read_bytes())
    w1: list[str] = []
    first = read_sumo_network(local, warnings=w1)
    assert list((tmp_path / "cache" / "mobsim" / "sumo-networks").glob("*.pickle"))

    def no_parse(*a: object, **k: object) -> None:
        raise RuntimeError("parsed again")

    from mobsim.interop import sumo_net

    monkeypatch.setattr(sumo_net, "scan_network", no_parse)
    w2: list[str] = []
    again = read_sumo_network(local, warnings=w2)
    assert again == first and w2 == w1
    local.write_bytes(net_file.read_bytes() + b"<!-- edited -->\n")
    with pytest.raises(RuntimeError, match="parsed again"):
        read_sumo_network(local)


def _readnet_scan(path: Path, source: str) -> object:
    """What ``mobsim.interop.sumo_scan.scan_network`` reads, taken from sumolib's full ``readNet`` parse
    instead."""
    from mobsim.interop.sumo_scan import Scan as _Scan

    net = sumolib.net.readNet(str(path), withInternal=True, withPrograms=True, withConnections=True,
                              withPedestrianConnections=False, withFoes=True)
    lengths: dict[str, float] = {}
    speeds: dict[str, float] = {}
    after: dict[str, str] = {}
    conns: list[tuple[str, ...]] = []
    special = set()
    perms: dict[str, tuple[str, str]] = {}
    every = sumolib.net.lane.SUMO_VEHICLE_CLASSES
    for e in net.getEdges(withInternal=True):
        function = e.getFunction()
        if function in ("crossing", "walkingarea", "connector"):
            special.add(e.getID())
            continue
        for ln in e.getLanes():
            allowed = {c for c in every if ln.allows(c)}
            if allowed != set(every):
                perms[ln.getID()] = (" ".join(sorted(allowed)), "") if allowed else ("", "all")
            if function == "internal":
                lengths[ln.getID()] = ln.getLength()
                speeds[ln.getID()] = ln.getSpeed()
            for c in ln.getOutgoing():
                if function == "internal":
                    if c.getViaLaneID():
                        after.setdefault(ln.getID(), c.getViaLaneID())
                    continue
                tl = c.getTLSID() or ""
                conns.append((e.getID(), str(ln.getIndex()), c.getTo().getID(), str(c.getToLane().getIndex()),
                              c.getViaLaneID() or "", tl, str(c.getTLLinkIndex()) if tl else "-1",
                              c.getDirection(), c.getState()))
    tl_params = {(tls.getID(), pid): dict(prog.getParams()) for tls in net.getTrafficLights()
                 for pid, prog in tls.getPrograms().items() if prog.getParams()}
    # request tables: sumolib keeps each junction's incLanes, the response ("prohibits") rows and
    # the foes rows
    inc_lanes = {n.getID(): list(n._incLanes) for n in net.getNodes() if n.getID()[:1] != ":"}
    requests = {n.getID(): dict(n._prohibits) for n in net.getNodes()
                if n.getID()[:1] != ":" and n._prohibits}
    foes = {n.getID(): dict(n._foes) for n in net.getNodes() if n.getID()[:1] != ":" and n._foes}
    # internal junctions (where a left turn waits inside the junction) and their foe lanes:
    # readNet does not keep them, sumolib's element parser reads them
    junctions = [j for j in sumolib.xml.parse(str(path), "junction") if j.type == "internal"]
    internal = {j.id: (j.intLanes or "").split() for j in junctions}
    internal_inc = {j.id: (j.incLanes or "").split() for j in junctions}
    return _Scan(net, conns, lengths, after, special, perms, tl_params, inc_lanes, requests, speeds, internal,
                 internal_inc, foes)


@pytest.mark.parametrize("which", ["built", "DRT/osm.net.xml", "bs3d/bs.net.xml"])
def test_one_pass_scan_gives_what_readnet_gives(which: str, net_file: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-pass expat scan (internal lanes, internal connections and request tables dropped
    before sumolib sees them; connections kept as tuples) gives the very network that sumolib's
    full ``readNet`` parse gives: same links and lengths (with the internal lanes' distance), the
    same movements in the same order, nodes, signals and warnings."""
    from mobsim.interop import sumo_net, sumo_scan

    path = net_file if which == "built" else _shipped(which)
    scan = sumo_scan.scan_network(path, str(path))
    assert len(scan.internal_length) > 10 and scan.internal_next is not None
    w_fast: list[str] = []
    fast = read_sumo_network(path, cache=False, warnings=w_fast)
    monkeypatch.setattr(sumo_net, "scan_network", _readnet_scan)
    w_full: list[str] = []
    full = read_sumo_network(path, cache=False, warnings=w_full)
    assert any(lk.length > 0 for lk in full.links)
    assert fast.links == full.links and fast.movements == full.movements
    assert fast.nodes == full.nodes and fast.signals == full.signals and w_fast == w_full
    # The distance through the junctions is there: links are longer than their lanes.
    lane_len = {e.getID(): e.getLength() for e in scan.net.getEdges()}
    assert sum(lk.length for lk in fast.links) > sum(lane_len[lk.id] for lk in fast.links) + 1.0


def test_inconsistent_connections_are_clear_errors(tmp_path: Path, net_file: Path) -> None:
    """A connection naming an edge or a lane that does not exist is an error naming the connection
    (SUMO's own reader fails on such files with a KeyError or an IndexError)."""
    text = net_file.read_text()
    i = text.index("<connection ")
    line = text[i:text.index("/>", i) + 2]
    for wrong, what in ((line.replace('to="', 'to="nowhere', 1), "does not exist"),
                        (line.replace('fromLane="0"', 'fromLane="7"', 1), "has no lane 7")):
        assert wrong != line
        bad = tmp_path / "bad.net.xml"
        bad.write_text(text.replace(line, wrong, 1))
        with pytest.raises(InputError, match=what) as exc:
            read_sumo_network(bad, cache=False)
        assert "bad.net.xml" in str(exc.value) and "connection from" in str(exc.value)
    bad.write_text(text.replace("</net>", "<edge id='x'"))
    with pytest.raises(InputError, match="not well-formed") as exc:
        read_sumo_network(bad, cache=False)
    # An edge ending at a junction the file does not define (sumolib then has no coordinates).
    i = text.index('<junction id="C"')
    bad.write_text(text[:i] + text[text.index("</junction>", i) + len("</junction>"):])
    with pytest.raises(InputError, match="junction 'C' is not defined, but edge") as exc:
        read_sumo_network(bad, cache=False)
    assert "bad.net.xml" in str(exc.value)
    bad.write_text(text.replace('length="', 'length="x', 1))
    with pytest.raises(InputError, match=r"\(line \d+\): ValueError"):
        read_sumo_network(bad, cache=False)


def test_bad_junction_type_and_lane_length_are_errors(tmp_path: Path, net_file: Path) -> None:
    """SUMO refuses a junction type it does not know: so does the import (not "run uncontrolled").
    A lane length that is not a positive number is an error naming the lane (netconvert writes
    at least 0.1 m; SUMO itself refuses NaN), not clamped; a short positive one is kept."""
    text = net_file.read_text()
    bad = tmp_path / "bad.net.xml"
    bad.write_text(text.replace('<junction id="C" type="priority"', '<junction id="C" type="trafic_light"'))
    assert bad.read_text() != text
    with pytest.raises(InputError, match="junction 'C' has type 'trafic_light'") as exc:
        read_sumo_network(bad, cache=False)
    assert "bad.net.xml" in str(exc.value)
    i = text.index('<lane id="AB_0"')
    j = text.index('length="', i) + len('length="')
    k = text.index('"', j)
    for value, shown in (("-5.00", "-5.0"), ("0", "0.0"), ("0.00", "0.0"), ("nan", "nan"), ("inf", "inf")):
        bad.write_text(text[:j] + value + text[k:])
        with pytest.raises(InputError, match=f"lane 'AB_0' has length {shown}, not a positive") as exc:
            read_sumo_network(bad, cache=False)
        assert "lane 'AB_0'" in str(exc.value)
    bad.write_text(text[:j] + "0.05" + text[k:])
    net = read_sumo_network(bad, cache=False)
    ab = next(lk for lk in net.links if lk.id == "AB")
    assert 0.05 < ab.length < float(text[j:k])


def test_permissions_follow_sumo() -> None:
    """SUMO's rule, where sumolib's ``Lane.allows`` differs: ``allow`` wins over ``disallow``,
    ``allow="all"`` admits every class, empty attributes are absent ones."""
    from mobsim.interop.sumo_net import permits

    assert permits(None, None, "passenger") and permits("", "", "passenger")
    assert permits("bus passenger", None, "passenger") and not permits("bus", None, "passenger")
    assert permits("all", None, "passenger") and permits("passenger", "passenger", "passenger")
    assert not permits(None, "passenger truck", "passenger") and permits(None, "bus", "passenger")
    assert not permits(None, "all", "passenger") and permits("", "bus", "passenger")


def test_connection_closed_by_its_internal_lane(tmp_path: Path, net_file: Path) -> None:
    """A connection whose internal (via) lane disallows cars is not a movement (SUMO's routers and
    vehicles skip it too), even between two car lanes."""
    text = net_file.read_text()
    m = re.search(r'<connection from="AB" to="BC" fromLane="(\d)" toLane="(\d)" via="([^"]+)"', text)
    assert m
    via = m.group(3)
    i = text.index(f'<lane id="{via}"')
    bad = tmp_path / "closed.net.xml"
    bad.write_text(text[:i] + f'<lane id="{via}" disallow="passenger"' + text[i + len(f'<lane id="{via}"'):])
    before = read_sumo_network(net_file, cache=False)
    warnings: list[str] = []
    after = read_sumo_network(bad, cache=False, warnings=warnings)
    key = ("AB", int(m.group(1)), "BC")
    assert len(after.movements) == len(before.movements) - 1
    assert any("1 connection(s) between 'passenger' lanes that their own permissions" in w for w in warnings)
    lanes = before.sumo_lanes["AB"]
    assert (key[0], lanes.index(key[1]), key[2]) not in {(mv.from_link, mv.from_lane, mv.to_link)
                                                         for mv in after.movements}
