"""Declarations of every array the kernels see, in one place: the per-vehicle and per-lane fields
(name, dtype, units, meaning, initial value, scratch or persistent), the step's work arrays, the
compiled network's arrays and the drones' fields and arrays.

The host allocates from these (:mod:`mobsim.state.fields`, :mod:`mobsim.modes.drones.fields`),
the CPU kernels receive them as StructRefs (:mod:`.structs`) and the CUDA kernels as one packed
buffer (:mod:`.cuda_args`). They live with the kernels so that the kernels import nothing from the
host package.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

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


Work = namedtuple("Work", [
    "order", "order_tmp", "sig_state", "link_maxq", "cnt", "sum_buf",
    # Partial sums of the summary row being built (halting vehicles, speed sum in m/s) by part
    # (lanes l % SUM_PARTS, kernels.record.summary_parts).
    "sum_part",
    "ev_time", "ev_kind", "ev_veh", "ev_link", "ev_val", "route_codes",
    # Departures by first link: link_dep[link_dep_start[e]:link_dep_start[e + 1]] in (planned
    # departure, trip id) order; link_dep_next[e] is the first of them not inserted yet.
    "link_dep_start", "link_dep", "link_dep_next",
    # Per-step decisions indexed by sorted position k (not vehicle id), so that parallel chunks
    # write disjoint, contiguous memory: acceleration, must-stop flag, movement, lane change.
    "acc_k", "stop_k", "mv_k", "dir_k",
    # Departure lane (-1 best, -2 first, -3 free, k lane k), speed (m/s, -1 max safe) and front position
    # (m, -1 base, -2 last: kernels.layout DP_*): the distinct combinations of the trips, which
    # point here by V.dspec.
    "dep_lane", "dep_speed", "dep_pos",
    # Actuated signal controllers (kernels.signals.controllers): current phase (global index),
    # when it started and when the controller decides next (s); per detector the last time (s)
    # a vehicle was over it.
    "ctrl_phase", "ctrl_since", "ctrl_try", "det_last",
    # Vehicles in transit after a teleport (kernels.transfer): tp_list[:cnt[C_NTP]], -1 after.
    "tp_list",
])
Work.__doc__ = """Sorted order, departure queues, signal states, counters, summary and event buffers,
route pool (packed turn codes, :mod:`mobsim.kernels.routes`)."""


NetArrays = namedtuple("NetArrays", [
    # lanes
    "lane_link", "lane_index", "lane_len", "lane_speed", "lane_left", "lane_right", "lane_mv_start",
    # movements
    "mv_from_lane", "mv_to_lane", "mv_to_link", "mv_node", "mv_kind", "mv_sig", "mv_resp", "mv_len",
    "mv_speed", "mv_foe_start", "mv_foes", "mv_wait", "mv_foe2_start", "mv_foes2", "node_mv_start", "node_mv",
    "lane_in_start", "lane_in_mv", "lane_in_len",
    # links
    "link_first_lane", "link_nlanes", "link_len", "link_speed", "link_from_node", "link_to_node",
    "link_next_start", "link_next",
    # signals: controllers, phases, slots
    "ctrl_offset", "ctrl_cycle", "ctrl_phase_start", "phase_end", "phase_state_start",
    "phase_states", "slot_ctrl", "slot_index",
    # actuated control (kernels.signals.controllers): kind per controller (PROGRAM_CODES), its
    # max-gap and detector-gap (s); per phase minDur/maxDur (s), next phase (global index, -1 the
    # next in order), green flag and detectors (CSR into det_pos); per lane its detector (-1 none)
    "ctrl_kind", "ctrl_link", "ctrl_max_gap", "ctrl_det_gap", "phase_min", "phase_max", "phase_next",
    "phase_green", "phase_det_start", "phase_det", "det_pos", "lane_det",
    # delay-based control (kernels.signals.delay_controllers): per controller minTimeloss (s),
    # extendMaxDur (1: a green may outlast maxDur while no one waits on red) and its (signal
    # slot, incoming lane) pairs (CSR); per lane where its detector zone starts (m, +inf without one)
    "ctrl_min_tloss", "ctrl_extend_max", "ctrl_lane_start", "ctrl_lane", "ctrl_lane_slot", "lane_dz",
    # nodes
    "node_x", "node_y", "node_control",
])
NetArrays.__doc__ = "Flat arrays of a compiled network (layout: :mod:`mobsim.net.compile`)."


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
