"""Transit lines: scheduled stops of road vehicles, passengers, boarding, dwell, and their tables.

The lines run on a one-way ring road (no junction control, no other traffic unless a test adds
it), so that every figure has a theory to meet: waits against headways, Little's law, the load of
a loop with uniform demand, the dwell law, conservation of passengers and capacity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mobsim
from conftest import make_scenario
from mobsim.demand.trips import Stop, Trip
from mobsim.demand.vtypes import VehicleType
from mobsim.engine import Simulation
from mobsim.errors import InputError
from mobsim.modes.transit.kpi import transit_kpis, transit_tables
from mobsim.net import generators as g

RING = 2400.0
STOPS = 6


def _ring_transit(**line: object) -> tuple[object, dict]:
    net = g.ring(length=RING, n_links=STOPS)
    links = [lk.id for lk in net.links]
    spec = {"id": "A", "stops": [f"s{k}" for k in range(STOPS)], "loop": True}
    spec.update(line)
    transit = {
        "stops": [{"id": f"s{k}", "link": links[k], "pos": 250.0} for k in range(STOPS)],
        "vehicles": [{"id": "bus", "seats": 40, "standing": 60, "doors": 2, "door_time": 4.0,
                      "board_time": 1.0, "alight_time": 0.5}],
        "lines": [spec],
    }
    return net, transit


def _run(tmp_path, net, transit, end: float, name: str = "t", trips=(), vtypes=None, **settings):
    from mobsim.scenario import scenario_from_objects

    sc = scenario_from_objects(net, list(trips), vtypes=vtypes or None,
                               settings={"sim.end": end, "sim.dt": 0.5,
                                         **{k.replace("__", "."): v for k, v in settings.items()}},
                               name=name, transit=transit)
    out = Simulation(sc, backend="cpu", reorder_every=7).run(tmp_path / f"{name}.h5", progress="none")
    return mobsim.open(out)


@pytest.fixture(scope="module")
def regular(tmp_path_factory):
    """Two vehicles circulating twelve rounds, 300 s apart, held at every stop (time points
    100 s apart, 600 s a round): departures exactly 300 s apart at every stop."""
    tmp = tmp_path_factory.mktemp("transit")
    net, tr = _ring_transit(headway=300.0, begin=0.0, end=600.0, rounds=12, round_time=600.0,
                            timepoints={f"s{k}": 100.0 * k for k in range(STOPS)})
    tr["passengers"] = [{"line": "A", "rate": 240.0, "begin": 0.0, "end": 7200.0}]
    return _run(tmp, net, tr, 8000.0, "regular")


@pytest.fixture(scope="module")
def unheld(tmp_path_factory):
    """A one-way line whose timetable alternates 60 s and 240 s between departures, held only at
    its first stop: irregular headways downstream, spread further by the dwell times."""
    tmp = tmp_path_factory.mktemp("transit")
    deps = np.cumsum(np.tile([60.0, 240.0], 34)) - 60.0
    net, tr = _ring_transit(departures=deps.tolist(), loop=False)
    tr["vehicles"][0].update(standing=260)  # room for everyone: the wait is the headway's alone
    tr["passengers"] = [{"line": "A", "rate": 600.0, "begin": 0.0, "end": 10000.0}]
    return _run(tmp, net, tr, 10400.0, "unheld")


#: Arrivals in this window (s) have every next vehicle able to take them to their stop (the
#: services' last rounds end after it).
WINDOW = (600.0, 4000.0)


def _window(t, window=WINDOW):
    """Passengers who came in ``window``, by origin stop, with that stop's departures."""
    pax, ev = t["passengers"], t["stop_events"]
    out = []
    for stop, grp in pax.groupby("origin"):
        dep = np.sort(ev[(ev["stop"] == stop) & np.isfinite(ev["departure"])]["departure"].to_numpy(float))
        a = grp["arrival"].to_numpy(float)
        keep = (a >= window[0]) & (a < window[1])
        out.append((grp[keep], dep))
    return out


def test_wait_is_half_the_headway_with_regular_departures(regular):
    t = transit_tables(regular)
    ev = t["stop_events"]
    dep = ev[np.isfinite(ev["departure"])]
    for _, grp in dep.groupby("stop"):
        d = np.sort(grp["departure"].to_numpy(float))
        h = np.diff(d[(d > WINDOW[0] - 300.0) & (d < WINDOW[1] + 600.0)])
        assert np.allclose(h, 300.0, atol=0.51), "time points keep the departures 300 s apart"
    waits = np.concatenate([(p["departure"] - p["arrival"]).to_numpy(float) for p, _ in _window(t)])
    assert waits.size >= 1000 and np.isfinite(waits).all()
    assert abs(waits.mean() - 150.0) < 0.03 * 150.0, waits.mean()


