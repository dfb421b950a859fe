"""Standard figures of the drone part of a run (matplotlib, object-oriented API; no display needed).

Like :mod:`mobsim.analysis.plot`: every ``plot_*`` function takes a
:class:`~mobsim.analysis.results.Results` (or a path) and an optional ``ax``, draws with
``matplotlib.figure.Figure`` (never pyplot, so PNGs render with Agg anywhere and nothing needs
closing) and returns the Figure. Empty tables give a "no data" note in the axes, never an error.
Maps are in network metres (x, y); time axes in minutes of simulation time.

:func:`plot_drones_all` writes ``drone_tracks.png``, ``drone_conflicts.png``,
``drone_pad_queue.png`` and ``drones_airborne.png`` (nothing for a run without drones).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from mobsim.analysis.figures import axes, clock, no_data, save_figures, segments
from mobsim.analysis.results import as_results
from mobsim.modes.drones.schema import DRONE_EVENT_KINDS

__all__ = ["plot_drone_conflicts", "plot_drone_tracks", "plot_drones_airborne", "plot_drones_all",
           "plot_pad_queue"]

_ALT_CMAP = "viridis"
_KIND = {v: k for k, v in DRONE_EVENT_KINDS.items()}
#: At most this many vertiports get their own lines in :func:`plot_pad_queue` (the busiest).
MAX_PAD_LINES = 8


def _frame(results: Any, name: str) -> pd.DataFrame:
    """``/drones/<name>`` as a DataFrame (empty, with the schema's columns, when absent)."""
    return results._frame(f"drones/{name}")


# ------------------------------------------------------------------------------ map layers
def _road_map(results: Any, ax: Axes) -> None:
    """The road network in light grey, under everything else."""
    seg = segments(results)
    if len(seg):
        ax.add_collection(LineCollection(seg, colors="0.82", linewidths=1.0, zorder=0))
        ax.update_datalim(seg.reshape(-1, 2))


def _vertiports(results: Any, ax: Axes) -> None:
    """Vertiports as black triangles, labelled with their ids when there are few."""
    vp = _frame(results, "vertiports")
    if not len(vp):
        return
    x, y = vp["x"].to_numpy(dtype=float), vp["y"].to_numpy(dtype=float)
    ax.scatter(x, y, marker="^", s=60, color="k", zorder=5, label="vertiport")
    if len(vp) <= 20:
        for vid, xi, yi in zip(vp["id"].astype(str), x, y, strict=True):
            ax.annotate(vid, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7, zorder=6)
    ax.update_datalim(np.column_stack([x, y]))


def _geofences(results: Any, ax: Axes) -> int:
    """Geofence polygons as red translucent patches; returns how many were drawn."""
    v = _frame(results, "geofence_vertices")
    if not len(v):
        return 0
    g = v["geofence"].to_numpy()
    xy = np.column_stack([v["x"].to_numpy(dtype=float), v["y"].to_numpy(dtype=float)])
    patches = []
    for k in pd.unique(g):
        pts = xy[g == k]
        if len(pts) >= 3:
            patches.append(Polygon(pts, closed=True))
    if patches:
        ax.add_collection(PatchCollection(patches, facecolor="red", edgecolor="darkred", alpha=0.25,
                                          linewidths=1.0, zorder=4.5))  # translucent, over the tracks
        ax.update_datalim(xy)
    return len(patches)


def _track_segments(tracks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Line segments between consecutive samples of each drone, shape (n, 2, 2) in m, and their
    mean altitude (m). A gap longer than 1.5 sampling periods (the drone was on a pad, or the
    track was not sampled) is not joined."""
    if len(tracks) < 2:
        return np.zeros((0, 2, 2)), np.zeros(0)
    t = tracks["time"].to_numpy(dtype=float)
    d = tracks["drone"].to_numpy()
    order = np.lexsort((t, d))
    t, d = t[order], d[order]
    x = tracks["x"].to_numpy(dtype=float)[order]
    y = tracks["y"].to_numpy(dtype=float)[order]
    z = tracks["z"].to_numpy(dtype=float)[order]
    dt = t[1:] - t[:-1]
    same = (d[1:] == d[:-1]) & (dt > 0)
    period = float(np.median(dt[same])) if same.any() else np.inf  # the usual sampling period
    keep = same & (dt <= 1.5 * period + 1e-9)
    seg = np.stack([np.column_stack([x[:-1], y[:-1]]), np.column_stack([x[1:], y[1:]])], axis=1)[keep]
    return seg, 0.5 * (z[:-1] + z[1:])[keep]


def _finish_map(ax: Axes) -> None:
    ax.autoscale_view()
    ax.margins(0.05)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")


# ------------------------------------------------------------------------------ tracks
def plot_drone_tracks(results: Any, ax: Axes | None = None) -> Figure:
    """Flight tracks (``/drones/tracks``) coloured by altitude (m, colour bar) over the road
    network (light grey), with vertiports (black triangles) and geofences (red patches)."""
    results = as_results(results)
    fig, ax = axes(ax, 7.5, 6.0)
    _road_map(results, ax)
    n_fences = _geofences(results, ax)
    tracks = _frame(results, "tracks")
    z = tracks["z"].to_numpy(dtype=float)
    zf = z[np.isfinite(z)]
    if len(zf):
        norm = Normalize(float(zf.min()), float(zf.max()) if zf.max() > zf.min() else float(zf.min()) + 1.0)
        cmap = colormaps[_ALT_CMAP]
        seg, zseg = _track_segments(tracks)
        if len(seg):
            lc = LineCollection(seg, cmap=cmap, norm=norm, linewidths=1.2 if len(seg) < 2000 else 0.6,
                                zorder=3)
            lc.set_array(zseg)
            ax.add_collection(lc)
        xy = np.column_stack([tracks["x"].to_numpy(dtype=float), tracks["y"].to_numpy(dtype=float)])
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=z, cmap=cmap, norm=norm, s=3, zorder=4, linewidths=0)
        ax.update_datalim(xy[np.isfinite(xy).all(axis=1)])
        fig.colorbar(sc, ax=ax, label="altitude (m)", shrink=0.85)
    else:
        no_data(ax, "no drone tracks")
    _vertiports(results, ax)
    _finish_map(ax)
    n_drones = len(np.unique(tracks["drone"].to_numpy())) if len(tracks) else 0
    fences = f", {n_fences} geofence{'s' if n_fences != 1 else ''}" if n_fences else ""
    ax.set_title(f"drone tracks: {n_drones} drones{fences}")
    return fig


# ------------------------------------------------------------------------------ conflicts
_PLACED_KINDS = (_KIND["conflict"], _KIND["los"])


def _event_positions(results: Any, kinds: tuple[int, ...] = _PLACED_KINDS) -> pd.DataFrame:
    """Events of ``kinds`` with the position of their ``drone`` at the track sample nearest in
    time to the event ``start``: columns ``kind``, ``drone``, ``start`` (s), ``x``, ``y``, ``z`` (m;
    NaN when the drone has no track sample)."""
    ev = _frame(results, "events")
    ev = ev[np.isin(ev["kind"].to_numpy(), kinds)]
    n = len(ev)
    out = pd.DataFrame({"kind": ev["kind"].to_numpy(), "drone": ev["drone"].to_numpy(),
                        "start": ev["start"].to_numpy(dtype=float), "x": np.full(n, np.nan),
                        "y": np.full(n, np.nan), "z": np.full(n, np.nan)})
    tracks = _frame(results, "tracks")
    if not n or not len(tracks):
        return out
    td = tracks["drone"].to_numpy()
    tt = tracks["time"].to_numpy(dtype=float)
    order = np.lexsort((tt, td))
    td, tt = td[order], tt[order]
    txyz = np.column_stack([tracks[c].to_numpy(dtype=float)[order] for c in ("x", "y", "z")])
    drone = out["drone"].to_numpy()
    start = out["start"].to_numpy()
    xyz = np.full((n, 3), np.nan)
    for k in np.unique(drone):
        lo, hi = np.searchsorted(td, k, "left"), np.searchsorted(td, k, "right")
        if hi == lo:
            continue
        times = tt[lo:hi]
        sel = np.flatnonzero(drone == k)
        s = start[sel]
        if hi - lo == 1:
            j = np.zeros(len(sel), dtype=np.int64)
        else:  # the nearer of the samples either side of the start (the earlier one on a tie)
            r = np.clip(np.searchsorted(times, s), 1, hi - lo - 1)
            j = np.where(np.abs(times[r - 1] - s) <= np.abs(times[r] - s), r - 1, r)
        xyz[sel] = txyz[lo + j]
    out[["x", "y", "z"]] = xyz
    return out


def plot_drone_conflicts(results: Any, ax: Axes | None = None) -> Figure:
    """Where conflicts (orange) and losses of separation (red) started, over the road network:
    each event at the track sample of its ``drone`` nearest in time to the event start. The title
    counts the events of each kind (also those whose drone has no track sample to place them)."""
    results = as_results(results)
    fig, ax = axes(ax, 7.5, 6.0)
    _road_map(results, ax)
    _geofences(results, ax)
    pos = _event_positions(results)
    kinds = pos["kind"].to_numpy()
    counts = {name: int((kinds == _KIND[name]).sum()) for name in ("conflict", "los")}
    if len(pos):
        for name, color, marker, label in (("conflict", "tab:orange", "o", "conflict"),
                                           ("los", "red", "X", "loss of separation")):
            p = pos[kinds == _KIND[name]]
            ok = np.isfinite(p["x"].to_numpy()) & np.isfinite(p["y"].to_numpy())
            if counts[name]:
                size = (36 if name == "los" else 24) * (1.0 if len(pos) < 500 else 0.4)
                ax.scatter(p["x"].to_numpy()[ok], p["y"].to_numpy()[ok], s=size,
                           marker=marker, color=color, edgecolors="k", linewidths=0.4, alpha=0.85, zorder=4,
                           label=f"{label} ({counts[name]})")
                if ok.any():
                    ax.update_datalim(p[["x", "y"]].to_numpy(dtype=float)[ok])
        unplaced = int((~np.isfinite(pos["x"].to_numpy())).sum())
        if unplaced:
            ax.text(0.01, 0.01, f"{unplaced} event(s) without a track sample not shown",
                    transform=ax.transAxes, fontsize=7, color="0.4", va="bottom")
    else:
        no_data(ax, "no conflicts or losses of separation")
    _vertiports(results, ax)
    if len(pos):
        ax.legend(loc="upper right", fontsize=8)
    _finish_map(ax)
    nc, nl = counts["conflict"], counts["los"]
    ax.set_title(f"{nc} conflict{'s' if nc != 1 else ''}, {nl} loss{'es' if nl != 1 else ''} of separation")
    return fig


# ------------------------------------------------------------------------------ time series
def plot_pad_queue(results: Any, ax: Axes | None = None) -> Figure:
    """Flights queued for a pad to take off (solid) and drones holding to land (dashed) at each
    vertiport vs time (min), as step lines; with more than :data:`MAX_PAD_LINES` vertiports only
    the busiest (largest Σ queue + holding) are drawn."""
    results = as_results(results)
    fig, ax = axes(ax)
    pq = _frame(results, "pad_queue")
    title = "pad queue and holding per vertiport"
    if len(pq):
        vp_ids = _frame(results, "vertiports")["id"].astype(str).to_numpy()
        vp = pq["vertiport"].to_numpy()
        load = pq.groupby("vertiport", sort=True)[["queue", "holding"]].sum().sum(axis=1)
        shown = load.sort_values(ascending=False, kind="stable").index[:MAX_PAD_LINES]
        shown = sorted(int(k) for k in shown)
        if len(load) > len(shown):
            title += f" ({len(shown)} busiest of {len(load)})"
        colors = colormaps["tab10"]
        handles = []
        for i, k in enumerate(shown):
            rows = pq[vp == k].sort_values("time", kind="stable")
            t = rows["time"].to_numpy(dtype=float) / 60.0
            c = colors(i % 10)
            name = vp_ids[k] if 0 <= k < len(vp_ids) else str(k)
            ax.step(t, rows["queue"].to_numpy(), where="post", color=c, lw=1.4)
            ax.step(t, rows["holding"].to_numpy(), where="post", color=c, lw=1.2, ls="--")
            handles.append(Line2D([], [], color=c, lw=1.4, label=name))
        handles += [Line2D([], [], color="k", lw=1.4, label="queue (take-off)"),
                    Line2D([], [], color="k", lw=1.2, ls="--", label="holding (landing)")]
        ax.legend(handles=handles, loc="best", fontsize=8)
        ax.set_ylim(bottom=0)
    else:
        no_data(ax, "no pad queue rows")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("drones")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def plot_drones_airborne(results: Any, ax: Axes | None = None) -> Figure:
    """Drones in the air and flights queued for a pad (``/drones/summary``) vs time (min)."""
    results = as_results(results)
    fig, ax = axes(ax)
    s = _frame(results, "summary").sort_values("time", kind="stable")
    title = "drones airborne"
    if len(s):
        time = s["time"].to_numpy(dtype=float)
        t = time / 60.0
        airborne = s["airborne"].to_numpy()
        ax.step(t, airborne, where="post", label="airborne")
        ax.step(t, s["queued"].to_numpy(), where="post", ls="--", label="queued for a pad")
        ax.legend(loc="best")
        ax.set_ylim(bottom=0)
        title += f" (peak {int(airborne.max())}, {clock(time[0])}–{clock(time[-1])})"
    else:
        no_data(ax, "no drone summary rows")
    ax.set_xlabel("time (min)")
    ax.set_ylabel("drones")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


# ------------------------------------------------------------------------------ all
def plot_drones_all(results: Any, out_dir: str | os.PathLike[str], dpi: int = 120) -> list[Path]:
    """Write the drone figures as PNG files into ``out_dir`` (created); returns their paths, or
    ``[]`` (and creates nothing) when the run has no ``/drones/flights``."""
    results = as_results(results)
    if not results.has("drones/flights"):
        return []
    return save_figures(results, out_dir, (
        ("drone_tracks", plot_drone_tracks), ("drone_conflicts", plot_drone_conflicts),
        ("drone_pad_queue", plot_pad_queue), ("drones_airborne", plot_drones_airborne)), dpi)
