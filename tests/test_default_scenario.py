"""The bundled default scenario runs clean: no gridlock teleports, no collisions, every trip done,
every drone flight flown and every shuttle call made.

A regression test of the junction and lane-change logic on a realistic network: before lane swaps
(two stopped vehicles side by side, each needing the other's lane) the district lost 8 vehicles
to gridlock teleports per hour.
"""

from __future__ import annotations

from pathlib import Path

import mobsim
from mobsim.engine import Simulation

ROOT = Path(__file__).resolve().parents[1]


def test_default_scenario_runs_clean(tmp_path: Path) -> None:
    sc = mobsim.load_scenario(ROOT / "networks" / "default" / "scenario.toml")
    out = Simulation(sc).run(out=tmp_path / "d.h5", progress="none")
    res = mobsim.open(out)
    k = res.kpis()
    services = sum(len(ln.departures) for ln in sc.transit.lines)
    assert k["trips_loaded"] == len(sc.trips) + services, "the cars, trucks and shuttles"
    assert k["trips_completed"] == k["trips_loaded"], "the peak hour drains within sim.end"
    assert k["teleports"] == 0
    assert k["collisions"] == 0
    # Plausible urban figures for a 1 km² district at 50 and 30 km/h with signals.
    assert 15.0 < k["mean_speed_kmh"] < 40.0
    assert 60.0 < k["mean_travel_time_s"] < 400.0
    # Drones over the district in the same run: every flight requested in the hour is flown
    # (none refused, none short of battery), none enters the event-venue geofence, and the
    # delivery times are those of 0.2-1.5 km deliveries at 15 m/s with climbs, drops and pad queues.
    assert k["drone_flights_requested"] > 40
    assert k["drone_flights_completed"] == k["drone_flights_requested"]
    assert k["drone_flights_refused"] == 0 and k["drone_battery_depleted"] == 0
    assert k["drone_geofence_violations"] == 0
    assert 100.0 < k["drone_mean_delivery_time_s"] < 600.0
    assert 0.6 < k["drone_route_efficiency"] <= 1.0
    # An autonomous shuttle loop among the cars: every scheduled call made, on time, the
    # passengers of the hour carried (those who came after the last service could not be), and
    # waits of about half the 5-minute headway.
    assert k["transit_passengers"] > 80 and k["transit_boarded"] > 0.85 * k["transit_passengers"]
    assert k["transit_on_time_share"] == 1.0 and k["transit_denied_boardings"] == 0
    assert 90.0 < k["transit_mean_wait_to_departure_s"] < 210.0
    from mobsim.modes.transit.kpi import transit_tables

    ev = transit_tables(res)["stop_events"]
    assert ev["arrival"].notna().all() and ev["departure"].notna().all()


def test_notebook_kpis_use_the_runs_kpi_settings(tmp_path: Path) -> None:
    """``Results.kpis()`` groups departures by the run's own ``kpi.interval``, as ``mobsim kpi`` does."""
    sc = mobsim.load_scenario(ROOT / "networks" / "default" / "scenario.toml",
                              ["kpi.interval=600", "sim.end=1200"])
    res = mobsim.open(Simulation(sc).run(out=tmp_path / "k.h5", progress="none"))
    groups = list(res.kpis(group_by="depart_interval")["by_depart_interval"])
    assert groups[:2] == ["0-600", "600-1200"]
    assert list(res.kpis(group_by="depart_interval", interval=300.0)["by_depart_interval"])[1] == "300-600"
