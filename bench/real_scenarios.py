"""Every scenario SUMO ships in ``$SUMO_HOME/tools/game``, and random trips on its real networks,
in SUMO and in mobsim, side by side.

    python -m bench.real_scenarios                           # every case (~15-30 min on 2 cores)
    python -m bench.real_scenarios --only cross --only grid6 # a subset
    python -m bench.real_scenarios --random-trips 400 --keep /tmp/rs --out rs.json

Cases:

* every shipped ``tools/game/*.sumocfg`` as it is (A10KW, bs3d, bs3Dosm, corridor, cross,
  cross_demo, DRT, DRT2, DRT_demo, fkk_in, fokr_bs_demo, grid6, rail, rail_demo, ramp, square).
  mobsim runs the very file (``python -m mobsim run X.sumocfg``); what it does not read
  (additional files, rerouting, persons, ...) it names in warnings, and what it refuses (the rail
  scenarios have no road vehicles) is a row with mobsim's error message;
* ``highway_green``: the game folder's disabled ``highway.sumocfg.disabled`` (a motorway with an
  on-ramp of two lanes that merge at a zipper junction before joining it), with its ramp meter
  ``J2`` switched to green for good (the game holds it red for 10,000 s, so the ramp traffic
  never reaches the zipper) and ``end`` 900 s; its other files as shipped;
* ``rt_<net>``: ``randomTrips.py -n NET --seed 42 -e 3600 -p P --validate`` on each real network
  of the game folder (the DRT OpenStreetMap city, the Braunschweig networks of ``bs3d`` and
  ``fokr_bs_demo``, the A10 motorway ring ``A10KW``, Ingolstadt's ``fkk_in``), with ``P = 3600 /
  --random-trips`` (default 800 trips before validation), and a ``.sumocfg`` written here for it
  (``begin`` 0, ``end`` 7200, ``step-length`` 0.5), run by both simulators.

Per case, SUMO runs first, then mobsim, on the same files, each as its own process with a time
limit (``--timeout``). SUMO: ``sumo -c X.sumocfg --tripinfo-output --statistic-output
--no-step-log --duration-log.statistics``; its statistic output gives the loaded, inserted and
completed vehicles, teleports, mean duration and time loss of the completed trips, the loop's
duration and UPS. mobsim: ``mobsim run X.sumocfg --out X.h5``; the result file's KPIs give the
same (completed = arrived; ``health`` the loop time and vehicle-updates per second). UPS is the
sum over steps of running vehicles divided by the simulation loop's wall time, for both. The wall
time is that of the whole process (loading, routing, simulation, output).

A case that fails or times out in either simulator is a row with the first line of the error;
the report goes on. Output: a markdown table on stdout and JSON with machine metadata in
``bench/results/real_scenarios_<host>_<time>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

#: The real (not synthetic) networks of the game folder, for the random-trips cases.
RANDOM_NETS: dict[str, str] = {
    "rt_DRT": "DRT/osm.net.xml",
    "rt_bs3d": "bs3d/bs.net.xml",
    "rt_fokr_bs": "fokr_bs_demo/fokr_bs.net.xml.gz",
    "rt_A10KW": "A10KW/osm.net.xml",
    "rt_fkk_in": "fkk_in/ingolstadt.net.xml.gz",
}
RT_END = 7200.0
RT_STEP = 0.5


def sumo_home() -> Path:
    try:
        import sumo

        return Path(sumo.SUMO_HOME)
    except ImportError:
        return Path(os.environ.get("SUMO_HOME", "/usr/share/sumo"))


def game_dir() -> Path:
    return sumo_home() / "tools" / "game"


def sumo_binary() -> str | None:
    """The ``sumo`` executable, or None when SUMO is not installed."""
    import shutil

    for cand in (sumo_home() / "bin" / "sumo", shutil.which("sumo")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


def shipped_cases() -> dict[str, Path]:
    """{name: .sumocfg} of every enabled configuration in the game folder."""
    return {p.stem: p for p in sorted(game_dir().glob("*.sumocfg"), key=lambda p: p.stem.lower())}


#: Cases made from a disabled game scenario (see the module docstring).
DERIVED = ("highway_green",)


def all_cases() -> list[str]:
    return list(shipped_cases()) + list(DERIVED) + list(RANDOM_NETS)


def highway_green_case(workdir: Path) -> Path:
    """``highway.sumocfg.disabled`` with its ramp meter green for good and ``end`` 900 s, written to
    ``workdir/highway_green`` (the network copied with the one program changed)."""
    src = game_dir() / "highway.sumocfg.disabled"
    folder = workdir / "highway_green"
    folder.mkdir(parents=True, exist_ok=True)
    net_text = (game_dir() / "highway" / "highway.net.xml").read_text(encoding="utf-8")
    start = net_text.index('<tlLogic id="J2"')
    end = net_text.index("</tlLogic>", start)
    program = ('<tlLogic id="J2" type="static" programID="0" offset="0">\n'
               '        <phase duration="10000" state="gg"/>\n    ')
    (folder / "highway_green.net.xml").write_text(net_text[:start] + program + net_text[end:],
                                                  encoding="utf-8")
    tree = ET.parse(src)
    root = tree.getroot()
    for section in root:
        for opt in section:
            if opt.tag == "net-file":
                opt.set("value", str(folder / "highway_green.net.xml"))
            elif opt.tag in ("route-files", "additional-files"):
                opt.set("value", str((src.parent / opt.get("value", "")).resolve()))
            elif opt.tag == "end":
                opt.set("value", "900")
    cfg = folder / "highway_green.sumocfg"
    tree.write(cfg, encoding="UTF-8", xml_declaration=True)
    return cfg


def _first_line(text: str, prefer: tuple[str, ...] = ("Error:", "mobsim: error:")) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for p in prefer:
        for ln in lines:
            if ln.startswith(p):
                return ln
    return lines[-1] if lines else ""


def _run(cmd: list[str], timeout: float, cwd: Path | None = None) -> tuple[int | None, str, float]:
    """(exit code or None on timeout, stdout + stderr, wall s) of a child process."""
    t0 = time.perf_counter()
    # A session of its own, so that a timeout ends the whole process group (``sumo`` on PATH
    # may be a wrapper script whose child, the binary, would otherwise run on).
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        rc: int | None = p.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        rc = None
    return rc, out or "", time.perf_counter() - t0


def random_trips_case(name: str, n_trips: int, workdir: Path, timeout: float = 300.0) -> Path:
    """Write ``workdir/name/name.sumocfg`` with validated random trips on the case's network."""
    net = game_dir() / RANDOM_NETS[name]
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    trips = folder / "trips.rou.xml"
    period = 3600.0 / max(1, n_trips)
    cmd = [sys.executable, str(sumo_home() / "tools" / "randomTrips.py"), "-n", str(net), "--seed", "42",
           "-e", "3600", "-p", f"{period:g}", "--validate", "-o", str(trips)]
    rc, out, _ = _run(cmd, timeout, cwd=folder)
    if rc != 0 or not trips.is_file():
        raise RuntimeError(f"randomTrips.py failed ({rc}): {_first_line(out)}")
    cfg = folder / f"{name}.sumocfg"
    cfg.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<sumoConfiguration>
    <input>
        <net-file value="{net}"/>
        <route-files value="{trips.name}"/>
    </input>
    <time>
        <begin value="0"/>
        <end value="{RT_END:g}"/>
        <step-length value="{RT_STEP:g}"/>
    </time>
