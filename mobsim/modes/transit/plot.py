"""Standard figures of the transit lines of a run (matplotlib, object-oriented API; no display).

Like :mod:`mobsim.analysis.plot`: every ``plot_*`` function takes a
:class:`~mobsim.analysis.results.Results` (or a path) and an optional ``ax`` and returns the
Figure; empty tables give a "no data" note. Time axes in minutes of simulation time.

:func:`plot_transit_all` writes ``transit_marey.png`` (time-distance diagram of the busiest
line), ``transit_load.png`` (mean load leaving each stop of that line, with its capacity),
``transit_wait.png`` (the distribution of waits) and ``transit_occupancy.png`` (passengers on
board over time), nothing for a run without transit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mobsim.analysis.figures import axes, no_data, save_figures
from mobsim.analysis.results import as_results
from mobsim.modes.transit.kpi import transit_tables

__all__ = ["plot_marey", "plot_load_profile", "plot_occupancy", "plot_transit_all", "plot_wait"]


def _busiest(t: dict) -> int:
    """The line with the most boardings (row of /transit/lines), -1 without stop events."""
    ev = t.get("stop_events")
    if ev is None or not len(ev):
        return -1
    return int(ev.groupby("line")["boardings"].sum().idxmax())


def _line_figure(results: Any, line: int | None, ax: Axes | None) -> tuple[dict, Figure, Axes, int]:
    """The tables, the figure and axes, and the line to draw (default: the busiest; -1 without stop
    events, noted in the axes)."""
    t = transit_tables(as_results(results))
    fig, ax = axes(ax)
    li = _busiest(t) if line is None else line
    if li < 0:
        no_data(ax, "no transit stop events")
    return t, fig, ax, li


def plot_marey(results: Any, line: int | None = None, ax: Axes | None = None) -> Figure:
    """Time-distance (Marey) diagram of ``line`` (default: the busiest): every service's calls,
    dwell as a vertical stroke, the stops as horizontal grid lines."""
    t, fig, ax, li = _line_figure(results, line, ax)
    if li < 0:
        return fig
    ev = t["stop_events"][t["stop_events"]["line"] == li]
    for _, g in ev.groupby("trip"):
        g = g.sort_values("visit")
        x = np.column_stack([g["arrival"], g["departure"]]).ravel() / 60.0
        y = np.repeat(g["distance"].to_numpy(float), 2) / 1000.0
        ax.plot(x, y, lw=1.0)
    ls = t["line_stops"][t["line_stops"]["line"] == li]
    names = t["stops"]["id"].astype(str).to_numpy()
    ax.set_yticks(ls["distance"].to_numpy(float) / 1000.0, names[ls["stop"].to_numpy(int)])
    ax.grid(axis="y", color="0.9")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("stop (km along the line)")
    ax.set_title(f"line {t['lines']['id'].astype(str).iloc[li]}: time-distance diagram")
    return fig


def plot_load_profile(results: Any, line: int | None = None, ax: Axes | None = None) -> Figure:
    """Mean load leaving each stop of ``line`` (default: the busiest), with the capacity."""
    t, fig, ax, li = _line_figure(results, line, ax)
    if li < 0:
        return fig
    ev = t["stop_events"][(t["stop_events"]["line"] == li) & np.isfinite(t["stop_events"]["departure"])]
    pat = int(t["lines"]["stops"].iloc[li])
    seq = ev["visit"].to_numpy(int) % pat
    mean = np.array([ev["load"].to_numpy(float)[seq == k].mean() if (seq == k).any() else np.nan
                     for k in range(pat)])
    ls = t["line_stops"][t["line_stops"]["line"] == li]
    names = t["stops"]["id"].astype(str).to_numpy()[ls["stop"].to_numpy(int)]
    ax.bar(np.arange(pat), mean, color="tab:blue", label="mean load leaving the stop")
    ax.axhline(float(t["lines"]["capacity"].iloc[li]), color="tab:red", ls="--", label="capacity")
    ax.set_xticks(np.arange(pat), names, rotation=45, ha="right")
    ax.set_ylabel("passengers on board")
    ax.set_title(f"line {t['lines']['id'].astype(str).iloc[li]}: load profile")
    ax.legend(loc="best")
    return fig


def plot_wait(results: Any, ax: Axes | None = None) -> Figure:
    """Histogram of the passengers' waits (boarding - arrival, min)."""
    t = transit_tables(as_results(results))
    fig, ax = axes(ax)
    pax = t.get("legs", t.get("passengers"))  # every ride
    w = (pax["boarding"] - pax["arrival"]).to_numpy(float) if pax is not None else np.zeros(0)
    w = w[np.isfinite(w)] / 60.0
    if not w.size:
        no_data(ax, "no passenger boarded")
        return fig
    ax.hist(w, bins=40, color="tab:green")
    ax.axvline(w.mean(), color="k", ls="--", label=f"mean {w.mean():.1f} min")
    ax.set_xlabel("wait (min)")
    ax.set_ylabel("passengers")
    ax.legend(loc="best")
    return fig


def plot_occupancy(results: Any, ax: Axes | None = None, step: float = 60.0) -> Figure:
    """Passengers on board of all lines over time (sampled every ``step`` s)."""
    t = transit_tables(as_results(results))
    fig, ax = axes(ax)
    pax = t.get("legs", t.get("passengers"))  # every ride
    if pax is None or not np.isfinite(pax["departure"].to_numpy(float)).any():
        no_data(ax, "no passenger rode")
        return fig
    a = pax["departure"].to_numpy(float)
    b = pax["alighting"].to_numpy(float)
    ok = np.isfinite(a)
    a, b = a[ok], np.where(np.isfinite(b[ok]), b[ok], np.inf)
    grid = np.arange(np.floor(a.min()), np.nanmax(np.where(np.isfinite(b), b, a)) + step, step)
    on = np.searchsorted(np.sort(a), grid, side="right") - np.searchsorted(np.sort(b), grid, side="right")
    ax.step(grid / 60.0, on, where="post")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("passengers on board")
    return fig


def plot_transit_all(results: Any, out_dir: str | os.PathLike[str], dpi: int = 120) -> list[Path]:
    """Write the transit figures as PNG files into ``out_dir``; ``[]`` without transit tables."""
    results = as_results(results)
    if not results.has("transit/passengers"):
        return []
    return save_figures(results, out_dir, (
        ("transit_marey", plot_marey), ("transit_load", plot_load_profile), ("transit_wait", plot_wait),
        ("transit_occupancy", plot_occupancy)), dpi)
