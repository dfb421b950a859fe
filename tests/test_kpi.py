"""KPIs against values computed by hand for the fake run (see tests/fakerun.py).

The default fake run: 4 links of 100 m, 300 s. Ten regular trips, departing every 20 s,
alternately cars (10 m/s, 40 s, no time loss) and trucks (8 m/s, 50 s, 10 s time loss), all
arrive. Extras: a truck inserted at 110 s and removed at 130 s (160 m, 20 s); a car planned at
265 s, inserted at 272 s and still running at 300 s (280 m, 28 s); a truck planned at 290 s that
is never inserted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mobsim.analysis import kpi, results

try:
    from tests.fakerun import make_fake_run
except ImportError:  # tests/ is on sys.path, not the repository root
    from fakerun import make_fake_run


@pytest.fixture(scope="module")
def res(tmp_path_factory) -> results.Results:
    return results.open(make_fake_run(tmp_path_factory.mktemp("kpi") / "run.h5"))


@pytest.fixture(scope="module")
def k(res: results.Results) -> dict:
    return kpi.compute(res)


def test_trip_counts(k: dict) -> None:
    assert k["trips_loaded"] == 13
    assert k["trips_inserted"] == 12
    assert k["trips_completed"] == 10
    assert k["trips_unfinished"] == 2  # the waiting truck and the running car
    assert k["removed"] == 1
    assert k["trips_completed"] + k["trips_unfinished"] + k["removed"] == k["trips_loaded"]


def test_trips_planned_after_the_end_are_not_loaded(tmp_path: Path) -> None:
    r = results.open(make_fake_run(tmp_path / "late.h5", with_fcd=False, late_trips=3))
    assert len(r.trips) == 16
    k = kpi.compute(r)
    assert k["trips_loaded"] == 13 and k["trips_not_loaded"] == 3
    assert k["trips_loaded"] == r.summary["loaded"].iloc[-1]
    assert k["trips_unfinished"] == 2 and k["mean_insertion_delay_s"] == pytest.approx(7.0 / 12.0)
    by = kpi.compute(r, group_by="depart_interval", interval=100.0)["by_depart_interval"]
    assert list(by) == ["0-100", "100-200", "200-300"]


def test_trip_statistics(k: dict) -> None:
    assert k["mean_travel_time_s"] == pytest.approx(45.0)  # (5 * 40 + 5 * 50) / 10
    assert k["p95_travel_time_s"] == pytest.approx(50.0)
    assert k["mean_time_loss_s"] == pytest.approx(5.0)  # (5 * 0 + 5 * 10) / 10
    assert k["mean_waiting_time_s"] == 0.0
    assert k["mean_stops_per_trip"] == 0.0
    assert k["mean_insertion_delay_s"] == pytest.approx(7.0 / 12.0)  # one 7 s delay over 12 inserted


def test_distance_time_speed(k: dict) -> None:
    assert k["simulated_time_s"] == 300.0
    assert k["vkt_km"] == pytest.approx(4.44)  # 10 * 400 m + 280 m + 160 m
    assert k["vkt_trips_km"] == pytest.approx(k["vkt_km"])
    assert k["vht_h"] == pytest.approx(498.0 / 3600.0)  # 5 * 40 + 5 * 50 + 28 + 20 vehicle-seconds
    assert k["mean_speed_kmh"] == pytest.approx(4.44 / (498.0 / 3600.0))
    assert k["throughput_veh_per_h"] == pytest.approx(120.0)  # 10 trips in 300 s


def test_events_and_health(k: dict) -> None:
    assert k["teleports"] == 1
    assert k["collisions"] == 0
    assert k["emergency_brakings"] == 1
    assert k["vehicle_updates_per_s"] == pytest.approx(498 / 0.3)
    assert k["real_time_factor"] == pytest.approx(1000.0)


def test_junction_delays_by_hand(res: results.Results) -> None:
    jd = kpi.junction_delays(res)
    # node k's approach is link k-1; trucks lose 0.2 s per s, 2.5 s per 100 m link
    assert jd["vehicles"].tolist() == [0, 12, 11, 10, 10]
    assert jd["total_delay_s"].tolist() == pytest.approx([0.0, 15.0, 14.0, 12.5, 12.5])
    assert math.isnan(jd["delay_s"].iloc[0])
    assert jd["delay_s"].iloc[1:].tolist() == pytest.approx([1.25, 14 / 11, 1.25, 1.25])
    assert jd["los"].tolist() == [None, "A", "A", "A", "A"]
    assert jd["control"].tolist() == ["none", "priority", "priority", "signal", "none"]


def test_junction_summary(k: dict) -> None:
    j = k["junctions"]
    assert j["nodes"] == 3  # the signal and the two priority nodes
    assert j["mean_delay_s"] == pytest.approx((15 + 14 + 12.5) / (12 + 11 + 10))
    assert j["worst_los"] == "A" and j["worst_node"] == "n2"


def test_los_tables_choose_by_control(res: results.Results) -> None:
    jd = kpi.junction_delays(res, los_signal=(1.0, 2.0, 3.0, 4.0, 5.0),
                             los_priority=(1.26, 1.27, 2.0, 3.0, 4.0))
    assert jd["los"].tolist() == [None, "A", "C", "B", "A"]
    k = kpi.compute(res, los_signal=(1.0, 2.0, 3.0, 4.0, 5.0), los_priority=(1.26, 1.27, 2.0, 3.0, 4.0))
    assert k["junctions"]["worst_los"] == "C" and k["junctions"]["worst_node"] == "n2"


@pytest.mark.parametrize(("delay", "signal", "priority"), [
    (0.0, "A", "A"), (10.0, "A", "A"), (10.01, "B", "B"), (15.0, "B", "B"), (15.5, "B", "C"),
    (20.0, "B", "C"), (25.0, "C", "C"), (35.0, "C", "D"), (50.0, "D", "E"), (55.0, "D", "F"),
    (80.0, "E", "F"), (80.01, "F", "F"), (1e6, "F", "F"),
])
def test_level_of_service_hcm_tables(delay: float, signal: str, priority: str) -> None:
    assert kpi.level_of_service(delay, kpi.HCM_SIGNAL) == signal
    assert kpi.level_of_service(delay, kpi.HCM_PRIORITY) == priority


def test_level_of_service_edge_cases() -> None:
    assert kpi.level_of_service(float("nan")) is None
    with pytest.raises(ValueError, match="increasing"):
        kpi.level_of_service(1.0, (10, 5, 20, 30, 40))
    with pytest.raises(ValueError, match="5 increasing"):
        kpi.level_of_service(1.0, (10, 20))


def test_group_by_vtype(res: results.Results) -> None:
    by = kpi.compute(res, group_by="vtype")["by_vtype"]
    assert set(by) == {"car", "truck"}
    car, truck = by["car"], by["truck"]
    assert (car["trips_loaded"], car["trips_completed"], car["trips_unfinished"],
            car["removed"]) == (6, 5, 1, 0)
    assert (truck["trips_loaded"], truck["trips_completed"], truck["trips_unfinished"],
            truck["removed"]) == (7, 5, 1, 1)
    assert car["mean_travel_time_s"] == pytest.approx(40.0)
    assert truck["mean_time_loss_s"] == pytest.approx(10.0)
    assert car["vkt_trips_km"] + truck["vkt_trips_km"] == pytest.approx(4.44)
    assert car["throughput_veh_per_h"] == pytest.approx(60.0)


def test_group_by_depart_interval(res: results.Results) -> None:
    by = kpi.compute(res, group_by="depart_interval", interval=100.0)["by_depart_interval"]
    assert list(by) == ["0-100", "100-200", "200-300"]
    assert [g["trips_loaded"] for g in by.values()] == [5, 6, 2]
    assert [g["trips_completed"] for g in by.values()] == [5, 5, 0]
    assert by["0-100"]["mean_travel_time_s"] == pytest.approx(44.0)  # cars 0, 40, 80; trucks 20, 60
    assert by["100-200"]["mean_travel_time_s"] == pytest.approx(46.0)
    assert math.isnan(by["200-300"]["mean_travel_time_s"])
    assert by["0-100"]["throughput_veh_per_h"] == pytest.approx(180.0)  # 5 trips per 100 s


def test_bad_arguments(res: results.Results) -> None:
    with pytest.raises(ValueError, match="group_by"):
        kpi.compute(res, group_by="colour")
    with pytest.raises(ValueError, match="interval"):
        kpi.compute(res, group_by="depart_interval", interval=0)


def test_json_output(res: results.Results) -> None:
    k = kpi.compute(res, group_by="depart_interval", interval=100.0)
    text = kpi.to_json(k)
    back = json.loads(text)
    assert back["trips_completed"] == 10
    assert back["by_depart_interval"]["200-300"]["mean_travel_time_s"] is None  # NaN -> null
    assert "NaN" not in text


def test_all_values_are_plain_python(k: dict) -> None:
    def walk(d: dict) -> None:
        for key, v in d.items():
            if isinstance(v, dict):
                walk(v)
            else:
                assert v is None or type(v) in (int, float, str, bool), (key, type(v))
    walk(k)


def test_format_table(res: results.Results) -> None:
    text = kpi.format_table(kpi.compute(res, group_by="vtype"))
    lines = text.splitlines()
    assert lines[0].split() == ["kpi", "value", "unit"]
    row = next(line for line in lines if line.startswith("mean_travel_time_s"))
    assert row.split() == ["mean_travel_time_s", "45.000", "s"]
    assert "[junctions]" in text and "[by_vtype: truck]" in text
    value_ends = {len(line) - len(line.split()[-1]) - 2 for line in lines[2:12]}
    assert len(value_ends) <= 3  # aligned columns


def test_empty_run_is_nan_safe(tmp_path: Path) -> None:
    r = results.open(make_fake_run(tmp_path / "empty.h5", n_trips=0, extras=False, with_fcd=False))
    k = kpi.compute(r, group_by="vtype")
    assert k["trips_loaded"] == 0 and k["trips_completed"] == 0
    assert math.isnan(k["mean_travel_time_s"]) and math.isnan(k["mean_speed_kmh"])
    assert k["vkt_km"] == 0.0 and k["throughput_veh_per_h"] == 0.0
    assert k["junctions"]["worst_los"] is None
    assert json.loads(kpi.to_json(k))["mean_travel_time_s"] is None
    assert "n/a" in kpi.format_table(k)
    assert kpi.compute(r, group_by="depart_interval")["by_depart_interval"] == {}


def test_bare_file_without_any_rows(tmp_path: Path) -> None:
    from mobsim.output.recorder import HDF5Recorder
    try:
        from tests.fakerun import minimal_static
    except ImportError:
        from fakerun import minimal_static
    rec = HDF5Recorder(tmp_path / "bare.h5")
    rec.open({}, minimal_static(), {})
    rec.close(0)
    k = kpi.compute(tmp_path / "bare.h5")  # a path works too
    assert k["trips_loaded"] == 0 and math.isnan(k["simulated_time_s"]) and math.isnan(k["vht_h"])
    kpi.to_json(k)