def test_wait_follows_the_headway_variance_without_holding(unheld):
    """E[W] = E[H](1 + CV²)/2 = Σh²/(2Σh), with h the simulated headways of the departures at each
    stop (within 2 %), over whole headways: the passengers who came between the first and the
    last departure of a stop inside the window; and each of them took the first departure."""
    t = transit_tables(unheld)
    got, want, cvs = [], [], []
    for p, dep in _window(t, (600.0, 9000.0)):
        d = dep[(dep >= 600.0) & (dep < 9000.0)]
        a = p["arrival"].to_numpy(float)
        p = p[(a > d[0]) & (a <= d[-1])]
        w = (p["departure"] - p["arrival"]).to_numpy(float)
        nxt = d[np.searchsorted(d, p["arrival"].to_numpy(float), side="left")]
        assert np.allclose(p["departure"].to_numpy(float), nxt), "every passenger left on the first departure"
        h = np.diff(d)
        got.append(w)
        want.append(np.full(len(p), (h * h).sum() / (2.0 * h.sum())))
        cvs.append(h.std() / h.mean())
    got_w, want_w = np.concatenate(got), np.concatenate(want)
    assert got_w.size >= 5000 and min(cvs) > 0.5, "irregular headways"
    assert abs(got_w.mean() / want_w.mean() - 1.0) < 0.02, (got_w.mean(), want_w.mean())


def test_littles_law_in_the_steady_window(regular):
    """Passengers waiting (time average) = arrival rate × mean wait, over a steady window."""
    pax = transit_tables(regular)["passengers"]
    a, b = pax["arrival"].to_numpy(float), pax["boarding"].to_numpy(float)
    t0, t1 = WINDOW
    grid = np.arange(t0, t1, 5.0)
    waiting = np.array([((a <= x) & ~(b <= x)).sum() for x in grid]).mean()
    inside = (a >= t0) & (a < t1)
    lam = inside.sum() / (t1 - t0)
    w = (b - a)[inside].mean()
    assert abs(waiting / (lam * w) - 1.0) < 0.05


def test_mean_load_of_a_uniform_loop(regular):
    """Each stop's λ·H boarders ride a mean of P/2 stops of a P-stop loop: mean load λ·H·P/2."""
    t = transit_tables(regular)
    ev = t["stop_events"]
    steady = ev[(ev["departure"] > WINDOW[0]) & (ev["departure"] < WINDOW[1])]
    lam = 240.0 / 3600.0
    want = lam * 300.0 * STOPS / 2.0
    assert abs(steady["load"].mean() / want - 1.0) < 0.1, (steady["load"].mean(), want)


def test_passengers_conserved_capacity_kept_fifo(tmp_path):
    net, tr = _ring_transit(headway=600.0, begin=0.0, end=3000.0)
    tr["vehicles"][0].update(seats=4, standing=2)
    tr["passengers"] = [{"line": "A", "rate": 120.0, "begin": 0.0, "end": 3600.0}]
    res = _run(tmp_path, net, tr, 6000.0, "full")
    t = transit_tables(res)
    ev, pax = t["stop_events"], t["passengers"]
    cap = int(t["lines"]["capacity"].iloc[0])
    assert (ev["load"] <= cap).all() and ev["load"].max() == cap, "full vehicles, never over capacity"
    k = transit_kpis(res)
    assert k["transit_denied_boardings"] > 0
    boarded = np.isfinite(pax["boarding"]).sum()
    alighted = np.isfinite(pax["alighting"]).sum()
    assert boarded == ev["boardings"].sum() and alighted == ev["alightings"].sum()
    on_board = ev.sort_values(["trip", "visit"]).groupby("trip").apply(
        lambda g: int(g["boardings"].sum() - g["alightings"].sum()), include_groups=False)
    assert boarded == alighted + on_board.sum()
    for _, grp in ev.groupby("trip"):
        grp = grp.sort_values("visit")
        load = np.cumsum(grp["boardings"] - grp["alightings"]).to_numpy()
        left = np.isfinite(grp["departure"].to_numpy(float))
        assert (load[left] == grp["load"].to_numpy()[left]).all()
    # FIFO: of two passengers for the same stop, whoever came first boarded no later (a service
    # that ends before a passenger's stop passes over them, so compare like with like)
    for _, grp in pax.groupby(["origin", "destination"]):
        grp = grp.sort_values("arrival", kind="stable")
        b = grp["boarding"].to_numpy(float)
        b = np.where(np.isfinite(b), b, np.inf)
        assert (b[1:] >= b[:-1]).all()
    # the wait of a denied passenger spans a departure without them
    denied = pax[pax["denied"] > 0]
    assert ((denied["boarding"] - denied["arrival"]).dropna() > 0).all()


