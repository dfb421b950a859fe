"""GTFS import (``[transit.gtfs]``, :mod:`mobsim.interop.gtfs`): a feed written here (stops,
routes, trips, stop times, calendar and calendar dates, zipped) on a generated grid placed on the
globe with ``origin``, and a 3-stop feed on a SUMO network with its own projection: which trips
run on the day, where the stops land, how trips become lines, and the bad inputs."""

from __future__ import annotations

import dataclasses
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gtfs_kit")

import mobsim  # noqa: E402
from conftest import TEST_REORDER_EVERY  # noqa: E402
from mobsim.engine import Simulation  # noqa: E402
from mobsim.errors import InputError  # noqa: E402
from mobsim.interop.gtfs import STOP_LENGTH, match_stops, origin_frame, project  # noqa: E402
from mobsim.net import generators as g  # noqa: E402
from mobsim.scenario import load_scenario  # noqa: E402

ORIGIN = (11.0, 48.0)
DATE = "20240506"  # a Monday
#: Stop id -> network point (m) of the grid's stops: A, B south of the eastbound links of row 0
#: (their right-hand side), C east of the northbound link of column 2, B2 and A2 north of the
#: westbound links, D far off the network.
POINTS = {"A": (60.0, -5.0), "B": (300.0, -5.0), "C": (405.0, 120.0), "B2": (300.0, 5.0), "A2": (100.0, 5.0),
          "D": (2000.0, 2000.0)}
#: (trip, route, service, direction, [(stop, arrival, departure, timepoint), ...])
TRIPS = [
    ("t1", "R1", "WD", 0, [("A", "07:00:00", "07:00:00", 1), ("B", "07:01:00", "07:01:30", 0),
                           ("C", "07:03:00", "07:03:00", 1), ("D", "07:05:00", "07:05:00", 1)]),
    ("t2", "R1", "WD", 0, [("A", "07:10:00", "07:10:00", 1), ("B", "07:11:00", "07:11:30", 0),
                           ("C", "07:13:00", "07:13:00", 1), ("D", "07:15:00", "07:15:00", 1)]),
    # the same stops on a slower schedule: a line of its own
    ("t3", "R1", "WD", 0, [("A", "07:20:00", "07:20:00", 1), ("B", "07:22:00", "07:22:00", 0),
                           ("C", "07:25:00", "07:25:00", 1)]),
    ("t4", "R1", "WE", 0, [("A", "07:30:00", "07:30:00", 1), ("B", "07:31:00", "07:31:30", 0),
                           ("C", "07:33:00", "07:33:00", 1)]),  # weekends only
    ("t5", "R1", "X", 0, [("A", "07:40:00", "07:40:00", 1), ("B", "07:41:00", "07:41:30", 0),
                          ("C", "07:43:00", "07:43:00", 1)]),  # removed on DATE (calendar_dates)
    ("t6", "R1", "S", 0, [("A", "08:00:00", "08:00:00", 1), ("B", "08:01:00", "08:01:30", 0),
                          ("C", "08:03:00", "08:03:00", 1)]),  # added on DATE (calendar_dates)
    ("t7", "R2", "WD", 1, [("B2", "25:00:00", "25:00:00", ""), ("A2", "25:02:00", "25:02:00", "")]),
    ("t8", "R2", "WD", 1, [("B2", "07:00:00", "07:00:00", ""), ("D", "07:09:00", "07:09:00", "")]),
    ("t9", "R3", "WD", 0, [("A", "09:00:00", "09:00:00", 1), ("C", "09:04:00", "09:04:00", 1)]),  # a tram
]


def _csv(rows: list[tuple]) -> str:
    return "\n".join(",".join(str(c) for c in r) for r in rows) + "\n"


