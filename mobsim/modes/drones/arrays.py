"""The drone arrays the kernels read besides the per-flight state (:data:`AirArrays`): the
spatial grid of conflict detection, vertiports and pads, waypoints, geofences and the event
buffer, built from an airspace and its flight plans. Units: m, s, m/s."""

from __future__ import annotations

import math

import numpy as np

from mobsim.kernels.air import layout as K
from mobsim.modes.drones.fields import AirArrays

RESO_MODES = {"off": 0, "mvp": 1, "mvp3d": 2}
#: Most grid cells (the cell size grows when the area would need more).
MAX_CELLS = 1 << 22
EVENT_CAP_MIN = 1 << 14
EVENT_CAP_MAX = 1 << 20


def grid_geometry(
    xmin: float, ymin: float, xmax: float, ymax: float, reach: float
) -> tuple[float, float, float, int, int]:
    """(x0, y0, cell, nx, ny) of a grid over the box with cells of at least ``reach`` m."""
    w = max(xmax - xmin, 1.0)
    h = max(ymax - ymin, 1.0)
    cell = max(reach, 1.0)
    while (math.ceil(w / cell) + 1) * (math.ceil(h / cell) + 1) > MAX_CELLS:
        cell *= 1.25
    return xmin, ymin, cell, int(math.ceil(w / cell)) + 1, int(math.ceil(h / cell)) + 1


def build_air_arrays(
    n: int,
    tab: np.ndarray,
    par: np.ndarray,
    vp: dict[str, np.ndarray],
    dep: tuple[np.ndarray, np.ndarray],
    land: tuple[np.ndarray, np.ndarray],
    wx: np.ndarray,
    wy: np.ndarray,
    gf: dict[str, np.ndarray],
    ev_cap: int,
) -> AirArrays:
    """The :data:`AirArrays` of a drone run (host numpy arrays)."""
    ncell = int(par[K.AP_NX]) * int(par[K.AP_NY])
    return AirArrays(
        tab=np.ascontiguousarray(tab, np.float64),
        par=par,
        cnt=np.zeros(K.N_ACNT, np.int64),
        vp_x=vp["x"],
        vp_y=vp["y"],
        vp_pad0=vp["pad0"],
        pad_free=vp["pad_free"],
        vp_turn=vp["turn"],
        vp_charge=vp["charge"],
        vp_dep_int=vp["dep_int"],
        vp_next_off=np.full(len(vp["x"]), -1e30),
        dep0=dep[0],
        dep=dep[1] if len(dep[1]) else np.zeros(1, np.int32),
        dep_next=dep[0][:-1].copy(),
        land0=land[0],
        land=land[1] if len(land[1]) else np.zeros(1, np.int32),
        vp_nhold=np.zeros(len(vp["x"]), np.int32),
        wx=wx,
        wy=wy,
        gf_v0=gf["v0"],
        gf_x=gf["x"],
        gf_y=gf["y"],
        gf_zlo=gf["zlo"],
        gf_zhi=gf["zhi"],
        gf_t0=gf["t0"],
        gf_t1=gf["t1"],
        gf_bb=gf["bb"],
        cell_start=np.zeros(ncell + 1, np.int32),
        cell_items=np.zeros(max(n, 1), np.int32),
        cell_cnt=np.zeros(ncell, np.int32),
        **{f"g_{k}": np.zeros(max(n, 1)) for k in ("x", "y", "z", "vx", "vy", "vz", "r", "h")},
        ev_kind=np.zeros(ev_cap, np.int8),
        ev_a=np.zeros(ev_cap, np.int32),
        ev_b=np.zeros(ev_cap, np.int32),
        ev_t0=np.zeros(ev_cap),
        ev_t1=np.zeros(ev_cap),
        ev_val=np.zeros(ev_cap),
    )


def groups(keys: np.ndarray, items: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(start offsets, items grouped by key, stable)."""
    order = np.argsort(keys, kind="stable")
    start = np.searchsorted(keys[order], np.arange(n_groups + 1)).astype(np.int32)
    return start, items[order].astype(np.int32)
