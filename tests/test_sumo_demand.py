"""SUMO demand import (mobsim.interop.sumo_demand): vTypes, routes, vehicles, trips, flows, errors."""

from __future__ import annotations

import dataclasses
import gzip
import math
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("sumolib")

from mobsim.demand.vtypes import VehicleType  # noqa: E402
from mobsim.errors import InputError  # noqa: E402
from mobsim.interop.sumo_demand import (  # noqa: E402
    SUMO_DEFAULT_VTYPE,
    parse_time,
    read_sumo_demand,
    sumo_default_vtype,
)

# a -> b -> c in a row, d a side road into b's end node; lanes as given.
LINKS = {
    "a": SimpleNamespace(lanes=2, from_node="n0", to_node="n1", length=100.0),
    "b": SimpleNamespace(lanes=1, from_node="n1", to_node="n2"),
    "c": SimpleNamespace(lanes=3, from_node="n2", to_node="n3"),
    "d": SimpleNamespace(lanes=1, from_node="n9", to_node="n2"),
}


def write(tmp_path: Path, body: str, name: str = "demand.rou.xml") -> Path:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<routes>\n{body}\n</routes>\n')
    return path


def load(tmp_path: Path, body: str, **kw):
    warnings: list[str] = []
    vtypes, trips = read_sumo_demand([write(tmp_path, body)], LINKS, warnings=warnings, **kw)
    return vtypes, trips, warnings


def error(tmp_path: Path, body: str, *fragments: str, **kw) -> InputError:
    """Import ``body``, expect an InputError naming the file and every fragment."""
    path = write(tmp_path, body)
    with pytest.raises(InputError) as info:
        read_sumo_demand([path], LINKS, **kw)
    msg = str(info.value)
    assert str(path) in msg
    for f in fragments:
        assert f in msg, (f, msg)
    return info.value


# ------------------------------------------------------------------ vehicles, routes, trips


def test_vehicles_with_named_and_nested_routes(tmp_path):
    _, trips, _ = load(tmp_path, """
        <vType id="t"/>
        <route id="r1" edges="a b c"/>
        <vehicle id="v2" type="t" depart="5" route="r1"/>
        <vehicle id="v1" type="t" depart="1.5"><route edges="d c"/></vehicle>
        <vehicle id="v0" type="t" depart="5" route="r1"/>""")
    assert [t.id for t in trips] == ["v1", "v0", "v2"]  # sorted by (depart, id)
    v1, v0, _ = trips
    assert (v1.origin, v1.destination, v1.route, v1.depart) == ("d", "c", ("d", "c"), 1.5)
    assert (v0.origin, v0.destination, v0.route, v0.vtype) == ("a", "c", ("a", "b", "c"), "t")


def test_trip_from_to_is_routed_by_mobsim_and_via_warns(tmp_path):
    _, trips, warnings = load(tmp_path, """
        <trip id="t1" depart="0:01:00" from="a" to="c"/>
        <trip id="t2" depart="3" from="a" to="c" via="b"/>""")
    assert [(t.id, t.origin, t.destination, t.route, t.depart) for t in trips] == [
        ("t2", "a", "c", (), 3.0), ("t1", "a", "c", (), 60.0)]
    assert any("via" in w and "1 trip" in w for w in warnings)


def test_default_vtype_and_sumo_insertion_defaults(tmp_path):
    vtypes, trips, _ = load(tmp_path, '<trip id="t" depart="0" from="a" to="b"/>')
    assert trips[0].vtype == SUMO_DEFAULT_VTYPE
    # SUMO's defaults when departLane/departSpeed are absent (best_prob, avg) run as best, max.
    assert (trips[0].depart_lane, trips[0].depart_speed) == ("best", "max")
    (vt,) = vtypes
    # SUMO's passenger defaults, Krauss with sigma 0.5 (SUMOVTypeParameter.cpp)
    assert vt == VehicleType(id=SUMO_DEFAULT_VTYPE, length=5.0, min_gap=2.5, accel=2.6, decel=4.5,
                             emergency_decel=9.0, tau=1.0, max_speed=200 / 3.6, speed_factor=1.0,
                             speed_dev=0.1, delta=4.0, cf_model="Krauss", sigma=0.5)
    vt.validate(0.1)  # mobsim accepts SUMO's passenger defaults


def test_vtypes_and_routes_may_come_from_another_file(tmp_path):
    types = write(tmp_path, '<vType id="t" accel="1.5"/><route id="r" edges="a b"/>', "types.add.xml")
    veh = write(tmp_path, '<vehicle id="v" type="t" route="r" depart="0"/>', "veh.rou.xml")
    vtypes, trips = read_sumo_demand([veh, types], LINKS)
    assert [v.id for v in vtypes] == ["t"] and trips[0].route == ("a", "b")


def test_gzip_input(tmp_path):
    plain = write(tmp_path, '<vehicle id="v" depart="2"><route edges="a b"/></vehicle>')
    gz = tmp_path / "demand.rou.xml.gz"
    with gzip.open(gz, "wb") as f:
        f.write(plain.read_bytes())
    _, trips = read_sumo_demand([gz], LINKS)
    assert [(t.id, t.route) for t in trips] == [("v", ("a", "b"))]


