"""The work arrays of the step (host view; the kernels get a StructRef over the same arrays)."""

from __future__ import annotations

from collections import namedtuple

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
