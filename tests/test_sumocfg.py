"""SUMO configurations (.sumocfg) run as SUMO runs them: options, additional files, vType precedence,
and the scenarios shipped with the eclipse-sumo wheel (mobsim.interop.sumocfg, mobsim.scenario)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("sumolib")

from mobsim.errors import InputError  # noqa: E402
from mobsim.interop.sumocfg import UNTIL_EMPTY_MARGIN  # noqa: E402
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


def sumocfg(folder: Path, net: Path, routes: str, options: str = "", time: str = '<end value="300"/>',
            additional: str = "") -> Path:
    (folder / "r.rou.xml").write_text(f"<routes>{routes}</routes>")
    add = f'<additional-files value="{additional}"/>' if additional else ""
    cfg = folder / "x.sumocfg"
    cfg.write_text(f"""<configuration>
  <input><net-file value="{net}"/><route-files value="r.rou.xml"/>{add}</input>
  <time>{time}</time>
  <processing>{options}</processing>
  <report><verbose value="true"/><no-step-log value="true"/></report>
  <output><tripinfo-output value="t.xml"/><tripinfo-output.write-unfinished value="true"/></output>
</configuration>
""")
    return cfg


TRIPS = '<trip id="t0" depart="0" from="A0B0" to="B0C0"/><trip id="t1" depart="50" from="A0A1" to="A1A2"/>'


def test_time_to_teleport_maps_to_the_gridlock_settings(tmp_path, grid_net):
    sc = load_scenario(sumocfg(tmp_path, grid_net, TRIPS))
    assert (sc.settings["sim.gridlock"], sc.settings["sim.gridlock_time"]) == ("teleport", 300.0)  # SUMO's
    sc = load_scenario(sumocfg(tmp_path, grid_net, TRIPS, '<time-to-teleport value="120"/>'))
    assert (sc.settings["sim.gridlock"], sc.settings["sim.gridlock_time"]) == ("teleport", 120.0)
    sc = load_scenario(sumocfg(tmp_path, grid_net, TRIPS, '<time-to-teleport value="-1"/>'))
    assert sc.settings["sim.gridlock"] == "none"
    sc = load_scenario(sumocfg(tmp_path, grid_net, TRIPS, '<time-to-teleport value="0"/>'))
    assert sc.settings["sim.gridlock"] == "none"
    sc = load_scenario(sumocfg(tmp_path, grid_net, TRIPS, '<time-to-teleport value="60"/>'
                                                          '<time-to-teleport.remove value="true"/>'))
    assert (sc.settings["sim.gridlock"], sc.settings["sim.gridlock_time"]) == ("remove", 60.0)


def test_trips_are_routed_at_departure_on_measured_travel_times(tmp_path, grid_net):
    """SUMO routes trips when it inserts them, on the edge speeds its rerouting device measures
    (every adaptation-interval s, averaged over adaptation-steps samples)."""
    s = load_scenario(sumocfg(tmp_path, grid_net, TRIPS)).settings
    assert (s["routing.departure"], s["routing.average_window"]) == ("current", 180.0)
    s = load_scenario(sumocfg(tmp_path, grid_net, TRIPS, '<device.rerouting.adaptation-steps value="30"/>'
                                                         '<device.rerouting.adaptation-interval value="2"/>'
                              )).settings
    assert (s["routing.departure"], s["routing.average_window"]) == ("current", 60.0)
    s = load_scenario(sumocfg(tmp_path, grid_net, TRIPS, '<device.rerouting.adaptation-interval value="0"/>'
                              )).settings
    assert s["routing.departure"] == "setup"  # SUMO's static weights: free-flow routes
    with pytest.raises(InputError, match="adaptation-steps"):
        load_scenario(sumocfg(tmp_path, grid_net, TRIPS, '<device.rerouting.adaptation-steps value="x"/>'))


def test_only_unhonoured_options_are_listed(tmp_path, grid_net):
    options = ('<time-to-teleport value="120"/><lateral-resolution value="0.8"/>'
               '<ignore-route-errors value="true"/>')
    cfg = sumocfg(tmp_path, grid_net, TRIPS, options)
    (w,) = [w for w in load_scenario(cfg).warnings if "options not used" in w]
    assert w.endswith("options not used by mobsim: lateral-resolution")  # outputs, reports: quiet


def test_vtype_default_options(tmp_path, grid_net):
    routes = '<vType id="own" carFollowModel="Krauss" speedDev="0.2"/>' + TRIPS
    cfg = sumocfg(tmp_path, grid_net, routes, '<carfollow.model value="IDM"/><default.speeddev value="0"/>')
    sc = load_scenario(cfg)
    own, default = sc.vtypes
    assert (own.cf_model, own.speed_dev) == ("Krauss", 0.2)  # a type's own values win
    assert default.id == "DEFAULT_VEHTYPE"
    assert (default.cf_model, default.sigma, default.speed_dev) == ("IDM", 0.0, 0.0)
    with pytest.raises(InputError, match="x.sumocfg.*carfollow.model"):
        load_scenario(sumocfg(tmp_path, grid_net, routes, '<carfollow.model value="Magic"/>'))


def test_ignore_route_errors(tmp_path, grid_net):
    # A0B0 then A1B1 are not connected (they do not even meet)
    routes = TRIPS + '<vehicle id="bad" depart="0"><route edges="A0B0 A1B1"/></vehicle>'
    with pytest.raises(InputError, match="vehicle 'bad'.*no connection from edge 'A0B0' to edge 'A1B1'"):
        load_scenario(sumocfg(tmp_path, grid_net, routes))
    sc = load_scenario(sumocfg(tmp_path, grid_net, routes, '<ignore-route-errors value="true"/>'))
    assert [t.id for t in sc.trips] == ["t0", "t1"]
    assert any("1 vehicle(s) with a broken route" in w for w in sc.warnings)
    assert sc.settings["demand.unreachable"] == "drop"


def test_without_end_the_run_lasts_until_the_network_is_empty(tmp_path, grid_net):
    routes = TRIPS + '<flow id="f" begin="100" period="1800" from="A0B0" to="B0C0"/>'
    sc = load_scenario(sumocfg(tmp_path, grid_net, routes, time='<begin value="0"/>'))
    # the flow has no end either: 24 h from its begin, as SUMO (48 vehicles, every 1800 s)
    flow = [t.depart for t in sc.trips if t.id.startswith("f.")]
    assert len(flow) == 48 and flow[-1] == 100 + 47 * 1800
    assert sc.settings["sim.end"] == flow[-1] + UNTIL_EMPTY_MARGIN
    assert any("run ends when every vehicle has left" in w for w in sc.warnings)
    # an explicit end wins
    sc = load_scenario(sumocfg(tmp_path, grid_net, routes, time=""), overrides=["sim.end=500"])
    assert sc.settings["sim.end"] == 500 and [t.id for t in sc.trips] == ["t0", "t1", "f.0"]


def test_a_run_without_end_stops_when_the_network_is_empty(tmp_path, grid_net):
    import mobsim
    from mobsim.engine import Simulation

    sc = load_scenario(sumocfg(tmp_path, grid_net, TRIPS, time=""))
    assert sc.settings["sim.end"] == 50 + UNTIL_EMPTY_MARGIN
    res = mobsim.open(Simulation(sc, backend="cpu").run(tmp_path / "run.h5", progress="none"))
    assert res.kpis()["trips_completed"] == 2
    # the run stopped long before the safety limit, and its tables stayed small
    assert res.health["steps"] * sc.settings["sim.dt"] < 600 and len(res.summary) < 2000


def test_additional_files_with_demand_are_read(tmp_path, grid_net):
    (tmp_path / "types.add.xml").write_text('<additional><vType id="slow" maxSpeed="10"/></additional>')
    (tmp_path / "det.add.xml").write_text(
        '<additional><inductionLoop id="d" lane="A0B0_0" pos="10" period="60" file="d.xml"/></additional>')
    routes = '<trip id="t0" type="slow" depart="0" from="A0B0" to="B0C0"/>'
    sc = load_scenario(sumocfg(tmp_path, grid_net, routes, additional="types.add.xml,det.add.xml"))
    assert [v.id for v in sc.vtypes] == ["slow"] and sc.vtypes[0].max_speed == 10.0
    (w,) = [w for w in sc.warnings if "options not used" in w]
    assert "additional-files (det.add.xml: no demand" in w and "types.add.xml" not in w


VTYPE_CAR = '<vType id="car" carFollowModel="IDM" accel="1.0" decel="1.5" minGap="2.0"/>'


def test_the_sumo_files_vtypes_win_over_the_builtin_ones(tmp_path, grid_net):
    """A SUMO file's vType 'car' is not replaced by mobsim's built-in type 'car' (it used to be)."""
    import mobsim
    from mobsim.engine import Simulation

    routes = VTYPE_CAR + '<trip id="t0" type="car" depart="0" from="A0B0" to="B0C0"/>'
    sc = load_scenario(sumocfg(tmp_path, grid_net, routes, time='<end value="60"/>'))
    (car,) = sc.vtypes
    assert (car.id, car.accel, car.decel, car.min_gap, car.cf_model) == ("car", 1.0, 1.5, 2.0, "IDM")
    assert car.emergency_decel == 9.0 and car.length == 5.0  # SUMO's passenger defaults for the rest
    out = Simulation(sc, backend="cpu").run(tmp_path / "run.h5", progress="none")
    vt = mobsim.open(out).vtypes.set_index("id").loc["car"]
    assert (vt["accel"], vt["decel"], vt["min_gap"]) == (1.0, 1.5, 2.0)


def test_vtypes_in_toml_and_sumo_file_must_agree(tmp_path, grid_net):
    trip = '<trip id="t0" type="car" depart="0" from="A0B0" to="B0C0"/>'
    (tmp_path / "r.rou.xml").write_text(f"<routes>{VTYPE_CAR}{trip}</routes>")
    toml = tmp_path / "s.toml"
    head = f'[network]\nsumo = "{grid_net}"\n[demand]\nsumo = ["r.rou.xml"]\n'
    toml.write_text(head + '[[vtypes]]\nid = "car"\naccel = 2.0\n')
    with pytest.raises(InputError) as exc:
        load_scenario(toml)
    msg = str(exc.value)
    assert "s.toml" in msg and "r.rou.xml" in msg and "vehicle type 'car'" in msg
    assert "accel 2.0 vs 1.0" in msg
    # the same values in both places are fine
    same = load_scenario(sumocfg(tmp_path, grid_net, VTYPE_CAR)).vtypes[0].as_dict()
    lines = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in same.items())
    toml.write_text(head + "[[vtypes]]\n" + lines + "\n")
    sc = load_scenario(toml)
    assert [v.id for v in sc.vtypes] == ["car"] and sc.vtypes[0].accel == 1.0


# ------------------------------------------------------------------ the shipped scenarios


def _game() -> Path | None:
    try:
        import sumo
    except ImportError:
        return None
    d = Path(sumo.SUMO_HOME) / "tools" / "game"
    return d if d.is_dir() else None


#: Shipped scenarios that load, with their number of trips in mobsim (given their begin/end):
#: DRT* only have taxis routed by their stops and persons (both skipped), hence no trips.
SHIPPED = {"A10KW": 6889, "bs3d": 89, "bs3Dosm": 89, "corridor": 421, "cross": 92, "cross_demo": 20326,
           "fkk_in": 94, "fokr_bs_demo": 2323, "grid6": 289, "ramp": 591, "square": 142, "DRT": 0,
           "DRT2": 0, "DRT_demo": 0}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_sumocfg_loads(name):
    game = _game()
    if game is None or not (game / f"{name}.sumocfg").is_file():
        pytest.skip(f"{name}.sumocfg is not shipped with this eclipse-sumo wheel")
    sc = load_scenario(game / f"{name}.sumocfg")
    # the counts depend on the network import (another module) only through dropped vehicles
    assert len(sc.trips) == pytest.approx(SHIPPED[name], rel=0.02)
    assert sc.vtypes and {t.vtype for t in sc.trips} <= {v.id for v in sc.vtypes}


@pytest.mark.parametrize("name", ["rail", "rail_demo"])
def test_shipped_rail_scenarios_are_clear_errors(name):
    """Rail only: mobsim imports no rail lanes, so the network has none for cars."""
    game = _game()
    if game is None or not (game / f"{name}.sumocfg").is_file():
        pytest.skip(f"{name}.sumocfg is not shipped with this eclipse-sumo wheel")
    with pytest.raises(InputError, match="passenger"):
        load_scenario(game / f"{name}.sumocfg")
