"""mobsim against Eclipse SUMO on the same scenarios, measured in the same run.

    python -m bench.vs_sumo                                  # default subset (< 10 min on 2 cores)
    python -m bench.vs_sumo --cases grid_1k,grid_10k,grid_100k,corridor,city --repeat 2
    python -m bench.vs_sumo --cases hour_grid,grid_10k --repeat 2 --threads 1

Each case is one mobsim scenario, written as a native scenario folder and exported for SUMO
(:mod:`mobsim.interop.sumo_export`: the same network, signal programs, IDM parameters with ``sigma = 0``
and ``stepping`` = the step, ballistic update, and mobsim's routes). Both simulators run as
separate processes, alternating (mobsim, SUMO, mobsim, SUMO, ... for ``--repeat``; where a usable
GPU is present, or with ``--cuda yes``, mobsim's CUDA backend runs too, as ``mobsim_cuda``, after
each SUMO run), and report:

* wall time of the whole process (load, routing or network reading, simulation, output);
* vehicle-updates per second of the simulation loop: SUMO's own ``UPS`` (``--duration-log.
  statistics``) and mobsim's ``vehicle_updates_per_s`` (vehicle-steps / wall time of the step
  loop, the KPI of the result file), and their ratio mobsim / SUMO;
* peak resident memory of the process (``wait4`` rusage);
* trips completed and mean travel time (SUMO's statistics; mobsim's KPIs).

For a case imported from a SUMO file (:data:`ORIGINAL_NET`) SUMO also runs that file as shipped,
as a reference row ``sumo_shipped`` (not in the ratios; it differs from the ``sumo`` row only
where the file has NEMA signals, which mobsim runs fixed-time).

A generated case (``grid_<n>``, ``corridor``) reaches SUMO through netconvert, which gives every
junction SUMO's own geometry: internal lanes of 9-21 m, turn speeds from the corner radii and
waiting positions inside the junction for left turns, where mobsim's generated network has
junctions of no length. ``--same-files`` adds a reference row ``mobsim_sumo_net``: mobsim running
the very files SUMO runs (``mobsim run x.sumocfg``), so that the junction model is the same on both
sides (not in the ratios, which compare the native scenario's loop).

Cases: ``grid_<n>`` (:func:`bench.scenarios.grid_scenario`: a signalised grid loaded with n
trips in 90 s, 300 s simulated; sizes 1k, 10k, 100k, 1m), ``corridor`` (three signals, 2 lanes,
700 veh/h eastbound, 900 s), ``city`` (SUMO's shipped OpenStreetMap network of the DRT demo,
740 car links, with 1,000 random trips over 900 s, 1,800 s simulated; SUMO runs the original
network file with its NEMA signals, if any, made fixed-time, as mobsim runs them; actuated and
delay-based ones run as such in both, see
:data:`ORIGINAL_NET`), ``hour_grid`` (speed where real cities live: an hour of
demand on an imported grid, see :func:`hour_grid_files`; both simulators run the very same SUMO
files, mobsim as ``mobsim run x.sumocfg``, so its end-to-end time includes the import of the
network and the routing of the trips; ``hour_grid_small`` is its 3 x 3 smoke-test variant).
Output: a table, JSON with
machine metadata in ``bench/results/``, and a scaling plot (vehicle-updates/s against vehicles,
one line per simulator).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_CASES = "grid_1k,grid_10k,corridor,city"


def _grid(n: int) -> Callable[[], Any]:
    def build() -> Any:
        from .scenarios import grid_scenario

        sc, _ = grid_scenario(n)
        return sc
    return build


def _corridor() -> Any:
    from .validate import _arterial

    sc = _arterial(700.0, True)
    sc.settings["output.fcd"] = False
    return sc


def _city() -> Any:
    from mobsim.interop.convert import random_trips
    from mobsim.interop.sumo_net import read_sumo_network
    from mobsim.scenario import scenario_from_objects

    net = read_sumo_network(_city_net())
    trips = random_trips(net, 1000, 900.0, seed=1)
    return scenario_from_objects(net, trips, settings={"sim.end": 1800.0}, name="city_drt")


def _city_net() -> Path:
    import sumo

    return Path(sumo.SUMO_HOME) / "tools" / "game" / "DRT" / "osm.net.xml"


#: Cases imported from a SUMO network: SUMO runs that very file (with mobsim's routes, whose edge
#: ids are SUMO's), not a re-export. A re-export keeps mobsim's link lengths, which already hold
#: the distance through the junctions, and netconvert then adds internal lanes on top: on the city,
#: SUMO's trips came out 20 % longer than on the original network (1,400 m against 1,166 m).
ORIGINAL_NET: dict[str, Callable[[], Path]] = {"city": _city_net}


def static_signals_copy(src: Path, dst: Path) -> Path:
    """``src`` with the traffic lights mobsim runs fixed-time (types other than static, actuated
    and delay_based, such as NEMA) made fixed-time (``type="static"``, their phase durations
    kept); actuated and delay-based ones stay, as mobsim runs those too: both simulators then run
    the same control."""
    text = src.read_text()
    text = re.sub(r'(<tlLogic\b[^>]*\btype=")(?!(?:static|actuated|delay_based)")([^"]*)(")', r"\1static\3",
                  text)
    dst.write_text(text)
    return dst


def _sumo_tool(name: str) -> str:
    import sumo

    b = Path(sumo.SUMO_HOME) / "bin" / name
    return str(b) if b.is_file() else name


def hour_grid_files(folder: Path, n: int = 14, trips: int = 10_000, depart_s: float = 3600.0,
                    end_s: float = 4500.0, step_s: float = 0.5, seed: int = 42) -> Path:
    """The hour-of-demand imported grid as SUMO files in ``folder``; returns the ``.sumocfg``.

    ``netgenerate --grid --grid.number n --grid.length 200 --default.lanenumber 2 --tls.guess true``
    (n x n junctions, 200 m blocks, 2 lanes each way, fixed-time signals where netgenerate guesses
    them: 192 of the 196 junctions of the default 14 x 14, all but the corners), and
    ``randomTrips.py --seed seed --validate`` with ``trips`` trips departing evenly over
    ``depart_s`` s (unrouted ``<trip>`` elements: each simulator routes them itself). The
    configuration runs until ``end_s`` (the hour and 15 minutes to clear) with ``step-length``
    ``step_s`` (mobsim's default step, set explicitly so that both run the same step; SUMO's own
    default is 1 s). No vType: both use SUMO's default passenger car (Krauss, ``sigma`` 0.5, speed
    deviation 0.1).
    """
    import sumo

    folder.mkdir(parents=True, exist_ok=True)
    net, rou, cfg = folder / "grid.net.xml", folder / "trips.trips.xml", folder / "hour.sumocfg"
    subprocess.run([_sumo_tool("netgenerate"), "--grid", "--grid.number", str(n), "--grid.length", "200",
                    "--default.lanenumber", "2", "--tls.guess", "true", "--seed", str(seed),
                    "-o", str(net)], check=True, capture_output=True, timeout=600)
    tool = Path(sumo.SUMO_HOME) / "tools" / "randomTrips.py"
    subprocess.run([sys.executable, str(tool), "-n", str(net), "-o", str(rou), "-b", "0",
                    "-e", repr(float(depart_s)), "-p", repr(depart_s / trips), "--seed", str(seed),
                    "--validate"], check=True, capture_output=True, timeout=600, cwd=folder)
    for extra in folder.glob("trips.trips.rou*"):  # --validate's intermediate route files
        extra.unlink()
    cfg.write_text(f"""<configuration>
    <input>
        <net-file value="{net.name}"/>
        <route-files value="{rou.name}"/>
    </input>
    <time>
        <begin value="0"/>
        <end value="{end_s!r}"/>
        <step-length value="{step_s!r}"/>
    </time>