# ------------------------------------------------------------------ flows


def flow_trips(tmp_path, rate: str, begin: str = "10", end: str = "70", **kw):
    _, trips, _ = load(tmp_path, f'<flow id="f" begin="{begin}" end="{end}" {rate} from="a" to="c"/>',
                       **kw)
    return trips


def test_flow_period(tmp_path):
    trips = flow_trips(tmp_path, 'period="20"')
    assert [(t.id, t.depart) for t in trips] == [("f.0", 10.0), ("f.1", 30.0), ("f.2", 50.0)]


def test_flow_vehs_per_hour(tmp_path):
    trips = flow_trips(tmp_path, 'vehsPerHour="180"')  # one every 20 s
    assert [t.depart for t in trips] == [10.0, 30.0, 50.0]


def test_flow_number_spreads_evenly(tmp_path):
    trips = flow_trips(tmp_path, 'number="4"')  # period (70 - 10)/4 = 15 s
    assert [t.depart for t in trips] == [10.0, 25.0, 40.0, 55.0]
    assert [t.id for t in trips] == ["f.0", "f.1", "f.2", "f.3"]


def test_flow_probability_is_seeded_and_binomial(tmp_path):
    q, n_steps = 0.3, 2000
    a = flow_trips(tmp_path, f'probability="{q}"', begin="0", end=str(n_steps), seed=7)
    b = flow_trips(tmp_path, f'probability="{q}"', begin="0", end=str(n_steps), seed=7)
    c = flow_trips(tmp_path, f'probability="{q}"', begin="0", end=str(n_steps), seed=8)
    assert a == b and a != c
    sd = math.sqrt(n_steps * q * (1 - q))
    assert abs(len(a) - n_steps * q) < 5 * sd
    assert all(t.depart == int(t.depart) and 0 <= t.depart < n_steps for t in a)  # 1 s steps
    assert len({t.depart for t in a}) == len(a)  # at most one per step


def test_flow_exp_period_is_poisson(tmp_path):
    a = flow_trips(tmp_path, 'period="exp(0.5)"', begin="0", end="1000", seed=3)
    assert a == flow_trips(tmp_path, 'period="exp(0.5)"', begin="0", end="1000", seed=3)
    assert abs(len(a) - 500) < 5 * math.sqrt(500)


def test_flow_with_named_route_and_nested_route(tmp_path):
    _, trips, _ = load(tmp_path, """
        <route id="r" edges="a b"/>
        <flow id="g" begin="0" end="2" period="1" route="r"/>
        <flow id="h" begin="0" end="1" period="1"><route edges="d c"/></flow>""")
    assert [(t.id, t.route) for t in trips] == [("g.0", ("a", "b")), ("h.0", ("d", "c")),
                                                 ("g.1", ("a", "b"))]


def test_flow_without_end_runs_to_the_simulation_end(tmp_path):
    body = '<flow id="f" begin="0" period="25" from="a" to="c"/>'
    _, trips, _ = load(tmp_path, body, end=100.0)
    assert [t.depart for t in trips] == [0.0, 25.0, 50.0, 75.0]
    # no simulation end either: SUMO's 24 h after the flow's begin, with a warning
    _, trips, warnings = load(tmp_path, '<flow id="f" begin="100" period="3600" from="a" to="c"/>')
    assert [t.depart for t in trips] == [100.0 + 3600.0 * k for k in range(24)]
    assert any("1 flow(s) without end" in w and "24 h" in w for w in warnings)


@pytest.mark.skipif(not (shutil.which("sumo") and shutil.which("netgenerate")),
                    reason="needs SUMO's sumo and netgenerate (eclipse-sumo)")
def test_flow_expansion_matches_sumo(tmp_path):
    """Departure times and ids of deterministic flows and trips equal SUMO's own expansion."""
    net = tmp_path / "grid.net.xml"
    subprocess.run(["netgenerate", "--grid", "--grid.number", "3", "--grid.length", "200", "-o", str(net)],
                   check=True, capture_output=True)
    # one flow per edge pair, so that no insertion is delayed; sorted by begin (SUMO needs it)
    body = """
        <flow id="n3" begin="0" end="10" number="3" from="A0B0" to="B0C0"/>
        <flow id="p20" begin="10" end="70" period="20" from="A0A1" to="A1A2"/>
        <flow id="n4" begin="10" end="70" number="4" from="C0C1" to="C1C2"/>
        <flow id="v180" begin="10.5" end="70" vehsPerHour="180" from="B0B1" to="B1B2"/>
        <trip id="t" depart="0:01:05" from="A1B1" to="B1C1"/>
        <flow id="open" begin="80" period="30" from="B1C1" to="C1C2"/>"""
    rou = write(tmp_path, body)
    out = tmp_path / "vehroutes.xml"
    subprocess.run(["sumo", "-n", str(net), "-r", str(rou), "--end", "200", "--no-step-log",
                    "--vehroute-output", str(out), "--vehroute-output.intended-depart",
                    "--vehroute-output.write-unfinished"], check=True, capture_output=True)
    import sumolib
    import sumolib.net

    sumo = sorted((float(v.depart), v.id) for v in sumolib.xml.parse(str(out), "vehicle"))
    assert len(sumo) == 3 + 3 + 4 + 3 + 1 + 4
    links = {e.getID(): SimpleNamespace(lanes=e.getLaneNumber())
             for e in sumolib.net.readNet(str(net)).getEdges()}
    _, trips = read_sumo_demand([rou], links, end=200.0)
    assert [(round(t.depart, 2), t.id) for t in trips] == [(round(d, 2), i) for d, i in sumo]


