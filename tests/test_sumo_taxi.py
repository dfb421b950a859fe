"""SUMO taxi scenarios in: vehicles with the taxi device and persons riding a taxi become the
on-demand fleet and requests of scenario.drt, with SUMO's dispatch rules (mobsim.interop.sumo_taxi)."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("sumolib")

from mobsim.errors import InputError  # noqa: E402
from mobsim.scenario import load_scenario  # noqa: E402


@pytest.fixture(scope="module")
def grid_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 x 3 grid of 200 m edges (A0B0, B0C0, A0A1, ...), built by SUMO's netgenerate."""
    if not shutil.which("netgenerate"):
        pytest.skip("needs SUMO's netgenerate (eclipse-sumo)")
    net = tmp_path_factory.mktemp("grid") / "grid.net.xml"
    subprocess.run(["netgenerate", "--grid", "--grid.number", "3", "--grid.length", "200", "-o", str(net)],
                   check=True, capture_output=True)
    return net


#: Two taxis (seats from the vType), one car, four persons: one rides directly, one walks to the
#: ride's edge first, two share a group.
TAXI_TYPE = ('<vType id="taxi" vClass="taxi" personCapacity="2">'
             '<param key="has.taxi.device" value="true"/></vType>')
VEHICLES = ('<vType id="car" vClass="passenger"/>'
            '<trip id="taxi0" type="taxi" depart="0" from="A0B0" to="B0C0"/>'
            '<trip id="taxi1" type="taxi" depart="10" from="C2B2" to="B2A2"/>'
            '<trip id="car0" type="car" depart="0" from="A0A1" to="A1A2"/>')
PERSONS = ('<person id="p0" depart="20"><ride from="A1B1" to="B1C1" lines="taxi"/></person>'
           '<person id="p1" depart="30" departPos="50"><walk from="B0C0" to="C0C1" duration="40"/>'
           '<ride to="C1C2" lines="taxi" arrivalPos="100"/></person>'
           '<person id="p2" depart="60"><ride from="A2B2" to="B1A1" lines="taxi" group="g"/></person>'
           '<person id="p3" depart="70"><ride from="A2B2" to="B1A1" lines="taxi" group="g"/></person>')


def sumocfg(folder: Path, net: Path, routes: str, options: str = "") -> Path:
    (folder / "r.rou.xml").write_text(f"<routes>{routes}</routes>")
    cfg = folder / "x.sumocfg"
    cfg.write_text(f"""<configuration>
  <input><net-file value="{net}"/><route-files value="r.rou.xml"/></input>
  <time><end value="900"/></time>
  <processing>{options}</processing>
</configuration>
""")
    return cfg


def _requests(sc) -> dict[str, tuple]:
    r = sc.drt.requests
    return {r.id[k]: (float(r.time[k]), r.origin[k], float(r.origin_pos[k]), r.destination[k],
                      float(r.destination_pos[k]), int(r.group[k]), float(r.earliest[k]))
            for k in range(len(r))}


def test_taxis_and_rides_become_the_drt_fleet_and_requests(tmp_path, grid_net):
    sc = load_scenario(sumocfg(tmp_path, grid_net, TAXI_TYPE + VEHICLES + PERSONS))
    assert [t.id for t in sc.trips] == ["car0"]  # the taxis are no ordinary trips
    assert "taxi" in {v.id for v in sc.vtypes}
    drt = sc.drt
    assert [(v.id, v.depot, v.capacity, v.vtype, v.start, v.end) for v in drt.vehicles] == [
        ("taxi0.0", "A0B0", 2, "taxi", 0.0, math.inf), ("taxi1.0", "C2B2", 2, "taxi", 10.0, math.inf)]
    s = drt.service
    # SUMO's defaults: greedy every 60 s, no deadlines, the pick-up halt is the boarding (0.5 s),
    # the rider leaves at the end of the 60 s drop-off halt
    assert (s.dispatch, s.period, s.max_wait, s.beta, s.pickup_time, s.dropoff_time, s.rebalancing) == (
        "greedy", 60.0, math.inf, math.inf, 0.5, 60.0, "none")
    req = _requests(sc)
    assert list(req) == ["p0", "p2", "p1"]  # by reservation time
    length = {lk.id: lk.length for lk in sc.network.links}
    # p0: departPos 0 -> the taxi halts one vehicle length (5 m) in; a ride ends at the edge's end
    assert req["p0"] == (20.0, "A1B1", 5.0, "B1C1", length["B1C1"], 1, 20.0)
    # p1 walks 40 s to the middle of C0C1 (the walk's default arrivalPos), then rides from there
    assert req["p1"] == (70.0, "C0C1", pytest.approx(length["C0C1"] / 2), "C1C2", 100.0, 1, 70.0)
    # p2 and p3 share a group: one request of two, picked up once the second one is there
    assert req["p2"] == (60.0, "A2B2", 5.0, "B1A1", length["B1A1"], 2, 70.0)
    assert any("walk before their taxi ride" in w for w in sc.warnings)
    assert not any("person(s)" in w and "skipped" in w for w in sc.warnings)


