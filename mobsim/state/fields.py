"""The field registry of the road vehicles and lanes: allocation from the declarations.

Every per-vehicle and per-lane array is declared once, with dtype, units, meaning and initial
value, in :mod:`mobsim.kernels.runtime.state_fields` (re-exported here); allocation (numpy or
cupy) and the device buffer layout are driven from those tables, so adding a per-vehicle field is
one line there. ``scratch`` fields are recomputed every step: the persistent ones are the state a
checkpoint must hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mobsim.kernels.runtime.state_fields import LANE_FIELDS, VEHICLE_FIELDS, Field, LaneState, VehicleState

__all__ = ["Field", "VEHICLE_FIELDS", "LANE_FIELDS", "VehicleState", "LaneState", "allocate", "bytes_per"]


def allocate(fields: tuple[Field, ...], n: int, cls: Any, xp: Any = np, extra: dict | None = None) -> Any:
    """Allocate one array of length ``n`` per field with module ``xp`` (numpy or cupy)."""
    extra = extra or {}
    arrays = {}
    for f in fields:
        size = extra.get(f.name, n)
        arrays[f.name] = xp.full(size, f.init, dtype=f.dtype)
    return cls(**arrays)


def bytes_per(fields: tuple[Field, ...]) -> int:
    """Bytes one element of every field takes (per vehicle, or per lane)."""
    return int(sum(np.dtype(f.dtype).itemsize for f in fields))