def test_namespaced_file_and_skipped_persons(tmp_path):
    path = tmp_path / "ns.rou.xml"
    path.write_text('<routes xmlns="http://sumo.dlr.de/xsd/routes_file.xsd">'
                    '<person id="p" depart="0"><walk edges="a b"/></person>'
                    '<trip id="t" depart="0" from="a" to="b"/></routes>')
    warnings: list[str] = []
    _, trips = read_sumo_demand([path], LINKS, warnings=warnings)
    assert [t.id for t in trips] == ["t"]
    assert any("1 person(s) whose plan is not a ride from a bus stop" in w for w in warnings)


# ------------------------------------------------------------------ vTypes


def test_vtype_parameter_mapping(tmp_path):
    vtypes, _, warnings = load(tmp_path, """
        <vType id="idm" carFollowModel="IDM" accel="1.2" decel="3.5" emergencyDecel="8" tau="1.4"
               minGap="2" length="4.5" maxSpeed="40" speedFactor="1.1" speedDev="0.055" delta="3"/>
        <vType id="nested" length="6"><carFollowing-IDM delta="2.5" accel="1.8"/></vType>
        <vType id="krauss" sigma="0.3" speedFactor="normc(0.8,0.2,0.5,1.5)"/>
        <vType id="plain"/>
        <vType id="eidm" carFollowModel="EIDM"/>
        <vType id="ps"><carFollowing-KraussPS sigma="0.7" tau="1.5"/></vType>""")
    idm, nested, krauss, plain, eidm, ps = vtypes
    # SUMO's speedDev is absolute, mobsim's speed_dev relative to the mean speed factor
    assert idm.speed_dev == pytest.approx(0.05)
    assert dataclasses.replace(idm, speed_dev=0.05) == VehicleType(
        id="idm", accel=1.2, decel=3.5, emergency_decel=8.0, tau=1.4, min_gap=2.0, length=4.5, max_speed=40.0,
        speed_factor=1.1, speed_dev=0.05, delta=3.0, cf_model="IDM", sigma=0.0)
    assert (nested.delta, nested.accel, nested.length, nested.cf_model) == (2.5, 1.8, 6.0, "IDM")
    # absent parameters: SUMO's passenger defaults, not mobsim's
    assert (nested.tau, nested.min_gap, nested.decel, nested.emergency_decel) == (1.0, 2.5, 4.5, 9.0)
    assert (krauss.cf_model, krauss.sigma, krauss.speed_factor) == ("Krauss", 0.3, 0.8)
    assert krauss.speed_dev == pytest.approx(0.25)  # SUMO's 0.2 around 0.8
    assert plain == dataclasses.replace(sumo_default_vtype(), id="plain")  # no carFollowModel: Krauss
    assert (eidm.cf_model, ps.cf_model, ps.sigma, ps.tau) == ("IDM", "Krauss", 0.7, 1.5)
    (cf,) = [w for w in warnings if "car-following" in w]
    assert "2 vType(s)" in cf and "'eidm' (EIDM as IDM)" in cf and "'ps' (KraussPS as Krauss)" in cf


def test_acc_types_keep_their_model_and_gains(tmp_path):
    """carFollowModel="ACC" and "CACC" run as themselves with SUMO's gain attributes (defaults where
    absent, no dawdling); a CACC type reads the ACC gains too (its ACC fallback)."""
    vtypes, _, warnings = load(tmp_path, """
        <vType id="acc" carFollowModel="ACC" speedControlGain="-0.5" gapClosingControlGainSpace="0.05"
               collisionAvoidanceOverride="1.5" tau="1.2"/>
        <vType id="nested"><carFollowing-ACC gapControlGainSpeed="0.1"/></vType>
        <vType id="cacc" carFollowModel="CACC" gapControlGainGap="0.4" tauCACCToACC="1.1"
               speedControlGain="-0.3" speedControlMinGap="2"/>""")
    acc, nested, cacc = vtypes
    assert (acc.cf_model, acc.sc_gain, acc.gcc_gain_space, acc.ca_override, acc.tau, acc.sigma) == (
        "ACC", -0.5, 0.05, 1.5, 1.2, 0.0)
    gains = (acc.gcc_gain_speed, acc.gc_gain_speed, acc.gc_gain_space, acc.ca_gain_speed, acc.ca_gain_space)
    assert gains == (0.8, 0.07, 0.23, 0.23, 0.8)  # SUMO's defaults
    assert (nested.cf_model, nested.gc_gain_speed) == ("ACC", 0.1)
    assert (cacc.cf_model, cacc.gc_gain_gap, cacc.tau_cacc_to_acc, cacc.sc_gain, cacc.sc_min_gap) == (
        "CACC", 0.4, 1.1, -0.3, 2.0)
    assert (cacc.gcc_gain_gap, cacc.gcc_gain_gap_dot, cacc.ca_gain_gap) == (0.005, 0.05, 0.45)  # defaults
    assert not [w for w in warnings if "car-following" in w]