</sumoConfiguration>
""")
    return cfg


def _nan() -> float:
    return float("nan")


#: Options whose values are input files, relative to the configuration.
FILE_OPTIONS = ("net-file", "route-files", "additional-files")


def sumo_cfg_copy(cfg: Path, dst: Path) -> Path:
    """``cfg`` for the ``sumo`` binary: its ``<gui_only>`` section dropped (``sumo`` refuses options
    it does not know, such as ``osg-view`` in ``bs3d.sumocfg``), input paths made absolute; the rest
    as it is. Outputs that the file names relative to itself then land in ``dst``'s folder."""
    tree = ET.parse(cfg)
    root = tree.getroot()
    for el in list(root):
        if el.tag == "gui_only":
            root.remove(el)
    for section in root:
        for opt in section:
            value = opt.get("value")
            if opt.tag in FILE_OPTIONS and value:
                files = [f for f in value.replace(",", " ").split() if f]
                opt.set("value", ",".join(f if os.path.isabs(f) else str((cfg.parent / f).resolve())
                                          for f in files))
    tree.write(dst, encoding="UTF-8", xml_declaration=True)
    return dst


def _finished(rec: dict[str, Any], rc: int | None, out: str, wall: float, timeout: float,
              output: Path) -> bool:
    """Record a run's wall time, and its status unless it finished and wrote ``output``."""
    rec["wall_s"] = wall
    if rc is None:
        rec["status"] = f"timeout after {timeout:g} s"
        return False
    if rc != 0 or not output.is_file():
        rec["status"] = f"error ({rc}): {_first_line(out)}"
        return False
    return True


