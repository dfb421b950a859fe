"""Plane geometry of geofences (m): points in a polygon, segments that touch one."""

from __future__ import annotations

import numpy as np


def points_in_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd rule for many points (n, 2) in one polygon (k, 2); bool (n,)."""
    x, y = pts[:, 0][:, None], pts[:, 1][:, None]
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = (y1 > y) != (y2 > y)
        xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        hit = cond & (x < xc)
    return (hit.sum(axis=1) % 2) == 1


def _orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def segments_cross_polygon(a: np.ndarray, b: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Which segments a[k]-b[k] (m, 2) touch the polygon (inside or crossing an edge); bool (m,)."""
    if len(a) == 0:
        return np.zeros(0, bool)
    inside = points_in_polygon(a, poly) | points_in_polygon(b, poly)
    p, q = poly, np.roll(poly, -1, axis=0)
    ax, ay, bx, by = (v[:, None] for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
    px, py, qx, qy = (v[None, :] for v in (p[:, 0], p[:, 1], q[:, 0], q[:, 1]))
    d1 = _orient(ax, ay, bx, by, px, py)
    d2 = _orient(ax, ay, bx, by, qx, qy)
    d3 = _orient(px, py, qx, qy, ax, ay)
    d4 = _orient(px, py, qx, qy, bx, by)
    cross = (((d1 > 0) & (d2 < 0)) | ((d1 < 0) & (d2 > 0))) & (((d3 > 0) & (d4 < 0)) | ((d3 < 0) & (d4 > 0)))
    return inside | cross.any(axis=1)
