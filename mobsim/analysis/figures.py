"""Shared pieces of the standard figures (matplotlib's object-oriented API, never pyplot): a
figure and axes, the "no data" note, clock labels and the straight link segments of the network
map (m). Used by :mod:`mobsim.analysis.plot` and the modes' own figures."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def figure(width: float = 7.0, height: float = 4.5) -> Figure:
    """A new Figure of ``width`` x ``height`` inches with constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")


def axes(ax: Axes | None, width: float = 7.0, height: float = 4.5) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure with one axes when ``ax`` is None."""
    if ax is not None:
        return ax.figure, ax
    fig = figure(width, height)
    return fig, fig.add_subplot()


def no_data(ax: Axes, text: str) -> None:
    """Write ``text`` in grey in the middle of ``ax`` (an empty table is a note, never an error)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


def clock(t: float) -> str:
    """Simulation time (s) as h:mm:ss."""
    t = float(t)
    if not math.isfinite(t):
        return "?"
    h, rem = divmod(int(round(t)), 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}"


def segments(results: Any) -> np.ndarray:
    """Straight link segments from node coordinates, shape (n_links, 2, 2), m."""
    nodes, links = results.nodes, results.links
    x, y = nodes["x"].to_numpy(dtype=float), nodes["y"].to_numpy(dtype=float)
    fr = links["from_node"].to_numpy(dtype=np.int64)
    to = links["to_node"].to_numpy(dtype=np.int64)
    ok = (fr >= 0) & (fr < len(x)) & (to >= 0) & (to < len(x))
    fr, to = np.where(ok, fr, 0), np.where(ok, to, 0)
    seg = np.zeros((len(links), 2, 2))
    if len(x):
        seg[:, 0, 0], seg[:, 0, 1], seg[:, 1, 0], seg[:, 1, 1] = x[fr], y[fr], x[to], y[to]
    return seg


def save_figures(results: Any, out_dir: Any, figures: Any, dpi: int = 120) -> list[Any]:
    """Draw every ``(name, plot function)`` of ``figures`` for ``results`` and write it as
    ``<name>.png`` into ``out_dir`` (created); returns the paths in order."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in figures:
        fig = fn(results)
        path = out / f"{name}.png"
        fig.savefig(path, dpi=dpi)
        fig.clear()
        written.append(path)
    return written