</configuration>
""")
    return cfg


#: Cases given as SUMO files (a builder of the ``.sumocfg`` in a folder): both simulators run the
#: same files, mobsim through its SUMO import (``mobsim run x.sumocfg``).
SUMO_FILES: dict[str, Callable[[Path], Path]] = {
    "hour_grid": hour_grid_files,
    "hour_grid_small": lambda folder: hour_grid_files(folder, n=3, trips=100, depart_s=300.0,
                                                      end_s=600.0),
}


CASES: dict[str, Callable[[], Any]] = {
    "grid_1k": _grid(1_000), "grid_10k": _grid(10_000), "grid_100k": _grid(100_000),
    "grid_1m": _grid(1_000_000), "corridor": _corridor, "city": _city,
}


def _run(cmd: list[str], cwd: Path | None = None) -> tuple[str, float, float]:
    """(stdout + stderr, wall s, peak RSS MB) of a child process.

    The child runs with Python's default bytecode caching: where the environment sets
    ``PYTHONDONTWRITEBYTECODE`` (some CI and sandbox images do), every mobsim start would compile
    its modules from source again (0.15-0.2 s), which no installed copy does."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
                         env=env)
    out = p.stdout.read() if p.stdout else ""
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}):\n{out[-2000:]}")
    return out, wall, ru.ru_maxrss / 1024.0