def test_road_vclasses_drive_and_the_others_are_skipped(tmp_path):
    vtypes, trips, warnings = load(tmp_path, """
        <vType id="bus" vClass="bus"/>
        <vType id="bike" vClass="bicycle"/>
        <vType id="tram" vClass="tram"/>
        <vType id="car" vClass="passenger"/>
        <vehicle id="b1" type="bus" depart="0"><route edges="a b"/></vehicle>
        <flow id="bf" type="bike" begin="0" end="10" period="1" from="a" to="b"/>
        <vehicle id="t1" type="tram" depart="0"><route edges="a b"/></vehicle>
        <vehicle id="c1" type="car" depart="0"><route edges="a b"/></vehicle>""")
    assert [v.id for v in vtypes] == ["bus", "car"] and [t.id for t in trips] == ["b1", "c1"]
    assert any("2 vType(s) of a vClass mobsim does not drive" in w for w in warnings)
    assert any("11 vehicle(s) of skipped vTypes" in w for w in warnings)
    (lanes,) = [w for w in warnings if "other than passenger" in w]
    assert "1 vType(s)" in lanes and "'bus' (bus)" in lanes
    error(tmp_path, '<vType id="x" vClass="spaceship"/>', "vType 'x'", "unknown vClass 'spaceship'")


def test_vtype_parameters_mobsim_does_not_model_are_named_in_a_warning(tmp_path):
    """Lane-change, junction-model and action-step parameters change how SUMO drives a type, so
    ignoring them is said (per type, with their names); drawing attributes are not."""
    _, _, warnings = load(tmp_path, """
        <vType id="a" lcKeepRight="5" jmIgnoreFoeProb="0.5" color="red" guiShape="truck" accel="2"/>
        <vType id="b" laneChangeModel="LC2013" width="2.2"><carFollowing-IDM actionStepLength="1"/></vType>
        <vType id="c" laneChangeModel="SL2015" tau="1.2"/>
        <vehicle id="v" type="a" depart="0"><route edges="a b c"/></vehicle>""")
    w = [x for x in warnings if "do not model" in x or "does not model" in x]
    assert len(w) == 1 and "3 vType(s)" in w[0], warnings
    assert "'a': lcKeepRight/jmIgnoreFoeProb" in w[0] and "'b': actionStepLength" in w[0]
    assert "'c': laneChangeModel" in w[0]
    assert "color" not in w[0] and "guiShape" not in w[0] and "width" not in w[0] and "tau" not in w[0]


def test_vehicle_attributes_mobsim_does_not_model_are_named_in_a_warning(tmp_path):
    _, trips, warnings = load(tmp_path, """
        <vehicle id="v" depart="0" departPosLat="right" reroute="true" color="red">
            <route edges="a b c"/></vehicle>
        <flow id="f" begin="0" end="10" period="5" from="a" to="c" insertionChecks="none"/>
        <trip id="t" depart="1" from="a" to="c" color="blue"/>""")
    w = [x for x in warnings if "vehicle/trip/flow" in x]
    assert len(trips) == 4 and len(w) == 1 and "2 vehicle/trip/flow element(s)" in w[0], warnings
    assert "vehicle 'v': departPosLat/reroute" in w[0] and "flow 'f': insertionChecks" in w[0]
    assert "color" not in w[0]


def test_bad_vtype_value_is_an_error(tmp_path):
    error(tmp_path, '<vType id="t" accel="fast"/>', "vType 't'", "accel")
    error(tmp_path, '<vType id="t" decel="5" emergencyDecel="4"/>', "vtype 't'", "emergency_decel")


# ------------------------------------------------------------------ departLane/Speed/Pos


def test_depart_lane_and_speed_mapping(tmp_path):
    _, trips, warnings = load(tmp_path, """
        <trip id="t0" depart="0" from="a" to="c" departLane="best" departSpeed="max"/>
        <trip id="t1" depart="1" from="a" to="c" departLane="first" departSpeed="desired"/>
        <trip id="t2" depart="2" from="a" to="c" departLane="1" departSpeed="13.5"/>
        <trip id="t3" depart="3" from="a" to="c" departLane="free" departSpeed="random"/>
        <trip id="t4" depart="4" from="a" to="c" departLane="random" departSpeed="0"/>
        <trip id="t5" depart="5" from="a" to="c" departLane="allowed" departSpeed="speedLimit"
              departPos="random"/>
        <trip id="t6" depart="6" from="a" to="c" departPos="base"/>
        <trip id="t7" depart="7" from="a" to="c" departPos="last"/>
        <trip id="t8" depart="8" from="a" to="c" departPos="stop"/>
        <trip id="t9" depart="9" from="a" to="c" departPos="free"/>""")
    got = [(t.depart_lane, t.depart_speed) for t in trips]
    lane4 = trips[4].depart_lane  # random: a lane of edge a (2 lanes), drawn per vehicle
    assert lane4 in ("0", "1")
    assert got == [("best", "max"), ("first", "max"), ("1", "13.5"), ("free", "max"),
                   (lane4, "0.0"), ("free", "max"), ("best", "max"), ("best", "max"), ("best", "max"),
                   ("best", "max")]
    assert not any("departLane" in w for w in warnings)  # free and allowed are SUMO's own
    assert any("departSpeed random/avg/last on 1" in w for w in warnings)
    assert any("departPos (stop, ...) on 1" in w for w in warnings)
    pos = [t.depart_pos for t in trips]
    # random (drawn at every insertion attempt), last and free are SUMO's insertion procedures
    assert pos == ["base"] * 5 + ["random", "base", "last", "base", "free"]
    assert not any("departPos free" in w or "departPos random" in w for w in warnings)


