"""A small synthetic-but-consistent result file, written through the real HDF5Recorder.

The network is a straight line of ``n_links`` links of 100 m (speed limit 10 m/s, one lane)
between nodes at x = 0, 100, 200, ...; every trip drives the whole line from link 0 to the last
link at a constant speed: cars 10 m/s (= the desired speed, no time loss), trucks 8 m/s (time loss
0.2 s per s driven). Regular trip ``i`` departs at ``headway * i`` and alternates car/truck. With
``extras`` three more trips make the run interesting: a truck inserted at 110 s that teleports at
125 s and is removed at 130 s (160 m driven), a car planned at ``T - 35`` and inserted at ``T - 28``
that is still running at the end, and a truck planned at ``T - 10`` that is never inserted.

Edge data, summary, FCD and health are computed exactly from these motions, so Σ edge distance =
Σ route length and the KPIs have closed-form values. With the defaults (4 links, 10 trips,
300 steps of 1 s, 100 s intervals): route lengths 4440 m, vehicle-seconds 498 s, 10 trips of
40 s (cars) and 50 s (trucks) completed, mean insertion delay 7/12 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mobsim.output import schema
from mobsim.output.recorder import HDF5Recorder

LINK_LENGTH = 100.0  # m
SPEED_LIMIT = 10.0  # m/s, also every vehicle's desired speed
SPEEDS = (10.0, 8.0)  # m/s: car, truck
LENGTHS = (5.0, 12.0)  # m
VTYPE_IDS = ("car", "truck")


def minimal_static(n_links: int = 2) -> dict[str, dict[str, object]]:
    """A minimal valid ``static`` argument for HDF5Recorder.open: a line of ``n_links`` links."""
    n = n_links
    return {
        "network/nodes": {"id": [f"n{i}" for i in range(n + 1)], "x": np.arange(n + 1) * 100.0,
                          "y": np.zeros(n + 1), "control": ["none"] * (n + 1)},
        "network/links": {"id": [f"l{i}" for i in range(n)], "from_node": np.arange(n),
                          "to_node": np.arange(1, n + 1),
                          "length": np.full(n, 100.0), "speed": np.full(n, 10.0), "lanes": np.ones(n, int),
                          "priority": np.zeros(n, int), "first_lane": np.arange(n)},
        "network/lanes": {"link": np.arange(n), "index": np.zeros(n, int), "length": np.full(n, 100.0),
                          "speed": np.full(n, 10.0)},
        "network/movements": {c.name: np.zeros(0, c.dtype) for c in schema.MOVEMENTS},
        "vtypes": {c.name: (["car"] if c.dtype == "str" else [1.0]) for c in schema.VTYPES},
    }


def summary_rows(t0: float, n: int) -> dict[str, np.ndarray]:
    """``n`` zero rows of /summary with times t0 + 1, t0 + 2, ... (s)."""
    cols: dict[str, np.ndarray] = {c.name: np.zeros(n, c.dtype) for c in schema.SUMMARY}
    cols["time"] = t0 + np.arange(1, n + 1, dtype=float)
    return cols


@dataclass
class _Veh:
    id: str
    vtype: int
    planned: float
    depart: float  # NaN if never inserted
    removal: float = math.nan
    teleports: int = 0


def _vehicles(n_links: int, n_trips: int, headway: float, t_end: float, extras: bool,
              late_trips: int) -> list[_Veh]:
    vehs = [_Veh(f"t{i}", i % 2, headway * i, headway * i) for i in range(n_trips) if headway * i < t_end]
    if extras:
        vehs.append(_Veh("removed", 1, 110.0, 110.0, removal=130.0, teleports=1))
        vehs.append(_Veh("running", 0, t_end - 35.0, t_end - 28.0))
        vehs.append(_Veh("waiting", 1, t_end - 10.0, math.nan))
    vehs += [_Veh(f"late{i}", 0, t_end + 10.0 * (i + 1), math.nan) for i in range(late_trips)]
    return vehs


def make_fake_run(path: str | Path, n_links: int = 4, n_trips: int = 10, with_fcd: bool = True, *,
                  steps: int = 300, dt: float = 1.0, interval: float = 100.0, headway: float = 20.0,
                  fcd_period: float = 10.0, extras: bool = True, compression: str = "gzip",
                  node_ids: tuple[str, ...] | None = None, late_trips: int = 0) -> Path:
    """Write the fake run to ``path`` (through the recorder, so also ``path.partial`` first).

    Regular trips planned at or after the end are left out; ``late_trips`` adds that many rows
    planned after the end (never loaded), as an engine that writes its whole demand does.
    Returns the final path. Units: s, m, m/s.
    """
    path = Path(path)
    t_end = steps * dt
    route = n_links * LINK_LENGTH
    vehs = _vehicles(n_links, n_trips, headway, t_end, extras, late_trips)
    n = len(vehs)
    speed = np.array([SPEEDS[v.vtype] for v in vehs])
    vlen = np.array([LENGTHS[v.vtype] for v in vehs])
    planned = np.array([v.planned for v in vehs])
    depart = np.array([v.depart for v in vehs])
    inserted = ~np.isnan(depart)
    reach = depart + route / speed  # time the vehicle would arrive
    removal = np.array([v.removal for v in vehs])
    arrived = inserted & (reach <= t_end) & np.isnan(removal)
    arrival = np.where(arrived, reach, np.nan)
    stop = np.where(arrived, reach, np.where(~np.isnan(removal), removal, t_end))  # leaves the network
    driven = np.where(inserted, stop - depart, 0.0)  # s on the network
    status = np.where(arrived, 2, np.where(~np.isnan(removal), 3, np.where(inserted, 1, 0)))
    loss_rate = 1.0 - speed / SPEED_LIMIT

    # ---- static tables
    ids = node_ids or tuple(f"n{k}" for k in range(n_links + 1))
    controls = ["none"] + ["priority" if k < n_links - 1 else "signal" for k in range(1, n_links)] + ["none"]
    nodes = {"id": list(ids), "x": np.arange(n_links + 1) * LINK_LENGTH, "y": np.zeros(n_links + 1),
             "control": controls}
    links = {"id": [f"l{k}" for k in range(n_links)], "from_node": np.arange(n_links),
             "to_node": np.arange(1, n_links + 1), "length": np.full(n_links, LINK_LENGTH),
             "speed": np.full(n_links, SPEED_LIMIT), "lanes": np.ones(n_links, int),
             "priority": np.ones(n_links, int), "first_lane": np.arange(n_links)}
    lanes = {"link": np.arange(n_links), "index": np.zeros(n_links, int),
             "length": np.full(n_links, LINK_LENGTH), "speed": np.full(n_links, SPEED_LIMIT)}
    movements = {"node": np.arange(1, n_links), "from_lane": np.arange(n_links - 1),
                 "to_lane": np.arange(1, n_links), "kind": np.zeros(n_links - 1, int),
                 "signal_index": np.array([0 if c == "signal" else -1 for c in controls[1:n_links]], int)}
    vtypes = {"id": list(VTYPE_IDS), "length": np.array(LENGTHS), "min_gap": [2.5, 3.0], "tau": [1.0, 1.5],
              "accel": [2.6, 1.3], "decel": [4.5, 4.0], "emergency_decel": [9.0, 7.0],
              "max_speed": [55.0, 25.0], "speed_factor": [1.0, 1.0], "speed_dev": [0.0, 0.0],
              "delta": [4.0, 4.0], "politeness": [0.3, 0.3], "lc_threshold": [0.2, 0.2],
              "lc_safe_decel": [4.0, 4.0], "cf_model": ["IDM", "Krauss"], "sigma": [0.0, 0.5],
              "sc_gain": [-0.4, -0.4], "gcc_gain_speed": [0.8, 0.8], "gcc_gain_space": [0.04, 0.04],
              "gc_gain_speed": [0.07, 0.07], "gc_gain_space": [0.23, 0.23], "ca_gain_speed": [0.23, 0.23],
              "ca_gain_space": [0.8, 0.8], "ca_override": [2.0, 2.0], "sc_gain_cacc": [-0.4, -0.4],
              "gcc_gain_gap": [0.005, 0.005], "gcc_gain_gap_dot": [0.05, 0.05],
              "gc_gain_gap": [0.45, 0.45], "gc_gain_gap_dot": [0.0125, 0.0125],
              "ca_gain_gap": [0.45, 0.45], "ca_gain_gap_dot": [0.05, 0.05],
              "tau_cacc_to_acc": [1.0, 1.0], "sc_min_gap": [1.66, 1.66]}
    static = {"network/nodes": nodes, "network/links": links, "network/lanes": lanes,
              "network/movements": movements, "vtypes": vtypes}
    attrs = {"seed": 42, "dt": dt, "device": "cpu (fake)", "backend": "cpu", "git_sha": None,
             "scenario": "fake-line", "begin": 0.0, "end": t_end, "edgedata_interval": interval,
             "fcd_period": fcd_period if with_fcd else 0.0}
    provenance = {"config": '[scenario]\nname = "fake-line"\n', "files": [("fake.toml", "0" * 64)]}

    # ---- events (time order)
    events: list[tuple[float, int, int, int, float]] = []
    if extras:
        r = next(i for i, v in enumerate(vehs) if v.id == "removed")
        w = next(i for i, v in enumerate(vehs) if v.id == "running")
        events += [(60.0, 3, 1, 0, 5.0), (125.0, 1, r, 1, 0.0), (130.0, 2, r, 1, 0.0),
                   (depart[w], 4, w, 0, depart[w] - planned[w])]
    events.sort()
    ev = np.array(events, dtype=float).reshape(-1, 5)

    with HDF5Recorder(path, compression=compression, queue_size=8) as rec:
        rec.open(attrs, static, provenance)

        # ---- summary, in batches of 50 steps
        times = dt * np.arange(1, steps + 1)
        for lo in range(0, steps, 50):
            t = times[lo:lo + 50]
            on = (depart[None, :] <= t[:, None]) & ((stop[None, :] > t[:, None]) | (status == 1)[None, :])
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_speed = (on * speed).sum(1) / on.sum(1)
            rec.append("summary", {
                "time": t,
                "loaded": (planned[None, :] <= t[:, None]).sum(1),
                "inserted": (depart[None, :] <= t[:, None]).sum(1),
                "running": on.sum(1),
                "waiting": (planned[None, :] <= t[:, None]).sum(1) - (depart[None, :] <= t[:, None]).sum(1),
                "arrived": (arrival[None, :] <= t[:, None]).sum(1),
                "removed": (removal[None, :] <= t[:, None]).sum(1),
                "halting": np.zeros(len(t), int),
                "mean_speed": np.where(on.sum(1) > 0, mean_speed, np.nan),
                "collisions": ((ev[:, 1] == 0)[None, :] & (ev[:, 0][None, :] <= t[:, None])).sum(1),
                "teleports": ((ev[:, 1] == 1)[None, :] & (ev[:, 0][None, :] <= t[:, None])).sum(1),
                "wall_time": t * 1e-3,
            })
            sel = (ev[:, 0] > (t[0] - dt)) & (ev[:, 0] <= t[-1])
            if sel.any():
                e = ev[sel]
                rec.append("events", {"time": e[:, 0], "kind": e[:, 1].astype(np.int8),
                                      "vehicle": e[:, 2].astype(np.int32), "link": e[:, 3].astype(np.int32),
                                      "value": e[:, 4]})

        # ---- edge data: exact overlaps of each vehicle's stay on each link with each interval
        k = np.arange(n_links)
        enter = depart[:, None] + k[None, :] * LINK_LENGTH / speed[:, None]  # (veh, link)
        leave = enter + LINK_LENGTH / speed[:, None]
        on_from = np.where(inserted[:, None], enter, np.inf)
        on_to = np.where(inserted[:, None], np.minimum(leave, stop[:, None]), -np.inf)
        b = 0.0
        while b < t_end - 1e-9:
            e = min(b + interval, t_end)
            ov = np.clip(np.minimum(on_to, e) - np.maximum(on_from, b), 0.0, None)  # s
            sampled = ov.sum(0)
            distance = (ov * speed[:, None]).sum(0)
            entered = ((on_from >= b) & (on_from < e) & (on_from < stop[:, None])).sum(0)
            left = ((leave >= b) & (leave < e) & (leave <= stop[:, None])).sum(0)  # junction or arrival
            with np.errstate(invalid="ignore", divide="ignore"):
                sp = np.where(sampled > 0, distance / sampled, np.nan)
            span = e - b
            rec.append_edgedata(b, e, {
                "sampled_seconds": sampled, "distance": distance,
                "entered": entered.astype(np.int32), "left": left.astype(np.int32),
                "speed": sp, "density": sampled / span / (LINK_LENGTH / 1000.0),
                "flow": left / span * 3600.0,
                "occupancy": (ov * vlen[:, None]).sum(0) / (span * LINK_LENGTH),
                "waiting_time": np.zeros(n_links), "time_loss": (ov * loss_rate[:, None]).sum(0),
                "queue": np.zeros(n_links), "max_queue": np.zeros(n_links, np.int32),
                "traveltime": np.where(sampled > 0, LINK_LENGTH / np.where(sampled > 0, sp, 1.0),
                                       LINK_LENGTH / SPEED_LIMIT),
            })
            b = e

        # ---- FCD
        if with_fcd:
            t = fcd_period
            while t <= t_end + 1e-9:
                on = np.flatnonzero(inserted & (depart <= t) & (stop > t))
                x = speed[on] * (t - depart[on])
                link = np.minimum((x // LINK_LENGTH).astype(int), n_links - 1)
                rec.append_fcd(t, {"vehicle": on, "link": link, "lane": np.zeros(len(on), np.int8),
                                   "pos": x - link * LINK_LENGTH, "speed": speed[on],
                                   "accel": np.zeros(len(on)), "x": x, "y": np.zeros(len(on))})
                t += fcd_period

        rec.write_trips({
            "id": [v.id for v in vehs], "vtype": np.array([v.vtype for v in vehs], np.int16),
            "origin": np.zeros(n, np.int32), "destination": np.full(n, n_links - 1, np.int32),
            "depart_planned": planned, "depart": depart, "arrival": arrival, "duration": arrival - depart,
            "route_length": driven * speed, "waiting_time": np.zeros(n), "stops": np.zeros(n, np.int32),
            "time_loss": driven * loss_rate, "insertion_delay": depart - planned,
            "teleports": np.array([v.teleports for v in vehs], np.int32), "status": status.astype(np.int8),
        })
        vehicle_steps = int(round(driven.sum() / dt))
        wall = 0.3
        rec.set_health({"steps": steps, "vehicle_steps": vehicle_steps, "wall_time_s": wall,
                        "real_time_factor": t_end / wall, "vehicle_updates_per_s": vehicle_steps / wall,
                        "collisions": int((ev[:, 1] == 0).sum()), "teleports": int((ev[:, 1] == 1).sum()),
                        "removed": int((status == 3).sum())})
        return rec.close(steps)
