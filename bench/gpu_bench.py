"""GPU benchmark: the CUDA backend on the bench grid scenarios, a table on stdout, JSON on disk.

    python -m bench.gpu_bench                               # 100k and 1M vehicles on the GPU
    python -m bench.gpu_bench --sizes 100k,1m,10m           # and 10M where GPU memory allows
    python -m bench.gpu_bench --sizes 10k,100k --graphs auto,off   # the step as a CUDA graph, or not
    NUMBA_ENABLE_CUDASIM=1 python -m bench.gpu_bench --sizes 200 --window 5   # smoke test, no GPU

For each size: the scenario of :func:`bench.scenarios.grid_scenario` (the CPU benchmark's), a
warm-up step (kernel compilation), then ``sim.step`` over the window, timed with a device
synchronisation at the end of every chunk. Reported: vehicle-updates per second (running
vehicles advanced per step, summed, over the loop's wall time), real-time factor, GPU memory per
vehicle (state arrays, and the peak of cupy's memory pool, which includes sort temporaries), and
the time split by kernel from a second, profiled window (CUDA events around every launch, which
adds a little overhead, so the split is measured separately from the throughput). The fraction of
the device's memory bandwidth is estimated from a byte model per kernel (:data:`BYTES_MODEL`:
bytes each item reads and writes, from the field sizes; a model, not a hardware counter) over
the device's peak (memory clock x bus width x 2).

Targets (issue 3), on one H100: >= 1e9 vehicle-updates/s at 1M+ running vehicles, <= 200 bytes of
GPU memory per vehicle, real-time factor > 1000 at one million vehicles.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

from .run_bench import RESULTS, git_info, parse_size, size_label, source_digest

TARGETS = {"veh_updates_per_s_min": 1e9, "at_running": 1_000_000, "gpu_bytes_per_vehicle_max": 200,
           "rtf_min_at_1m": 1000}

#: order "lanes" (kernels.road.order): tickets (status 1 + lane 4 + atomic 8 + ticket 4), scatter (status 1
#: + lane 4 + lane_start 4 + ticket 4 + order 4), per-lane sort (order 8 + pos 8 + trip 4).
LANES_ORDER_BYTES = 54

#: Bytes moved per item by each phase (reads + writes of global memory, from the field sizes):
#: a model for the bandwidth estimate. ``per`` is what the count multiplies: running vehicles,
#: lanes, links or one.
BYTES_MODEL: dict[str, tuple[str, int]] = {
    # order: key build (status 1 + lane 4 + pos 8 + key write 8), one stable argsort of (8-byte
    # key, 8-byte index) pairs (CUB radix sort: 8 passes of 8 bits, each reading and writing the
    # pairs, 8 x 32), the sorted-key gather (16) and order write (4).
    "order": ("vehicles", 297),  # "full" and "merge" (the merge is not modelled apart)
    # own state (order 4, lane 4, pos 8, speed 8, vtype 2, sfac 4, route_pos/end 8, need_mask 4,
    # lane_aux 4, lc_step 4) + leader and two neighbours (pos, vtype, speed: 3 x 18) + dir_k 1.
    "decide": ("vehicles", 105),
    "apply": ("vehicles", 14),
    # own state (~60) + leader (20) + outputs acc_k/stop_k/mv_k (9) + look-ahead tables (~16).
    "plan": ("vehicles", 106),
    # per vehicle: reads pos/speed/vtype/sfac/acc_k/stop_k (~27), writes pos, moved, speed,
    # acc, time_loss, wait_steps, standstill, flags (~37).
    "advance": ("vehicles", 64),
    "junction_source": ("lanes", 64),
    "junction_target": ("lanes", 40),
    "flags": ("vehicles", 18),
    "gridlock": ("vehicles", 8),
    "insert": ("links", 16),
    "signals": ("slots", 24),
    # the summary row's partial sums: per lane halting count and speed sum (8); per link (a lane of
    # it, on average) first lane, lane count, maximum queue read and write (~12)
    "summary": ("lanes", 20),
    "end": ("one", 16 * 1024),  # the summary row: kernels.runtime.layout.SUM_PARTS partial sums of 16 B
    # "renumber" (mobsim.state.slots, every REORDER_STEPS steps) has no entry: it is timed, but its bytes
    # are not per step, so it stays out of the bandwidth estimate.
}


def peak_bandwidth_gbs() -> float | None:
    """Theoretical device memory bandwidth (GB/s) from the memory clock and bus width."""
    try:
        from numba import cuda

        dev = cuda.get_current_device()
        clock_khz = dev.MEMORY_CLOCK_RATE
        bus_bits = dev.GLOBAL_MEMORY_BUS_WIDTH
        return 2.0 * clock_khz * 1e3 * bus_bits / 8 / 1e9
    except Exception:  # noqa: BLE001 - the simulator and odd drivers have no such attributes
        return None


def run_size(size: int, window: float, chunk: float, profile_steps: int, seed: int,
             order: str = "lanes", graphs: str = "auto") -> dict[str, Any]:
    from mobsim.engine import Simulation
    from mobsim.kernels.runtime.layout import C_VSTEPS

    from .scenarios import grid_scenario

    t0 = time.perf_counter()
    sc, lay = grid_scenario(size, seed=seed, window=window + profile_steps * 0.5 + 1.0)
    t1 = time.perf_counter()
    sim = Simulation(sc, backend="cuda")
    t2 = time.perf_counter()
    be = sim.backend
    be.order_mode = order  # "lanes", "full" sort or "merge" into the previous order (backends.cuda_order)
    # "auto": steady steps replay one captured CUDA graph (the "lanes" order only); "off": launch by launch
    be.graphs = graphs
    xp = be.xp
    pool = xp.get_default_memory_pool() if hasattr(xp, "get_default_memory_pool") else None  # cupy only
    sim.step(1)  # compiles every kernel
    t3 = time.perf_counter()
    n_steps = int(round(window / sim.dt))
    chunk_steps = max(1, int(round(chunk / sim.dt)))
    be.pull("W", ("cnt",))
    v0 = int(sim.W.cnt[C_VSTEPS])
    wall = 0.0
    done = 0
    while done < n_steps:
        c0 = time.perf_counter()
        done += sim.step(min(chunk_steps, n_steps - done))  # run_steps synchronises at its end
        wall += time.perf_counter() - c0
    be.pull("W", ("cnt",))
    vsteps = int(sim.W.cnt[C_VSTEPS]) - v0
    # Profiled window: time per kernel, and how many items each phase had.
    be.profile = {}
    be.pull("V", ("status",))
    running = int((sim.V.status == 1).sum())
    sim.step(profile_steps)
    split = be.profile_seconds()
    be.profile = None
    counts = {"vehicles": running, "lanes": sim.cn.n_lanes, "links": sim.cn.n_links,
              "slots": int(sim.cn.arrays.slot_ctrl.shape[0]), "one": 1}
    peak = peak_bandwidth_gbs()
    kernels = {}
    for name, sec in sorted(split.items(), key=lambda kv: -kv[1]):
        per, b = BYTES_MODEL.get(name, ("one", 0))
        if name == "order" and order == "lanes":
            b = LANES_ORDER_BYTES
        launches = profile_steps * (2 if name == "order" else 1)
        moved = b * counts[per] * launches
        gbs = moved / sec / 1e9 if sec > 0 else 0.0
        kernels[name] = {"seconds": sec, "ms_per_step": sec / profile_steps * 1e3,
                         "share": sec / max(sum(split.values()), 1e-12), "model_bytes": moved,
                         "model_gb_per_s": gbs, "bandwidth_fraction": gbs / peak if peak else None}
    n = len(sim.trips)
    state_bytes = be.device_bytes()
    total_s = sum(split.values())
    total_bytes = sum(k["model_bytes"] for k in kernels.values())
    return {
        "size": size_label(size), "order": order, "n_vehicles": n, "n_lanes": sim.cn.n_lanes,
        "n_links": sim.cn.n_links,
        "layout": lay.as_dict(), "scenario_build_s": t1 - t0, "simulation_init_s": t2 - t1,
        "compile_s": t3 - t2, "steps": done, "loop_wall_s": wall, "vehicle_steps": vsteps,
        "mean_running": vsteps / max(done, 1),
        "veh_updates_per_s": vsteps / wall if wall > 0 else 0.0,
        "real_time_factor": done * sim.dt / wall if wall > 0 else 0.0,
        "gpu_state_bytes": state_bytes, "gpu_state_bytes_per_vehicle": state_bytes / max(n, 1),
        "gpu_pool_peak_bytes": (pool.total_bytes() if pool is not None else None),
        "gpu_pool_bytes_per_vehicle": (pool.total_bytes() / max(n, 1) if pool is not None else None),
        "profile_steps": profile_steps, "profile_running": running, "kernels": kernels,
        "model_bandwidth_fraction": ((total_bytes / total_s / 1e9) / peak if peak and total_s else None),
        "peak_bandwidth_gbs": peak, "device": be.describe(),
        # the timed window's steps replayed as a CUDA graph (the profiled window launches one by one)
        "graphs": graphs, "graph_steps": be.graph_steps, "graph_error": be.graph_error,
    }


def format_table(cases: list[dict[str, Any]]) -> str:
    head = ["size", "order", "graph steps", "vehicles", "lanes", "mean running", "veh-updates/s", "RTF",
            "GPU B/veh (state)", "GPU B/veh (pool)", "bandwidth (model)"]
    rows = []
    for c in cases:
        pool = c["gpu_pool_bytes_per_vehicle"]
        bw = c["model_bandwidth_fraction"]
        rows.append([c["size"], c.get("order", "lanes"), f"{c.get('graph_steps', 0):,}",
                     f"{c['n_vehicles']:,}", f"{c['n_lanes']:,}", f"{c['mean_running']:,.0f}",
                     f"{c['veh_updates_per_s']:,.0f}", f"{c['real_time_factor']:,.1f}",
                     f"{c['gpu_state_bytes_per_vehicle']:,.0f}", "-" if pool is None else f"{pool:,.0f}",
                     "-" if bw is None else f"{bw:.1%}"])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    for c in cases:
        lines.append(f"\nkernels at {c['size']}, order {c.get('order', 'full')} "
                     f"({c['profile_running']:,} running, ms per step):")
        for name, k in c["kernels"].items():
            frac = k["bandwidth_fraction"]
            of_peak = "" if frac is None else f" ({frac:.1%} of peak)"
            lines.append(f"  {name:16s} {k['ms_per_step']:9.3f} ms  {k['share']:6.1%}  model "
                         f"{k['model_gb_per_s']:8.1f} GB/s{of_peak}")
    return "\n".join(lines)


def memory_size(size: int, seed: int) -> dict[str, Any]:
    """Device memory of the grid scenario of ``size`` vehicles, by part, without running it: the
    arrays the CUDA backend allocates (under NUMBA_ENABLE_CUDASIM=1 they are numpy arrays of the
    same dtypes and shapes, so the figures hold for a GPU)."""
    from mobsim.backends.cuda import PARTS
    from mobsim.engine import Simulation

    from .scenarios import grid_scenario

    sc, lay = grid_scenario(size, seed=seed)
    sim = Simulation(sc, backend="cuda")
    be = sim.backend
    n = len(sim.trips)
    parts = {p: int(sum(a.nbytes for a in be.dev.get(p, ()) if hasattr(a, "nbytes"))) for p in (*PARTS, "P")}
    # the one state buffer's alignment padding (kernels.runtime.cuda_args.ALIGN per field)
    parts["pad"] = be.device_bytes() - sum(parts.values())
    routes = int(sim.W.route_codes.nbytes)
    total = be.device_bytes()
    from mobsim.net.compile import HOST_ONLY

    host_only = int(sum(getattr(be.dev["N"], f).nbytes for f in HOST_ONLY))
    return {"size": size_label(size), "n_vehicles": n, "n_lanes": sim.cn.n_lanes,
            "route_links": int(len(sim.route_links)), "mean_route_links": float(len(sim.route_links)) / n,
            "route_code_bits": 1 << int(sim.W.route_codes[0]),
            "bytes_per_vehicle": {p: b / n for p, b in parts.items()},
            "route_pool_bytes_per_vehicle": routes / n,
            "total_bytes_per_vehicle": total / n, "without_routes_bytes_per_vehicle": (total - routes) / n,
            "host_only_network_bytes_on_device": host_only}


def format_memory(cases: list[dict[str, Any]]) -> str:
    parts = list(cases[0]["bytes_per_vehicle"]) if cases else []
    head = ["size", "vehicles", "lanes", "route links/veh", *[f"{p} B/veh" for p in parts], "of which routes",
            "total B/veh", "without routes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for c in cases:
        row = [c["size"], f"{c['n_vehicles']:,}", f"{c['n_lanes']:,}", f"{c['mean_route_links']:.1f}",
               *[f"{c['bytes_per_vehicle'][p]:.1f}" for p in parts],
               f"{c['route_pool_bytes_per_vehicle']:.1f}", f"{c['total_bytes_per_vehicle']:.1f}",
               f"{c['without_routes_bytes_per_vehicle']:.1f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--memory-only", action="store_true",
                   help="only build each size and report the device memory per vehicle by part (no run; "
                        "works under NUMBA_ENABLE_CUDASIM=1 without a GPU)")
    p.add_argument("--sizes", default="100k,1m", help="vehicle counts, comma-separated (k/m suffixes)")
    p.add_argument("--window", type=float, default=120.0, help="timed simulated seconds per size (120)")
    p.add_argument("--chunk", type=float, default=30.0, help="simulated seconds per sim.step call (30)")
    p.add_argument("--profile-steps", type=int, default=20, help="steps of the profiled window (20)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--order", default="lanes,full",
                   help="(lane, position) order on the GPU, comma-separated, each size run with each: lanes "
                        "(by lane with atomic tickets, then a sort per lane; the default), full (one radix "
                        "sort per order) and merge (sort only the vehicles that changed lane)")
    p.add_argument("--graphs", default="auto",
                   help="auto (steady steps replay the step captured as one CUDA graph, with the lanes "
                        "order) and/or off (every kernel launched from Python), comma-separated: each "
                        "size and order runs with each (default auto); on = auto, and under the simulator a "
                        "recorded list of launches stands in for the graph")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    orders = [x.strip() for x in a.order.split(",") if x.strip()]
    if not orders or set(orders) - {"lanes", "full", "merge"}:
        p.error(f"--order {a.order!r}: give lanes, full and/or merge (comma-separated)")
    graph_modes = [x.strip() for x in a.graphs.split(",") if x.strip()]
    if not graph_modes or set(graph_modes) - {"auto", "on", "off"}:
        p.error(f"--graphs {a.graphs!r}: give auto, on and/or off (comma-separated)")
    from mobsim.backends.cuda import gpu_status, simulator_enabled

    ok, why = gpu_status()
    if not ok and not simulator_enabled():
        print(f"gpu_bench: no usable GPU ({why}); on a GPU machine: pip install -e '.[gpu]' and rerun. "
              "NUMBA_ENABLE_CUDASIM=1 runs a (slow) smoke test of this script.", file=sys.stderr)
        return 2
    if a.memory_only:
        mem = [memory_size(s, a.seed) for s in [parse_size(x) for x in a.sizes.split(",") if x.strip()]]
        print(format_memory(mem))
        print(f"\nTarget (issue 3): <= {TARGETS['gpu_bytes_per_vehicle_max']} B of GPU memory per vehicle.")
        now = _dt.datetime.now(_dt.timezone.utc)
        out = a.out or RESULTS / f"gpu_memory_{socket.gethostname()}_{now.strftime('%Y-%m-%dT%H%M%SZ')}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        meta = {"created": now.isoformat(), "git": git_info(), "simulator": simulator_enabled(),
                "args": vars(a) | {"out": str(out)}}
        out.write_text(json.dumps({"meta": meta, "memory": mem}, indent=1, default=str))
        print(f"wrote {out}")
        return 0
    cases = []
    runs = [(parse_size(x), o, g) for x in a.sizes.split(",") if x.strip()
            for o in orders for g in graph_modes
            # only the lanes order's step can be a graph: the others run once, launch by launch
            if o == "lanes" or g == graph_modes[0]]
    for s, order, graphs in runs:
        what = f"{size_label(s)} ({order}, graphs {graphs})"
        try:
            rec = run_size(s, a.window, a.chunk, a.profile_steps, a.seed, order, graphs)
        except Exception as exc:  # noqa: BLE001 - e.g. out of GPU memory at 10M: report, go on
            print(f"{what}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            cases.append({"size": size_label(s), "order": order, "graphs": graphs,
                          "error": f"{type(exc).__name__}: {exc}"})
            continue
        print(f"{what}: {rec['veh_updates_per_s']:,.0f} veh-updates/s, "
              f"RTF {rec['real_time_factor']:,.1f}, {rec['gpu_state_bytes_per_vehicle']:,.0f} B/veh, "
              f"{rec['graph_steps']} graph steps" + (f" (capture failed: {rec['graph_error']})"
                                                     if rec["graph_error"] else ""), flush=True)
        cases.append(rec)
    ok_cases = [c for c in cases if "error" not in c]
    print()
    print(format_table(ok_cases))
    print(f"\nTargets (issue 3, one H100): >= 1e9 veh-updates/s at 1M+ running, <= 200 B of GPU memory per "
          f"vehicle, RTF > 1000 at 1M vehicles. Device: {ok_cases[0]['device'] if ok_cases else '-'}")
    now = _dt.datetime.now(_dt.timezone.utc)
    out = a.out or RESULTS / f"gpu_{socket.gethostname()}_{now.strftime('%Y-%m-%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"created": now.isoformat(), "host": socket.gethostname(), "platform": platform.platform(),
            "python": platform.python_version(), "git": git_info(), "engine_source_sha256": source_digest(),
            "simulator": simulator_enabled(), "targets": TARGETS, "args": vars(a) | {"out": str(out)}}
    out.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