def test_dwell_law(tmp_path):
    net, tr = _ring_transit(headway=400.0, begin=0.0, end=2000.0)
    tr["passengers"] = [{"line": "A", "rate": 180.0, "begin": 0.0, "end": 3000.0}]
    res = _run(tmp_path, net, tr, 3600.0, "dwell")
    ev = transit_tables(res)["stop_events"]
    ev = ev[np.isfinite(ev["departure"]) & ~np.isfinite(ev["scheduled"])]
    law = 4.0 + (1.0 * ev["boardings"] + 0.5 * ev["alightings"]) / 2.0
    extra = ev["departure"] - ev["arrival"] - law
    assert len(ev) > 20 and ev["boardings"].max() > 3
    assert (extra >= -1e-9).all() and (extra < 0.5 + 1e-9).all(), "the law, rounded up to the step"


def test_layover_at_the_terminus(tmp_path):
    """A loop with a 90 s layover at s0: every call there after the first (the end of a round)
    lasts at least 90 s from the halt, the other calls keep the dwell law; the SUMO export gives
    that stop the layover as its duration."""
    net, tr = _ring_transit(headway=900.0, begin=0.0, end=900.0, rounds=3, layover={"s0": 90.0})
    tr["passengers"] = [{"line": "A", "rate": 60.0, "begin": 0.0, "end": 3000.0}]
    res = _run(tmp_path, net, tr, 3600.0, "layover")
    ev = transit_tables(res)["stop_events"]
    ev = ev[np.isfinite(ev["departure"])]
    term = ev[(ev["stop"] == 0) & (ev["visit"] > 0)]
    other = ev[ev["stop"] != 0]
    assert len(term) == 3 and (term["departure"] - term["arrival"] >= 90.0 - 1e-9).all()
    assert (other["departure"] - other["arrival"] < 30.0).all()
    from mobsim.demand.route_service import RouteService
    from mobsim.demand.transit import service_trips
    from mobsim.interop.sumo_transit import service_elements
    from mobsim.net.compile import compile_network
    from mobsim.scenario import scenario_from_objects

    sc = scenario_from_objects(net, [], transit=tr)
    routes = RouteService(compile_network(net))
    trip = service_trips(sc.transit, routes, {lk.id: lk.speed for lk in net.links}, {})[0]
    stops = service_elements(sc.transit, trip)[1]
    assert 'busStop="s0" duration="90' in stops[6] and 'busStop="s1" duration="4' in stops[1]


def test_in_lane_stop_holds_the_cars_behind(tmp_path):
    """A car behind a dwelling shuttle on a one-lane road waits for it; on two lanes it passes."""
    for lanes, waits in ((1, True), (2, False)):
        net = g.single_link(length=600.0, lanes=lanes)
        stop = Stop("a-b", 300.0, 20.0, 30.0)
        trips = [Trip("bus", "o-a", "b-d", 0.0, vtype="shuttle", route=("o-a", "a-b", "b-d"),
                      depart_lane="first", stops=(stop,)),
                 Trip("car", "o-a", "b-d", 8.0, depart_lane="first")]
        vts = [VehicleType(), VehicleType(id="shuttle", length=6.0, max_speed=11.0)]
        sc = make_scenario(net, trips, vts, name=f"lanes{lanes}", sim__end=300.0, sim__dt=0.5)
        out = Simulation(sc, backend="cpu").run(tmp_path / f"l{lanes}.h5", progress="none")
        tr = mobsim.open(out).trips.set_index("id")
        assert tr.loc["bus", "waiting_time"] <= 0.5, "a scheduled stop is not waiting (as in SUMO)"
        assert tr.loc["bus", "duration"] > 30.0
        if waits:
            assert tr.loc["car", "waiting_time"] > 20.0
            assert tr.loc["car", "arrival"] > tr.loc["bus", "arrival"]
        else:
            assert tr.loc["car", "waiting_time"] < 5.0
            assert tr.loc["car", "arrival"] < tr.loc["bus", "arrival"]


