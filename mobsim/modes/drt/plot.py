"""Figures of an on-demand service (``/drt/*``): the waits, the vehicles' states over time and
the persons on board over time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mobsim.analysis.figures import axes, no_data, save_figures
from mobsim.analysis.results import as_results


def plot_wait(results: Any, ax: Axes | None = None) -> Figure:
    """Distribution of the waits (min) of the requests picked up, with their mean."""
    rq = as_results(results).table("drt/requests")
    fig, ax = axes(ax)
    w = rq["wait"].to_numpy(float)
    w = w[np.isfinite(w)] / 60.0
    if not len(w):
        no_data(ax, "no request picked up")
        return fig
    ax.hist(w, bins=40, color="tab:purple")
    ax.axvline(w.mean(), color="k", ls="--", label=f"mean {w.mean():.1f} min")
    ax.set_xlabel("wait (min)")
    ax.set_ylabel("requests")
    ax.legend(loc="best")
    return fig


def plot_occupancy(results: Any, ax: Axes | None = None, step: float = 60.0) -> Figure:
    """Persons on board of the whole fleet and requests waiting for their pick-up over time
    (sampled every ``step`` s)."""
    rq = as_results(results).table("drt/requests")
    fig, ax = axes(ax)
    made = rq["status"].to_numpy(int) > 0
    if not made.any():
        no_data(ax, "no request made")
        return fig
    g = rq["group"].to_numpy(float)[made]
    t0 = rq["earliest"].to_numpy(float)[made]
    a = rq["pickup"].to_numpy(float)[made]
    b = rq["dropoff"].to_numpy(float)[made]
    end = np.nanmax(np.concatenate([t0, a[np.isfinite(a)], b[np.isfinite(b)]]))
    grid = np.arange(np.floor(t0.min()), end + step, step)

    def count(s: np.ndarray, e: np.ndarray) -> np.ndarray:
        e = np.where(np.isfinite(e), e, np.inf)
        on = (s[None, :] <= grid[:, None]) & (grid[:, None] < e[None, :])
        return (on * g[None, :]).sum(axis=1)

    ax.step(grid / 60.0, count(a, b), where="post", label="on board")
    ax.step(grid / 60.0, count(t0, a), where="post", label="waiting for a pick-up")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("persons")
    ax.legend(loc="best")
    return fig


def plot_drt_all(results: Any, out_dir: str | os.PathLike[str], dpi: int = 120) -> list[Path]:
    """Write the on-demand figures as PNG files into ``out_dir``; ``[]`` without on-demand tables."""
    results = as_results(results)
    if not results.has("drt/requests"):
        return []
    return save_figures(results, out_dir, (("drt_wait", plot_wait), ("drt_occupancy", plot_occupancy)), dpi)