def test_random_free_depart_pos_is_kept(tmp_path):
    _, trips, warnings = load(tmp_path, '<trip id="t" depart="0" from="a" to="c" departPos="random_free"/>')
    assert trips[0].depart_pos == "random_free" and not any("departPos" in w for w in warnings)


def test_random_depart_lanes_are_drawn_per_vehicle_and_seeded(tmp_path):
    flow = ('<flow id="f" begin="0" end="100" period="1" from="a" to="c" departPos="random" '
            'departLane="random"/>')
    _, trips, _ = load(tmp_path, flow)
    lanes = [t.depart_lane for t in trips]
    assert len(trips) == 100 and set(lanes) == {"0", "1"}
    assert {t.depart_pos for t in trips} == {"random"}  # the engine draws it at every attempt
    _, again, _ = load(tmp_path, flow)
    assert [t.depart_lane for t in again] == lanes


def test_depart_pos_in_metres(tmp_path):
    _, trips, warnings = load(tmp_path, """
        <trip id="t0" depart="0" from="a" to="c" departPos="20"/>
        <trip id="t1" depart="1" from="a" to="c" departPos="0"/>""")
    assert [t.depart_pos for t in trips] == ["20.0", "base"]
    assert not any("departPos" in w for w in warnings)


def test_depart_lane_beyond_the_edge_is_an_error(tmp_path):
    error(tmp_path, '<trip id="t" depart="0" from="b" to="c" departLane="1"/>', "trip 't'",
          "departLane=1", "edge 'b' has 1 lane")
    error(tmp_path, '<trip id="t" depart="0" from="a" to="c" departLane="left"/>', "trip 't'")
    error(tmp_path, '<trip id="t" depart="0" from="a" to="c" departSpeed="-1"/>', "departSpeed")


# ------------------------------------------------------------------ begin/end window, times


def test_begin_end_window_drops_and_counts(tmp_path):
    body = """
        <trip id="early" depart="5" from="a" to="c"/>
        <trip id="in" depart="10" from="a" to="c"/>
        <trip id="now" depart="now" from="a" to="c"/>
        <trip id="late" depart="100" from="a" to="c"/>
        <flow id="f" begin="0" end="40" period="10" from="a" to="c"/>"""
    _, trips, warnings = load(tmp_path, body, begin=10.0, end=100.0)
    assert [(t.id, t.depart) for t in trips] == [("f.1", 10.0), ("in", 10.0), ("now", 10.0),
                                                 ("f.2", 20.0), ("f.3", 30.0)]
    assert any("3 vehicle(s) departing outside" in w for w in warnings)
    _, trips, _ = load(tmp_path, body)  # end=None: no upper limit
    assert {t.id for t in trips} >= {"early", "late"}


def test_parse_time():
    assert parse_time("90.5", "depart", "f", "e") == 90.5
    assert parse_time("1:02:03", "depart", "f", "e") == 3723.0
    assert parse_time("1:00:00:00", "depart", "f", "e") == 86400.0


# ------------------------------------------------------------------ errors


def test_unknown_edges_are_errors(tmp_path):
    error(tmp_path, '<vehicle id="v1" depart="0"><route edges="a x c"/></vehicle>', "vehicle 'v1'",
          "unknown edge 'x'")
    error(tmp_path, '<route id="r1" edges="a bb"/>', "route 'r1'", "unknown edge 'bb'", "did you mean 'b'")
    error(tmp_path, '<trip id="t1" depart="0" from="zz" to="c"/>', "trip 't1'", "from", "'zz'")
    error(tmp_path, '<flow id="f1" begin="0" end="9" period="1" from="a" to="q"/>', "flow 'f1'", "'q'")


def test_route_not_contiguous_is_an_error(tmp_path):
    # without a successor map: by the links' nodes
    error(tmp_path, '<vehicle id="v1" depart="0"><route edges="a c"/></vehicle>', "vehicle 'v1'",
          "not contiguous")
    error(tmp_path, '<vehicle id="v1" depart="0"><route edges=""/></vehicle>', "vehicle 'v1'",
          "without edges")


def test_unknown_route_and_vtype_are_errors(tmp_path):
    error(tmp_path, '<route id="r1" edges="a b"/><vehicle id="v1" depart="0" route="r2"/>',
          "vehicle 'v1'", "unknown route 'r2'")
    error(tmp_path, '<vType id="car"/><trip id="t1" type="cat" depart="0" from="a" to="b"/>',
          "trip 't1'", "unknown vType 'cat'", "did you mean 'car'")


