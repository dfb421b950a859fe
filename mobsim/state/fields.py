"""The field registry: every per-vehicle and per-lane array of the engine state, declared once.

Allocation (numpy or cupy), device transfer, checkpoints and trip output are all driven from these
tables, so adding a per-vehicle field is one line here. ``scratch`` fields are recomputed every
step and never checkpointed.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Field:
    """One state array: name, numpy dtype, units, meaning, initial value, scratch or persistent."""

    name: str
    dtype: str
    units: str
    description: str
    init: float = 0
    scratch: bool = False


VEHICLE_FIELDS: tuple[Field, ...] = (
    Field("trip", "int32", "1", "trip (trip-table row) of the vehicle in this slot (mobsim.state.slots)", -1),
    Field("status", "int8", "1", "0 not inserted, 1 running, 2 arrived, 3 removed, 4 in transit after a "
          "teleport (off the network, moving along its route: kernels.transfer)"),
    Field("vtype", "int16", "1", "vehicle-type index"),
    Field("lane", "int32", "1", "current lane (global lane index)", -1),
    Field("pos", "float64", "m", "front bumper position from the lane start"),
    Field("speed", "float32", "m/s", "speed (stored rounded down: kernels.precision)"),
    Field("acc", "float32", "m/s^2", "acceleration applied in the last step (output only)"),
    Field("route_end", "int32", "1", "one past the last route entry"),
    Field("route_pos", "int32", "1", "route entry of the current link (the first one until inserted)"),
    Field("dspec", "int32", "1", "departure lane, speed and position: row of W.dep_lane/dep_speed/dep_pos"),
    Field("sfac", "float32", "1", "desired speed / speed limit (drawn at insertion)", 1),
    Field("dep_step", "int32", "1", "departure step. Not inserted yet (status 0): the due step, the first "
          "step s whose start reaches the planned departure, planned <= begin + s * dt (the exact "
          "time stays on the host, Simulation.depart_planned). Inserted: the step at whose start it "
          "was inserted, depart = begin + dep_step * dt (s); one field, as no pass needs both"),
    Field("travel", "float32", "s", "travel time, arrival - depart (set at arrival)", np.nan),
    Field("dist0", "float32", "m", "distance driven before the start of the current lane: the distance "
          "driven is dist0 + pos (kept per lane, not per step: one add per link, no write per step)"),
    Field("wait_steps", "int32", "1", "steps at speed below 0.1 m/s (waiting time / step length)"),
    Field("stops", "int16", "1", "number of halts (saturates at kernels.move.STOPS_MAX)"),
    Field("time_loss", "float32", "s", "time lost against the desired speed"),
    Field("standstill", "int32", "1", "steps the vehicle has stood (speed below 0.1 m/s) without a break"),
    Field("teleports", "int16", "1", "gridlock teleports"),
    Field("tp_step", "int32", "1", "in transit (status 4): the step at which it has passed its current "
          "route link and moves on to the next"),
    Field("lc_step", "int32", "1", "step of the last lane change, insertion or teleport (a vehicle in "
          "transit re-enters from the step after its teleport on: kernels.transfer)", -(2**30)),
    Field("flags", "int8", "1", "bit 0: halting, bit 1: insertion-delay event emitted"),
    Field("det_loss", "float32", "s", "time lost in the delay-based detector zone of lane det_lane "
          "(kernels.signals.delay_controllers; restarts when the vehicle is next in a zone of another "
          "lane)"),
    Field("det_lane", "int32", "1", "the lane det_loss belongs to", -1),
    Field("moved", "float32", "m", "distance moved in the step (the position at its start is pos - moved)",
          0, True),
    Field("need_mask", "int32", "1", "bit k: lane k of the current link suits the next two route links "
          "(links have at most MAX_LANES = 31 lanes); -1: not computed since route_pos last changed", -1),
    Field("lane_aux", "int32", "1", "per-step lane scratch of two passes that never overlap: from the "
          "lane-change decision to the planning, the lane a mandatory change needs (followers there "
          "yield; -1 none); in the two gridlock passes, the decision (-1 none, -2 remove, else the lane)",
          -1, True),
)

LANE_FIELDS: tuple[Field, ...] = (
    Field("lane_start", "int32", "1", "first sorted-order index of the lane (length n_lanes + 1)"),
    Field("lane_cnt", "int32", "1", "sort cursor", 0, True),
    Field("lane_rear", "int32", "1", "rearmost vehicle on the lane after the step's moves", -1, True),
    Field("lane_last_exit", "int32", "1", "the last vehicle that left the lane at its end", -1),
    Field("lane_exit_rp", "int32", "1", "route entry lane_last_exit took on leaving the lane", -1),
    Field("lane_used", "int32", "1", "step of the last insertion on the lane", -1),
    Field("lane_req", "int8", "1", "1 if a vehicle beside the lane needs to change into it", 0, True),
    Field("lane_halt", "int32", "1", "halting vehicles on the lane this step", 0, True),
    Field("lane_vsum", "float32", "m/s", "sum of speeds on the lane this step", 0, True),
    Field("lane_cand", "int32", "1", "vehicle crossing the stop line this step, -1 none", -1, True),
    Field("lane_cand_mv", "int32", "1", "movement of the crossing vehicle (-1 once admitted or held)", -1,
          True),
    Field("lane_cand_k", "int32", "1", "sorted index of the crossing vehicle", -1, True),
    Field("lane_room", "float64", "m", "position of the lane's rearmost rear before crossings", 0, True),
    Field("lane_room_v", "float32", "m/s", "speed of the lane's rearmost vehicle (inf: none)", 0, True),
    Field("a_samp", "int32", "1", "interval accumulator: vehicle-steps (x dt: vehicle-seconds; exact)"),
    Field("a_dist", "float64", "m", "interval accumulator: vehicle-metres"),
    Field("a_ent", "int32", "1", "interval accumulator: vehicles entered"),
    Field("a_left", "int32", "1", "interval accumulator: vehicles left"),
    Field("a_wait", "int32", "1", "interval accumulator: halting vehicle-steps (x dt: vehicle-seconds)"),
    Field("a_tloss", "float64", "s", "interval accumulator: time loss"),
    Field("a_occ", "float64", "m*s", "interval accumulator: vehicle-length-seconds"),
)

VehicleState = namedtuple("VehicleState", [f.name for f in VEHICLE_FIELDS])
LaneState = namedtuple("LaneState", [f.name for f in LANE_FIELDS])


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