@pytest.mark.parametrize("lane", [0, 1])
def test_a_vehicle_changes_to_the_stop_lane(tmp_path, lane):
    """On a two-lane link a vehicle that enters in the other lane changes to the stop's lane and
    dwells there; after the stop it goes on as its route needs."""
    net = g.single_link(length=600.0, lanes=2)
    stop = Stop("a-b", 400.0, 20.0, 20.0, lane=lane)
    trips = [Trip("bus", "o-a", "b-d", 0.0, vtype="shuttle", route=("o-a", "a-b", "b-d"),
                  depart_lane=str(1 - lane), stops=(stop,))]
    vts = [VehicleType(), VehicleType(id="shuttle", length=6.0, max_speed=11.0)]
    sc = make_scenario(net, trips, vts, name=f"stoplane{lane}", sim__end=200.0, sim__dt=0.5,
                       output__fcd=True)
    res = mobsim.open(Simulation(sc, backend="cpu").run(tmp_path / "sl.h5", progress="none"))
    fcd = res.fcd
    link = int(np.nonzero(res.links["id"].to_numpy() == "a-b")[0][0])
    halted = fcd[(fcd["link"] == link) & (fcd["speed"] < 0.1) & (fcd["pos"] > 370.0)]
    assert len(halted) >= 15 and (halted["lane"] == lane).all(), halted["lane"].value_counts()
    assert fcd[fcd["link"] == link].iloc[0]["lane"] == 1 - lane, "it entered the link in the other lane"


def test_stop_until_and_duration(tmp_path):
    """SUMO's <stop duration= until=>: a halt of at least the duration, not left before until."""
    net = g.single_link(length=800.0)
    trips = [Trip("v", "o-a", "b-d", 0.0, route=("o-a", "a-b", "b-d"),
                  stops=(Stop("a-b", 200.0, 10.0, 20.0), Stop("a-b", 600.0, 10.0, 0.0, 200.0))),
             Trip("late", "o-a", "b-d", 0.0, route=("o-a", "a-b", "b-d"),
                  stops=(Stop("a-b", 150.0, 0.0, 0.0),))]
    sc = make_scenario(net, trips, name="until", sim__end=400.0)
    sim = Simulation(sc, backend="cpu")
    sim.run(tmp_path / "u.h5", progress="none")
    tr = mobsim.open(tmp_path / "u.h5").trips.set_index("id")
    assert tr.loc["v", "arrival"] > 200.0 and tr.loc["v", "waiting_time"] <= 1.0
    assert tr.loc["late", "arrival"] < 120.0


def test_kpis_and_plots(regular, tmp_path):
    k = transit_kpis(regular)
    assert k["transit_passengers"] > 1000 and k["transit_boarded"] > 0.9 * k["transit_passengers"]
    assert 0 < k["transit_mean_wait_s"] < k["transit_mean_wait_to_departure_s"]
    assert k["transit_on_time_share"] == 1.0 and k["transit_headway_cv"] < 0.05
    assert 0 < k["transit_occupancy_pkm_per_vkm"] <= 100 and k["transit_vkm"] > 0
    assert 5 < k["transit_commercial_speed_kmh"] < 40
    assert set(regular.kpis()) >= set(k), "mobsim kpi includes the transit KPIs"
    ev = regular.table("transit/stop_events")
    assert len(ev) == len(transit_tables(regular)["stop_events"]) and "load" in ev.columns
    from mobsim.modes.transit.plot import plot_transit_all

    paths = plot_transit_all(regular, tmp_path)
    assert len(paths) == 4 and all(p.stat().st_size > 1000 for p in paths)


@pytest.mark.parametrize("change, words", [
    (lambda tr: tr["lines"][0].update(stops=["s0", "nope"]), "unknown stop 'nope'"),
    (lambda tr: tr["stops"][0].update(link="zz"), "unknown link"),
    (lambda tr: tr["stops"][0].update(pos=1e6), "beyond the end"),
    (lambda tr: tr["lines"][0].update(departures=[0.0]), "either departures or headway"),
    (lambda tr: tr["lines"][0].update(loop=False, rounds=2), "not a loop"),
    (lambda tr: tr["vehicles"][0].update(seats=0, standing=0), "no places"),
    (lambda tr: tr.update(passengers=[{"from": "s0", "to": "s0", "rate": 1.0}]), "the same stop"),
    (lambda tr: tr.update(lanes=[]), "unknown key .*did you mean 'lines'"),
    (lambda tr: tr.update(transfers={"max": -1}), "max = -1 is not a whole number"),
    (lambda tr: tr.update(transfers={"tim": 3}), "unknown key .*did you mean 'time'"),
])
def test_bad_transit_input(change, words):
    net, tr = _ring_transit(headway=300.0, begin=0.0, end=600.0)
    change(tr)
    from mobsim.scenario import scenario_from_objects

    with pytest.raises(InputError, match=words):
        scenario_from_objects(net, [], transit=tr)