def test_duplicate_ids_are_errors(tmp_path):
    error(tmp_path, '<trip id="v" depart="0" from="a" to="b"/><trip id="v" depart="1" from="a" to="b"/>',
          "trip 'v'", "duplicate vehicle id 'v'")
    # a flow's vehicle ids share the namespace of vehicles and trips
    error(tmp_path, '<trip id="f.0" depart="0" from="a" to="b"/>'
                    '<flow id="f" begin="0" end="2" period="1" from="a" to="b"/>',
          "flow 'f'", "duplicate vehicle id 'f.0'")
    error(tmp_path, '<vType id="t"/><vType id="t"/>', "vType 't'", "duplicate vType")


@pytest.mark.parametrize("rates", ["", 'period="1" number="5"', 'vehsPerHour="60" probability="0.1"'])
def test_flow_needs_exactly_one_rate(tmp_path, rates):
    error(tmp_path, f'<flow id="f1" begin="0" end="9" {rates} from="a" to="b"/>', "flow 'f1'",
          "exactly one of period, vehsPerHour, probability, number")


@pytest.mark.parametrize("attrs", ['period="0"', 'probability="1.5"', 'number="-2"', 'vehsPerHour="x"'])
def test_flow_bad_rate_values(tmp_path, attrs):
    error(tmp_path, f'<flow id="f1" begin="0" end="9" {attrs} from="a" to="b"/>', "flow 'f1'")


@pytest.mark.parametrize("depart", ["-1", "soon", "1:2", "triggered", "containerTriggered"])
def test_bad_depart_times(tmp_path, depart):
    error(tmp_path, f'<trip id="t1" depart="{depart}" from="a" to="b"/>', "trip 't1'", "depart")


def test_bad_flow_times(tmp_path):
    error(tmp_path, '<flow id="f1" begin="-5" end="9" period="1" from="a" to="b"/>', "flow 'f1'", "begin")
    error(tmp_path, '<flow id="f1" begin="20" end="9" period="1" from="a" to="b"/>', "flow 'f1'",
          "before begin")


def test_vehicle_without_route_or_from_to(tmp_path):
    error(tmp_path, '<vehicle id="v1" depart="0"/>', "vehicle 'v1'", "neither a route nor from/to")
    error(tmp_path, '<trip id="t1" depart="0" from="a"/>', "trip 't1'", "'to' is missing")
    error(tmp_path, '<trip id="t1" depart="0" from="a" to="b"/><trip id="t2" from="a" to="b"/>',
          "trip 't2'", "without depart")


def test_bad_distributions(tmp_path):
    error(tmp_path, '<vTypeDistribution id="mix"/>', "vTypeDistribution 'mix'", "without vTypes")
    error(tmp_path, '<vTypeDistribution id="mix" vTypes="x"/>', "vTypeDistribution 'mix'",
          "unknown vType 'x'")
    error(tmp_path, '<vType id="a"/><vTypeDistribution id="mix" vTypes="a" probabilities="1 2"/>',
          "vTypeDistribution 'mix'", "1 vTypes but 2 probabilities")
    error(tmp_path, '<vTypeDistribution id="mix"><vType id="a" probability="-1"/></vTypeDistribution>',
          "vTypeDistribution 'mix'", "probabilities")
    error(tmp_path, '<vType id="a"/><vTypeDistribution id="a" vTypes="a"/>', "vTypeDistribution 'a'",
          "duplicate vType (or vTypeDistribution) id 'a'")
    error(tmp_path, '<routeDistribution id="rd"/>', "routeDistribution 'rd'", "without routes")
    error(tmp_path, '<routeDistribution id="rd" routes="nope"/>', "routeDistribution 'rd'",
          "unknown route 'nope'")
    error(tmp_path, '<route id="r" edges="a b"/><vehicle id="v" depart="0" route="r"><route edges="a b"/>'
                    '</vehicle>', "vehicle 'v'", "more than one")


def test_not_xml_or_missing_file(tmp_path):
    bad = tmp_path / "bad.rou.xml"
    bad.write_text("this is not xml")
    with pytest.raises(InputError, match="bad.rou.xml.*not well-formed XML"):
        read_sumo_demand([bad], LINKS)
    with pytest.raises(InputError, match="missing.rou.xml.*file not found"):
        read_sumo_demand([tmp_path / "missing.rou.xml"], LINKS)
    net = tmp_path / "city.net.xml"
    net.write_text('<net><edge id="a"/></net>')
    with pytest.raises(InputError, match="city.net.xml.*no SUMO demand elements"):
        read_sumo_demand([net], LINKS)


# ------------------------------------------------------------------ vClass defaults


def test_absent_parameters_take_the_vclass_defaults_of_sumo(tmp_path):
    vtypes, _, _ = load(tmp_path, """
        <vType id="truck" vClass="truck"/>
        <vType id="bus" vClass="bus" decel="7.5"/>
        <vType id="moto" vClass="motorcycle"/>
        <vType id="van" vClass="delivery" length="5.5"/>""")
    truck, bus, moto, van = vtypes
    # SUMOVTypeParameter.cpp: VClassDefaultValues, getDefaultAccel/Decel/EmergencyDecel
    assert (truck.length, truck.accel, truck.decel, truck.emergency_decel) == (7.1, 1.3, 4.0, 7.0)
    assert truck.max_speed == pytest.approx(130 / 3.6) and truck.speed_dev == 0.05
    assert (truck.cf_model, truck.sigma, truck.min_gap, truck.tau) == ("Krauss", 0.5, 2.5, 1.0)
    assert (bus.length, bus.accel, bus.speed_dev) == (12.0, 1.2, 0.0)
    assert bus.emergency_decel == 7.5  # max(decel, the class's emergency decel), as SUMO
    assert (moto.length, moto.accel, moto.decel, moto.emergency_decel) == (2.2, 6.0, 10.0, 10.0)
    assert (van.length, van.speed_dev) == (5.5, 0.05)