def test_dispatch_options_map_and_unsupported_ones_warn(tmp_path, grid_net):
    opts = ('<device.taxi.dispatch-algorithm value="greedyShared"/><device.taxi.dispatch-period value="30"/>'
            '<device.taxi.idle-algorithm value="randomCircling"/>'
            '<device.taxi.dispatch-keep-unreachable value="600"/>')
    taxi = ('<vType id="taxi" vClass="taxi"><param key="has.taxi.device" value="true"/>'
            '<param key="device.taxi.pickUpDuration" value="20"/>'
            '<param key="device.taxi.dropOffDuration" value="15"/></vType>')
    sc = load_scenario(sumocfg(tmp_path, grid_net, taxi + VEHICLES + PERSONS, opts))
    s = sc.drt.service
    assert (s.dispatch, s.period, s.pickup_time, s.dropoff_time) == ("greedy", 30.0, 20.0, 15.0)
    assert [v.capacity for v in sc.drt.vehicles] == [4, 4]  # SUMO's personCapacity of vClass taxi
    # randomCircling taxis serve for 8 h from their departure (SUMO's default end)
    assert [v.end for v in sc.drt.vehicles] == [28800.0, 28810.0]
    text = "\n".join(sc.warnings)
    assert "greedyShared" in text and "runs as greedy" in text
    assert "device.taxi.dispatch-keep-unreachable" in text
    assert "idle-algorithm other than stop" in text
    assert "options not used by mobsim" not in text  # the taxi options are reported by the taxi import


def test_explicit_option_and_vehicle_parameter_decide_the_device(tmp_path, grid_net):
    taxi = ('<vType id="taxi" vClass="taxi"><param key="has.taxi.device" value="true"/></vType>'
            '<vType id="car" vClass="passenger"/>'
            '<trip id="t0" type="taxi" depart="0" from="A0B0" to="B0C0">'
            '<param key="has.taxi.device" value="false"/></trip>'
            '<trip id="c0" type="car" depart="0" from="A0A1" to="A1A2"/>'
            '<trip id="c1" type="car" depart="5" from="B0C0" to="C0C1"/>')
    sc = load_scenario(sumocfg(tmp_path, grid_net, taxi + PERSONS,
                               '<device.taxi.explicit value="c1"/>'))
    assert [v.id for v in sc.drt.vehicles] == ["c1.0"]  # t0 is no taxi: its own parameter says so
    assert [t.id for t in sc.trips] == ["c0", "t0"]


def test_group_larger_than_the_seats_is_split(tmp_path, grid_net):
    persons = "".join(f'<person id="g{k}" depart="{k}"><ride from="A2B2" to="B1A1" lines="taxi" group="x"/>'
                      "</person>" for k in range(5))
    sc = load_scenario(sumocfg(tmp_path, grid_net, TAXI_TYPE + VEHICLES + persons))
    req = _requests(sc)
    assert {k: (v[0], v[5], v[6]) for k, v in req.items()} == {
        "g0": (0.0, 2, 1.0), "g2": (2.0, 2, 3.0), "g4": (4.0, 1, 4.0)}


def test_rides_without_taxis_warn_and_make_no_service(tmp_path, grid_net):
    sc = load_scenario(sumocfg(tmp_path, grid_net, '<vType id="car"/>'
                               '<trip id="c0" type="car" depart="0" from="A0A1" to="A1A2"/>' + PERSONS,
                               '<device.taxi.dispatch-period value="30"/>'))
    assert sc.drt is None and [t.id for t in sc.trips] == ["c0"]
    text = "\n".join(sc.warnings)
    assert "4 person(s) ride a taxi but no vehicle has the taxi device" in text
    assert "device.taxi.dispatch-period are not used" in text


def test_drt_section_sets_rules_but_not_a_second_fleet(tmp_path, grid_net):
    (tmp_path / "r.rou.xml").write_text(f"<routes>{TAXI_TYPE + VEHICLES + PERSONS}</routes>")
    toml = tmp_path / "s.toml"
    head = f'[network]\nsumo = "{grid_net}"\n\n[demand]\nsumo = ["r.rou.xml"]\n\n[drt]\n'
    toml.write_text(head + 'dispatch = "insertion"\nmax_wait = 300.0\n')
    sc = load_scenario(toml)
    s = sc.drt.service
    assert (s.dispatch, s.max_wait, s.beta, s.period) == ("insertion", 300.0, math.inf, 60.0)
    assert len(sc.drt.vehicles) == 2 and len(sc.drt.requests) == 3
    toml.write_text(head + '[[drt.fleets]]\nid = "f"\nvehicles = 1\ndepots = ["A0B0"]\n')
    with pytest.raises(InputError, match="both in the SUMO demand"):
        load_scenario(toml)


def test_unbounded_deadlines_are_accepted_and_finite_ones_checked():
    from mobsim.net.generators import grid
    from mobsim.scenario import scenario_from_objects

    net = grid(rows=2, cols=2)
    link = net.links[0].id
    drt = {"dispatch": "greedy", "max_wait": math.inf, "beta": math.inf,
           "fleets": [{"id": "f", "vehicles": 1, "depot": link}]}
    sc = scenario_from_objects(net, [], drt=drt)
    assert (sc.drt.service.max_wait, sc.drt.service.beta) == (math.inf, math.inf)
    with pytest.raises(InputError, match="max_wait"):
        scenario_from_objects(net, [], drt={**drt, "max_wait": -1.0})
