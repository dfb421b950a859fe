"""Drone benchmark: conflict detection and resolution at scale, and BlueSky on the same set-up.

    python -m bench.drone_bench                                   # CPU: 1k, 4k, 10k, 100k drones
    python -m bench.drone_bench --sizes 1k,10k,100k,1m --seconds 30
    python -m bench.drone_bench --backend cuda --sizes 100k,1m    # on a GPU
    python -m bench.drone_bench --bluesky 1k,2k,4k                # and BlueSky at those sizes

Set-up (issue 5; identical draw in :func:`bench.bluesky_ref.make_drones`): N drones at uniform
random positions in a square box at 4,000 drones per 10 km x 10 km (side 10 km x sqrt(N / 4000)),
uniform random headings, level at one of 4 altitude layers (30, 60, 90, 120 m), 15 m/s; protected
zone 50 m horizontally and 15 m vertically; detection every 1 s with a 20 s look-ahead; MVP
resolution on; step 0.5 s. mobsim flies them with :func:`mobsim.modes.drones.sim.free_flight` (already in
cruise, each towards a waypoint 1,000 km ahead).

Reported per size: drone-updates per second (drones x steps / wall s of the step loop), the
real-time factor, the detection cost per interval (wall s of the run minus that of a run of the
same drones without detection, per detection), pair checks per detection, conflicts and losses of
separation at the end, and, where BlueSky ran at that size, its figures and the ratio of
drone-updates per second measured in the same invocation. Targets: CPU real time or faster at
100,000 drones; one H100 faster than real time at 1,000,000 drones.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from .run_bench import RESULTS, git_info, parse_size, size_label

TARGETS = {"cpu_rtf_min_at_100k": 1.0, "gpu_rtf_min_at_1m": 1.0}


def run_mobsim(n: int, seconds: float, backend: str = "cpu", detect: bool = True, seed: int = 1,
               threads: int = 0) -> dict[str, Any]:
    """Fly the benchmark's ``n`` drones for ``seconds`` simulated seconds; returns the figures."""
    from mobsim.kernels.air import layout as K
    from mobsim.modes.drones.airspace import DroneType
    from mobsim.modes.drones.sim import free_flight

    from .bluesky_ref import box_side_m, make_drones

    d = make_drones(n, seed)
    side = box_side_m(n)
    dtype = DroneType(cruise_speed=15.0, max_speed=18.0, battery_wh=1e12, rpz=50.0, hpz=15.0)
    settings = {"drones.resolution": "mvp", "drones.lookahead": 20.0, "drones.resolution_margin": 1.0,
                "drones.detection_interval": 1.0 if detect else 1e9, "drones.terminal_radius": 0.0}
    t0 = time.perf_counter()
    box = (-side / 2, -side / 2, side / 2, side / 2)
    sim = free_flight(d["x"], d["y"], d["alt"], d["hdg"], d["speed"], settings=settings, dtype=dtype,
                      backend=backend, threads=threads, extent=box)
    sim.run_steps(2)  # compile (or load from the cache) and warm up
    setup = time.perf_counter() - t0
    steps = int(round(seconds / sim.dt))
    sim.pull("A", ("cnt",))
    c0 = sim.A.cnt.copy()
    t1 = time.perf_counter()
    done = 0
    while done < steps:
        done += sim.run_steps(steps - done)
        sim.pull("A", ("cnt",))
        sim.A.cnt[K.AC_NEV] = 0
        sim.push("A", ("cnt",))
    wall = time.perf_counter() - t1
    sim.pull("A", ("cnt",))
    c = sim.A.cnt - c0
    dets = int(c[K.AC_DETECTIONS])
    out = {"n": n, "backend": backend, "detect": detect, "sim_seconds": seconds, "steps": steps,
           "wall_s": wall,
           "setup_s": setup, "real_time_factor": seconds / wall, "drone_updates_per_s": n * steps / wall,
           "detections": dets, "pair_checks_per_detection": int(c[K.AC_CHECKS]) // max(dets, 1),
           "conflicts_now": int(sim.A.cnt[K.AC_CONF_NOW]), "los_now": int(sim.A.cnt[K.AC_LOS_NOW]),
           "grid_cell_m": float(sim.par[K.AP_CELL]), "bytes_per_drone": int(_bytes(sim))}
    out["threads"] = sim.backend.threads
    out["device"] = sim.backend.describe()
    return out


