"""Field registry of the drone state: every per-flight array, declared once (as :mod:`.fields`).

A flight is one drone from its request to its landing. ``D`` (:data:`DroneState`) holds the
per-flight arrays, including :data:`N_SLOTS` conflict-tracking slots per flight (flattened,
``flight * N_SLOTS + slot``); ``A`` (:data:`AirArrays`) holds everything else the kernels read or
write: drone-type table, parameters, counters, vertiports and pads, waypoints, geofences, the
spatial grid and the event buffer.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from mobsim.kernels.air_layout import N_SLOTS
from mobsim.state.fields import Field

DRONE_FIELDS: tuple[Field, ...] = (
    Field("phase", "int8", "1", "flight phase (mobsim.kernels.air_layout PH_*)"),
    Field("leg", "int8", "1", "0 outbound, 1 return"),
    Field("dtype", "int32", "1", "drone-type index"),
    Field("prio", "int8", "1", "resolution priority: 2 emergency, 1 delivery or taxi, 0 return leg"),
    Field(
        "flags",
        "int8",
        "1",
        "bit 0 returns, bit 1 destination is a vertiport, bit 2 depleted, "
        "bit 3 resolving, bit 4 in a terminal area",
    ),
    Field("x", "float64", "m", "east position"),
    Field("y", "float64", "m", "north position"),
    Field("z", "float64", "m", "altitude above ground"),
    Field("vx", "float64", "m/s", "ground velocity east"),
    Field("vy", "float64", "m/s", "ground velocity north"),
    Field("vz", "float64", "m/s", "vertical speed"),
    Field("hdg", "float64", "rad", "track angle, clockwise from north"),
    Field("wp", "int32", "1", "current waypoint (index into the waypoint pool)"),
    Field("wp_end", "int32", "1", "one past the last waypoint of the current leg"),
    Field("ret_start", "int32", "1", "first waypoint of the return leg"),
    Field("ret_end", "int32", "1", "one past the last waypoint of the return leg"),
    Field("lx", "float64", "m", "x where the current leg started (its take-off point)"),
    Field("ly", "float64", "m", "y where the current leg started"),
    Field("alt0", "float64", "m", "cruise altitude of the outbound leg"),
    Field("alt1", "float64", "m", "cruise altitude of the return leg"),
    Field("drop_h", "float64", "m", "height of the drop hover at a destination point"),
    Field("origin", "int32", "1", "origin vertiport"),
    Field("dest_vp", "int32", "1", "destination vertiport, -1 for a point"),
    Field("pad", "int32", "1", "pad held, -1 none", -1),
    Field("t_req", "float64", "s", "requested departure time"),
    Field("t_ready", "float64", "s", "end of the current timed phase (turnaround, service)"),
    Field("t_off", "float64", "s", "take-off time (start of the climb)", np.nan),
    Field("t_deliv", "float64", "s", "delivery time (drop done, or landed at the destination)", np.nan),
    Field("t_done", "float64", "s", "time the flight ended (landed for good)", np.nan),
    Field("hold_since", "float64", "s", "start of the current landing hold"),
    Field("service", "float64", "s", "drop hover duration at a destination point"),
    Field("pfac", "float64", "1", "power factor of the payload: ((m + payload) / m)^1.5"),
    Field("energy", "float64", "Wh", "battery energy used"),
    Field("e_climb", "float64", "Wh", "energy used climbing"),
    Field("e_cruise", "float64", "Wh", "energy used in cruise"),
    Field("e_desc", "float64", "Wh", "energy used descending"),
    Field("e_hover", "float64", "Wh", "energy used hovering (drop, landing hold, stopped)"),
    Field("tm_climb", "float64", "s", "time climbing"),
    Field("tm_cruise", "float64", "s", "time in cruise"),
    Field("tm_desc", "float64", "s", "time descending"),
    Field("tm_hover", "float64", "s", "time hovering"),
    Field("dist", "float64", "m", "horizontal distance flown"),
    Field("rvx", "float64", "m/s", "resolution velocity east (while resolving)"),
    Field("rvy", "float64", "m/s", "resolution velocity north"),
    Field("rvz", "float64", "m/s", "resolution vertical speed"),
    Field("min_sep", "float64", "m", "smallest 3-D distance to another airborne drone at a detection", 1e30),
    Field("gf_in", "int64", "1", "bit g: inside geofence g at the last check"),
    Field("gf_t0", "float64", "s", "time of the latest geofence entry"),
    Field("cell", "int32", "1", "grid cell at the last detection (-1 not airborne)", -1, True),
)

SLOT_FIELDS: tuple[Field, ...] = (
    Field("sl_id", "int32", "1", "partner drone of the slot, -1 free", -1),
    Field("sl_t0", "float64", "s", "conflict start, -1 when the conflict is over (resolution hold)", -1),
    Field("sl_dmin", "float64", "m", "smallest horizontal distance seen in the conflict"),
    Field("sl_dcpa", "float64", "m", "smallest predicted horizontal distance at closest approach"),
    Field("sl_los0", "float64", "s", "start of the current loss of separation, -1 none", -1),
    Field("sl_losmin", "float64", "m", "smallest horizontal distance in the loss of separation"),
    Field("sl_seen", "int8", "1", "partner seen at this detection", 0, True),
)

DroneState = namedtuple("DroneState", [f.name for f in DRONE_FIELDS + SLOT_FIELDS])

AirArrays = namedtuple(
    "AirArrays",
    [
        "tab",
        "par",
        "cnt",
        "vp_x",
        "vp_y",
        "vp_pad0",
        "pad_free",
        "vp_turn",
        "vp_charge",
        "vp_dep_int",
        "vp_next_off",
        "dep0",
        "dep",
        "dep_next",
        "land0",
        "land",
        "vp_nhold",
        "wx",
        "wy",
        "gf_v0",
        "gf_x",
        "gf_y",
        "gf_zlo",
        "gf_zhi",
        "gf_t0",
        "gf_t1",
        "gf_bb",
        "cell_start",
        "cell_items",
        "cell_cnt",
        "g_x",
        "g_y",
        "g_z",
        "g_vx",
        "g_vy",
        "g_vz",
        "g_r",
        "g_h",
        "ev_kind",
        "ev_a",
        "ev_b",
        "ev_t0",
        "ev_t1",
        "ev_val",
    ],
)


def allocate_drones(n: int, xp: Any = np) -> Any:
    """A :data:`DroneState` for ``n`` flights, every field at its initial value."""
    arrays = {f.name: xp.full(n, f.init, dtype=f.dtype) for f in DRONE_FIELDS}
    arrays.update({f.name: xp.full(n * N_SLOTS, f.init, dtype=f.dtype) for f in SLOT_FIELDS})
    return DroneState(**arrays)


def drone_bytes() -> int:
    """Bytes of state per flight (slots included)."""
    per = sum(np.dtype(f.dtype).itemsize for f in DRONE_FIELDS)
    return int(per + N_SLOTS * sum(np.dtype(f.dtype).itemsize for f in SLOT_FIELDS))