def write_feed(path: Path, points: dict[str, tuple[float, float]], trips: list[tuple],
               frame=None, lonlat: dict[str, tuple[float, float]] | None = None,
               extra: dict[str, str] | None = None) -> Path:
    """A zipped GTFS feed: the stops at ``points`` (network metres through ``frame``) or at
    ``lonlat``, routes R1 "1" and R2 "2" (buses) and R3 (a tram, no short name), the trips,
    services WD (Monday to Friday), WE (weekends), X (Monday to Friday, but not on DATE) and S
    (only on DATE); ``extra``: more files."""
    if lonlat is None:
        lon, lat = _lonlat(frame or origin_frame(*ORIGIN), np.array(list(points.values())))
        lonlat = {s: (lon[k], lat[k]) for k, s in enumerate(points)}
    stop_times = [("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence", "timepoint")]
    for tid, _r, _s, _d, calls in trips:
        stop_times += [(tid, a, d, s, k + 1, tp) for k, (s, a, d, tp) in enumerate(calls)]
    files = {
        "agency.txt": _csv([("agency_id", "agency_name", "agency_url", "agency_timezone"),
                            ("ag", "Test", "http://example.org", "Europe/Berlin")]),
        "stops.txt": _csv([("stop_id", "stop_name", "stop_lat", "stop_lon")]
                          + [(s, s, f"{la:.9f}", f"{lo:.9f}") for s, (lo, la) in lonlat.items()]),
        "routes.txt": _csv([("route_id", "agency_id", "route_short_name", "route_long_name", "route_type"),
                            ("R1", "ag", "1", "One", 3), ("R2", "ag", "2", "Two", 3),
                            ("R3", "ag", "", "Tram", 0)]),
        "trips.txt": _csv([("route_id", "service_id", "trip_id", "direction_id")]
                          + [(r, s, t, d) for t, r, s, d, _c in trips]),
        "stop_times.txt": _csv(stop_times),
        "calendar.txt": _csv([("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                               "saturday", "sunday", "start_date", "end_date"),
                              ("WD", 1, 1, 1, 1, 1, 0, 0, "20240101", "20241231"),
                              ("WE", 0, 0, 0, 0, 0, 1, 1, "20240101", "20241231"),
                              ("X", 1, 1, 1, 1, 1, 0, 0, "20240101", "20241231")]),
        "calendar_dates.txt": _csv([("service_id", "date", "exception_type"), ("X", DATE, 2),
                                    ("S", DATE, 1)]),
    }
    with zipfile.ZipFile(path, "w") as z:
        for name, text in {**files, **(extra or {})}.items():
            z.writestr(name, text)
    return path


def _lonlat(frame, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import pyproj

    lon, lat = pyproj.Proj(frame.proj)(xy[:, 0] - frame.offset[0], xy[:, 1] - frame.offset[1], inverse=True)
    return np.asarray(lon), np.asarray(lat)


GRID = """
[scenario]
name = "gtfs"
[network]
generator = "grid"
params = {{ rows = 2, cols = 3, block_length = 200.0 }}
[sim]
begin = 25000.0
end = 26400.0
[transit.gtfs]
feed = "feed.zip"
date = "{date}"
origin = [{lon}, {lat}]
{extra}
"""


def grid_scenario(tmp_path: Path, extra: str = "", date: str = DATE, tail: str = "", **feed) -> object:
    write_feed(tmp_path / "feed.zip", feed.get("points", POINTS), feed.get("trips", TRIPS))
    (tmp_path / "s.toml").write_text(GRID.format(date=date, lon=ORIGIN[0], lat=ORIGIN[1], extra=extra) + tail)
    return load_scenario(tmp_path / "s.toml")


@pytest.fixture(scope="module")
def grid_sc(tmp_path_factory):
    return grid_scenario(tmp_path_factory.mktemp("gtfs"))


def test_stops_land_on_the_right_links_at_their_projection(grid_sc):
    stops = {s.id: s for s in grid_sc.transit.stops}
    assert set(stops) == {"A", "B", "C", "B2", "A2"}
    want = {"A": ("n0_0-n0_1", 60.0), "B": ("n0_1-n0_2", 100.0), "C": ("n0_2-n1_2", 120.0),
            "B2": ("n0_2-n0_1", 100.0), "A2": ("n0_1-n0_0", 100.0)}
    for sid, (link, pos) in want.items():
        assert stops[sid].link == link, sid
        assert stops[sid].pos == pytest.approx(pos, abs=0.05), sid
        assert stops[sid].length == STOP_LENGTH
    assert any("1 of 6 stop(s)" in w and ": D" in w for w in grid_sc.warnings), grid_sc.warnings


def test_trips_of_the_day_grouped_by_schedule_into_lines(grid_sc):
    lines = {ln.id: ln for ln in grid_sc.transit.lines}
    assert set(lines) == {"1", "1#2", "2"}
    one, slow, two = lines["1"], lines["1#2"], lines["2"]
    # t1, t2 and t6 (added on the day); t4 (weekends) and t5 (removed on the day) do not run
    assert one.stops == ("A", "B", "C") and one.departures == (25200.0, 25800.0, 28800.0)
    assert one.timepoints == {"A": 0.0, "C": 180.0}  # B is not a time point; D was not placed
    assert slow.stops == ("A", "B", "C") and slow.departures == (26400.0,)
    assert slow.timepoints == {"A": 0.0, "C": 300.0}
    # no timepoint value: every stop with a time is one; times after 24:00 are kept
    assert two.stops == ("B2", "A2") and two.departures == (90000.0,)
    assert two.timepoints == {"B2": 0.0, "A2": 120.0}
    assert {ln.vehicle for ln in lines.values()} == {"gtfs_bus"}
    (veh,) = grid_sc.transit.vehicles
    assert veh.id == "gtfs_bus" and veh.vtype == "bus" and veh.capacity == 85
    assert "bus" in [v.id for v in grid_sc.vtypes]
    assert any("1 trip(s) call at fewer than two placed stops" in w and "t8" in w for w in grid_sc.warnings)


def test_a_tram_runs_only_with_a_vehicle_named_for_it(grid_sc, tmp_path):
    assert any("1 trip(s) of 1 route(s) of route_type tram (0) left out" in w for w in grid_sc.warnings)
    sc = grid_scenario(tmp_path, extra='vehicle = { 0 = "tram" }', tail='[[transit.vehicles]]\nid = "tram"\n')
    lines = {ln.id: ln for ln in sc.transit.lines}
    assert lines["R3"].vehicle == "tram" and lines["R3"].departures == (32400.0,)  # named by its route_id
    assert lines["1"].vehicle == "gtfs_bus"
    assert not any("route_type tram" in w for w in sc.warnings)


def test_feed_is_an_input_file_and_the_resolved_toml_keeps_the_table(grid_sc):
    assert any(p.endswith("feed.zip") for p, _h in grid_sc.input_files)
    assert "[transit.gtfs]" in grid_sc.resolved_toml and "[[transit.stops]]" not in grid_sc.resolved_toml


def test_window_routes_and_vehicle_override(tmp_path):
    sc = grid_scenario(tmp_path, extra='begin = 25000\nend = 26000\nroutes = ["1"]\nvehicle = "mini"',
                       tail='[[transit.vehicles]]\nid = "mini"\nseats = 8\n')
    (ln,) = sc.transit.lines
    assert ln.id == "1" and ln.departures == (25200.0, 25800.0) and ln.vehicle == "mini"
    assert [v.id for v in sc.transit.vehicles] == ["mini"]


def test_hand_written_tables_merge_and_a_named_default_vehicle_replaces_it(tmp_path):
    tail = """
[[transit.stops]]
id = "H"
link = "n1_0-n1_1"
pos = 150.0
[[transit.lines]]
id = "hand"
stops = ["H", "C"]
departures = [25100]
[[transit.vehicles]]
id = "gtfs_bus"
seats = 20
standing = 0
"""
    sc = grid_scenario(tmp_path, tail=tail)
    assert {"H", "A", "C"} <= {s.id for s in sc.transit.stops}
    lines = {ln.id: ln for ln in sc.transit.lines}
    assert lines["hand"].vehicle == "gtfs_bus" and lines["1"].vehicle == "gtfs_bus"
    (veh,) = sc.transit.vehicles
    assert veh.capacity == 20 and veh.vtype == "shuttle"


def test_unplaced_stops_cut_the_trips_and_no_bus_links_are_skipped():
    net = g.grid(rows=2, cols=3, block_length=200.0)
    frame = origin_frame(*ORIGIN)
    lon, lat = _lonlat(frame, np.array([POINTS["A"], POINTS["B"]]))
    xy = project(frame, lon, lat)
    assert np.allclose(xy, [POINTS["A"], POINTS["B"]], atol=1e-6)
    got = match_stops(net, ["A", "B"], xy, 50.0)
    assert got["A"][0] == "n0_0-n0_1" and got["B"][0] == "n0_1-n0_2"
    closed = dataclasses.replace(net, no_bus_links=frozenset({"n0_0-n0_1"}))
    got = match_stops(closed, ["A", "B"], xy, 50.0)
    assert got["A"][0] == "n0_1-n0_0" and got["A"][1] == pytest.approx(140.0)  # the other direction
    assert match_stops(net, ["A"], xy[:1], 4.0) == {}  # 5 m off the road


def test_a_line_whose_stops_cannot_be_reached_in_order_is_left_out(tmp_path):
    """On a one-way road (single_link) a trip from P back to Q cannot run; Q to P can."""
    from mobsim.interop.gtfs import gtfs_tables, unreachable_legs

    net = g.single_link(length=1000.0)
    assert unreachable_legs(net, [[("a-b", 800.0), ("a-b", 300.0)], [("a-b", 300.0), ("a-b", 800.0)],
                                  [("a-b", 300.0), ("b-d", 50.0)]]) == [0, None, None]
    trips = [("t1", "R1", "WD", 0, [("Q", "07:00:00", "07:00:00", 1), ("P", "07:01:00", "07:01:00", 1)]),
             ("t2", "R2", "WD", 1, [("P", "07:00:00", "07:00:00", 1), ("Q", "07:01:00", "07:01:00", 1)])]
    write_feed(tmp_path / "f.zip", {"P": (800.0, -5.0), "Q": (300.0, -5.0)}, trips)
    warnings: list[str] = []
    out = gtfs_tables({"feed": "f.zip", "date": DATE, "origin": list(ORIGIN)}, net, tmp_path, "test", [],
                      warnings)
    assert [(ln["id"], ln["stops"]) for ln in out["lines"]] == [("1", ["Q", "P"])]
    assert any("1 line(s) left out" in w and "'2'" in w and "stop 'Q' after 'P'" in w
               for w in warnings), warnings


def test_frequencies_run_a_template_trip_every_headway(tmp_path):
    from mobsim.interop.gtfs import gtfs_tables

    trips = [("t1", "R1", "WD", 0, [("Q", "06:00:00", "06:00:00", 1), ("P", "06:01:00", "06:01:30", 1)])]
    freq = _csv([("trip_id", "start_time", "end_time", "headway_secs"), ("t1", "07:00:00", "07:30:00", 600)])
    write_feed(tmp_path / "f.zip", {"P": (800.0, -5.0), "Q": (300.0, -5.0)}, trips,
               extra={"frequencies.txt": freq})
    out = gtfs_tables({"feed": "f.zip", "date": DATE, "origin": list(ORIGIN)}, g.single_link(length=1000.0),
                      tmp_path, "test", [], [])
    (ln,) = out["lines"]
    assert ln["departures"] == [25200.0, 25800.0, 26400.0] and ln["timepoints"] == {"Q": 0.0, "P": 90.0}


def test_scenario_runs_end_to_end_and_carries_passengers(tmp_path):
    tail = """
[[transit.passengers]]
from = "A"
to = "C"
rate = 240
begin = 25000
end = 25750
"""
    sc = grid_scenario(tmp_path, extra="begin = 25000\nend = 26000", tail=tail)
    res = mobsim.open(Simulation(sc, backend="cpu", reorder_every=TEST_REORDER_EVERY)
                      .run(tmp_path / "g.h5", progress="none"))
    from mobsim.modes.transit.kpi import transit_tables

    t = transit_tables(res)
    pax = t["passengers"]
    assert len(pax) > 10 and np.isfinite(pax["alighting"]).all()
    ev = t["stop_events"]
    ev = ev.assign(id=t["stops"]["id"].to_numpy()[ev["stop"].to_numpy()])
    assert len(ev) == 6 and np.isfinite(ev["departure"]).all()  # 2 services x 3 stops
    for sid, offset in (("A", 0.0), ("C", 180.0)):  # held to the timetable at the time points
        at = ev[ev["id"] == sid].sort_values("service")
        assert (at["departure"].to_numpy(float) >= np.array([25200.0, 25800.0]) + offset - 1e-6).all()
    assert math.isclose(res.attrs["transit_passengers"], len(pax))


# ----------------------------------------------------------------------------- a SUMO network
def test_sumo_network_with_a_projection(tmp_path):
    """Ingolstadt (shipped with SUMO, UTM): three stops at lon/lat computed by sumolib on bus lanes
    of three links that follow each other land on those links, near the same position."""
    sumo = pytest.importorskip("sumo")
    sumolib = pytest.importorskip("sumolib")
    from mobsim.interop.gtfs import gtfs_tables
    from mobsim.interop.sumo_net import read_sumo_network

    path = Path(sumo.SUMO_HOME) / "tools" / "game" / "fkk_in" / "ingolstadt.net.xml.gz"
    net = read_sumo_network(path)
    assert net.geo is not None and net.geo.proj.startswith("+proj=utm")
    snet = sumolib.net.readNet(str(path))
    chain = _chain(net, 3)
    lonlat, want = {}, {}
    for k, lid in enumerate(chain):
        lane = next(ln for ln in snet.getEdge(lid).getLanes() if ln.allows("bus"))
        # 60 % along the lane: SUMO's lane position 0.6 x its length (its shape may differ)
        x, y = sumolib.geomhelper.positionAtShapeOffset(
            lane.getShape(), 0.6 * sumolib.geomhelper.polyLength(lane.getShape()))
        lonlat[f"s{k}"] = snet.convertXY2LonLat(x, y)
        link = next(lk for lk in net.links if lk.id == lid)
        want[f"s{k}"] = (lid, link.length - 0.4 * lane.getLength())  # the link starts with the junction
    trips = [("t1", "R1", "WD", 0, [(s, f"07:0{k}:00", f"07:0{k}:00", 1) for k, s in enumerate(lonlat)])]
    write_feed(tmp_path / "f.zip", {}, trips, lonlat=lonlat)
    warnings: list[str] = []
    out = gtfs_tables({"feed": "f.zip", "date": DATE}, net, tmp_path, "test", [], warnings)
    got = {s["id"]: (s["link"], s["pos"]) for s in out["stops"]}
    for sid, (lid, pos) in want.items():
        assert got[sid][0] == lid, (sid, got, want)
        assert got[sid][1] == pytest.approx(pos, abs=3.0)
    assert [ln["stops"] for ln in out["lines"]] == [list(lonlat)] and not warnings
    with pytest.raises(InputError, match="origin given for a network with its own geo-reference"):
        gtfs_tables({"feed": "f.zip", "date": DATE, "origin": [11.4, 48.7]}, net, tmp_path, "test", [], [])


def _chain(net, n: int) -> list[str]:
    """``n`` links over 40 m long, each followed by the next (a movement joins them)."""
    nxt: dict[str, list[str]] = {}
    for m in net.movements:
        nxt.setdefault(m.from_link, []).append(m.to_link)
    long_ = {lk.id for lk in net.links if lk.length > 40.0}
    for start in sorted(long_):
        path = [start]
        while len(path) < n:
            step = sorted(x for x in set(nxt.get(path[-1], [])) if x in long_ and x not in path)
            if not step:
                break
            path.append(step[0])
        if len(path) == n:
            return path
    raise AssertionError("no chain of long links")


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("extra, tail, date, words", [
    ("", "", "20240505", "no trip runs on 20240505"),  # a Sunday: only WE, whose trip calls at A, B, C
    ('routes = ["9"]', "", DATE, "route '9' is not in the feed"),
    ('vehicle = "nope"', "", DATE, "vehicle 'nope' is not defined"),
    ("max_distance = 1", "", DATE, "no stop of them lies within max_distance"),
    ("", '[[transit.stops]]\nid = "A"\nlink = "n1_0-n1_1"\n', DATE, "stop id 'A' is both"),
    ("", '[[transit.lines]]\nid = "1"\nstops = ["A", "B"]\ndepartures = [0]\n', DATE, "line id '1' is both"),
    ("", "", "2024-13-01", "is not a day as YYYYMMDD"),
    ("fed = 1", "", DATE, "unknown key"),
])
def test_bad_gtfs_input(tmp_path, extra, tail, date, words):
    trips = TRIPS if date != "20240505" else [t for t in TRIPS if t[2] != "WE"]
    with pytest.raises(InputError, match=words):
        grid_scenario(tmp_path, extra=extra, tail=tail, date=date, trips=trips)


def test_missing_feed_and_no_geo_reference(tmp_path):
    (tmp_path / "s.toml").write_text('[network]\ngenerator = "grid"\n[transit.gtfs]\nfeed = "none.zip"\n'
                                     f'date = "{DATE}"\n')
    with pytest.raises(InputError, match="does not exist") as e:
        load_scenario(tmp_path / "s.toml")
    assert "transit.gtfs.feed" in str(e.value) and "fix:" in str(e.value)
    write_feed(tmp_path / "feed.zip", POINTS, TRIPS)
    (tmp_path / "s.toml").write_text('[network]\ngenerator = "grid"\n[transit.gtfs]\nfeed = "feed.zip"\n'
                                     f'date = "{DATE}"\n')
    with pytest.raises(InputError, match="no geo-reference") as e:
        load_scenario(tmp_path / "s.toml")
    assert "origin = [lon, lat]" in str(e.value)
