"""Real scenarios over several random seeds, in SUMO and in mobsim: means and ranges.

    python -m bench.seed_spread --only rt_A10KW --seeds 5          # one case, seeds 1..5
    python -m bench.seed_spread --only rt_A10KW --only ramp --seeds 8 --out spread.json

A jammed network is chaotic: one vehicle's dawdle or departure lane decides whether a queue
spills back over a junction, and the teleport count of one run moves by several percent with
the seed alone, in SUMO as in mobsim. ``bench.real_scenarios`` runs one seed per simulator;
this runs seeds ``1..N`` in both (SUMO's ``--seed``, mobsim's ``--seed``) on the same files (the
cases of :mod:`bench.real_scenarios`: shipped configurations, ``highway_green`` and the random
trips ``rt_<net>``, whose trips are drawn once with randomTrips' seed 42) and prints, per case
and simulator, the mean and range of completed trips, teleports and mean travel time. The
comparison "at least as many trips completed, no more teleports than SUMO" is then made
between means, with each simulator's own spread beside it.

Output: a markdown table on stdout and JSON in ``bench/results/seed_spread_<host>_<time>.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.real_scenarios import all_cases, case_cfg, run_mobsim, run_sumo

METRICS = ("completed", "teleports", "mean_travel_time_s")


def spread(values: list[float]) -> dict[str, float]:
    """Mean, min and max of the finite values (NaN when none)."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not xs:
        return {"mean": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {"mean": sum(xs) / len(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def run_spread(name: str, seeds: int, workdir: Path, n_trips: int = 800,
               timeout: float = 600.0) -> dict[str, Any]:
    """Case ``name`` with seeds 1..``seeds`` in both simulators: the runs and their spreads."""
    cfg = case_cfg(name, workdir, n_trips)
    runs: dict[str, list[dict[str, Any]]] = {"sumo": [], "mobsim": []}
    for seed in range(1, seeds + 1):
        runs["sumo"].append(run_sumo(cfg, workdir / name / f"sumo_{seed}", timeout, seed=seed))
        runs["mobsim"].append(run_mobsim(cfg, workdir / name / f"mobsim_{seed}", timeout, seed=seed))
    out: dict[str, Any] = {"case": name, "cfg": str(cfg), "seeds": seeds, "runs": runs}
    for sim, rs in runs.items():
        ok = [r for r in rs if r.get("status") == "ok"]
        out[sim] = {m: spread([r[m] for r in ok]) for m in METRICS}
        out[sim]["failed"] = len(rs) - len(ok)
    return out


def _cell(s: dict[str, float], fmt: str) -> str:
    if not s["n"]:
        return "-"
    return f"{fmt.format(s['mean'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"


def format_table(results: list[dict[str, Any]]) -> str:
    head = ["case", "seeds", "simulator", "completed", "teleports", "mean TT s", "failed runs"]
    lines = ["| " + " | ".join(head) + " |", "|---|---:|---|---:|---:|---:|---:|"]
    for r in results:
        for sim in ("sumo", "mobsim"):
            x = r[sim]
            cells = [_cell(x[m], "{:,.1f}") for m in METRICS]
            lines.append(f"| {r['case']} | {r['seeds']} | {sim} | {' | '.join(cells)} | {x['failed']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", default=[], metavar="NAME", required=True,
                   help="case (repeatable): " + ", ".join(all_cases()))
    p.add_argument("--seeds", type=int, default=5, help="seeds 1..N in each simulator (default 5)")
    p.add_argument("--random-trips", type=int, default=800, metavar="N",
                   help="random trips per real network before validation (default 800)")
    p.add_argument("--timeout", type=float, default=600.0, help="time limit per run, s (default 600)")
    p.add_argument("--keep", type=Path, help="keep the written files and the outputs here")
    p.add_argument("--out", type=Path,
                   help="JSON file (default bench/results/seed_spread_<host>_<time>.json)")
    a = p.parse_args(argv)
    bad = [n for n in a.only if n not in all_cases()]
    if bad or a.seeds < 1:
        print(f"unknown case(s) {bad} or --seeds < 1; cases: {', '.join(all_cases())}", file=sys.stderr)
        return 2
    work = a.keep or Path(tempfile.mkdtemp(prefix="seed_spread_"))
    results = []
    for name in a.only:
        print(f"{name}: seeds 1..{a.seeds} ...", file=sys.stderr, flush=True)
        results.append(run_spread(name, a.seeds, work, a.random_trips, a.timeout))
    print(format_table(results))
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    host = platform.node() or "host"
    out = a.out or Path(__file__).parent / "results" / f"seed_spread_{host}_{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"host": platform.node(), "python": sys.version.split()[0], "time_utc": stamp,
            "argv": sys.argv[1:]}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=float))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