def run_sumo(cfg: Path, outdir: Path, timeout: float = 600.0, seed: int | None = None) -> dict[str, Any]:
    """SUMO on ``cfg`` (a copy without its GUI options, :func:`sumo_cfg_copy`; with ``seed``, its
    ``--seed``): status, wall s and the statistic output's figures."""
    outdir.mkdir(parents=True, exist_ok=True)
    stats, tripinfo = outdir / "sumo_stats.xml", outdir / "sumo_tripinfo.xml"
    for f in (stats, tripinfo):
        f.unlink(missing_ok=True)
    rec: dict[str, Any] = {"status": "ok", "wall_s": _nan(), "loaded": 0, "inserted": 0, "completed": 0,
                           "teleports": 0, "mean_travel_time_s": _nan(), "mean_time_loss_s": _nan(),
                           "loop_s": _nan(), "ups": _nan()}
    binary = sumo_binary()
    if binary is None:
        rec["status"] = "sumo not installed"
        return rec
    cfg = sumo_cfg_copy(cfg, outdir / f"sumo_{cfg.name}")
    cmd = [binary, "-c", str(cfg), "--tripinfo-output", str(tripinfo), "--statistic-output", str(stats),
           "--no-step-log", "--duration-log.statistics", "--duration-log.disable", "false", "--no-warnings",
           # square.sumocfg asks for tripinfos of unfinished vehicles, which SUMO's trip statistics
           # then count as completed (130 of 142 instead of the 38 that arrived)
           "--tripinfo-output.write-unfinished", "false", "--tripinfo-output.write-undeparted", "false"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    rc, out, wall = _run(cmd, timeout, cwd=outdir)
    if not _finished(rec, rc, out, wall, timeout, stats):
        return rec
    root = ET.parse(stats).getroot()

    def attr(tag: str, key: str, cast: Any = float) -> Any:
        el = root.find(tag)
        return cast(float(el.get(key))) if el is not None and el.get(key) is not None else _nan()

    n_done = attr("vehicleTripStatistics", "count", int)
    rec.update(loaded=attr("vehicles", "loaded", int), inserted=attr("vehicles", "inserted", int),
               completed=n_done, teleports=attr("teleports", "total", int),
               mean_travel_time_s=attr("vehicleTripStatistics", "duration") if n_done else _nan(),
               mean_time_loss_s=attr("vehicleTripStatistics", "timeLoss") if n_done else _nan(),
               loop_s=attr("performance", "clockDuration"),
               ups=attr("performance", "vehicleUpdatesPerSecond"))
    return rec


def run_mobsim(cfg: Path, outdir: Path, timeout: float = 600.0, seed: int | None = None) -> dict[str, Any]:
    """mobsim on ``cfg`` (``python -m mobsim run``; with ``seed``, its ``--seed``): status, wall s
    and the result file's KPIs."""
    outdir.mkdir(parents=True, exist_ok=True)
    h5 = outdir / "mobsim.h5"
    h5.unlink(missing_ok=True)
    rec: dict[str, Any] = {"status": "ok", "wall_s": _nan(), "loaded": 0, "inserted": 0, "completed": 0,
                           "teleports": 0, "mean_travel_time_s": _nan(), "mean_time_loss_s": _nan(),
                           "loop_s": _nan(), "ups": _nan(), "warnings": []}
    cmd = [sys.executable, "-m", "mobsim", "run", str(cfg), "--out", str(h5), "--progress", "none"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    rc, out, wall = _run(cmd, timeout, cwd=outdir)
    rec["warnings"] = [ln[len("mobsim: warning: "):] for ln in out.splitlines()
                       if ln.startswith("mobsim: warning: ")]
    if not _finished(rec, rc, out, wall, timeout, h5):
        return rec
    import mobsim

    res = mobsim.open(h5)
    k, h = res.kpis(), res.health
    rec.update(loaded=int(k["trips_loaded"]), inserted=int(k["trips_inserted"]),
               completed=int(k["trips_completed"]), teleports=int(k["teleports"]),
               mean_travel_time_s=float(k["mean_travel_time_s"]),
               mean_time_loss_s=float(k["mean_time_loss_s"]),
               loop_s=float(h["loop_time_s"]), ups=float(h["vehicle_updates_per_s"]))
    return rec


def run_case(name: str, workdir: Path, n_trips: int = 800, timeout: float = 600.0) -> dict[str, Any]:
    """One case: its .sumocfg (shipped, or written with random trips), SUMO then mobsim."""
    rec: dict[str, Any] = {"case": name, "cfg": "", "sumo": None, "mobsim": None}
    try:
        cfg = case_cfg(name, workdir, n_trips)
    except Exception as exc:  # noqa: BLE001 - a case that cannot be prepared is a row, not a crash
        err = {"status": f"not prepared: {exc}".splitlines()[0]}
        rec["sumo"], rec["mobsim"] = err, err
        return rec
    rec["cfg"] = str(cfg)
    rec["sumo"] = run_sumo(cfg, workdir / name / "sumo", timeout)
    try:
        rec["mobsim"] = run_mobsim(cfg, workdir / name / "mobsim", timeout)
    except Exception as exc:  # noqa: BLE001 - e.g. an unreadable result file
        rec["mobsim"] = {"status": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    s, m = rec["sumo"], rec["mobsim"]
    ok = s.get("status") == "ok" and m.get("status") == "ok"
    rec["wall_ratio"] = m["wall_s"] / s["wall_s"] if ok and s["wall_s"] > 0 else _nan()
    rec["ups_ratio"] = m["ups"] / s["ups"] if ok and s["ups"] > 0 else _nan()
    return rec


def case_cfg(name: str, workdir: Path, n_trips: int = 800) -> Path:
    """The ``.sumocfg`` of case ``name``: shipped, or written to ``workdir`` (random trips, derived)."""
    if name in RANDOM_NETS:
        return random_trips_case(name, n_trips, workdir)
    if name == "highway_green":
        return highway_green_case(workdir)
    return shipped_cases()[name]


def _f(x: Any, fmt: str = "{:,.1f}") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return fmt.format(x)


def _status(rec: dict[str, Any]) -> str:
    s, m = rec["sumo"] or {}, rec["mobsim"] or {}
    parts = []
    if s.get("status", "ok") != "ok":
        parts.append(f"SUMO: {s['status']}")
    if m.get("status", "ok") != "ok":
        parts.append(f"mobsim: {m['status']}")
    text = "; ".join(parts) if parts else "ok"
    text = text.replace("mobsim: error: ", "").replace(str(game_dir()) + os.sep, "")
    return text.replace("|", "/")[:240]


def format_table(results: list[dict[str, Any]]) -> str:
    head = ["case", "loaded S/m", "completed S/m", "teleports S/m", "mean TT s S/m", "mean time loss s S/m",
            "wall s S/m", "UPS S/m", "wall m/S", "status"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
    for r in results:
        s, m = r["sumo"] or {}, r["mobsim"] or {}

        def pair(key: str, fmt: str = "{:,.1f}", s: dict = s, m: dict = m) -> str:
            return f"{_f(s.get(key), fmt)} / {_f(m.get(key), fmt)}"

        lines.append("| " + " | ".join([
            r["case"], pair("loaded", "{:,}"), pair("completed", "{:,}"), pair("teleports", "{:,}"),
            pair("mean_travel_time_s"), pair("mean_time_loss_s"), pair("wall_s"), pair("ups", "{:,.0f}"),
            _f(r.get("wall_ratio"), "{:.2f}x"), _status(r)]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this case (repeatable); names: the .sumocfg stems, "
                   + ", ".join((*DERIVED, *RANDOM_NETS)))
    p.add_argument("--random-trips", type=int, default=800, metavar="N",
                   help="random trips per real network before validation (period 3600/N s; default 800)")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="time limit per simulator run, s (default 600)")
    p.add_argument("--no-warmup", action="store_true",
                   help="skip the untimed mobsim run that compiles the kernels before the first case")
    p.add_argument("--keep", type=Path, help="keep the written files and the outputs here")
    p.add_argument("--out", type=Path,
                   help="JSON file (default bench/results/real_scenarios_<host>_<time>.json)")
    a = p.parse_args(argv)
    if sumo_binary() is None:
        print("SUMO is not installed (pip install eclipse-sumo)", file=sys.stderr)
        return 2
    names = a.only or all_cases()
    bad = [n for n in names if n not in all_cases()]
    if bad:
        print(f"unknown case(s) {bad}; use {', '.join(all_cases())}", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        base = a.keep or Path(tmp)
        if not a.no_warmup and "cross" in shipped_cases():
            # Not timed: compiles (or loads from the cache) mobsim's kernels, so that no case's
            # wall time holds the one-off numba compilation after a kernel edit.
            print("warm-up (mobsim on cross.sumocfg, not timed) ...", file=sys.stderr, flush=True)
            run_mobsim(shipped_cases()["cross"], base / "_warmup", max(a.timeout, 600.0))
        for n in names:
            print(f"{n} ...", file=sys.stderr, flush=True)
            r = run_case(n, base, a.random_trips, a.timeout)
            results.append(r)
            s, m = r["sumo"], r["mobsim"]
            print(f"  SUMO {s.get('status')}: {s.get('completed')} completed, {_f(s.get('wall_s'))} s; "
                  f"mobsim {m.get('status')}: {m.get('completed')} completed, {_f(m.get('wall_s'))} s",
                  file=sys.stderr, flush=True)
    print(format_table(results))
    now = _dt.datetime.now(_dt.timezone.utc)
    out = a.out or RESULTS / f"real_scenarios_{socket.gethostname()}_{now.strftime('%Y-%m-%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    from .run_bench import git_info, machine_metadata

    sumo_version = ""
    rc, text, _ = _run([sumo_binary() or "sumo", "--version"], 30)
    if rc == 0:
        sumo_version = text.splitlines()[0] if text else ""
    meta = {"created": now.isoformat(), "machine": machine_metadata(), "git": git_info(),
            "platform": platform.platform(), "sumo": sumo_version, "game_dir": str(game_dir()),
            "args": {k: str(v) for k, v in vars(a).items()}}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
