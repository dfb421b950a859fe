"""Standard figures of a run (matplotlib; no display needed).

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never pyplot, so
nothing is registered with a GUI backend, nothing needs closing, and PNGs render with Agg on any
machine. Every ``plot_*`` function takes a :class:`~mobsim.analysis.results.Results` (or a path) and an
optional ``ax`` to draw into; without one it makes its own figure. Each returns the Figure
(:func:`plot_time_space` returns None when the run has no trajectories).

:func:`plot_all` writes ``network_speed.png``, ``vehicles_over_time.png``,
``travel_time_hist.png``, ``fundamental_diagram.png`` and, when ``/fcd`` was recorded,
``time_space.png``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from mobsim.analysis import extensions, figures
from mobsim.analysis.results import as_results
from mobsim.output import schema

__all__ = ["plot_all", "plot_fundamental_diagram", "plot_network_speed", "plot_time_space",
           "plot_travel_time_hist", "plot_vehicles_over_time"]

_SPEED_CMAP = "RdYlGn"
_ARRIVED = next(k for k, v in schema.TRIP_STATUS.items() if v == "arrived")


# ------------------------------------------------------------------------------ network speed
def plot_network_speed(results: Any, ax: Axes | None = None, interval: int | None = None,
                       max_panels: int = 6) -> Figure:
    """The network with each link coloured by its space-mean speed (km/h) in edge-data intervals.

    Without ``ax``: small multiples of every interval when there are at most ``max_panels``,
    otherwise the ``max_panels`` busiest (most vehicle-seconds), in time order. With ``ax``, or
    with ``interval`` (an interval index): that one interval (default: the busiest). Links without
    vehicles in an interval are light grey. Shared colour bar in km/h.
    """
    results = as_results(results)
    seg = figures.segments(results)
    speed = results.edgedata_array("speed") * 3.6
    sampled = results.edgedata_array("sampled_seconds")
    iv = results.edgedata_intervals
    n_int = speed.shape[0]
    limit = results.links["speed"].to_numpy(dtype=float) * 3.6
    finite = np.concatenate([limit[np.isfinite(limit)], speed[np.isfinite(speed)]])
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    norm = Normalize(0.0, vmax)
    cmap = colormaps[_SPEED_CMAP].with_extremes(bad="0.85")
    lanes = results.links["lanes"].to_numpy(dtype=float)
    widths = 1.0 + np.clip(np.nan_to_num(lanes, nan=1.0), 1, 6) if len(lanes) else 1.5
    busiest = int(np.argmax(np.nansum(sampled, axis=1))) if n_int else None

    if ax is not None or interval is not None:
        idx = [interval if interval is not None else busiest]
        fig, ax0 = figures.axes(ax)
        axes = [ax0]
    else:
        if n_int <= max_panels:
            idx = list(range(n_int)) or [None]
        else:
            idx = sorted(np.argsort(-np.nansum(sampled, axis=1), kind="stable")[:max_panels].tolist())
        ncols = min(3, len(idx))
        nrows = math.ceil(len(idx) / ncols)
        fig = figures.figure(4.0 * ncols + 1.0, 3.4 * nrows + 0.4)
        grid = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for extra in grid[len(idx):]:
            extra.set_visible(False)
        axes = list(grid[:len(idx)])
    for a, i in zip(axes, idx, strict=True):
        values = speed[i] if i is not None else np.full(len(seg), np.nan)
        lc = LineCollection(seg, cmap=cmap, norm=norm, linewidths=widths, capstyle="round")
        lc.set_array(np.ma.masked_invalid(values))
        a.add_collection(lc)
        if len(seg):
            a.update_datalim(seg.reshape(-1, 2))
        a.autoscale_view()
        a.margins(0.05)
        a.set_aspect("equal", adjustable="datalim")
        a.set_xlabel("x (m)")
        a.set_ylabel("y (m)")
        if i is None:
            a.set_title("no edge data")
        else:
            b, e = iv["begin"].iloc[i], iv["end"].iloc[i]
            a.set_title(f"{figures.clock(b)}–{figures.clock(e)}")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes, label="mean speed (km/h)", shrink=0.9)
    return fig


# ------------------------------------------------------------------------------ time series
def plot_vehicles_over_time(results: Any, ax: Axes | None = None) -> Figure:
    """Running, waiting (for insertion) and halting (speed < 0.1 m/s) vehicles vs time (min)."""
    results = as_results(results)
    fig, ax = figures.axes(ax)
    s = results.summary
    if len(s):
        t = s["time"].to_numpy(dtype=float) / 60.0
        for name, style in (("running", "-"), ("waiting", "--"), ("halting", ":")):
            ax.plot(t, s[name].to_numpy(), style, label=name)
        ax.legend(loc="best")
    else:
        figures.no_data(ax, "no summary rows")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("vehicles")
    ax.set_title("vehicles over time")
    ax.grid(alpha=0.3)
    return fig


def plot_travel_time_hist(results: Any, ax: Axes | None = None) -> Figure:
    """Histogram of the travel times (s) of completed trips, with the mean marked."""
    results = as_results(results)
    fig, ax = figures.axes(ax)
    trips = results.trips
    d = trips.loc[trips["status"] == _ARRIVED, "duration"].to_numpy(dtype=float)
    d = d[np.isfinite(d)]
    if len(d):
        bins = int(min(50, max(5, math.sqrt(len(d)))))
        ax.hist(d, bins=bins, color="tab:blue", alpha=0.8)
        ax.axvline(d.mean(), color="k", ls="--", lw=1, label=f"mean {d.mean():.1f} s")
        ax.legend(loc="best")
    else:
        figures.no_data(ax, "no completed trips")
    ax.set_xlabel("travel time (s)")
    ax.set_ylabel("trips")
    ax.set_title(f"travel times of {len(d)} completed trips")
    return fig


def plot_fundamental_diagram(results: Any, axes: Sequence[Axes] | None = None) -> Figure:
    """Speed-density (km/h vs veh/km) and flow-density (veh/h vs veh/km) scatter of every
    (edge, interval) with vehicles, two subplots. ``axes``: two axes to draw into."""
    results = as_results(results)
    if axes is None:
        fig = figures.figure(10.0, 4.2)
        ax_v, ax_q = fig.subplots(1, 2)
    else:
        ax_v, ax_q = axes
        fig = ax_v.figure
    e = results.edgedata
    sel = (e["sampled_seconds"].to_numpy(dtype=float) > 0) & np.isfinite(e["density"].to_numpy(dtype=float))
    k = e["density"].to_numpy(dtype=float)[sel]
    v = e["speed"].to_numpy(dtype=float)[sel] * 3.6
    q = e["flow"].to_numpy(dtype=float)[sel]
    if len(k):
        ax_v.scatter(k, v, s=8, alpha=0.5)
        ax_q.scatter(k, q, s=8, alpha=0.5, color="tab:orange")
    else:
        figures.no_data(ax_v, "no edge data")
        figures.no_data(ax_q, "no edge data")
    ax_v.set_xlabel("density (veh/km)")
    ax_v.set_ylabel("speed (km/h)")
    ax_v.set_title("speed–density")
    ax_q.set_xlabel("density (veh/km)")
    ax_q.set_ylabel("flow (veh/h)")
    ax_q.set_title("flow–density")
    for a in (ax_v, ax_q):
        a.set_xlim(left=0)
        a.set_ylim(bottom=0)
        a.grid(alpha=0.3)
    return fig


# ------------------------------------------------------------------------------ time-space
def _route(results: Any, fcd: Any, vehicles: np.ndarray) -> list[int]:
    """The link sequence of the vehicle (among ``vehicles``) seen on the most links, with a
    one-link gap between consecutive observed links filled from the network where it is unique."""
    best: list[int] = []
    for _, g in fcd[fcd["vehicle"].isin(vehicles)].groupby("vehicle", sort=False):
        links = g["link"].to_numpy()
        seq = [int(links[0])] if len(links) else []
        for lk in links[1:]:
            if lk != seq[-1]:
                seq.append(int(lk))
        if len(seq) > len(best):
            best = seq
    if len(best) < 2:
        return best
    links = results.links
    fr = links["from_node"].to_numpy()
    to = links["to_node"].to_numpy()
    out = [best[0]]
    for nxt in best[1:]:
        prev = out[-1]
        if to[prev] != fr[nxt]:
            bridge = np.flatnonzero((fr == to[prev]) & (to == fr[nxt]))
            if len(bridge) == 1:
                out.append(int(bridge[0]))
        out.append(nxt)
    return out


def plot_time_space(results: Any, ax: Axes | None = None) -> Figure | None:
    """Time-space diagram (distance along the route in m vs time in s, points coloured by speed
    in km/h) of the vehicles of the most frequent origin-destination pair among the trips that
    have trajectories. The route is the link sequence of the vehicle of that pair seen on the
    most links. Returns None when the run has no trajectories (``/fcd`` absent or empty)."""
    results = as_results(results)
    if not results.has_fcd:
        return None
    fcd = results.fcd
    if not len(fcd):
        return None
    trips = results.trips
    seen = np.unique(fcd["vehicle"].to_numpy())
    seen = seen[(seen >= 0) & (seen < len(trips))]
    if not len(seen):
        return None
    od = trips.iloc[seen][["origin", "destination"]]
    counts = od.value_counts(sort=True)
    o, d = counts.index[0]
    vehicles = seen[(od["origin"].to_numpy() == o) & (od["destination"].to_numpy() == d)]
    route = _route(results, fcd, vehicles)
    lengths = results.links["length"].to_numpy(dtype=float)
    offset = {lk: float(s) for lk, s in zip(route, np.concatenate([[0.0], np.cumsum(lengths[route])[:-1]]),
                                            strict=True)}
    rows = fcd[fcd["vehicle"].isin(vehicles) & fcd["link"].isin(route)]
    dist = rows["link"].map(offset).to_numpy(dtype=float) + rows["pos"].to_numpy(dtype=float)
    fig, ax = figures.axes(ax, 8.0, 5.0)
    speed = rows["speed"].to_numpy(dtype=float) * 3.6
    vmax = max(float(np.nanmax(speed)) if len(speed) else 0.0, 1.0)
    t = rows["time"].to_numpy(dtype=float)
    veh = rows["vehicle"].to_numpy()
    order = np.lexsort((t, veh))
    same = veh[order][1:] == veh[order][:-1]
    pts = np.column_stack([t[order], dist[order]])
    ax.add_collection(LineCollection(np.stack([pts[:-1][same], pts[1:][same]], axis=1) if len(pts) > 1
                                     else np.zeros((0, 2, 2)), colors="0.6", linewidths=0.7, zorder=1))
    sc = ax.scatter(t, dist, c=speed, s=8, cmap=_SPEED_CMAP, vmin=0.0, vmax=vmax, zorder=2)
    fig.colorbar(sc, ax=ax, label="speed (km/h)")
    ids = results.links["id"].astype(str).to_numpy()
    ax.set_xlabel("time (s)")
    ax.set_ylabel("distance along route (m)")
    ax.set_title(f"time–space: {ids[o] if 0 <= o < len(ids) else o} → "
                 f"{ids[d] if 0 <= d < len(ids) else d} ({len(vehicles)} vehicles, {len(route)} links)")
    ax.grid(alpha=0.3)
    return fig


# ------------------------------------------------------------------------------ all
def plot_all(results: Any, out_dir: str | os.PathLike[str], dpi: int = 120) -> list[Path]:
    """Write the standard figures as PNG files into ``out_dir`` (created); returns their paths.

    ``time_space.png`` is skipped when the run has no trajectories. Runs with drones add
    ``drone_tracks.png``, ``drone_conflicts.png``, ``drone_pad_queue.png`` and ``drones_airborne.png``.
    """
    results = as_results(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, fn in (("network_speed", plot_network_speed), ("vehicles_over_time", plot_vehicles_over_time),
                     ("travel_time_hist", plot_travel_time_hist),
                     ("fundamental_diagram", plot_fundamental_diagram), ("time_space", plot_time_space)):
        fig = fn(results)
        if fig is None:
            continue
        path = out / f"{name}.png"
        fig.savefig(path, dpi=dpi)
        fig.clear()
        written.append(path)

    written += extensions.mode_plots(results, out, dpi=dpi)  # the modes' own (none for a mode not run)
    return written
