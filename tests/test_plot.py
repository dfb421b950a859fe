"""Plots: every standard figure renders to a non-empty PNG, including for empty runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from mobsim.analysis import plot, results

try:
    from tests.fakerun import make_fake_run
except ImportError:  # tests/ is on sys.path, not the repository root
    from fakerun import make_fake_run

PNG = b"\x89PNG\r\n\x1a\n"
ALL = {"network_speed.png", "vehicles_over_time.png", "travel_time_hist.png", "fundamental_diagram.png",
       "time_space.png"}


def _is_png(p: Path) -> bool:
    return p.is_file() and p.stat().st_size > 1000 and p.read_bytes()[:8] == PNG


@pytest.fixture(scope="module")
def res(tmp_path_factory) -> results.Results:
    return results.open(make_fake_run(tmp_path_factory.mktemp("plot") / "run.h5"))


def test_plot_all_writes_every_png(res: results.Results, tmp_path: Path) -> None:
    paths = plot.plot_all(res, tmp_path / "figs", dpi=60)
    assert {p.name for p in paths} == ALL
    assert all(_is_png(p) for p in paths)


def test_time_space_skipped_without_fcd(tmp_path: Path) -> None:
    r = results.open(make_fake_run(tmp_path / "nofcd.h5", with_fcd=False))
    assert plot.plot_time_space(r) is None
    paths = plot.plot_all(r, tmp_path / "figs", dpi=50)
    assert {p.name for p in paths} == ALL - {"time_space.png"}
    assert all(_is_png(p) for p in paths)


def test_empty_run_plots_without_error(tmp_path: Path) -> None:
    r = results.open(make_fake_run(tmp_path / "empty.h5", n_trips=0, extras=False, with_fcd=True))
    paths = plot.plot_all(r, tmp_path / "figs", dpi=50)
    assert "time_space.png" not in {p.name for p in paths}  # fcd recorded but no vehicle sampled
    assert all(_is_png(p) for p in paths)


def test_individual_functions_draw_into_given_axes(res: results.Results) -> None:
    fig = Figure()
    axes = fig.subplots(2, 3).ravel()
    assert plot.plot_network_speed(res, ax=axes[0]) is fig
    assert plot.plot_vehicles_over_time(res, ax=axes[1]) is fig
    assert plot.plot_travel_time_hist(res, ax=axes[2]) is fig
    assert plot.plot_fundamental_diagram(res, axes=axes[3:5]) is fig
    assert plot.plot_time_space(res, ax=axes[5]) is fig
    assert axes[1].get_xlabel() == "time (min)"
    assert axes[3].get_ylabel() == "speed (km/h)" and axes[4].get_ylabel() == "flow (veh/h)"
    assert axes[5].get_ylabel() == "distance along route (m)"
    assert "3 vehicles" not in axes[5].get_title() and "l0" in axes[5].get_title()


def test_network_speed_panels(res: results.Results) -> None:
    fig = plot.plot_network_speed(res)
    panels = [a for a in fig.axes if a.get_visible() and a.get_xlabel() == "x (m)"]
    assert len(panels) == 3  # one per edge-data interval
    assert panels[0].get_title() == "0:00:00–0:01:40"
    cbar = [a for a in fig.axes if a.get_ylabel() == "mean speed (km/h)"]
    assert cbar
    fig1 = plot.plot_network_speed(res, max_panels=2)  # the two busiest intervals
    assert len([a for a in fig1.axes if a.get_visible() and a.get_xlabel() == "x (m)"]) == 2


def test_plots_accept_a_path(res: results.Results, tmp_path: Path) -> None:
    fig = plot.plot_vehicles_over_time(res.path)
    fig.savefig(tmp_path / "v.png")
    assert _is_png(tmp_path / "v.png")