def cuda_usable() -> tuple[bool, str]:
    """(True, "") when numba-cuda, cupy and a GPU are usable here, else (False, why not)."""
    try:
        from mobsim.backends.cuda import gpu_status

        return gpu_status()
    except Exception as exc:  # noqa: BLE001 - any failure to probe means no CUDA run
        return False, f"{type(exc).__name__}: {exc}"


#: ``mobsim run --threads`` for the CPU backend (None: mobsim's default, every core); set by ``--threads``.
THREADS: int | None = None


def run_mobsim(folder: Path, out: Path, backend: str = "cpu") -> dict[str, Any]:
    """``mobsim run`` of a scenario folder or a ``.sumocfg`` as a separate process."""
    import mobsim

    threads = ["--threads", str(THREADS)] if THREADS and backend == "cpu" else []
    _, wall, rss = _run([sys.executable, "-m", "mobsim", "run", str(folder), "--out", str(out),
                         "--progress", "none", "--backend", backend, *threads])
    res = mobsim.open(out)
    k, h = res.kpis(), res.health
    return {"wall_s": wall, "peak_rss_mb": rss, "veh_updates_per_s": float(h["vehicle_updates_per_s"]),
            "loop_s": float(h["loop_time_s"]), "threads": int(h.get("threads", 1)),
            "trips_completed": int(k["trips_completed"]),
            "mean_travel_time_s": float(k["mean_travel_time_s"])}


def run_sumo(cfg: Path) -> dict[str, Any]:
    from .validate import _sumo_binary

    text, wall, rss = _run([_sumo_binary(), "-c", str(cfg), "--no-step-log", "--no-warnings",
                            "--duration-log.statistics"])

    def grab(label: str) -> float:
        m = re.search(rf"{label}:\s*([0-9.eE+-]+)", text)
        return float(m.group(1)) if m else float("nan")

    m = re.search(r"Statistics \(avg of (\d+)\)", text)
    return {"wall_s": wall, "peak_rss_mb": rss, "veh_updates_per_s": grab("UPS"),
            "loop_s": grab("Duration"), "trips_completed": int(m.group(1)) if m else 0,
            "mean_travel_time_s": _mean_duration(text)}


def _mean_duration(text: str) -> float:
    """SUMO's "Statistics (avg of N)" block: the mean trip Duration (s)."""
    block = text.split("Statistics (avg of", 1)
    if len(block) < 2:
        return float("nan")
    m = re.search(r"Duration:\s*([0-9.eE+-]+)", block[1])
    return float(m.group(1)) if m else float("nan")


