"""The on-demand (DRT) benchmark: a taxi fleet with SUMO's greedy dispatch on a signalised grid,
run by SUMO from one ``.sumocfg``, and by mobsim from the same file (``mobsim run x.sumocfg``, its
SUMO import: :mod:`mobsim.interop.sumo_taxi`).

    python -m bench.drt_bench                                  # smoke and f50_r1000, SUMO only
    python -m bench.drt_bench --cases f50_r1000,f500_r10000 --timeout 300
    python -m bench.drt_bench --cases smoke --mobsim --keep /tmp/drt   # mobsim too, files kept

A case (:func:`build_case`): ``netgenerate --grid --grid.number 10 --grid.length 200
--default.lanenumber 2 --tls.guess true`` (10 x 10 junctions 200 m apart, two lanes each way,
fixed-time signals where netgenerate guesses them); background cars at 2,000/h for the whole run
(``randomTrips.py --validate``, unrouted trips that each simulator routes itself); a fleet of
``N`` taxis (vClass taxi, SUMO's 4 seats, the taxi device by vType parameter) departing at 0 s
from depots spread evenly over the edges (several per edge once the fleet outnumbers the 360
edges); ``R`` requests per hour for the first hour, persons who ``<ride lines="taxi">`` between
two distinct edges drawn from a seeded stream, at uniformly drawn times; 1.5 h simulated (the
last half hour drains the queue) with a 1 s step (SUMO's default); ``device.taxi.dispatch-algorithm
greedy`` every 60 s (SUMO's default period, written out).

Cases (:data:`CASES`): ``f<N>_r<R>`` for fleets of 50, 150, 500 and 1,500 at 1,000 and 10,000
requests per hour, and ``smoke`` (3 x 3 grid, 3 taxis, 10 requests in the first 300 s, 60 cars/h,
600 s).

Reported per ride (SUMO: :func:`sumo_rides`, from the ``<personinfo>`` elements of
``--tripinfo-output`` with ``--tripinfo-output.write-unfinished``): the request time (the
person's ``depart``: the ride is its first stage), the pick-up (the ride's ``depart``, when the
person boards), the drop-off (its ``arrival``) and the status (``served``, ``riding`` at the end,
``waiting`` at the end). Per case (:func:`summarise`): the share of requests served, the mean wait
(pick-up - request) and mean ride (drop-off - pick-up) of the served ones, s; the simulator's
wall time, s; SUMO's own loop time and vehicle updates per second (``--duration-log.statistics``).

The mobsim side (:func:`run_mobsim`) reads the run's ``/drt/requests`` table (request id,
``time``, ``pickup``, ``dropoff``, ``status``); where the result file has no such table
the mobsim side is skipped with the reason.
Output: a table, and JSON in ``bench/results/`` (``drt_bench_<host>_<time>.json``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_CASES = "smoke,f50_r1000"


@dataclass(frozen=True)
class Case:
    """One benchmark case: grid size (junctions per side), taxis, requests per hour over
    ``demand_s`` s, background cars per hour over the whole run, simulated time ``end_s`` s."""

    grid: int = 10
    fleet: int = 50
    per_hour: float = 1000.0
    demand_s: float = 3600.0
    background_per_hour: float = 2000.0
    end_s: float = 5400.0
    step_s: float = 1.0
    seed: int = 42


CASES: dict[str, Case] = {
    f"f{n}_r{r}": Case(fleet=n, per_hour=float(r)) for r in (1000, 10_000) for n in (50, 150, 500, 1500)
}
CASES["smoke"] = Case(grid=3, fleet=3, per_hour=120.0, demand_s=300.0, background_per_hour=60.0, end_s=600.0)


def _tool(name: str) -> str:
    from mobsim.interop.convert import sumo_tool

    return sumo_tool(name)


def build_case(folder: Path, case: Case, name: str = "drt") -> Path:
    """The SUMO files of ``case`` in ``folder`` (module docstring); returns the ``.sumocfg``."""
    import sumo

    folder.mkdir(parents=True, exist_ok=True)
    net, bg = folder / "grid.net.xml", folder / "background.trips.xml"
    taxis, persons, cfg = folder / "taxis.rou.xml", folder / "persons.rou.xml", folder / f"{name}.sumocfg"
    subprocess.run([_tool("netgenerate"), "--grid", "--grid.number", str(case.grid), "--grid.length", "200",
                    "--default.lanenumber", "2", "--tls.guess", "true", "--seed", str(case.seed),
                    "-o", str(net)], check=True, capture_output=True, timeout=600)
    tool = Path(sumo.SUMO_HOME) / "tools" / "randomTrips.py"
    subprocess.run([sys.executable, str(tool), "-n", str(net), "-o", str(bg), "-b", "0",
                    "-e", repr(float(case.end_s)), "-p", repr(3600.0 / case.background_per_hour),
                    "--seed", str(case.seed), "--prefix", "bg", "--validate"],
                   check=True, capture_output=True, timeout=600, cwd=folder)
    for extra in folder.glob("background.trips.rou*"):  # --validate's intermediate route files
        extra.unlink()
    edges = _edges(net)
    rng = np.random.default_rng(case.seed)
    lines = ['<routes>',
             '    <vType id="taxi" vClass="taxi">',
             '        <param key="has.taxi.device" value="true"/>',
             '    </vType>']
    for k in range(case.fleet):
        depot = edges[k * len(edges) // case.fleet]
        lines.append(f'    <trip id="taxi{k}" type="taxi" depart="0" from="{depot}" to="{depot}" '
                     'departPos="random"/>')
    taxis.write_text("\n".join(lines + ["</routes>", ""]))
    n = int(round(case.per_hour * case.demand_s / 3600.0))
    times = np.sort(rng.uniform(0.0, case.demand_s, n))
    lines = ["<routes>"]
    for k, t in enumerate(times):
        o, d = rng.choice(len(edges), 2, replace=False)
        lines.append(f'    <person id="p{k}" depart="{t:.2f}"><ride from="{edges[o]}" to="{edges[d]}" '
                     'lines="taxi"/></person>')
    persons.write_text("\n".join(lines + ["</routes>", ""]))
    cfg.write_text(f"""<configuration>
    <input>
        <net-file value="{net.name}"/>
        <route-files value="{taxis.name},{persons.name},{bg.name}"/>
    </input>
    <time>
        <begin value="0"/>
        <end value="{case.end_s!r}"/>
        <step-length value="{case.step_s!r}"/>
    </time>
    <taxi_device>
        <device.taxi.dispatch-algorithm value="greedy"/>
        <device.taxi.dispatch-period value="60"/>
    </taxi_device>
