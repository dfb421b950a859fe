"""Demand: trip tables (errors with line and column), OD matrices (rounding, seeding), flows."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobsim.demand.od import largest_remainder
from mobsim.demand.sources import flow_departures, load_demand, normalize_config, write_trips
from mobsim.errors import InputError
from mobsim.net.network import Link, Movement, Network, Node


def chain_network() -> Network:
    """A-B-C-D, 100 m links both ways (ab, bc, cd and dc, cb, ba), U-turns at the ends."""
    nodes = [Node("A", 0, 0), Node("B", 100, 0), Node("C", 200, 0), Node("D", 300, 0)]
    pairs = [("ab", "A", "B"), ("bc", "B", "C"), ("cd", "C", "D"),
             ("dc", "D", "C"), ("cb", "C", "B"), ("ba", "B", "A")]
    links = [Link(i, a, b, 100.0, 13.9, 2 if i == "ab" else 1) for i, a, b in pairs]
    moves = [Movement("B", "ab", 0, "bc", 0), Movement("B", "ab", 1, "bc", 0),
             Movement("B", "cb", 0, "ba", 0), Movement("C", "bc", 0, "cd", 0),
             Movement("C", "dc", 0, "cb", 0), Movement("D", "cd", 0, "dc", 0, turn="t"),
             Movement("A", "ba", 0, "ab", 0, turn="t")]
    return Network(nodes, links, moves, name="chain", source="chain")


NET = chain_network()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def load(tmp_path: Path, cfg: dict, seed: int = 1, **kw) -> list:
    return load_demand(cfg, tmp_path, NET, seed, "scenario.toml", **kw)


# --------------------------------------------------------------------------------------------
# trip tables


def test_trip_table_reads_and_sorts(tmp_path):
    write(tmp_path / "t.csv", "id,origin,destination,depart,vtype,route,depart_lane,depart_speed\n"
                              "b,ab,cd,5,car,ab bc cd,1,max\n"
                              "a,ab,cd,5,,,,\n"
                              "c,,dc,0.5,car,dc,first,3.5\n")
    files: list = []
    trips = load(tmp_path, {"trips": "t.csv"}, files=files)
    assert [t.id for t in trips] == ["c", "a", "b"]
    c, a, b = trips
    assert c.origin == "dc" and c.depart == 0.5 and c.depart_lane == "first" and c.depart_speed == "3.5"
    assert a.vtype == "car" and a.route == () and a.depart_lane == "best" and a.depart_speed == "max"
    assert b.route == ("ab", "bc", "cd") and b.depart_lane == "1"
    assert files == [tmp_path / "t.csv"]


def test_write_trips_round_trip(tmp_path):
    write(tmp_path / "t.csv", "id,origin,destination,depart,route\nx,ab,cd,1.25,ab bc cd\ny,ba,ba,2,\n")
    trips = load(tmp_path, {"trips": "t.csv"})
    write_trips(trips, tmp_path / "u.csv")
    assert load(tmp_path, {"trips": "u.csv"}) == trips


@pytest.mark.parametrize("text, element, what", [
    ("id,origin,destination,depart\na,ab,cd,1\nb,ab,cd\n", "line 3", "truncated"),
    ("id,origin,destination\na,ab,cd\n", "line 1", "missing column(s) depart"),
    ("id,origin,destination,depart,colour\na,ab,cd,1,red\n", "line 1", "unknown column 'colour'"),
    ("id,origin,destination,depart\na,ab,cd,1\nb,ab,cd,soon\n", "line 3, column 'depart'", "not a number"),
    ("id,origin,destination,depart\na,ab,cd,-1\n", "line 2, column 'depart'", "negative"),
    ("id,origin,destination,depart\na,ab,cd,nan\n", "line 2, column 'depart'", "finite"),
    ("id,origin,destination,depart\na,ab,cx,1\n", "line 2", "unknown link 'cx'"),
    ("id,origin,destination,depart\na,ab,cd,1\n\na,ab,cd,2\n", "line 4, column 'id'",
     "duplicate trip id 'a' (first on line 2)"),
    ("id,origin,destination,depart,vtype\na,ab,cd,1,truck\n", "line 2", "unknown vehicle type 'truck'"),
    ("id,origin,destination,depart,route\na,ab,cd,1,ab cd\n", "line 2", "not contiguous"),
    ("id,origin,destination,depart,route\na,ab,cd,1,bc cd\n", "line 2", "route runs bc"),
    ("id,origin,destination,depart,depart_lane\na,bc,cd,1,1\n", "line 2", "depart_lane 1 does not exist"),
    ('id,origin,destination,depart\na,ab,cd,"1\n', "line", "truncated"),
    ("", None, "empty"),
])
def test_trip_table_errors(tmp_path, text, element, what):
    write(tmp_path / "t.csv", text)
    with pytest.raises(InputError) as exc:
        load(tmp_path, {"trips": "t.csv"})
    err = exc.value
    assert err.source == str(tmp_path / "t.csv")
    assert what in err.what
    if element:
        assert err.element.startswith(element)
    assert err.fix


def test_unknown_link_suggests_close_match(tmp_path):
    write(tmp_path / "t.csv", "id,origin,destination,depart\na,ab,cdd,1\n")
    with pytest.raises(InputError, match="did you mean 'cd'"):
        load(tmp_path, {"trips": "t.csv"})


def test_missing_trip_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load(tmp_path, {"trips": "nope.csv"})


def test_vtypes_are_checked_against_the_given_list(tmp_path):
    write(tmp_path / "t.csv", "id,origin,destination,depart,vtype\na,ab,cd,1,bus\n")
    assert load(tmp_path, {"trips": "t.csv"}, vtypes=["car", "bus"])[0].vtype == "bus"


def test_duplicate_ids_across_sources(tmp_path):
    write(tmp_path / "t.csv", "id,origin,destination,depart\nf.0,ab,cd,1\n")
    cfg = {"trips": "t.csv", "flows": [{"id": "f", "from": "ab", "to": "cd", "end": 10, "number": 1}]}
    with pytest.raises(InputError, match="used twice"):
        load(tmp_path, cfg)


# --------------------------------------------------------------------------------------------
# OD matrices


def od_files(tmp_path: Path, cells: str) -> None:
    write(tmp_path / "zones.csv", "zone,link,weight,role\n"
                                  "west,ab,1,origin\nwest,ba,1,destination\n"
                                  "east,dc,1,origin\neast,cd,1,destination\n"
                                  "mid,bc,3,both\nmid,cb,1,both\n")
    write(tmp_path / "od.csv", "origin_zone,destination_zone,trips\n" + cells)


def od_cfg(**kw) -> dict:
    table = {"file": "od.csv", "zones": "zones.csv", "begin": 0, "end": 600}
    table.update(kw)
    return {"od": [table]}


def test_largest_remainder_sums_to_rounded_total():
    assert largest_remainder([0.5, 0.5, 0.5, 0.5]) == [1, 1, 0, 0]
    assert largest_remainder([2.7, 1.2, 0.1]) == [3, 1, 0]
    assert largest_remainder([0.4, 0.4, 0.4]) == [1, 0, 0]
    values = [i * 0.37 for i in range(50)]
    assert sum(largest_remainder(values)) == round(sum(values))


def test_od_count_equals_matrix_total(tmp_path):
    # 10.4 + 7.3 + 2.7 + 0.6 = 21: floors give 19, the two largest remainders (.7, .6) get one more
    od_files(tmp_path, "west,east,10.4\neast,west,7.3\nwest,mid,2.7\nmid,east,0.6\n")
    warnings: list = []
    trips = load(tmp_path, od_cfg(departure="random"), warnings=warnings)
    assert len(trips) == 21
    assert not warnings
    counts: dict = {}
    for t in trips:
        counts[(t.origin, t.destination)] = counts.get((t.origin, t.destination), 0) + 1
    assert counts[("ab", "cd")] == 10 and counts[("dc", "ba")] == 7
    assert sum(n for (o, d), n in counts.items() if o == "ab" and d in ("bc", "cb")) == 3
    assert sum(n for (o, d), n in counts.items() if d == "cd" and o in ("bc", "cb")) == 1
    assert all(0 <= t.depart < 600 for t in trips)
    assert [t.id for t in trips] == [f"od0_{i}" for i in range(21)]  # numbered in departure order


def test_od_scale_and_uniform_departures(tmp_path):
    od_files(tmp_path, "west,east,4\n")
    trips = load(tmp_path, od_cfg(scale=0.5, id_prefix="x", vtype="car"))
    assert [t.depart for t in trips] == [150.0, 450.0]
    assert [t.id for t in trips] == ["x0", "x1"]


def test_od_same_link_trips_are_skipped_with_warning(tmp_path):
    od_files(tmp_path, "mid,mid,40\n")
    warnings: list = []
    trips = load(tmp_path, od_cfg(), warnings=warnings)
    assert 0 < len(trips) < 40
    assert all(t.origin != t.destination for t in trips)
    assert len(warnings) == 1 and f"{40 - len(trips)} trip(s) skipped" in warnings[0]


def test_od_random_is_deterministic_and_seeded(tmp_path):
    od_files(tmp_path, "west,east,30\nmid,east,30\n")
    a = load(tmp_path, od_cfg(departure="random"), seed=7)
    b = load(tmp_path, od_cfg(departure="random"), seed=7)
    c = load(tmp_path, od_cfg(departure="random"), seed=8)
    assert a == b
    assert [t.depart for t in a] != [t.depart for t in c]


def test_od_links_are_drawn_by_weight(tmp_path):
    od_files(tmp_path, "mid,east,400\n")  # zone 'mid': bc weight 3, cb weight 1
    origins = [t.origin for t in load(tmp_path, od_cfg())]
    assert len(origins) == 400
    assert 0.65 < origins.count("bc") / 400 < 0.85


@pytest.mark.parametrize("cells, zones, what, element", [
    ("west,nowhere,1\n", None, "unknown zone 'nowhere'", "line 2, column 'destination_zone'"),
    ("west,east,-1\n", None, "negative", "line 2, column 'trips'"),
    ("west,east,1\nwest,east,2\n", None, "duplicate OD pair", "line 3"),
    ("east,west,1\n", "zone,link,role\neast,cd,destination\nwest,ba,both\n", "no origin link",
     "line 2, column 'origin_zone'"),
    ("west,east,1\n", "zone,link\nwest,zz\n", "unknown link 'zz'", "line 2, column 'link'"),
    ("west,east,1\n", "zone,link,role\nwest,ab,source\n", "role 'source'", "line 2, column 'role'"),
])
def test_od_errors(tmp_path, cells, zones, what, element):
    od_files(tmp_path, cells)
    if zones:
        write(tmp_path / "zones.csv", zones)
    with pytest.raises(InputError) as exc:
        load(tmp_path, od_cfg())
    assert what in exc.value.what
    assert exc.value.element == element
    assert exc.value.source.endswith(".csv")


# --------------------------------------------------------------------------------------------
# flows


def flow(**kw) -> dict:
    table = {"id": "f", "from": "ab", "to": "cd", "begin": 0, "end": 3600}
    table.update(kw)
    return normalize_config({"flows": [table]}, "s.toml")["flows"][0]


@pytest.mark.parametrize("rate, n", [
    ({"vehs_per_hour": 600}, 600), ({"vehs_per_hour": 1000}, 1000), ({"vehs_per_hour": 7}, 7),
    ({"period": 10}, 360), ({"period": 7}, 515), ({"number": 25}, 25), ({"number": 0}, 0),
])
def test_flow_counts(rate, n):
    t = flow_departures(flow(**rate), seed=1)
    assert len(t) == n
    assert (t >= 0).all() and (t < 3600).all()


def test_flow_semantics_match_sumo():
    assert list(flow_departures(flow(end=60, vehs_per_hour=180), 1)) == [0.0, 20.0, 40.0]
    assert list(flow_departures(flow(begin=10, end=40, number=3), 1)) == [10.0, 20.0, 30.0]
    assert list(flow_departures(flow(begin=5, end=9.5, period=2), 1)) == [5.0, 7.0, 9.0]


def test_flow_probability_is_bernoulli_per_second_and_seeded():
    t = flow_departures(flow(probability=0.25), seed=3)
    assert 700 < len(t) < 1100  # mean 900, sd 26
    assert all(float(x).is_integer() for x in t)
    assert list(t) == list(flow_departures(flow(probability=0.25), seed=3))
    assert list(t) != list(flow_departures(flow(probability=0.25), seed=4))


def test_flow_trips_ids_and_route(tmp_path):
    cfg = {"flows": [{"id": "main", "route": "ab bc cd", "end": 30, "period": 10, "depart_lane": 1}]}
    trips = load(tmp_path, cfg)
    assert [t.id for t in trips] == ["main.0", "main.1", "main.2"]
    assert trips[0].origin == "ab" and trips[0].destination == "cd" and trips[0].depart_lane == "1"


@pytest.mark.parametrize("table, what", [
    ({"id": "f", "from": "ab", "to": "cd", "end": 10}, "exactly one of"),
    ({"id": "f", "from": "ab", "to": "cd", "end": 10, "number": 3, "period": 2}, "exactly one of"),
    ({"id": "f", "from": "ab", "to": "cd", "end": 10, "probability": 1.5}, "probability"),
    ({"id": "f", "from": "ab", "to": "cd", "end": 10, "number": 2.5}, "number must be an integer"),
    ({"id": "f", "from": "ab", "to": "cd", "begin": 10, "end": 10, "number": 1}, "not after begin"),
    ({"id": "f", "from": "ab", "to": "cd", "number": 1}, "missing required key(s) end"),
    ({"id": "f", "to": "cd", "end": 5, "number": 1}, "missing 'from'"),
    ({"id": "f", "from": "ab", "to": "cd", "end": 5, "number": 1, "vph": 3}, "unknown key 'vph'"),
])
def test_flow_config_errors(table, what):
    with pytest.raises(InputError) as exc:
        normalize_config({"flows": [table]}, "s.toml")
    assert what in exc.value.what
    assert exc.value.source == "s.toml" and "demand.flows" in exc.value.element


def test_unknown_demand_key_is_an_error(tmp_path):
    with pytest.raises(InputError, match="did you mean 'flows'"):
        load(tmp_path, {"flow": []})


# --------------------------------------------------------------------------------------------
# mixed fleets


def test_a_vtype_table_mixes_the_fleet_by_share(tmp_path):
    """vtype = { car = 0.7, cacc = 0.3 }: each trip draws its type (a penetration rate), the
    shares within binomial noise, the same draw for the same seed, another for another seed; an
    OD table mixes the same way; the normalised table (as a resolved scenario keeps it) reads back
    to the same trips."""
    vt = ("car", "cacc")
    cfg = {"flows": [{"id": "f", "from": "ab", "to": "cd", "end": 2000, "period": 1,
                      "vtype": {"car": 0.7, "cacc": 0.3}}]}
    trips = load(tmp_path, cfg, vtypes=vt)
    share = sum(t.vtype == "cacc" for t in trips) / len(trips)
    assert len(trips) == 2000 and abs(share - 0.3) < 4 * (0.3 * 0.7 / 2000) ** 0.5
    assert [t.vtype for t in load(tmp_path, cfg, vtypes=vt)] == [t.vtype for t in trips]
    assert [t.vtype for t in load(tmp_path, cfg, seed=2, vtypes=vt)] != [t.vtype for t in trips]
    again = load(tmp_path, normalize_config(cfg, "scenario.toml"), vtypes=vt)
    assert [t.vtype for t in again] == [t.vtype for t in trips]
    od_files(tmp_path, "west,east,400\n")
    od = load(tmp_path, od_cfg(vtype={"cacc": 1.0, "car": 1.0}), vtypes=vt)
    assert 150 < sum(t.vtype == "cacc" for t in od) < 250


@pytest.mark.parametrize("mix, what", [
    ({"car": 0.5, "bus": 0.5}, "unknown vehicle type 'bus' in vtype"),
    ({"car": -1.0}, "vtype share car = -1.0 is not a number >= 0"),
    ({"car": 0.0}, "vtype shares add up to 0"),
    (3, "vtype must be a type id or a table"),
])
def test_vtype_mix_errors(tmp_path, mix, what):
    cfg = {"flows": [{"id": "f", "from": "ab", "to": "cd", "end": 10, "period": 1, "vtype": mix}]}
    with pytest.raises(InputError, match=what.replace("(", r"\(")):
        load(tmp_path, cfg, vtypes=("car", "cacc"))