def run_sumo_files_case(name: str, repeat: int, workdir: Path, cuda: bool = False) -> dict[str, Any]:
    """A :data:`SUMO_FILES` case: the files built once, then SUMO (``sumo -c``) and mobsim
    (``mobsim run`` of the same ``.sumocfg``) alternately, ``repeat`` times.

    Each mobsim run reads a fresh copy of the files (same bytes, another path), so that its import
    is a first import, not a load from mobsim's network cache: its wall time is end to end (Python
    start, network import, routing of every trip, the loop, the result file)."""
    import shutil

    from mobsim.interop.sumo_net import read_sumo_network

    t0 = time.perf_counter()
    cfg = SUMO_FILES[name](workdir / "sumo")
    prep = time.perf_counter() - t0
    net = read_sumo_network(cfg.parent / "grid.net.xml", cache=False)
    text = (cfg.parent / "trips.trips.xml").read_text()
    n_trips = len(re.findall(r"<trip\b", text))
    end = float(re.search(r'<end value="([^"]+)"', cfg.read_text()).group(1))  # type: ignore[union-attr]
    sims = ["mobsim", "sumo"] + (["mobsim_cuda"] if cuda else [])
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in sims}

    def fresh(tag: str) -> Path:
        dst = workdir / tag
        shutil.copytree(cfg.parent, dst)
        return dst / cfg.name

    for r in range(repeat):
        runs["mobsim"].append(run_mobsim(fresh(f"mobsim_{r}"), workdir / f"mobsim_{r}.h5"))
        runs["sumo"].append(run_sumo(cfg))
        if cuda:
            runs["mobsim_cuda"].append(run_mobsim(fresh(f"mobsim_cuda_{r}"), workdir / f"mobsim_cuda_{r}.h5",
                                                  "cuda"))
    return _record(name, n_trips, len(net.links), sum(lk.lanes for lk in net.links), end, prep, runs, cuda)


def _record(name: str, vehicles: int, links: int, lanes: int, simulated_s: float, prep: float,
            runs: dict[str, list[dict[str, Any]]], cuda: bool) -> dict[str, Any]:
    best = {k: max(v, key=lambda x: x["veh_updates_per_s"]) for k, v in runs.items()}
    sumo_ups = best["sumo"]["veh_updates_per_s"]
    rec = {"case": name, "vehicles": vehicles, "links": links, "lanes": lanes, "simulated_s": simulated_s,
           "preparation_s": prep, "best": best, "runs": runs,
           "speed_ratio": best["mobsim"]["veh_updates_per_s"] / sumo_ups,
           "wall_ratio": best["sumo"]["wall_s"] / best["mobsim"]["wall_s"]}
    if cuda:
        rec["speed_ratio_cuda"] = best["mobsim_cuda"]["veh_updates_per_s"] / sumo_ups
        rec["wall_ratio_cuda"] = best["sumo"]["wall_s"] / best["mobsim_cuda"]["wall_s"]
    return rec


#: Rows shown for reference, outside the ratios.
REFERENCE_ROWS = ("mobsim_sumo_net", "sumo_shipped")
#: Add the ``mobsim_sumo_net`` row (mobsim on the files SUMO runs); set by ``--same-files``.
SAME_FILES = False


