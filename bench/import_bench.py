"""How long a SUMO city network takes to import: mobsim against SUMO's own loader, same files.

    python -m bench.import_bench                         # grids of 10x10, 50x50 and 100x100 junctions
    python -m bench.import_bench --grids 100 --readnet   # also sumolib.net.readNet's full parse

Each network is made by SUMO's ``netgenerate`` (``--grid --grid.number N --grid.length 200
--default.lanenumber 2 --tls.guess true``, gzipped): N x N junctions, signalised where
netgenerate guesses so, with every internal lane and connection a netconvert-written city file
has. For each, in fresh processes so that one measurement's heap does not slow the next:

* ``mobsim``: :func:`mobsim.interop.sumo_net.read_sumo_network` without the cache (the first import);
* ``cached``: the same call the second time (the pickled network from ``~/.cache/mobsim``);
* ``sumo``: ``sumo -n FILE --end 0`` (SUMO's C++ loader and a zero-length run; the wall time of the
  process);
* ``readnet`` (with ``--readnet``): ``sumolib.net.readNet(FILE, withInternal=True,
  withPrograms=True, withConnections=True)``, the parse mobsim's importer replaces.

Wall seconds and peak resident memory (MB) of each, with the network's lanes and connections.
Output: a table, JSON with machine metadata in ``bench/results/import_<host>_<time>.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

_MOBSIM = """
import json, sys, time, resource
from mobsim.interop.sumo_net import read_sumo_network
t = time.perf_counter()
net = read_sumo_network(sys.argv[1], cache=sys.argv[2] == "cache")
wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "lanes": sum(lk.lanes for lk in net.links), "links": len(net.links),
                  "movements": len(net.movements), "signals": len(net.signals),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_READNET = """
import json, sys, time, resource
import sumolib
t = time.perf_counter()
net = sumolib.net.readNet(sys.argv[1], withInternal=True, withPrograms=True, withConnections=True)
wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _sumo_bin(name: str) -> str:
    import sumo

    return os.path.join(sumo.SUMO_HOME, "bin", name)


def make_grid(n: int, folder: Path) -> Path:
    """An N x N netgenerate grid (200 m blocks, 2 lanes per direction, guessed signals), gzipped."""
    out = folder / f"grid{n}.net.xml.gz"
    if not out.is_file():
        subprocess.run([_sumo_bin("netgenerate"), "--grid", "--grid.number", str(n), "--grid.length", "200",
                        "--default.lanenumber", "2", "--tls.guess", "true", "-o", str(out)],
                       check=True, capture_output=True, timeout=1800)
    return out


def _python(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                       timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def time_sumo(path: Path) -> dict[str, Any]:
    """Wall time and peak RSS of ``sumo -n path --end 0``."""
    t0 = time.perf_counter()
    p = subprocess.Popen([_sumo_bin("sumo"), "-n", str(path), "--end", "0", "--no-step-log", "--no-warnings"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"sumo failed on {path}: {err[-2000:]}")
    return {"wall_s": time.perf_counter() - t0, "peak_rss_mb": ru.ru_maxrss / 1024}


def run_grid(n: int, folder: Path, readnet: bool) -> dict[str, Any]:
    path = make_grid(n, folder)
    env = dict(os.environ, XDG_CACHE_HOME=str(folder / "cache"))
    first = _python(_MOBSIM, str(path), "nocache", env=env)
    _python(_MOBSIM, str(path), "cache", env=env)  # fills the cache
    cached = _python(_MOBSIM, str(path), "cache", env=env)
    rec: dict[str, Any] = {
        "grid": n, "file_mb": path.stat().st_size / 1e6, "lanes": first["lanes"], "links": first["links"],
        "movements": first["movements"], "signals": first["signals"],
        "mobsim": {k: first[k] for k in ("wall_s", "peak_rss_mb")},
        "cached": {k: cached[k] for k in ("wall_s", "peak_rss_mb")},
        "sumo": time_sumo(path),
    }
    if readnet:
        rec["readnet"] = _python(_READNET, str(path))
    return rec


def format_table(rows: list[dict[str, Any]]) -> str:
    head = ["grid", "lanes", "movements", "mobsim s", "cached s", "SUMO load s", "readNet s", "mobsim MB",
            "SUMO MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        rn = f"{r['readnet']['wall_s']:.1f}" if "readnet" in r else "-"
        m, c, s = r["mobsim"], r["cached"], r["sumo"]
        lines.append(f"| {r['grid']}x{r['grid']} | {r['lanes']:,} | {r['movements']:,} | {m['wall_s']:.2f} | "
                     f"{c['wall_s']:.2f} | {s['wall_s']:.2f} | {rn} | {m['peak_rss_mb']:.0f} | "
                     f"{s['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grids", default="10,50,100", help="junctions per side, comma-separated")
    p.add_argument("--readnet", action="store_true", help="also time sumolib.net.readNet's full parse")
    p.add_argument("--keep", type=Path, help="keep (and reuse) the generated networks here")
    p.add_argument("--out", type=Path, help="JSON file (default bench/results/import_<host>_<time>.json)")
    a = p.parse_args(argv)
    try:
        sizes = [int(x) for x in a.grids.split(",") if x.strip()]
        if not sizes or min(sizes) < 2:
            raise ValueError
    except ValueError:
        print(f"--grids: give whole numbers >= 2, comma-separated (got '{a.grids}')", file=sys.stderr)
        return 2
    try:
        import sumo  # noqa: F401
        import sumolib  # noqa: F401
    except ImportError:
        print("this benchmark needs the sumo extra: pip install -e '.[sumo]'", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = a.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            print(f"grid {n}x{n} ...", file=sys.stderr, flush=True)
            rows.append(run_grid(n, folder, a.readnet))
    print(format_table(rows))
    from .run_bench import git_info, machine_metadata

    now = _dt.datetime.now(_dt.timezone.utc)
    out = a.out or RESULTS / f"import_{socket.gethostname()}_{now.strftime('%Y-%m-%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"created": now.isoformat(), "machine": machine_metadata(), "git": git_info(),
            "args": {k: str(v) for k, v in vars(a).items()}}
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