def _bytes(sim: Any) -> int:
    per = sum(a.nbytes for a in sim.D) / max(sim.n, 1)
    grid_n = sum(getattr(sim.A, f).nbytes for f in ("cell_items", "g_x", "g_y", "g_z", "g_vx", "g_vy", "g_vz",
                                                      "g_r", "g_h")) / max(sim.n, 1)
    return int(per + grid_n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.drone_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1k,4k,10k,100k", help="drone counts, e.g. 1k,10k,100k,1m")
    ap.add_argument("--seconds", type=float, default=60.0, help="simulated seconds per run")
    ap.add_argument("--backend", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all)")
    ap.add_argument("--bluesky", default="", help="sizes to run BlueSky at too (needs bluesky-simulator)")
    ap.add_argument("--bluesky-max-wall", type=float, default=180.0,
                    help="stop a BlueSky run after this many wall seconds (its rate is still measured)")
    ap.add_argument("--out", default="", help="JSON path (default bench/results/drones_<host>_<utc>.json)")
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    bsizes = {parse_size(s) for s in args.bluesky.split(",") if s}
    rows = []
    head = (f"{'drones':>8} {'RTF':>8} {'drone-upd/s':>12} {'det s/interval':>15} {'checks/det':>11} "
            f"{'conf':>6} {'los':>5} {'BlueSky RTF':>12} {'ratio':>7}")
    print(f"mobsim drone benchmark ({args.backend}), {args.seconds:g} simulated s per run")
    print(head)
    for n in sorted(set(sizes) | bsizes):
        full = run_mobsim(n, args.seconds, args.backend, True, threads=args.threads)
        move = run_mobsim(n, args.seconds, args.backend, False, threads=args.threads)
        det_wall = max(full["wall_s"] - move["wall_s"], 0.0)
        full["detection_s_per_interval"] = det_wall / max(full["detections"], 1)
        full["move_only_wall_s"] = move["wall_s"]
        bs = None
        if n in bsizes:
            from .bluesky_ref import available, run_bluesky

            if available():
                bs = run_bluesky(n, args.seconds, simdt=0.5, max_wall_s=args.bluesky_max_wall)
                full["bluesky"] = bs
                full["ratio_vs_bluesky"] = full["drone_updates_per_s"] / bs["drone_updates_per_s"]
            else:
                full["bluesky"] = "not installed (pip install bluesky-simulator)"
        rows.append(full)
        bs_rtf = f"{bs['real_time_factor']:12.2f}" if isinstance(bs, dict) else f"{'-':>12}"
        ratio = f"{full['ratio_vs_bluesky']:7.1f}" if "ratio_vs_bluesky" in full else f"{'-':>7}"
        print(f"{size_label(n):>8} {full['real_time_factor']:8.2f} {full['drone_updates_per_s']:12.3g} "
              f"{full['detection_s_per_interval']:15.4f} {full['pair_checks_per_detection']:11d} "
              f"{full['conflicts_now']:6d} {full['los_now']:5d} {bs_rtf} {ratio}", flush=True)
    meta = {"utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "python": platform.python_version(), "platform": platform.platform(),
            "command": "python -m bench.drone_bench " + " ".join(argv if argv is not None else sys.argv[1:]),
            "git": git_info(), "targets": TARGETS}
    out = Path(args.out) if args.out else RESULTS / (
        f"drones_{args.backend}_{platform.node() or 'host'}_{meta['utc'].replace(':', '')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "runs": rows}, indent=1, default=float))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