</configuration>
""")
    return cfg


def _edges(net: Path) -> list[str]:
    """The ids of the network's normal edges (no internal ones), sorted."""
    out = [e.get("id") for e in ET.parse(net).getroot().iter("edge") if e.get("function") is None]
    return sorted(str(e) for e in out)


# ------------------------------------------------------------------------------------ SUMO


def sumo_rides(tripinfo: Path) -> list[dict[str, Any]]:
    """Per taxi ride of SUMO's tripinfo output: ``id``, ``t_request``, ``t_pickup``,
    ``t_dropoff`` (s; NaN where it did not happen) and ``status`` (module docstring)."""
    rows = []
    for p in ET.parse(tripinfo).getroot().iter("personinfo"):
        ride = p.find("ride")
        if ride is None:
            continue
        pick, drop = float(ride.get("depart", "-1")), float(ride.get("arrival", "-1"))
        pick = pick if pick >= 0 else math.nan
        drop = drop if drop >= 0 else math.nan
        status = "served" if drop == drop else ("riding" if pick == pick else "waiting")
        rows.append({"id": p.get("id"), "t_request": float(p.get("depart", "nan")), "t_pickup": pick,
                     "t_dropoff": drop, "status": status})
    return rows


def summarise(rows: list[dict[str, Any]], requested: int | None = None) -> dict[str, Any]:
    """Served share, mean wait and mean ride (s) of the served rides; ``requested`` (default: the
    rows) is the number of requests the shares count against."""
    n = len(rows) if requested is None else requested
    req = np.array([r["t_request"] for r in rows], float)
    pick = np.array([r["t_pickup"] for r in rows], float)
    drop = np.array([r["t_dropoff"] for r in rows], float)
    served = np.isfinite(drop) & np.isfinite(pick)
    return {"requests": n, "served": int(served.sum()),
            "served_share": float(served.sum() / n) if n else math.nan,
            "mean_wait_s": float((pick - req)[served].mean()) if served.any() else math.nan,
            "mean_ride_s": float((drop - pick)[served].mean()) if served.any() else math.nan,
            "picked_up": int(np.isfinite(pick).sum())}