def run_case(name: str, repeat: int, workdir: Path, cuda: bool = False) -> dict[str, Any]:
    """Build case ``name``, write it for both simulators, run them alternately ``repeat`` times
    (with ``cuda``, mobsim's CUDA backend too, as ``mobsim_cuda``; with :data:`SAME_FILES`,
    mobsim on SUMO's files too, as ``mobsim_sumo_net``)."""
    if name in SUMO_FILES:
        return run_sumo_files_case(name, repeat, workdir, cuda)
    from mobsim.interop.convert import write_native
    from mobsim.interop.sumo_export import export_scenario

    t0 = time.perf_counter()
    sc = CASES[name]()
    folder = write_native(sc, workdir / "mobsim").parent
    cfg = export_scenario(sc, workdir / "sumo")
    shipped = None
    if name in ORIGINAL_NET:
        net = static_signals_copy(ORIGINAL_NET[name](), cfg.parent / "original_static.net.xml")
        text, n = re.subn(r'<net-file value="[^"]*"/>', f'<net-file value="{net.name}"/>', cfg.read_text())
        assert n == 1, "the exported configuration has no net-file"
        cfg.write_text(text)
        # For reference, not for the ratios: SUMO on the file as shipped.
        shipped = cfg.with_name(cfg.stem + "_shipped.sumocfg")
        shipped.write_text(text.replace(f'<net-file value="{net.name}"/>',
                                        f'<net-file value="{ORIGINAL_NET[name]()}"/>'))
    prep = time.perf_counter() - t0
    runs: dict[str, list[dict[str, Any]]] = {"mobsim": [], "sumo": []}
    if cuda:
        runs["mobsim_cuda"] = []
    if shipped is not None:
        runs["sumo_shipped"] = []
    if SAME_FILES:
        runs["mobsim_sumo_net"] = []
    for r in range(repeat):
        runs["mobsim"].append(run_mobsim(folder, workdir / f"mobsim_{r}.h5"))
        runs["sumo"].append(run_sumo(cfg))
        if cuda:
            runs["mobsim_cuda"].append(run_mobsim(folder, workdir / f"mobsim_cuda_{r}.h5", "cuda"))
        if shipped is not None:
            runs["sumo_shipped"].append(run_sumo(shipped))
        if SAME_FILES:
            runs["mobsim_sumo_net"].append(run_mobsim(cfg, workdir / f"mobsim_sumo_net_{r}.h5"))
    return _record(name, len(sc.trips), len(sc.network.links), sum(lk.lanes for lk in sc.network.links),
                   sc.settings["sim.end"], prep, runs, cuda)