def test_toml_scenario_with_transit(tmp_path):
    """A scenario file's [transit] tables, through the CLI's loader, the default shuttle type."""
    from mobsim.scenario import load_scenario

    (tmp_path / "pax.csv").write_text("origin,destination,time\ns0,s2,10\ns1,s0,20\n")
    text = """
[scenario]
name = "loop"
[network]
generator = "ring"
params = { length = 1200.0, n_links = 4 }
[sim]
end = 900.0
[[transit.stops]]
id = "s0"
link = "r0-r1"
pos = 100.0
[[transit.stops]]
id = "s1"
link = "r1-r2"
[[transit.stops]]
id = "s2"
link = "r2-r3"
pos = 150.0
[[transit.lines]]
id = "L"
stops = ["s0", "s1", "s2"]
loop = true
departures = [0, 300]
[[transit.passengers]]
file = "pax.csv"
"""
    (tmp_path / "s.toml").write_text(text)
    sc = load_scenario(tmp_path / "s.toml")
    assert [v.id for v in sc.vtypes][-1] == "shuttle" and "[[transit.lines]]" in sc.resolved_toml
    res = mobsim.open(Simulation(sc, backend="cpu").run(tmp_path / "s.h5", progress="none"))
    pax = transit_tables(res)["passengers"]
    assert len(pax) == 2 and np.isfinite(pax["alighting"]).all()
    assert math.isclose(res.attrs["transit_passengers"], 2)


# ------------------------------------------------------------------ SUMO public transport
def test_sumo_export_and_import_round_trip(tmp_path):
    """The line exported as SUMO public transport (bus stops, vehicles with line and stops,
    persons riding) and read back from the .sumocfg: the same loop (a repeated stop sequence is a
    loop of that many rounds), the same passengers, the same waits and dwell."""
    from mobsim.interop.sumo_export import export_scenario
    from mobsim.scenario import load_scenario, scenario_from_objects

    net, tr = _ring_transit(departures=[0.0, 400.0], rounds=3, round_time=800.0, timepoints={"s0": 0.0})
    tr["vehicles"][0].update(dwell="max")
    tr["passengers"] = [{"line": "A", "rate": 60.0, "begin": 0.0, "end": 2000.0}]
    sc = scenario_from_objects(net, [], settings={"sim.end": 3000.0, "sim.dt": 0.5}, name="rt", transit=tr)
    cfg = export_scenario(sc, tmp_path / "sumo", internal_links=False)
    back = load_scenario(cfg)
    (ln,) = back.transit.lines
    assert ln.loop and ln.rounds == 3 and ln.closed and ln.stops == tuple(f"s{k}" for k in range(STOPS))
    assert back.transit.explicit == {"A": ["A.0", "A.1"]} and back.transit.vehicles[0].dwell == "max"
    a = transit_kpis(Simulation(sc, backend="cpu").run(tmp_path / "a.h5", progress="none"))
    b = transit_kpis(Simulation(back, backend="cpu").run(tmp_path / "b.h5", progress="none"))
    assert a["transit_passengers"] == b["transit_passengers"] > 100
    assert a["transit_boarded"] == b["transit_boarded"]
    for key in ("transit_mean_wait_to_departure_s", "transit_mean_in_vehicle_s", "transit_mean_load"):
        assert b[key] == pytest.approx(a[key], rel=0.02), key