def run_sumo(cfg: Path, timeout_s: float | None = None) -> dict[str, Any]:
    """``sumo -c cfg`` with the tripinfo output (unfinished persons too) and the duration log;
    the ride summary, wall time (s) and SUMO's statistics. On ``timeout_s`` the run is killed
    and ``timed_out`` is True."""
    info = cfg.parent / "sumo_tripinfo.xml"
    cmd = [_tool("sumo"), "-c", str(cfg), "--tripinfo-output", str(info),
           "--tripinfo-output.write-unfinished", "true", "--duration-log.statistics", "true",
           "--no-step-log", "true", "--no-warnings", "true"]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=cfg.parent)
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "wall_s": time.perf_counter() - t0, "timeout_s": timeout_s}
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"SUMO failed ({r.returncode}): {r.stderr[-2000:]}")
    text = r.stdout + r.stderr
    rows = sumo_rides(info)
    return {"timed_out": False, "wall_s": wall, **summarise(rows), **sumo_statistics(text)}


def sumo_statistics(text: str) -> dict[str, float]:
    """From SUMO's ``--duration-log.statistics`` report: the loop's duration (s), vehicle updates
    per second, vehicles inserted and the vehicles' mean trip duration (s; its "Statistics"
    block: the taxis count too where unfinished trips are written)."""
    def grab(pattern: str) -> float:
        m = re.search(pattern, text, re.S)
        return float(m.group(1)) if m else math.nan

    return {"loop_s": grab(r"Performance:\s*Duration:\s*([0-9.eE+-]+)s"),
            "veh_updates_per_s": grab(r"UPS:\s*([0-9.eE+-]+)"),
            "vehicles_inserted": grab(r"Vehicles:\s*Inserted:\s*(\d+)"),
            "mean_trip_duration_s": grab(r"Statistics \(avg of \d+\):.*?Duration:\s*([0-9.eE+-]+)")}


# ---------------------------------------------------------------------------------- mobsim


# The mobsim side: /drt/requests (mobsim.modes.drt.schema) read into the rows SUMO's side gives.
def run_mobsim(case_dir: Path, timeout_s: float | None = None) -> dict[str, Any]:
    """``mobsim run <case>.sumocfg`` in a subprocess, then the ride summary of its ``/drt/requests``
    table; ``{"skipped": reason}`` where the run fails or the table is missing."""
    cfgs = sorted(Path(case_dir).glob("*.sumocfg"))
    if len(cfgs) != 1:
        return {"skipped": f"{case_dir} holds {len(cfgs)} .sumocfg files, not one"}
    out = Path(case_dir) / "mobsim.h5"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [sys.executable, "-m", "mobsim", "run", str(cfgs[0]), "--out", str(out), "--progress", "none"]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=case_dir, env=env)
    except subprocess.TimeoutExpired:
        return {"skipped": f"mobsim ran past {timeout_s} s", "timed_out": True}
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        return {"skipped": f"mobsim run failed ({r.returncode}): {(r.stderr or r.stdout)[-600:]}"}
    rows = mobsim_rides(out)
    if rows is None:
        return {"skipped": "the result file has no /drt/requests table", "wall_s": wall}
    import mobsim

    k = mobsim.open(out).kpis()
    return {"wall_s": wall, **summarise(rows), "loop_s": float(k.get("wall_time_s", math.nan)),
            "veh_updates_per_s": float(k.get("vehicle_updates_per_s", math.nan)),
            "dispatch_ms_per_request": float(k.get("drt_dispatch_ms_per_request", math.nan))}


