"""CPU benchmark runner: grid scenarios at target vehicle counts, a table on stdout, JSON on disk.

    python -m bench.run_bench                         # 1k and 10k vehicles, all threads
    python -m bench.run_bench --sizes 1k,10k,100k --threads 1,all

Each (size, threads) case runs in a fresh Python process (so that peak RSS belongs to that case):
it first runs a tiny scenario so that numba compiles or loads its cache (not timed), builds the
scenario (timed separately as set-up), then times the step loop ``sim.step(n)`` in chunks of
``--chunk`` simulated seconds, without any output. At the smallest size one end-to-end
``sim.run(out=...)`` (HDF5 result file) is timed as well. See bench/README.md for the columns.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import importlib.util
import json
import os
import platform
import re
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
RESULT_TAG = "BENCH_RESULT "

#: Targets from the issue. The throughput target is stated for 100k vehicles on 2 CPU cores.
TARGETS: dict[str, Any] = {
    "veh_updates_per_s": {"min": 10e6, "at_vehicles": 100_000, "cores": 2,
                          "text": ">= 10 million vehicle-updates/s at 100k vehicles on 2 cores"},
    "engine_bytes_per_vehicle": {"max": 1024,
                                 "text": "<= 1 KB (1024 B) engine memory per vehicle"},
}

#: Reference figure quoted in the issue; not measured by this runner.
SUMO_REFERENCE: dict[str, Any] = {
    "name": "Eclipse SUMO 1.28",
    "veh_updates_per_s": 0.2e6,
    "model": "IDM",
    "scenario": "the same kind of signalised grid",
    "machine": "this kind of machine (2 CPU cores)",
    "measured_in_this_run": False,
    "note": "quoted from the issue, not measured in this run",
}


# ------------------------------------------------------------------------------------------ helpers


def parse_size(text: str) -> int:
    """``"1k"`` -> 1000, ``"2.5m"`` -> 2500000, ``"500"`` -> 500."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use e.g. 1k, 10k, 100k, 1m or 5000")
    value = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"size {text!r} is below 1 vehicle")
    return int(round(value))


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse_threads(text: str) -> list[str]:
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        if part != "all" and not part.isdigit():
            raise argparse.ArgumentTypeError(f"bad thread count {part!r}: use e.g. 1, 2 or all")
        out.append(part)
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MiB); ru_maxrss is in KiB on Linux."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0 / 1024.0


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: ``/proc/self/clear_refs`` 5); False if unsupported.

    After the reset, ``ru_maxrss`` reports the peak since the reset, so that numba's compilation
    during the warm-up does not count as the scenario's memory.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _loadavg() -> float | None:
    """1-minute load average of the machine (other processes compete for the cores)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mem_total_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 2)
    except (OSError, ValueError):
        pass
    return None


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
            return r.stdout.strip() if r.returncode == 0 else ""
        except (OSError, subprocess.SubprocessError):
            return ""

    sha = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--", "mobsim", "kernels", "pyproject.toml")
    return {"sha": sha, "dirty": bool(dirty), "dirty_engine_files": dirty.splitlines()[:50],
            "engine_source_sha256": source_digest()}


def source_digest() -> str:
    """SHA-256 over the engine's source files (mobsim/*.py, kernels/*.py) as they are on disk.

    Ties a result to the exact code measured even when the working tree has uncommitted changes.
    """
    import mobsim
    import mobsim.kernels

    h = hashlib.sha256()
    for pkg in (mobsim, mobsim.kernels):
        folder = Path(pkg.__file__).resolve().parent
        for f in sorted(folder.glob("*.py")):
            h.update(f"{pkg.__name__}/{f.name}\0".encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def sumo_availability() -> dict[str, Any]:
    info = {
        "python_module_sumo": importlib.util.find_spec("sumo") is not None,
        "python_module_sumolib": importlib.util.find_spec("sumolib") is not None,
        "sumo_binary": shutil.which("sumo"),
        "SUMO_HOME": os.environ.get("SUMO_HOME"),
    }
    info["available"] = bool(info["python_module_sumo"] or info["python_module_sumolib"]
                             or info["sumo_binary"])
    if info["available"]:
        info["side_by_side"] = ("python -m bench.vs_sumo runs SUMO and mobsim on the same grids "
                                "(and a corridor and a city) in one run")
    return info


def machine_metadata() -> dict[str, Any]:
    import numba
    import numpy

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": affinity,
        "memory_gb": mem_total_gb(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "numba_num_threads": numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer_config": numba.config.THREADING_LAYER,
    }


# ------------------------------------------------------------------------------------------ worker


def _memory(sim: Any) -> dict[str, Any]:
    import numpy as np

    mem = sim.memory_bytes()
    n = max(len(sim.trips), 1)
    engine = mem["vehicles"] + mem["lanes"] + mem["work"]
    net = sum(a.nbytes for a in sim.cn.arrays if isinstance(a, np.ndarray))
    return {"vehicles_bytes": mem["vehicles"], "lanes_bytes": mem["lanes"], "work_bytes": mem["work"],
            "engine_bytes": engine, "engine_bytes_per_vehicle": engine / n,
            "vehicle_field_bytes_per_vehicle": mem["per_vehicle"],
            "network_arrays_bytes": int(net)}


def timed_loop(sim: Any, n_steps: int, chunk_steps: int) -> dict[str, Any]:
    """Time ``sim.step(chunk_steps)`` calls until ``n_steps`` steps have run (no output written)."""
    import numpy as np

    from mobsim.kernels.runtime.layout import C_VSTEPS

    cnt = sim.W.cnt
    timeline = []
    v_start = int(cnt[C_VSTEPS])
    wall = 0.0
    done = 0
    load_before = _loadavg()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    while done < n_steps:
        k = min(chunk_steps, n_steps - done)
        v0 = int(cnt[C_VSTEPS])
        c0 = time.perf_counter()
        got = sim.step(k)
        c1 = time.perf_counter()
        wall += c1 - c0
        done += got
        dv = int(cnt[C_VSTEPS]) - v0
        timeline.append({"t_end_s": round(sim.time, 3), "steps": got, "wall_s": c1 - c0,
                         "vehicle_steps": dv, "mean_running": dv / max(got, 1),
                         "running_at_end": int(np.count_nonzero(sim.V.status == 1)),
                         "veh_updates_per_s": dv / (c1 - c0) if c1 > c0 else 0.0})
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    vsteps = int(cnt[C_VSTEPS]) - v_start
    return {"steps": done, "loop_wall_s": wall, "vehicle_steps": vsteps,
            "loop_cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
            "loadavg_1min": {"before_loop": load_before, "after_loop": _loadavg()},
            "veh_updates_per_s": vsteps / wall if wall > 0 else 0.0, "timeline": timeline}


def run_case(size: int, threads: str, seed: int, window: float, chunk: float, depart_window: float,
             end_to_end: bool, repeat: int = 1, parallel_min: int | None = None) -> dict[str, Any]:
    """One benchmark case in this process: warm-up, set-up, timed step loop(s), optional sim.run.

    With ``repeat`` > 1 the loop runs that many times, each on a fresh Simulation of the same
    scenario; the fastest run is reported (every run is kept under ``repeats``).
    """
    digest = source_digest()  # the code imported, then compiled or loaded from the cache, below
    import numba

    from mobsim.engine import Simulation
    from mobsim.kernels.runtime.layout import C_ARRIVED, C_COLL, C_INSERTED, C_REMOVED, C_TELE

    from .scenarios import grid_scenario, tiny_scenario

    nthreads = 0 if threads == "all" else int(threads)
    rss0 = peak_rss_mb()
    # Warm-up: compile (or load from numba's cache) every kernel on a tiny scenario; not timed.
    t0 = time.perf_counter()
    # reorder_every: renumber the slots of the tiny run too, so that kernel is compiled here as well
    warm = Simulation(tiny_scenario(seed), backend="cpu", threads=nthreads, reorder_every=20)
    warm.step(int(round(120.0 / warm.dt)))
    warmup_s = time.perf_counter() - t0
    del warm
    rss_warm = peak_rss_mb()
    reset = reset_peak_rss()
    rss_base = peak_rss_mb()

    t0 = time.perf_counter()
    sc, lay = grid_scenario(size, seed=seed, window=window, depart_window=depart_window)
    t1 = time.perf_counter()
    runs = []
    for r in range(max(1, repeat)):
        t2 = time.perf_counter()
        sim = Simulation(sc, backend="cpu", threads=nthreads, parallel_min=parallel_min)
        t3 = time.perf_counter()
        n_steps = int(round(window / sim.dt))
        chunk_steps = max(1, int(round(chunk / sim.dt)))
        res = timed_loop(sim, n_steps, chunk_steps)
        res["simulation_init_s"] = t3 - t2
        cnt = sim.W.cnt
        res.update(inserted=int(cnt[C_INSERTED]), arrived=int(cnt[C_ARRIVED]), removed=int(cnt[C_REMOVED]),
                   teleports=int(cnt[C_TELE]), collisions=int(cnt[C_COLL]))
        runs.append(res)
        if r < repeat - 1:
            del sim
    best = min(runs, key=lambda x: x["loop_wall_s"])
    rss_loop = peak_rss_mb()
    n_trips = len(sim.trips)
    done, vsteps, wall = best["steps"], best["vehicle_steps"], best["loop_wall_s"]
    mean_running = vsteps / max(done, 1)
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "not initialised (no parallel region ran)"
    rec: dict[str, Any] = {
        "size": size_label(size), "n_vehicles_target": size, "threads_requested": threads,
        "threads": numba.get_num_threads(), "seed": seed,
        "layout": lay.as_dict(), "n_links": sim.cn.n_links, "n_lanes": sim.cn.n_lanes,
        "n_signals": len(sc.network.signals), "n_trips": n_trips,
        "window_s": window, "dt_s": sim.dt, "chunk_steps": chunk_steps,
        "warmup_s": warmup_s, "scenario_build_s": t1 - t0,
        "repeat": len(runs), "reported_run": runs.index(best),
        **{k: v for k, v in best.items() if k != "timeline"},
        "us_per_vehicle_update": wall / vsteps * 1e6 if vsteps else None,
        "mean_running": mean_running, "running_fraction": mean_running / max(n_trips, 1),
        "peak_running_sampled": max((c["running_at_end"] for c in best["timeline"]), default=0),
        "real_time_factor": done * sim.dt / wall if wall > 0 else 0.0,
        "all_runs_veh_updates_per_s": [x["veh_updates_per_s"] for x in runs],
        "all_runs_loop_wall_s": [x["loop_wall_s"] for x in runs],
        "memory": _memory(sim),
        "rss_mb": {"peak_at_start": rss0, "peak_after_warmup": rss_warm, "peak_reset_after_warmup": reset,
                   "after_reset": rss_base if reset else None, "peak_after_loop": rss_loop},
        "peak_rss_mb": rss_loop,
        "numba_threading_layer": layer,
        "engine_source_sha256": digest,
        "engine_source_changed_during_case": source_digest() != digest,
        "timeline": best["timeline"],
    }
    del sim
    if end_to_end:
        rec["end_to_end"] = run_end_to_end(sc, nthreads)
    return rec


def run_end_to_end(sc: Any, nthreads: int) -> dict[str, Any]:
    """``Simulation.run(out=...)`` with its default HDF5 output, timed from the call to the return."""
    from mobsim.engine import Simulation

    with tempfile.TemporaryDirectory(prefix="mobsim-bench-") as tmp:
        sim = Simulation(sc, backend="cpu", threads=nthreads)
        t0 = time.perf_counter()
        path = sim.run(out=Path(tmp) / "bench.h5", progress="none")
        wall = time.perf_counter() - t0
        size = path.stat().st_size
        health = sim._health(sim._steps, wall)
    return {"wall_s": wall, "loop_s": health["loop_time_s"], "compile_s": health["compile_time_s"],
            "steps": health["steps"], "vehicle_steps": health["vehicle_steps"],
            "veh_updates_per_s_loop": health["vehicle_updates_per_s"],
            "veh_updates_per_s_wall": health["vehicle_steps"] / wall if wall > 0 else 0.0,
            "real_time_factor": health["real_time_factor"], "output_bytes": size,
            "output_overhead_fraction": (wall - health["loop_time_s"]) / wall if wall > 0 else 0.0}


def worker_main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    rec = run_case(**spec)
    print(RESULT_TAG + json.dumps(rec), flush=True)
    return 0


# ------------------------------------------------------------------------------------------ driver


def run_isolated(spec: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.run_bench", "--worker", json.dumps(spec)]
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    raise RuntimeError(f"benchmark worker for {spec} failed (exit {proc.returncode}); "
                       f"its stdout ended with: {proc.stdout[-2000:]}")


def judge(rec: dict[str, Any], cores: int | None) -> dict[str, Any]:
    """Pass/fail of one case against the targets.

    The throughput target is defined at >= 100k vehicles; for smaller cases the verdict is only
    indicative (``applies`` false) and printed in parentheses.
    """
    rate_t, mem_t = TARGETS["veh_updates_per_s"], TARGETS["engine_bytes_per_vehicle"]
    rate_ok = rec["veh_updates_per_s"] >= rate_t["min"]
    mem_ok = rec["memory"]["engine_bytes_per_vehicle"] <= mem_t["max"]
    return {
        "veh_updates_per_s": {"pass": rate_ok, "applies": rec["n_vehicles_target"] >= rate_t["at_vehicles"],
                              "fraction_of_target": rec["veh_updates_per_s"] / rate_t["min"],
                              "machine_cores": cores},
        "engine_bytes_per_vehicle": {"pass": mem_ok, "applies": True},
        "vs_sumo_reference": rec["veh_updates_per_s"] / SUMO_REFERENCE["veh_updates_per_s"],
    }


def _verdict(v: dict[str, Any]) -> str:
    word = "PASS" if v["pass"] else "FAIL"
    return word if v["applies"] else f"({word.lower()})"


def format_table(cases: list[dict[str, Any]]) -> str:
    head = ["size", "threads", "vehicles", "lanes", "steps", "mean running", "running/trips",
            "veh-updates/s", "RTF", "wall s", "bytes/veh", "peak RSS MB", ">=10M upd/s", "<=1KB/veh"]
    rows = []
    for r in cases:
        j = r["targets"]
        rows.append([r["size"], str(r["threads"]), f"{r['n_trips']:,}", f"{r['n_lanes']:,}",
                     str(r["steps"]), f"{r['mean_running']:,.0f}", f"{r['running_fraction']:.2f}",
                     f"{r['veh_updates_per_s']:,.0f}", f"{r['real_time_factor']:.2f}",
                     f"{r['loop_wall_s']:.1f}", f"{r['memory']['engine_bytes_per_vehicle']:,.0f}",
                     f"{r['peak_rss_mb']:,.0f}", _verdict(j["veh_updates_per_s"]),
                     _verdict(j["engine_bytes_per_vehicle"])])
    return _markdown(head, rows)


def format_e2e(cases: list[dict[str, Any]]) -> str:
    head = ["size", "threads", "wall s", "loop s", "veh-updates/s (loop)", "veh-updates/s (wall)",
            "RTF", "output MB", "output overhead"]
    rows = []
    for r in cases:
        e = r.get("end_to_end")
        if not e:
            continue
        rows.append([r["size"], str(r["threads"]), f"{e['wall_s']:.1f}", f"{e['loop_s']:.1f}",
                     f"{e['veh_updates_per_s_loop']:,.0f}", f"{e['veh_updates_per_s_wall']:,.0f}",
                     f"{e['real_time_factor']:.2f}", f"{e['output_bytes'] / 1e6:.1f}",
                     f"{100 * e['output_overhead_fraction']:.0f}%"])
    return _markdown(head, rows) if rows else ""


def _markdown(head: list[str], rows: list[list[str]]) -> str:
    width = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(head)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, width, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in width) + "|"
    body = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, width, strict=True)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run_bench", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1k,10k",
                   help="target vehicle counts, comma-separated (default 1k,10k; e.g. 1k,10k,100k)")
    p.add_argument("--threads", default="all",
                   help="CPU thread counts to run, comma-separated, 'all' = every core (e.g. 1,all)")
    p.add_argument("--window", type=float, default=300.0, help="simulated seconds per case (300)")
    p.add_argument("--chunk", type=float, default=10.0,
                   help="simulated seconds per sim.step(n) call of the timed loop (10)")
    p.add_argument("--depart-window", type=float, default=90.0,
                   help="all trips depart in [0, this) s (90)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1,
                   help="timed runs per case, each on a fresh Simulation; the fastest is reported (1)")
    p.add_argument("--no-e2e", action="store_true", help="skip the end-to-end sim.run() at the smallest size")
    p.add_argument("--in-process", action="store_true",
                   help="run every case in this process (peak RSS is then cumulative)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON file (default bench/results/cpu_<host>_<UTC date-time>.json)")
    p.add_argument("--parallel-min", type=int, default=None,
                   help="run the engine's parallel loops from this many running vehicles on "
                        "(default: the engine's PARALLEL_MIN, i.e. serial; 0 forces them)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker_main(a.worker)
    try:
        sizes = [parse_size(s) for s in a.sizes.split(",") if s.strip()]
        threads = parse_threads(a.threads)
    except argparse.ArgumentTypeError as exc:
        p.error(str(exc))
    meta = machine_metadata()
    meta["loadavg_1min_at_start"] = _loadavg()
    git = git_info()
    sumo_avail = sumo_availability()
    if not sumo_avail["available"]:
        sumo_avail["note"] = ("eclipse-sumo is not installed (no sumo/sumolib module, no sumo binary): "
                              "the SUMO figure is the issue's quoted one")
    now = _dt.datetime.now(_dt.timezone.utc)
    cmdline = shlex.join([Path(sys.executable).name, "-m", "bench.run_bench",
                          *(sys.argv[1:] if argv is None else argv)])
    print(f"mobsim CPU benchmark: {meta['processor']}, {meta['cores_usable']} cores, "
          f"numba {meta['numba']}; sizes {', '.join(size_label(s) for s in sizes)}; "
          f"threads {', '.join(threads)}; window {a.window:g} s", flush=True)
    if (meta["loadavg_1min_at_start"] or 0.0) > 0.5:
        print(f"warning: 1-minute load average is {meta['loadavg_1min_at_start']:.2f}: other processes "
              "are using the CPU and will slow the measurement (recorded in the JSON)", flush=True)
    smallest = min(sizes)
    cases = []
    for n in sizes:
        for th in threads:
            spec = {"size": n, "threads": th, "seed": a.seed, "window": a.window, "chunk": a.chunk,
                    "depart_window": a.depart_window, "repeat": a.repeat, "parallel_min": a.parallel_min,
                    "end_to_end": (not a.no_e2e) and n == smallest and th == threads[-1]}
            t0 = time.perf_counter()
            rec = run_case(**spec) if a.in_process else run_isolated(spec)
            rec["targets"] = judge(rec, meta["cores_usable"])
            cases.append(rec)
            busy = rec["loop_cpu_s"] / max(rec["loop_wall_s"], 1e-9)
            print(f"  {rec['size']:>5} x {rec['threads']} thread(s): {rec['veh_updates_per_s']:,.0f} "
                  f"veh-updates/s, mean running {rec['mean_running']:,.0f} of {rec['n_trips']:,}, "
                  f"loop {rec['loop_wall_s']:.1f} s, {busy:.2f} cores busy, load "
                  f"{rec['loadavg_1min']['after_loop']:.2f} (case {time.perf_counter() - t0:.0f} s)",
                  flush=True)
    layer = next((c["numba_threading_layer"] for c in cases if "not" not in c["numba_threading_layer"]),
                 cases[0]["numba_threading_layer"] if cases else "")
    meta["numba_threading_layer"] = layer
    meta["loadavg_1min_at_end"] = _loadavg()
    result = {
        "schema": "mobsim-bench-cpu/1",
        "timestamp_utc": now.isoformat(timespec="seconds"),
        "command": cmdline,
        "cwd": str(Path.cwd()),
        "git": git,
        "machine": meta,
        "sumo": {"reference": SUMO_REFERENCE, "availability": sumo_avail},
        "targets": TARGETS,
        "definitions": {
            "veh_updates_per_s": "sum over steps of running vehicles advanced (engine counter "
                                 "W.cnt[C_VSTEPS]) / wall time of the sim.step loop",
            "real_time_factor": "simulated seconds / wall seconds of the step loop",
            "engine_bytes_per_vehicle": "(vehicle fields + lane fields + work arrays, from "
                                        "Simulation.memory_bytes()) / trips",
            "peak_rss_mb": "resource.getrusage(RUSAGE_SELF).ru_maxrss of the case's process after "
                           "the step loop(s); the peak is reset after the warm-up (Linux clear_refs) so "
                           "numba compilation is not counted; it includes the interpreter, numba and "
                           "mobsim imports (~170 MB)",
        },
        "settings": {"window_s": a.window, "chunk_s": a.chunk, "depart_window_s": a.depart_window,
                     "seed": a.seed, "repeat": a.repeat,
                     "isolated_processes": not a.in_process},
        "cases": cases,
    }
    digests = {c["engine_source_sha256"] for c in cases} | {result["git"]["engine_source_sha256"]}
    result["git"]["engine_source_changed_during_run"] = len(digests) > 1
    if len(digests) > 1:
        print("warning: the engine's source files changed while the benchmark ran; the cases "
              "measured different code (see engine_source_sha256 per case)", flush=True)
    table = format_table(cases)
    e2e = format_e2e(cases)
    print()
    print(table)
    if e2e:
        print("\nEnd-to-end sim.run(out=...) with HDF5 output:\n")
        print(e2e)
    sumo = result["sumo"]
    print(f"\nTargets (issue): {TARGETS['veh_updates_per_s']['text']}; "
          f"{TARGETS['engine_bytes_per_vehicle']['text']}. Verdicts in parentheses are indicative "
          "(the throughput target is defined at 100k vehicles).")
    print(f"Reference (quoted, not measured here): {SUMO_REFERENCE['name']} ~"
          f"{SUMO_REFERENCE['veh_updates_per_s'] / 1e6:.1f} million veh-updates/s "
          f"({SUMO_REFERENCE['model']}, {SUMO_REFERENCE['scenario']}). SUMO on this machine: "
          + ("available: python -m bench.vs_sumo races it on the same grids."
             if sumo["availability"]["available"] else "not installed."))
    out = a.out
    if out is None:
        host = re.sub(r"[^A-Za-z0-9.-]+", "-", meta["hostname"]) or "host"
        out = RESULTS / f"cpu_{host}_{now.strftime('%Y-%m-%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