# ------------------------------------------------------------------ distributions


def test_vtype_distribution_draws_each_vehicle_type_seeded(tmp_path):
    body = """
        <vTypeDistribution id="DEFAULT_VEHTYPE">
            <vType id="car" length="5" probability="3"/>
            <vType id="lorry" vClass="truck" probability="1"/>
        </vTypeDistribution>
        <flow id="f" begin="0" end="2000" period="1" from="a" to="c"/>"""
    vtypes, trips, _ = load(tmp_path, body, seed=5)
    assert [v.id for v in vtypes] == ["car", "lorry"]  # the members are types of their own
    share = sum(t.vtype == "lorry" for t in trips) / len(trips)
    assert len(trips) == 2000 and abs(share - 0.25) < 5 * math.sqrt(0.25 * 0.75 / 2000)
    assert trips == load(tmp_path, body, seed=5)[1]  # deterministic for a seed
    assert trips != load(tmp_path, body, seed=6)[1]


def test_vtype_distribution_by_reference_and_type_lists(tmp_path):
    _, trips, _ = load(tmp_path, """
        <vType id="a" probability="0"/>
        <vType id="b"/>
        <vType id="c"/>
        <vTypeDistribution id="byattr" vTypes="a b" probabilities="0 1"/>
        <vTypeDistribution id="ownprob" vTypes="a c"/>
        <vTypeDistribution id="byref"><vType refId="a" probability="0"/><vType refId="c"/></vTypeDistribution>
        <flow id="f1" type="byattr" begin="0" end="50" period="1" from="a" to="c"/>
        <flow id="f2" type="ownprob" begin="0" end="50" period="1" from="a" to="c"/>
        <flow id="f3" type="byref" begin="0" end="50" period="1" from="a" to="c"/>
        <flow id="f4" type="a,byref" begin="0" end="400" period="1" from="a" to="c"/>""")
    types = {f: {t.vtype for t in trips if t.id.startswith(f + ".")} for f in ("f1", "f2", "f3", "f4")}
    assert types == {"f1": {"b"}, "f2": {"c"}, "f3": {"c"}, "f4": {"a", "c"}}
    n_a = sum(t.vtype == "a" for t in trips if t.id.startswith("f4."))
    assert abs(n_a - 200) < 5 * 10  # each list entry with equal weight


def test_vtype_distribution_with_skipped_members_skips_their_vehicles(tmp_path):
    _, trips, warnings = load(tmp_path, """
        <vTypeDistribution id="mix">
            <vType id="car" probability="1"/><vType id="bike" vClass="bicycle" probability="1"/>
        </vTypeDistribution>
        <flow id="f" type="mix" begin="0" end="100" period="1" from="a" to="c"/>""")
    assert 0 < len(trips) < 100 and {t.vtype for t in trips} == {"car"}
    (w,) = [w for w in warnings if "of skipped vTypes" in w]
    assert f"{100 - len(trips)} vehicle(s)" in w


def test_route_distributions_top_level_and_nested(tmp_path):
    _, trips, _ = load(tmp_path, """
        <route id="ab" edges="a b"/>
        <routeDistribution id="rd">
            <route id="abc" edges="a b c" probability="1"/>
            <route edges="d c" probability="1"/>
            <route refId="ab" probability="2"/>
        </routeDistribution>
        <routeDistribution id="byattr" routes="ab abc" probabilities="0 1"/>
        <flow id="f" route="rd" begin="0" end="400" period="1"/>
        <flow id="g" route="byattr" begin="0" end="10" period="1"/>
        <vehicle id="v" depart="0" route="abc"/>
        <flow id="n" begin="0" end="200" period="1">
            <routeDistribution><route edges="a b" probability="1"/><route edges="d c" probability="3"/>
            </routeDistribution>
        </flow>""", seed=3)
    routes = {}
    for t in trips:
        routes.setdefault(t.id.split(".")[0], []).append(t.route)
    f = routes["f"]
    assert set(f) == {("a", "b", "c"), ("d", "c"), ("a", "b")}
    assert abs(f.count(("a", "b")) - 200) < 5 * 10  # probability 2 of 4
    assert set(routes["g"]) == {("a", "b", "c")} and routes["v"] == [("a", "b", "c")]
    assert abs(routes["n"].count(("d", "c")) - 150) < 5 * 6.2
    t0 = next(t for t in trips if t.route == ("d", "c"))
    assert (t0.origin, t0.destination) == ("d", "c")


# ------------------------------------------------------------------ connections and route errors

SUCCESSORS = {"a": {"b"}, "b": {"c"}, "d": {"c"}}