def test_sumo_bus_file_reads_stops_lines_and_persons(tmp_path):
    """A hand-written SUMO bus scenario: bus stops (a negative endPos counts from the lane's end),
    a flow of a line whose stop ``until`` shifts with each bus, persons and a person flow riding
    it (``lines="ANY"``, a walk to the stop), a car's lane stop, and what is left out."""
    from mobsim.interop.sumo_export import build_net, export_network
    from mobsim.scenario import load_scenario

    net = g.single_link(length=1000.0)
    files = export_network(net, tmp_path, "n")
    build_net(files, tmp_path / "n.net.xml", internal_links=False)
    (tmp_path / "stops.add.xml").write_text("""<additional>
  <busStop id="A" lane="a-b_0" startPos="180" endPos="200"/>
  <busStop id="B" lane="a-b_0" startPos="-320" endPos="-300"/>
  <busStop id="C" lane="b-d_0" startPos="40" endPos="60"/>
</additional>""")
    (tmp_path / "r.rou.xml").write_text("""<routes>
  <vType id="bus" vClass="bus" length="12" personCapacity="30" boardingDuration="1.5"/>
  <flow id="L1" type="bus" line="one" begin="0" end="600" period="300" route="r">
    <stop busStop="A" duration="10" until="60"/>
    <stop busStop="B" duration="10"/>
    <stop busStop="C" duration="5"/>
  </flow>
  <route id="r" edges="o-a a-b b-d"/>
  <vehicle id="car" depart="100" route="r"><stop lane="a-b_0" endPos="500" duration="30"/></vehicle>
  <person id="p1" depart="10"><stop busStop="A" duration="20"/><ride busStop="C" lines="one"/></person>
  <person id="p2" depart="20"><walk edges="o-a a-b" busStop="B"/><ride busStop="C" lines="ANY"/></person>
  <personFlow id="pf" begin="0" end="500" personsPerHour="360">
    <stop busStop="A" duration="0"/><ride busStop="B" lines="one"/>
  </personFlow>
  <person id="walker" depart="0"><walk edges="o-a a-b"/></person>
</routes>""")
    (tmp_path / "s.sumocfg").write_text("""<configuration><input><net-file value="n.net.xml"/>
<route-files value="r.rou.xml"/><additional-files value="stops.add.xml"/></input>
<time><end value="1200"/></time></configuration>""")
    sc = load_scenario(tmp_path / "s.sumocfg")
    plan = sc.transit
    stops = {s.id: s for s in plan.stops}
    assert (stops["B"].link, stops["B"].pos, stops["B"].length) == ("a-b", 700.0, 20.0)
    assert [ln.id for ln in plan.lines] == ["one"] and plan.explicit["one"] == ["L1.0", "L1.1"]
    assert plan.vehicles[0].capacity == 30 and plan.vehicles[0].board_time == 1.5
    rows = sorted(plan.table_rows, key=lambda r: r[2])
    assert ("A", "C", 30.0, "one") in rows and ("B", "C", 20.0, "") in rows, "ANY: any line"
    assert sum(1 for r in rows if r[:2] == ("A", "B")) >= 30
    assert any("walk to their stop" in w for w in sc.warnings)
    assert any("not a ride from a bus stop" in w for w in sc.warnings)
    trips = {t.id: t for t in sc.trips}
    assert [s.until for s in trips["L1.1"].stops][0] == 360.0, "until shifts with the flow's bus"
    res = mobsim.open(Simulation(sc, backend="cpu").run(tmp_path / "s.h5", progress="none"))
    ev = transit_tables(res)["stop_events"]
    first = ev[ev["visit"] == 0].sort_values("service")
    assert first["departure"].tolist()[0] >= 60.0 and first["departure"].tolist()[1] >= 360.0
    assert (ev["departure"] - ev["arrival"]).min() >= 5.0
    tr = res.trips.set_index("id")
    assert tr.loc["car", "duration"] > 30.0 + 1000.0 / 13.89 and tr.loc["car", "waiting_time"] <= 0.5


@pytest.mark.parametrize("bay", [False, True])
def test_a_bay_lets_the_traffic_pass(tmp_path, bay):
    """One lane: behind a shuttle dwelling in the lane the car waits; a shuttle in a bay lets it
    pass and pulls out behind it, when the lane leaves room."""
    net = g.single_link(length=600.0, lanes=1)
    tr = {"stops": [{"id": "s", "link": "a-b", "pos": 300.0, "bay": bay},
                    {"id": "e", "link": "b-d", "pos": 90.0}],
          "vehicles": [{"id": "bus", "door_time": 40.0}],
          "lines": [{"id": "L", "stops": ["s", "e"], "departures": [30.0]}]}
    trips = [Trip("car", "o-a", "b-d", 35.0, depart_lane="first")]
    from mobsim.scenario import scenario_from_objects

    sc = scenario_from_objects(net, trips, settings={"sim.end": 400.0, "sim.dt": 0.5}, name=f"bay{bay}",
                               transit=tr)
    res = mobsim.open(Simulation(sc, backend="cpu").run(tmp_path / "b.h5", progress="none"))
    t = res.trips.set_index("id")
    ev = transit_tables(res)["stop_events"]
    dwell = float((ev["departure"] - ev["arrival"]).iloc[0])
    assert dwell >= 40.0 and k_ok(res)
    if bay:
        assert t.loc["car", "arrival"] < t.loc["L.0", "arrival"] and t.loc["car", "waiting_time"] < 2.0
        assert transit_tables(res)["stops"]["bay"].tolist() == [1, 0]
    else:
        assert t.loc["car", "arrival"] > t.loc["L.0", "arrival"] and t.loc["car", "waiting_time"] > 20.0


