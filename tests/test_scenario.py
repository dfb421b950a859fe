"""Settings table, scenario files (errors name file and key), overrides, resolved config."""

from __future__ import annotations

import hashlib
import math
import sys
import types
from pathlib import Path

import pytest

from mobsim import settings as st
from mobsim.demand.trips import Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.errors import InputError
from mobsim.net.network import Link, Movement, Network, Node
from mobsim.scenario import dumps_toml, load_scenario, scenario_from_objects

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


def chain_network(source: str = "chain") -> Network:
    """A-B-C-D, 100 m links both ways (ab, bc, cd and dc, cb, ba), U-turns at the ends."""
    nodes = [Node("A", 0, 0), Node("B", 100, 0), Node("C", 200, 0), Node("D", 300, 0)]
    pairs = [("ab", "A", "B"), ("bc", "B", "C"), ("cd", "C", "D"),
             ("dc", "D", "C"), ("cb", "C", "B"), ("ba", "B", "A")]
    links = [Link(i, a, b, 100.0, 13.9, 1) for i, a, b in pairs]
    moves = [Movement("B", "ab", 0, "bc", 0), Movement("B", "cb", 0, "ba", 0),
             Movement("C", "bc", 0, "cd", 0), Movement("C", "dc", 0, "cb", 0),
             Movement("D", "cd", 0, "dc", 0, turn="t"), Movement("A", "ba", 0, "ab", 0, turn="t")]
    return Network(nodes, links, moves, name="chain", source=source)


@pytest.fixture
def stub_generators(monkeypatch):
    """A stand-in ``mobsim.net.generators`` whose ``single_link`` returns the chain network.

    Tests of the scenario's generator plumbing (parameter checks, kwargs passing) use it so they do
    not depend on the real generators' parameters; ``test_real_generator`` uses the real module.
    """
    calls: list[dict] = []

    def single_link(length: float = 100.0, lanes: int = 1, *, speed: float = 13.9) -> Network:
        calls.append({"length": length, "lanes": lanes, "speed": speed})
        return chain_network("generator single_link")

    module = types.ModuleType("mobsim.net.generators")
    for name in ("grid", "corridor", "ring", "district"):
        setattr(module, name, single_link)
    module.single_link = single_link
    monkeypatch.setitem(sys.modules, "mobsim.net.generators", module)
    return calls


GEN_HEAD = '[network]\ngenerator = "single_link"\n'
FLOW = ('[[demand.flows]]\nid = "f"\nfrom = "ab"\nto = "cd"\nend = 100\nperiod = 10\n')