def test_routes_are_checked_by_connections(tmp_path):
    # b ends at n2 and c starts there, but without a connection b -> c the route is broken ...
    error(tmp_path, '<vehicle id="v1" depart="0"><route edges="a b c"/></vehicle>', "vehicle 'v1'",
          "no connection from edge 'b' to edge 'c'", successors={"a": {"b"}})
    # ... and with one it is fine even where the links' node ids differ (a sink repair, say)
    links = {**LINKS, "b": SimpleNamespace(lanes=1, from_node="n1", to_node="n2~end~b")}
    route = write(tmp_path, '<vehicle id="v1" depart="0"><route edges="a b c"/></vehicle>')
    _, trips = read_sumo_demand([route], links, successors=SUCCESSORS)
    assert trips[0].route == ("a", "b", "c")
    with pytest.raises(InputError, match="not contiguous"):  # the node fallback would refuse it
        read_sumo_demand([route], links)


def test_ignore_route_errors_drops_vehicles_with_broken_routes(tmp_path):
    body = """
        <route id="bad" edges="a c"/>
        <route id="good" edges="a b c"/>
        <vehicle id="v1" depart="0" route="bad"/>
        <vehicle id="v2" depart="0"><route edges="a x"/></vehicle>
        <trip id="t1" depart="0" from="a" to="zz"/>
        <vehicle id="v3" depart="0" route="missing"/>
        <flow id="f" route="bad" begin="0" end="5" period="1"/>
        <routeDistribution id="rd"><route refId="bad"/><route refId="good"/></routeDistribution>
        <flow id="g" route="rd" begin="0" end="100" period="1"/>
        <vehicle id="ok" depart="1" route="good"/>"""
    error(tmp_path, body, "route 'bad'", "no connection from edge 'a' to edge 'c'", successors=SUCCESSORS)
    _, trips, warnings = load(tmp_path, body, successors=SUCCESSORS, route_errors="drop")
    g = [t for t in trips if t.id.startswith("g.")]
    assert {t.id for t in trips} - {t.id for t in g} == {"ok"}
    assert 0 < len(g) < 100 and {t.route for t in g} == {("a", "b", "c")}
    (w,) = [w for w in warnings if "broken route" in w]
    assert f"{4 + 5 + 100 - len(g)} vehicle(s)" in w and "ignore-route-errors" in w
    # other errors stay errors
    error(tmp_path, body + '<trip id="t9" type="nope" depart="0" from="a" to="b"/>', "unknown vType",
          successors=SUCCESSORS, route_errors="drop")


def test_additional_file_with_vtypes_is_demand(tmp_path):
    from mobsim.interop.sumo_demand import file_has_demand

    add = tmp_path / "types.add.xml"
    add.write_text('<additional><vType id="t" accel="1"/></additional>')
    tls = tmp_path / "tls.add.xml"
    tls.write_text('<additional><tlLogic id="x" type="static" programID="1" offset="0"/></additional>')
    gz = tmp_path / "r.rou.xml.gz"
    with gzip.open(gz, "wb") as f:
        f.write(b'<routes><flow id="f" begin="0" end="1" period="1" from="a" to="b"/></routes>')
    commented = tmp_path / "c.add.xml"
    commented.write_text('<additional><!-- <vType id="t"/> --><poi id="p" x="0" y="0"/></additional>')
    assert file_has_demand(add) and file_has_demand(gz) and not file_has_demand(tls)
    assert not file_has_demand(commented) and not file_has_demand(tmp_path / "missing.xml")


def _sumolib_elements(path: Path) -> list:
    """What ``sumolib.xml.parse`` gives for ``path`` with the attributes mobsim reads (its
    element_attrs), as (tag, attributes, children) trees."""
    import sumolib

    from mobsim.interop.sumo_demand import _READ_ATTRS

    def conv(obj):  # noqa: ANN001, ANN202
        values = [v for _, v in obj.getAttributes()]
        attrs = {k: v for k, v in zip(obj._original_fields, values, strict=True) if v is not None}
        if obj.name not in _READ_ATTRS:
            attrs = {k: v for k, v in attrs.items() if k == "id"}
        return (obj.name, attrs, [conv(c) for c in obj.getChildList()])

    return [conv(o) for o in sumolib.xml.parse(str(path), None, element_attrs=_READ_ATTRS,
                                                heterogeneous=False, ignoreXmlns=True, outputLevel=1)]


def _shipped_route_files() -> list[Path]:
    sumo = pytest.importorskip("sumo")
    root = Path(sumo.SUMO_HOME)
    files = sorted((root / "tools" / "game").rglob("*.rou.xml")) + sorted((root / "data").rglob("*.rou.xml"))
    return [p for p in files if p.stat().st_size < 20_000_000]


def test_route_files_read_as_sumolib_reads_them() -> None:
    """The one-pass expat reader gives, for every route file shipped with SUMO, the elements,
    attributes and nesting that ``sumolib.xml.parse`` gives with the same attribute lists."""
    from mobsim.interop.sumo_demand import _read_file

    def tree(el):  # noqa: ANN001, ANN202
        return (el.tag, el.attrs, [tree(c) for c in el.children])

    files = _shipped_route_files()
    assert len(files) >= 15
    for path in files:
        mine = [tree(e) for e in _read_file(path)]
        assert mine == _sumolib_elements(path), path