def format_table(results: list[dict[str, Any]]) -> str:
    head = ["case", "vehicles", "lanes", "simulator", "wall s", "loop s", "veh-updates/s", "peak RSS MB",
            "completed", "mean travel time s", "mobsim/SUMO updates", "SUMO/mobsim wall"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in results:
        for sim in ("mobsim", "mobsim_cuda", "mobsim_sumo_net", "sumo", "sumo_shipped"):
            if sim not in r["best"]:
                continue
            b = r["best"][sim]
            suffix = "_cuda" if sim == "mobsim_cuda" else ""
            extra = (["", ""] if sim in REFERENCE_ROWS or sim.startswith("sumo") else
                     [f"{r['speed_ratio' + suffix]:.1f}x", f"{r['wall_ratio' + suffix]:.1f}x"])
            lines.append(f"| {r['case']} | {r['vehicles']:,} | {r['lanes']:,} | {sim} | {b['wall_s']:.1f} | "
                         f"{b.get('loop_s', float('nan')):.1f} | "
                         f"{b['veh_updates_per_s']:,.0f} | {b['peak_rss_mb']:.0f} | "
                         f"{b['trips_completed']:,} | {b['mean_travel_time_s']:.1f} | "
                         + " | ".join(extra) + " |")
    return "\n".join(lines)


def scaling_plot(results: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colors = {"mobsim": "tab:blue", "mobsim_cuda": "tab:green", "sumo": "tab:orange"}
    labels = {"mobsim": "mobsim (CPU)", "mobsim_cuda": "mobsim (CUDA)", "sumo": "SUMO"}
    line = {"mobsim": "o-", "mobsim_cuda": "v-", "sumo": "s--"}
    point = {"mobsim": "D", "mobsim_cuda": "v", "sumo": "^"}
    for sim in ("mobsim", "mobsim_cuda", "sumo"):
        mine = [r for r in results if sim in r["best"]]
        if not mine:
            continue
        # The grid sizes make the scaling line; other cases are single, labelled points.
        grid = sorted((r["vehicles"], r["best"][sim]["veh_updates_per_s"]) for r in mine
                      if r["case"].startswith("grid_"))
        if grid:
            ax.plot([p[0] for p in grid], [p[1] for p in grid], line[sim], color=colors[sim],
                    label=f"{labels[sim]}, grid")
        first = True
        for r in mine:
            if not r["case"].startswith("grid_"):
                y = r["best"][sim]["veh_updates_per_s"]
                ax.plot([r["vehicles"]], [y], point[sim], color=colors[sim],
                        label=labels[sim] if first else None)
                first = False
                ax.annotate(r["case"], (r["vehicles"], y), textcoords="offset points", xytext=(5, 3),
                            fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("vehicles (trips) in the scenario")
    ax.set_ylabel("vehicle-updates per second")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=DEFAULT_CASES,
                   help=f"comma-separated, from {', '.join([*CASES, *SUMO_FILES])}")
    p.add_argument("--repeat", type=int, default=1, help="alternating runs per simulator (best reported)")
    p.add_argument("--cuda", choices=("auto", "yes", "no"), default="auto",
                   help="also run mobsim's CUDA backend: auto = where a usable GPU is present")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads of mobsim's CPU backend (0 = mobsim's default, all cores); 1 on a "
                        "machine shared with other work, where a parallel step waits for a busy core")
    p.add_argument("--same-files", action="store_true",
                   help="also run mobsim on the files SUMO runs (reference row mobsim_sumo_net: SUMO's "
                        "junction geometry on both sides)")
    p.add_argument("--keep", type=Path, help="keep the scenario files and outputs here")
    p.add_argument("--out", type=Path, help="JSON file (default bench/results/vs_sumo_<host>_<time>.json)")
    a = p.parse_args(argv)
    names = [c.strip() for c in a.cases.split(",") if c.strip()]
    bad = [n for n in names if n not in CASES and n not in SUMO_FILES]
    if bad:
        print(f"unknown case(s) {bad}; use {', '.join([*CASES, *SUMO_FILES])}", file=sys.stderr)
        return 2
    usable, why = cuda_usable() if a.cuda != "no" else (False, "--cuda no")
    if a.cuda == "yes" and not usable:
        print(f"--cuda yes: mobsim's CUDA backend cannot run here ({why})", file=sys.stderr)
        return 2
    cuda = usable
    global THREADS, SAME_FILES
    THREADS = a.threads or None
    SAME_FILES = bool(a.same_files)
    print(f"mobsim CUDA backend: {'runs too' if cuda else 'not run (' + why + ')'}", file=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = a.keep or Path(tmp)
        for n in names:
            print(f"{n} ...", file=sys.stderr, flush=True)
            results.append(run_case(n, a.repeat, base / n, cuda=cuda))
            b = results[-1]["best"]
            gpu = ""
            if cuda:
                gpu = (f", CUDA {b['mobsim_cuda']['veh_updates_per_s']:,.0f} "
                       f"({results[-1]['speed_ratio_cuda']:.1f}x)")
            print(f"  mobsim {b['mobsim']['veh_updates_per_s']:,.0f} veh-updates/s, SUMO "
                  f"{b['sumo']['veh_updates_per_s']:,.0f} UPS: {results[-1]['speed_ratio']:.1f}x{gpu}",
                  file=sys.stderr, flush=True)
    print(format_table(results))
    now = _dt.datetime.now(_dt.timezone.utc)
    stem = f"vs_sumo_{socket.gethostname()}_{now.strftime('%Y-%m-%dT%H%M%SZ')}"
    out = a.out or RESULTS / f"{stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    png = scaling_plot(results, out.with_suffix(".png"))
    from .run_bench import git_info, machine_metadata

    meta = {"created": now.isoformat(), "machine": machine_metadata(), "git": git_info(),
            "platform": platform.platform(), "args": {k: str(v) for k, v in vars(a).items()},
            "cuda": {"run": cuda, "why_not": "" if cuda else why}}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    print(f"wrote {out} and {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
