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
    """One state array: name, numpy dtype, units, meaning, initial value, scratch or persistent,
    number of dimensions."""

    name: str
    dtype: str
    units: str
    description: str
    init: float = 0
    scratch: bool = False
    ndim: int = 1


VEHICLE_FIELDS: tuple[Field, ...] = (
    Field("trip", "int32", "1", "trip (trip-table row) of the vehicle in this slot (mobsim.state.slots)", -1),
    Field("status", "int8", "1", "0 not inserted, 1 running, 2 arrived, 3 removed, 4 in transit after a "
          "teleport (off the network, moving along its route: kernels.road.transfer), 5 dwelling in a bay "
          "beside its lane (kernels.transit.boarding)"),
    Field("vtype", "int16", "1", "vehicle-type index"),
    Field("lane", "int32", "1", "current lane (global lane index)", -1),
    Field("pos", "float64", "m", "front bumper position from the lane start"),
    Field("speed", "float32", "m/s", "speed (stored rounded down: kernels.runtime.precision)"),
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
    Field("stops", "int16", "1", "number of halts (saturates at kernels.road.move.STOPS_MAX)"),
    Field("time_loss", "float32", "s", "time lost against the desired speed"),
    Field("standstill", "int32", "1", "steps the vehicle has stood (speed below 0.1 m/s) without a break"),
    Field("teleports", "int16", "1", "gridlock teleports"),
    Field("tp_step", "int32", "1", "in transit (status 4): the step at which it has passed its current "
          "route link and moves on to the next"),
    Field("lc_step", "int32", "1", "step of the last lane change, insertion or teleport (a vehicle in "
          "transit re-enters from the step after its teleport on: kernels.road.transfer)", -(2**30)),
    Field("flags", "int8", "1", "bit 0: halting, bit 1: insertion-delay event emitted"),
    Field("det_loss", "float32", "s", "time lost in the delay-based detector zone of lane det_lane "
          "(kernels.road.signals.delay_controllers; restarts when the vehicle is next in a zone of another "
          "lane)"),
    Field("det_lane", "int32", "1", "the lane det_loss belongs to", -1),
    Field("moved", "float32", "m", "distance moved in the step (the position at its start is pos - moved)",
          0, True),
    Field("stop_next", "int32", "1", "next scheduled stop: a visit of W.visit_* (-1: none left; "
          "kernels.road.stops)", -1),
    Field("stop_state", "int8", "1", "0 on the way to stop_next, 1 dwelling there (kernels.road.stops)", 0),
    Field("stop_end", "float64", "s", "dwelling: when it may leave; after its release: when it left", np.nan),
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


#: The step's work arrays (``W``), in order: sorted order, departure queues, signal states,
#: counters, summary and event buffers, the route pool and the per-step decisions.
WORK_FIELDS: tuple[Field, ...] = (
    Field("order", "int32", "1", "vehicle slots sorted by (lane, position): the k-th visited vehicle"),
    Field("order_tmp", "int32", "1", "scratch of the sort"),
    Field("sig_state", "int8", "1", "state code of every signal slot this step "
          "(mobsim.net.compile.STATE_CODES)"),
    Field("link_maxq", "int32", "1", "per link: most halting vehicles in the current edge-data interval"),
    Field("cnt", "int64", "1", "counters (kernels.runtime.layout C_*)"),
    Field("sum_buf", "float64", "1", "summary rows not yet written (rows x SUMMARY columns)", ndim=2),
    Field("sum_part", "float64", "1", "partial sums of the summary row being built: halting vehicles, speed "
          "sum (m/s), by part (lanes l % SUM_PARTS, kernels.road.record.summary_parts)", ndim=2),
    Field("ev_time", "float64", "s", "event buffer: time"),
    Field("ev_kind", "int8", "1", "event buffer: kind (kernels.runtime.layout E_*)"),
    Field("ev_veh", "int32", "1", "event buffer: vehicle slot"),
    Field("ev_link", "int32", "1", "event buffer: link"),
    Field("ev_val", "float64", "1", "event buffer: a value whose meaning and unit depend on the kind"),
    Field("route_codes", "uint8", "1", "route pool packed as turn codes (kernels.road.routes)"),
    Field("link_dep_start", "int32", "1", "departures by first link: CSR starts into link_dep"),
    Field("link_dep", "int32", "1", "departures by first link, each in (planned departure, trip id) order"),
    Field("link_dep_next", "int32", "1", "per link: the first of its departures not inserted yet"),
    Field("acc_k", "float32", "m/s^2", "planned acceleration, by sorted index k"),
    Field("stop_k", "int8", "1", "1: must stop at the end of its lane, by sorted index k"),
    Field("mv_k", "int32", "1", "planned movement at the end of the lane (-1 none), by sorted index k"),
    Field("dir_k", "int8", "1", "lane-change decision (-1 right, 0 none, 1 left), by sorted index k"),
    Field("dep_lane", "int32", "1", "distinct departure lanes: -1 best, -2 first, -3 free, k lane k"),
    Field("dep_speed", "float64", "m/s", "distinct departure speeds (-1: the maximum safe speed)"),
    Field("dep_pos", "float64", "m", "distinct departure positions (below 0: the layout's DP_* codes)"),
    Field("ctrl_phase", "int32", "1", "per actuated controller: its current phase (global phase index)"),
    Field("ctrl_since", "float64", "s", "per actuated controller: when the current phase started"),
    Field("ctrl_try", "float64", "s", "per actuated controller: when it decides next"),
    Field("det_last", "float64", "s", "per detector: the last time a vehicle was over it"),
    Field("visit_rp", "int32", "1", "per stop visit: the route entry of its link (kernels.road.stops)"),
    Field("visit_pos", "float64", "m", "per stop visit: where the front of the vehicle stops on the link"),
    Field("visit_len", "float64", "m", "per stop visit: length of the stop area"),
    Field("visit_dur", "float64", "s", "per stop visit: minimum dwell"),
    Field("visit_until", "float64", "s", "per stop visit: earliest departure (-inf: none)"),
    Field("visit_next", "int32", "1", "per stop visit: the trip's next visit (-1: the last)"),
    Field("visit_lane", "int32", "1", "per stop visit: the lane (index on its link, 0 rightmost) the vehicle "
          "moves to on the stop's link; -1: any"),
    Field("trip_slot", "int32", "1", "per trip: the vehicle slot it is in (mobsim.state.slots keeps it)"),
    Field("tp_list", "int32", "1", "vehicles in transit after a teleport (kernels.road.transfer), -1 after "
          "the last"),
)
Work = namedtuple("Work", [f.name for f in WORK_FIELDS])
Work.__doc__ = "The step's work arrays (:data:`WORK_FIELDS`)."

#: The compiled network's arrays (``N``, :mod:`mobsim.net.compile`), in order. Lanes of a link are
#: contiguous; movements are sorted by from-lane; CSR pairs are ``*_start`` (n + 1 entries) and
#: the array they index.
NET_FIELDS: tuple[Field, ...] = (
    Field("lane_link", "int32", "1", "per lane: its link"),
    Field("lane_index", "int32", "1", "per lane: its index on the link (0 = rightmost)"),
    Field("lane_len", "float64", "m", "per lane: length"),
    Field("lane_speed", "float64", "m/s", "per lane: speed limit"),
    Field("lane_left", "int32", "1", "per lane: the lane to its left (-1 none)"),
    Field("lane_right", "int32", "1", "per lane: the lane to its right (-1 none)"),
    Field("lane_mv_start", "int32", "1", "per lane: CSR start of the movements leaving it"),
    Field("mv_from_lane", "int32", "1", "per movement: the lane it leaves"),
    Field("mv_to_lane", "int32", "1", "per movement: the lane it enters"),
    Field("mv_to_link", "int32", "1", "per movement: the link it enters"),
    Field("mv_node", "int32", "1", "per movement: its junction"),
    Field("mv_kind", "int8", "1", "per movement: right of way (mobsim.net.compile.KIND_CODES)"),
    Field("mv_sig", "int32", "1", "per movement: its signal slot (-1 unsignalised)"),
    Field("mv_resp", "int8", "1", "per movement: how it yields (kernels.runtime.layout right-of-way codes)"),
    Field("mv_len", "float64", "m", "per movement: length of its way through the junction"),
    Field("mv_keep_clear", "int8", "1", "per movement: 1 if a vehicle enters only with room beyond the "
          "junction (SUMO's keepClear on a link with foes)"),
    Field("mv_speed", "float64", "m/s", "per movement: speed limit through the junction (inf: none)"),
    Field("mv_foe_start", "int32", "1", "per movement: CSR start of the foes it yields to at its line"),
    Field("mv_foes", "uint8", "1", "foes at the line, as indices among the junction's movements"),
    Field("mv_wait", "float64", "m", "per movement: distance past the line of its waiting position inside "
          "the junction (0: none)"),
    Field("mv_foe2_start", "int32", "1", "per movement: CSR start of the foes of its waiting position"),
    Field("mv_foes2", "uint8", "1", "foes of the waiting position, as indices among the junction's "
          "movements"),
    Field("node_mv_start", "int32", "1", "per junction: CSR start of its movements"),
    Field("node_mv", "int32", "1", "the movements of each junction"),
    Field("lane_in_start", "int32", "1", "per lane: CSR start of the movements entering it"),
    Field("lane_in_mv", "int32", "1", "the movements entering each lane (by from-lane)"),
    Field("lane_in_len", "float64", "m", "per lane: mean length of the movements entering it (the part of "
          "an imported link that stands for the junction before it)"),
    Field("link_first_lane", "int32", "1", "per link: its first (rightmost) lane"),
    Field("link_nlanes", "int32", "1", "per link: number of lanes"),
    Field("link_len", "float64", "m", "per link: length (host only)"),
    Field("link_speed", "float64", "m/s", "per link: speed limit (host only)"),
    Field("link_from_node", "int32", "1", "per link: upstream node (host only)"),
    Field("link_to_node", "int32", "1", "per link: downstream node"),
    Field("link_next_start", "int32", "1", "per link: CSR start of the links reachable by a movement"),
    Field("link_next", "int32", "1", "the successor links of each link (sorted)"),
    Field("ctrl_offset", "float64", "s", "per signal controller: program offset"),
    Field("ctrl_cycle", "float64", "s", "per signal controller: cycle time"),
    Field("ctrl_phase_start", "int32", "1", "per controller: CSR start of its phases"),
    Field("phase_end", "float64", "s", "per phase: end time within the cycle"),
    Field("phase_state_start", "int32", "1", "per phase: CSR start of its slot states"),
    Field("phase_states", "int8", "1", "state code of every slot in every phase "
          "(mobsim.net.compile.STATE_CODES)"),
    Field("slot_ctrl", "int32", "1", "per signal slot: its controller"),
    Field("slot_index", "int32", "1", "per signal slot: its index in the controller's state string"),
    Field("ctrl_kind", "int8", "1", "per controller: program kind (mobsim.net.compile.PROGRAM_CODES)"),
    Field("ctrl_link", "int32", "1", "per controller: a link into its junction (-1 none)"),
    Field("ctrl_max_gap", "float64", "s", "per actuated controller: max-gap"),
    Field("ctrl_det_gap", "float64", "s", "per actuated controller: detector-gap"),
    Field("phase_min", "float64", "s", "per phase: minDur"),
    Field("phase_max", "float64", "s", "per phase: maxDur"),
    Field("phase_next", "int32", "1", "per phase: the next phase (global index; -1 the next in order)"),
    Field("phase_green", "int8", "1", "per phase: 1 if it is a green phase"),
    Field("phase_det_start", "int32", "1", "per phase: CSR start of its detectors"),
    Field("phase_det", "int32", "1", "the detectors of each phase (indices into det_pos)"),
    Field("det_pos", "float64", "m", "per detector: position on its lane"),
    Field("lane_det", "int32", "1", "per lane: its detector (-1 none)"),
    Field("ctrl_min_tloss", "float64", "s", "per delay-based controller: minTimeloss"),
    Field("ctrl_extend_max", "int8", "1", "per delay-based controller: 1 if a green may outlast maxDur while "
          "no one waits on red"),
    Field("ctrl_lane_start", "int32", "1", "per delay-based controller: CSR start of its (slot, lane) pairs"),
    Field("ctrl_lane", "int32", "1", "the incoming lanes of each delay-based controller"),
    Field("ctrl_lane_slot", "int32", "1", "the signal slot of each such lane"),
    Field("lane_dz", "float64", "m", "per lane: where its delay-based detector zone starts (+inf: none)"),
    Field("node_x", "float64", "m", "per node: x (host only)"),
    Field("node_y", "float64", "m", "per node: y (host only)"),
    Field("node_control", "int8", "1", "per node: control (mobsim.net.compile.CONTROL_CODES; host only)"),
)
NetArrays = namedtuple("NetArrays", [f.name for f in NET_FIELDS])
NetArrays.__doc__ = "Flat arrays of a compiled network (:data:`NET_FIELDS`; see :mod:`mobsim.net.compile`)."


DRONE_FIELDS: tuple[Field, ...] = (
    Field("phase", "int8", "1", "flight phase (mobsim.kernels.air.layout PH_*)"),
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