def mobsim_rides(path: Path) -> list[dict[str, Any]] | None:
    """The rows of a result file's ``/drt/requests`` table as :func:`sumo_rides` gives them (the
    request time, the halts at the pick-up and the drop-off); None without the table."""
    import mobsim

    res = mobsim.open(path)
    if not res.has("drt/requests"):
        return None
    rq = res.table("drt/requests")
    names = {4: "served", 3: "riding", 2: "waiting", 1: "waiting", 5: "rejected", 0: "not requested"}
    return [{"id": str(r.id), "t_request": float(r.time), "t_pickup": float(r.pickup),
             "t_dropoff": float(r.dropoff), "status": names.get(int(r.status), "?")}
            for r in rq.itertuples(index=False)]


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


# ------------------------------------------------------------------------------------ runs


def run_case(name: str, workdir: Path, mobsim: bool = False,
             timeout_s: float | None = None) -> dict[str, Any]:
    """Build case ``name`` in ``workdir/name``, run SUMO (and mobsim); the results side by side."""
    case = CASES[name]
    folder = workdir / name
    t0 = time.perf_counter()
    cfg = build_case(folder, case, name)
    out: dict[str, Any] = {"case": name, "fleet": case.fleet, "per_hour": case.per_hour,
                           "build_s": time.perf_counter() - t0, "sumocfg": str(cfg),
                           "sumo": run_sumo(cfg, timeout_s)}
    if mobsim:
        out["mobsim"] = run_mobsim(folder, timeout_s)
    return out


def _row(name: str, who: str, r: dict[str, Any]) -> str:
    if r.get("timed_out") and who == "sumo":
        return f"| {name} | {who} | stopped after {r['wall_s']:.0f} s | | | | | |"
    if "skipped" in r:
        return f"| {name} | {who} | skipped: {r['skipped'][:80]} | | | | | |"
    return (f"| {name} | {who} | {r['requests']:,} | {r['served_share']:.1%} | {r['mean_wait_s']:.1f} | "
            f"{r['mean_ride_s']:.1f} | {r['wall_s']:.1f} | {r.get('veh_updates_per_s', math.nan):,.0f} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=DEFAULT_CASES, help=f"comma-separated, of: {', '.join(CASES)}")
    p.add_argument("--mobsim", action="store_true", help="run mobsim on the same files too")
    p.add_argument("--timeout", type=float, default=None, help="stop a simulator run after this many s")
    p.add_argument("--keep", type=Path, help="keep the cases' files here")
    p.add_argument("--out", type=Path, help="JSON file (default bench/results/drt_bench_<host>_<time>.json)")
    a = p.parse_args(argv)
    names = [c for c in a.cases.split(",") if c]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    results = []
    print("| case | simulator | requests | served | mean wait s | mean ride s | wall s | UPS |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            r = run_case(name, a.keep or Path(tmp), a.mobsim, a.timeout)
            results.append(r)
            print(_row(name, "sumo", r["sumo"]), flush=True)
            if "mobsim" in r:
                print(_row(name, "mobsim", r["mobsim"]), flush=True)
    now = _dt.datetime.now(_dt.timezone.utc)
    path = a.out or RESULTS / f"drt_bench_{socket.gethostname()}_{now.strftime('%Y-%m-%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"created": now.isoformat(), "host": socket.gethostname(),
                                "platform": platform.platform(), "cpus": os.cpu_count(),
                                "args": {k: str(v) for k, v in vars(a).items()}, "cases": results},
                               indent=1, default=float))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