def k_ok(res) -> bool:
    k = res.kpis()
    return k["collisions"] == 0 and k["trips_completed"] == k["trips_loaded"]


def test_od_matrix_between_zones_walks_to_the_best_served_stops(tmp_path):
    """An OD matrix between zones: each passenger walks to the stops of its zones with the least
    walking that a line serves in that order, and reaches the stop after the walk; a zone pair
    that no line serves is left out with a warning."""
    from mobsim.demand.transit import passenger_rows
    from mobsim.scenario import load_scenario

    (tmp_path / "zones.csv").write_text("zone,stop,walk_time\nA,s0,300\nA,s1,60\nB,s3,120\nB,s4,30\n"
                                        "C,s5,10\n")
    (tmp_path / "od.csv").write_text("origin,destination,per_hour\nA,B,360\nB,A,0\nC,C,50\n")
    stops = "\n".join(f'[[transit.stops]]\nid = "s{k}"\nlink = "r{k}-r{k + 1 if k < 5 else 0}"\n'
                      for k in range(6))
    (tmp_path / "s.toml").write_text(f"""
[scenario]
name = "od"
[network]
generator = "ring"
params = {{ length = 2400.0, n_links = 6 }}
[sim]
end = 1200.0
{stops}
[[transit.lines]]
id = "L"
stops = ["s0", "s1", "s2", "s3", "s4", "s5"]
headway = 120
begin = 0
end = 600
[[transit.passengers]]
od = "od.csv"
zone_stops = "zones.csv"
begin = 0
end = 600
""")
    sc = load_scenario(tmp_path / "s.toml")
    assert any("from a stop of zone 'C' to a stop of zone 'C'" in w for w in sc.warnings)
    rows = passenger_rows(sc.transit, 1, 1200.0)
    assert rows and {(r[0], r[1]) for r in rows} == {(1, 4)}, "s1 -> s4: 90 s of walking, the least"
    assert 45 <= len(rows) <= 75 and min(r[2] for r in rows) >= 60.0, "arrival at the stop after the walk"
    res = mobsim.open(Simulation(sc, backend="cpu").run(tmp_path / "od.h5", progress="none"))
    assert transit_kpis(res)["transit_boarded"] > 0


def _two_lines(first: dict, second: dict, passengers: list, transfers: dict | None = None):
    """The ring's stops with two lines (``first``, ``second``: their tables, vehicle ``bus``)."""
    net, tr = _ring_transit(headway=600.0, begin=0.0, end=600.0)
    tr["lines"] = [dict(first, vehicle="bus"), dict(second, vehicle="bus")]
    tr["passengers"] = passengers
    if transfers is not None:
        tr["transfers"] = transfers
    return net, tr


def test_common_lines_a_passenger_takes_the_first_vehicle_of_any_line(tmp_path):
    """Two lines from s0 to s3 (a loop and a one-way line), 600 s headways each, 300 s apart: a
    passenger for s3 leaves on the first departure of either (the wait of the combined 300 s
    headway, 150 s, within 3 %), each line carries about half; a passenger of a table row that
    names one line waits for that line's vehicle."""
    tp = {f"s{k}": 100.0 * k for k in range(4)}
    (tmp_path / "named.csv").write_text("origin,destination,time,line\n" + "".join(
        f"s0,s3,{t},B\n" for t in (1150.0, 2350.0, 3550.0)))
    net, tr = _two_lines(
        {"id": "A", "stops": [f"s{k}" for k in range(STOPS)], "loop": True, "headway": 600.0, "begin": 0.0,
         "end": 600.0, "rounds": 14, "round_time": 600.0,
         "timepoints": {f"s{k}": 100.0 * k for k in range(STOPS)}},
        {"id": "B", "stops": ["s0", "s1", "s2", "s3"], "departures": [300.0 + 600.0 * k for k in range(14)],
         "timepoints": tp},
        [{"from": "s0", "to": "s3", "rate": 600.0, "begin": 0.0, "end": 8000.0},
         {"file": str(tmp_path / "named.csv")}])
    t = transit_tables(_run(tmp_path, net, tr, 8800.0, "common"))
    ev, legs = t["stop_events"], t["legs"]
    d = np.sort(ev[(ev["stop"] == 0) & np.isfinite(ev["departure"]) & (ev["visit"] < 84)]["departure"])
    pax = legs[(legs["origin"] == 0) & (legs["destination"] == 3)]
    named = pax[pax["passenger"] < 3]  # the table's rows come first
    pax = pax.drop(named.index)
    a = pax["arrival"].to_numpy(float)
    pax = pax[(a > d[0]) & (a <= 7800.0)]
    nxt = d[np.searchsorted(d, pax["arrival"].to_numpy(float), side="left")]
    assert np.allclose(pax["departure"].to_numpy(float), nxt), "the first departure of either line"
    w = (pax["departure"] - pax["arrival"]).to_numpy(float)
    assert w.size >= 1000 and abs(w.mean() - 150.0) < 0.03 * 150.0, w.mean()
    share = (pax["line"] == 1).mean()
    assert 0.4 < share < 0.6, share
    a_dep = ev[(ev["stop"] == 0) & (ev["line"] == 0)]["departure"].to_numpy(float)
    assert len(named) == 3 and (named["line"] == 1).all()
    for arr, dep in zip(named["arrival"], named["departure"], strict=True):
        assert ((a_dep > arr) & (a_dep < dep)).any(), "a passenger who names line B lets line A's vehicle go"