def scenario_file(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# settings table


def test_every_setting_is_documented_and_its_default_valid():
    assert len(st.SETTINGS) >= 24
    for key, s in st.SETTINGS.items():
        assert key.count(".") == 1 and s.description and s.units is not None
        assert st.validate(key, s.default, "test") == s.default
    text = st.describe()
    assert all(key in text for key in st.SETTINGS)


def test_defaults_are_fresh_copies():
    d = st.defaults()
    d["kpi.los_signal"].append(1.0)
    assert len(st.defaults()["kpi.los_signal"]) == 5


def test_validate_coerces_int_to_float_and_rejects_bool():
    v = st.validate("sim.dt", 1, "f.toml")
    assert v == 1.0 and isinstance(v, float)
    with pytest.raises(InputError) as exc:
        st.validate("sim.dt", True, "f.toml")
    assert exc.value.source == "f.toml" and exc.value.element == "sim.dt"
    assert "> 0 and <= 2" in exc.value.fix
    with pytest.raises(InputError, match="must be an integer"):
        st.validate("sim.seed", 1.0, "f.toml")
    with pytest.raises(InputError, match="must be true or false"):
        st.validate("output.fcd", 1, "f.toml")
    with pytest.raises(InputError, match="must be a number"):
        st.validate("sim.end", "3600", "f.toml")


@pytest.mark.parametrize("key, value", [
    ("sim.dt", 0), ("sim.dt", 2.5), ("sim.dt", math.inf), ("sim.seed", -1), ("output.fcd_share", 0.0),
    ("output.fcd_share", 1.5), ("sim.gridlock_time", 0), ("kpi.los_signal", [1, 2, 3, 4]),
    ("kpi.los_signal", [1, 2, 2, 4, 5]), ("kpi.los_signal", [1, 2, 3, 4, True]),
])
def test_validate_rejects_out_of_range(key, value):
    with pytest.raises(InputError) as exc:
        st.validate(key, value, "f.toml")
    assert exc.value.element == key and exc.value.fix


def test_choices_with_suggestion():
    assert st.validate("sim.backend", "cuda", "x") == "cuda"
    with pytest.raises(InputError, match="did you mean 'remove'") as exc:
        st.validate("sim.gridlock", "removed", "x")
    assert '"teleport", "remove", "none"' in exc.value.fix


def test_parse_override():
    assert st.parse_override("sim.dt=0.25") == ("sim.dt", 0.25)
    assert st.parse_override(" sim.end = 600 ") == ("sim.end", 600.0)
    assert st.parse_override("sim.backend=cpu") == ("sim.backend", "cpu")
    assert st.parse_override('sim.backend="cuda"') == ("sim.backend", "cuda")
    assert st.parse_override("output.fcd=true") == ("output.fcd", True)
    assert st.parse_override("output.file=out/run 1.h5") == ("output.file", "out/run 1.h5")
    assert st.parse_override("output.file=2024-01-01") == ("output.file", "2024-01-01")
    assert st.parse_override("kpi.los_signal=[5,10,20,30,40]")[1] == [5.0, 10.0, 20.0, 30.0, 40.0]


def test_parse_override_errors():
    with pytest.raises(InputError) as exc:
        st.parse_override("sim.dtt=0.2")
    assert exc.value.source == "--set" and "did you mean 'sim.dt'" in exc.value.what
    with pytest.raises(InputError, match="did you mean 'output.fcd_period'"):
        st.parse_override("output.fcd_perod=2")
    with pytest.raises(InputError, match="key=value"):
        st.parse_override("sim.dt")
    with pytest.raises(InputError, match="must be a number"):
        st.parse_override("sim.dt=fast")
    with pytest.raises(InputError, match="must be a number"):
        st.parse_override("sim.dt=false")


def test_cross_checks():
    with pytest.raises(InputError, match="not after sim.begin"):
        st.resolve({"sim.begin": 100, "sim.end": 100}, "f.toml")
    with pytest.raises(InputError, match="shorter than the step"):
        st.resolve({"output.fcd": True, "output.fcd_period": 0.25}, "f.toml")
    assert st.resolve({"output.fcd_period": 0.25}, "f.toml")["output.fcd_period"] == 0.25  # fcd off
    assert st.resolve({"output.summary_period": 0}, "f.toml")["output.summary_period"] == 0.0


# --------------------------------------------------------------------------------------------
# scenario files


def test_load_generator_scenario(tmp_path, stub_generators):
    path = scenario_file(tmp_path, '[scenario]\nname = "demo"\n' + GEN_HEAD
                         + '[network.params]\nlength = 250\nspeed = 10.0\n'
                         + '[[vtypes]]\nid = "car"\ntau = 1\n[[vtypes]]\nid = "bus"\nlength = 12\n'
                         + FLOW + '[sim]\ndt = 0.25\nend = 900\n[output]\nfcd = true\n')
    sc = load_scenario(path)
    assert stub_generators == [{"length": 250, "lanes": 1, "speed": 10.0}]
    assert sc.name == "demo" and sc.path == path and sc.base_dir == tmp_path.resolve()
    assert sc.settings["sim.dt"] == 0.25 and sc.settings["sim.end"] == 900.0
    assert sc.settings["output.fcd"] is True and sc.settings["sim.seed"] == 42
    assert set(sc.settings) == set(st.SETTINGS)
    assert [v.id for v in sc.vtypes] == ["car", "bus"] and sc.vtypes[1].length == 12.0
    assert isinstance(sc.vtypes[0].tau, float)
    assert [t.id for t in sc.trips] == [f"f.{k}" for k in range(10)]
    assert sc.input_files == [(str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest())]
    assert sc.output_path() == Path("results/demo.h5")
    assert sc.output_path("x.h5") == Path("x.h5")


def test_load_network_folder_and_demand_files(tmp_path):
    netio = pytest.importorskip("mobsim.net.netio")
    netio.write_network(chain_network(), tmp_path / "net")
    (tmp_path / "trips.csv").write_text("id,origin,destination,depart\nt1,ab,cd,3\nt2,dc,ba,1\n")
    path = scenario_file(tmp_path, '[network]\ndir = "net"\n[demand]\ntrips = "trips.csv"\n'
                         'unreachable = "drop"\n' + FLOW, name="scenario.toml")
    sc = load_scenario(tmp_path)  # a folder means <folder>/scenario.toml
    assert sc.name == tmp_path.name
    assert sc.settings["demand.unreachable"] == "drop"
    assert [t.id for t in sc.trips][:3] == ["f.0", "t2", "t1"]
    assert len(sc.network.links) == 6
    hashed = dict(sc.input_files)
    assert str(path.resolve()) in hashed
    assert str((tmp_path / "trips.csv").resolve()) in hashed
    assert str((tmp_path / "net" / "link.csv").resolve()) in hashed


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.toml")
    path = scenario_file(tmp_path, '[network]\ndir = "net"\n')
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    assert exc.value.source == str(path) and exc.value.element == "network.dir"
    assert "network folder not found" in exc.value.what


@pytest.mark.parametrize("text, element, what", [
    ("[simm]\ndt = 0.5\n", "[simm]", "did you mean 'sim'"),
    (GEN_HEAD + "[sim]\ndtt = 0.5\n", "sim.dtt", "did you mean 'dt'"),
    (GEN_HEAD + "[output]\nfcd_perod = 1\n", "output.fcd_perod", "did you mean 'fcd_period'"),
    (GEN_HEAD + "[demand]\ntrip = 'x.csv'\n", "demand.trip", "did you mean 'trips'"),
    (GEN_HEAD + "[scenario]\nnmae = 'x'\n", "scenario.nmae", "did you mean 'name'"),
    ('[network]\ngenrator = "grid"\n', "network.genrator", "did you mean 'generator'"),
    (GEN_HEAD + '[[vtypes]]\nid = "car"\ntua = 1.0\n', "vtype 'car'", "unknown vehicle-type key"),
    (GEN_HEAD + "[sim]\ndt = 'fast'\n", "sim.dt", "must be a number"),
    (GEN_HEAD + "[sim]\ndt = true\n", "sim.dt", "must be a number"),
    (GEN_HEAD + "[sim]\nbegin = 50\nend = 10\n", "sim.end", "not after sim.begin"),
    (GEN_HEAD + "[sim]\ndt = 1.5\n", "vtype 'car'", "below the step"),
    (GEN_HEAD + '[[vtypes]]\nid = "a"\n[[vtypes]]\nid = "a"\n', "vtype 'a'", "defined twice"),
    (GEN_HEAD + '[[vtypes]]\nlength = 4\n', "[[vtypes]] #1", "missing or empty id"),
    (GEN_HEAD + '[scenario]\nname = "a b"\n', "scenario.name", "file name"),
    ('[network]\ngenerator = "gird"\n', "network.generator", "did you mean 'grid'"),
    (GEN_HEAD + '[network.params]\nlenght = 5\n', "network.params.lenght", "did you mean 'length'"),
    ('[network]\ngenerator = "grid"\ndir = "net"\n', "[network]", "exactly one of"),
    ("[sim\n", None, "not valid TOML"),
    (GEN_HEAD + 'sim = 3\n', None, "network.sim"),
])
def test_scenario_errors_name_file_and_key(tmp_path, stub_generators, text, element, what):
    path = scenario_file(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    err = exc.value
    assert err.source == str(path)
    assert what in str(err)
    if element:
        assert err.element == element
    assert err.fix


def test_overrides(tmp_path, stub_generators):
    path = scenario_file(tmp_path, GEN_HEAD + FLOW + "[sim]\nend = 900\n")
    sc = load_scenario(path, ["sim.end=100", "output.fcd=true", "sim.seed=7"])
    assert sc.settings["sim.end"] == 100.0 and sc.settings["output.fcd"] is True
    assert sc.settings["sim.seed"] == 7
    with pytest.raises(InputError) as exc:
        load_scenario(path, ["sim.ends=5"])
    assert exc.value.source == "--set" and "did you mean 'sim.end'" in exc.value.what
    with pytest.raises(InputError, match="below the step"):
        load_scenario(path, ["sim.dt=2"])
    with pytest.raises(InputError, match=r"with --set.*not after"):
        load_scenario(path, ["sim.begin=900"])


def test_seed_changes_random_demand(tmp_path, stub_generators):
    (tmp_path / "zones.csv").write_text("zone,link\nw,ab\ne,cd\n")
    (tmp_path / "od.csv").write_text("origin_zone,destination_zone,trips\nw,e,20\n")
    path = scenario_file(tmp_path, GEN_HEAD + '[[demand.od]]\nfile = "od.csv"\nzones = "zones.csv"\n'
                         'end = 600\ndeparture = "random"\n')
    a, b, c = load_scenario(path), load_scenario(path), load_scenario(path, ["sim.seed=43"])
    assert a.trips == b.trips and len(a.trips) == 20
    assert [t.depart for t in a.trips] != [t.depart for t in c.trips]
    assert len(a.input_files) == 3


def test_warnings_for_trips_outside_the_window(tmp_path, stub_generators):
    path = scenario_file(tmp_path, GEN_HEAD + FLOW + "[sim]\nbegin = 20\nend = 50\n")
    sc = load_scenario(path)
    assert any("5 trip(s) depart at or after sim.end" in w for w in sc.warnings)
    assert any("2 trip(s) depart before sim.begin" in w for w in sc.warnings)


def test_resolved_toml_round_trips(tmp_path, stub_generators):
    (tmp_path / "zones.csv").write_text("zone,link\nw,ab\ne,cd\n")
    (tmp_path / "od.csv").write_text("origin_zone,destination_zone,trips\nw,e,20\n")
    path = scenario_file(tmp_path, '[scenario]\nname = "rt"\ndescription = "a \\"quoted\\"\\nline"\n'
                         + GEN_HEAD + '[network.params]\nlength = 120\n'
                         + '[[vtypes]]\nid = "car"\ntau = 1.5\n' + FLOW
                         + '[[demand.od]]\nfile = "od.csv"\nzones = "zones.csv"\nend = 600\n'
                         'departure = "random"\n'
                         + '[sim]\ndt = 0.25\n[kpi]\nlos_signal = [1, 2, 3, 4, 5.5]\n')
    sc = load_scenario(path, ["output.fcd=true"])
    doc = tomllib.loads(sc.resolved_toml)
    flat = {f"{sec}.{k}": v for sec in st.SECTIONS for k, v in doc[sec].items()
            if f"{sec}.{k}" in st.SETTINGS}
    assert flat == sc.settings
    assert st.from_toml(sc.resolved_toml, "resolved") == sc.settings
    assert doc["scenario"] == {"name": "rt", "description": 'a "quoted"\nline'}
    assert doc["network"] == {"generator": "single_link", "params": {"length": 120}}
    assert doc["vtypes"][0] == VehicleType(tau=1.5).as_dict()
    # the resolved file, next to the original, loads to the same scenario
    again = load_scenario(scenario_file(tmp_path, sc.resolved_toml, "resolved.toml"))
    assert again.settings == sc.settings and again.trips == sc.trips and again.vtypes == sc.vtypes
    assert again.resolved_toml.split("\n", 3)[3] == sc.resolved_toml.split("\n", 3)[3]


def test_dumps_toml_round_trip():
    doc = {"a": 1, "b": -0.5, "c": 1e-5, "big": 1e20, "t": True, "s": 'q"\\\n\t\x01é', "l": [1, 2.5],
           "e": [], "sec": {"x": "y", "sub": {"z": [1]}, "empty": {}},
           "arr": [{"k": 1, "inner": {"m": 2}}, {"k": 2}], "weird key": {"1": 2}}
    assert tomllib.loads(dumps_toml(doc)) == doc


def test_with_settings(tmp_path, stub_generators):
    sc = load_scenario(scenario_file(tmp_path, GEN_HEAD + FLOW))
    sc2 = sc.with_settings(sim__dt=0.25, **{"output.fcd": True})
    assert sc2.settings["sim.dt"] == 0.25 and sc2.settings["output.fcd"] is True
    assert sc.settings["sim.dt"] == 0.5  # the original is unchanged
    assert tomllib.loads(sc2.resolved_toml)["sim"]["dt"] == 0.25
    with pytest.raises(InputError, match="below the step"):
        sc.with_settings(sim__dt=2)
    with pytest.raises(InputError, match="did you mean 'sim.dt'"):
        sc.with_settings(sim__dtt=1)


def test_scenario_from_objects():
    trips = [Trip("b", "ab", "cd", 5.0), Trip("a", "dc", "ba", 1.0)]
    sc = scenario_from_objects(chain_network(), trips, settings={"sim.end": 60})
    assert [t.id for t in sc.trips] == ["a", "b"]
    assert sc.settings["sim.end"] == 60.0 and sc.path is None and sc.vtypes == [VehicleType()]
    assert tomllib.loads(sc.resolved_toml)["sim"]["end"] == 60.0
    with pytest.raises(InputError, match="unknown link 'zz'"):
        scenario_from_objects(chain_network(), [Trip("x", "ab", "zz", 0.0)])
    with pytest.raises(InputError, match="unknown vehicle type 'bus'"):
        scenario_from_objects(chain_network(), [Trip("x", "ab", "cd", 0.0, vtype="bus")])
    with pytest.raises(InputError, match="duplicate trip id"):
        scenario_from_objects(chain_network(), [Trip("x", "ab", "cd", 0.0)] * 2)
    with pytest.raises(InputError, match="did you mean 'sim.end'"):
        scenario_from_objects(chain_network(), trips, settings={"sim.ned": 5})


def test_real_generator(tmp_path):
    generators = pytest.importorskip("mobsim.net.generators")
    if not hasattr(generators, "grid"):
        pytest.skip("mobsim.net.generators.grid does not exist yet")
    sc = load_scenario(scenario_file(tmp_path, '[network]\ngenerator = "grid"\n'))
    assert len(sc.network.links) > 0
    assert any("no trips" in w for w in sc.warnings)


def test_default_scenario_loads():
    path = REPO / "networks" / "default" / "scenario.toml"
    if not (path.parent / "net" / "link.csv").is_file():
        pytest.skip("networks/default/net (the district network) has not been generated yet")
    pytest.importorskip("mobsim.net.netio")
    sc = load_scenario(path)
    assert sc.name == "default"
    assert 3000 <= len(sc.trips) <= 4000
    assert sc.settings["sim.end"] == 4500.0 and sc.settings["output.fcd"] is False
    assert sc.settings["output.edgedata_period"] == 300.0
    assert all(0 <= t.depart < 3600 for t in sc.trips)
