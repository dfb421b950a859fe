"""The drone state: allocation from the declarations of :mod:`mobsim.kernels.runtime.state_fields`.

A flight is one drone from its request to its landing. ``D`` (:data:`DroneState`) holds the
per-flight arrays, including :data:`N_SLOTS` conflict-tracking slots per flight (flattened,
``flight * N_SLOTS + slot``); ``A`` (:data:`AirArrays`) holds everything else the kernels read or
write: drone-type table, parameters, counters, vertiports and pads, waypoints, geofences, the
spatial grid and the event buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mobsim.kernels.air.layout import N_SLOTS
from mobsim.kernels.runtime.state_fields import DRONE_FIELDS, SLOT_FIELDS, AirArrays, DroneState

__all__ = ["DRONE_FIELDS", "SLOT_FIELDS", "DroneState", "AirArrays", "allocate_drones", "drone_bytes"]


def allocate_drones(n: int, xp: Any = np) -> Any:
    """A :data:`DroneState` for ``n`` flights, every field at its initial value."""
    arrays = {f.name: xp.full(n, f.init, dtype=f.dtype) for f in DRONE_FIELDS}
    arrays.update({f.name: xp.full(n * N_SLOTS, f.init, dtype=f.dtype) for f in SLOT_FIELDS})
    return DroneState(**arrays)


def drone_bytes() -> int:
    """Bytes of state per flight (slots included)."""
    per = sum(np.dtype(f.dtype).itemsize for f in DRONE_FIELDS)
    return int(per + N_SLOTS * sum(np.dtype(f.dtype).itemsize for f in SLOT_FIELDS))