def test_transfers_between_lines_at_a_shared_stop(tmp_path):
    """No line serves s0 -> s4: the journey rides A to s2 and B on from there. A passenger can
    board B ``time`` (30 s) after alighting from A; each takes the first B after that; journeys,
    rides and passengers add up, and without transfers the demand is refused."""
    net, tr = _two_lines(
        {"id": "A", "stops": ["s0", "s1", "s2"], "departures": [600.0 * k for k in range(6)],
         "timepoints": {"s0": 0.0, "s2": 240.0}},
        {"id": "B", "stops": ["s2", "s3", "s4"], "departures": [200.0 + 150.0 * k for k in range(24)]},
        [{"from": "s0", "to": "s4", "rate": 240.0, "begin": 0.0, "end": 3000.0}], {"max": 1, "time": 30.0})
    res = _run(tmp_path, net, tr, 4200.0, "transfer")
    t = transit_tables(res)
    legs, pax, ev = t["legs"], t["passengers"], t["stop_events"]
    assert (pax["legs"] == 2).all() and len(legs) == 2 * len(pax)
    one = legs[legs["leg"] == 0].set_index("passenger")
    two = legs[legs["leg"] == 1].set_index("passenger")
    assert (one["destination"] == 2).all() and (two["origin"] == 2).all()
    done = one.index[np.isfinite(one["alighting"])]
    assert len(done) > 100
    assert np.allclose(two.loc[done, "arrival"], one.loc[done, "alighting"] + 30.0), "alighting + transfer"
    b_dep = np.sort(ev[(ev["line"] == 1) & (ev["stop"] == 2) & np.isfinite(ev["departure"])]["departure"])
    b_arr = ev[(ev["line"] == 1) & (ev["stop"] == 2)].set_index("departure")["arrival"]
    got = two.loc[done, "departure"].to_numpy(float)
    ok = np.isfinite(got)
    # the first B still at s2 (or arriving) when the transfer passenger gets there
    want = [next(x for x in b_dep if x >= at) for at in two.loc[done, "arrival"].to_numpy(float)[ok]]
    assert np.allclose(got[ok], want), "the first vehicle of B after the transfer"
    board = two.loc[done, "boarding"].to_numpy(float)[ok]
    assert (b_arr.loc[got[ok]].to_numpy(float) <= board + 1e-9).all()
    full = pax[np.isfinite(pax["alighting"])]
    assert len(full) > 100 and (full["rides"] == 2).all()
    assert np.allclose(full["alighting"], two.loc[full.index, "alighting"])
    k = transit_kpis(res)
    assert k["transit_transfers"] == int(np.isfinite(two["boarding"]).sum())
    assert abs(k["transit_mean_journey_s"] - (full["alighting"] - full["arrival"]).mean()) < 1e-6
    boarded = np.isfinite(legs["boarding"]).sum()
    alighted = ev["alightings"].sum()
    on_board = ev.groupby("trip").apply(lambda g: g["boardings"].sum() - g["alightings"].sum()).sum()
    assert boarded == alighted + on_board, "conserved"
    tr["transfers"] = {"max": 0}
    from mobsim.scenario import scenario_from_objects

    with pytest.raises(InputError, match="no journey leads from stop 's0' to stop 's4'"):
        scenario_from_objects(net, [], transit=tr)
