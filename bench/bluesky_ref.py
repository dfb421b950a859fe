"""BlueSky (TU Delft's open ATM simulator, PyPI ``bluesky-simulator``) as the reference for the drone
conflict-detection benchmark.

    python -m bench.bluesky_ref --sizes 1000,2000,4000,8000 --seconds 60            # simdt 0.5 s
    python -m bench.bluesky_ref --sizes 1000,2000 --seconds 60 --simdt 0.5,0.05     # both steps
    python -m bench.bluesky_ref --n 2000 --seconds 60                              # one run, JSON

Each run is a separate Python process (``python -m bench.bluesky_ref --n N``, which prints one JSON
line): BlueSky keeps its state in module-level singletons, so a fresh process per size is the only
reliable reset. :func:`run_bluesky` starts that process; :func:`run_in_process` is the run itself.

What is matched (the mobsim drone benchmark set-up), and how it is expressed in BlueSky:

* ``n`` drones, positions uniform in a square box of side ``10 km * sqrt(n / 4000)`` (4,000 drones
  per 10 km x 10 km), headings uniform in [0, 360) deg, altitude one of 30, 60, 90, 120 m drawn
  uniformly, level flight at 15 m/s true airspeed, no wind. :func:`make_drones` draws them (metres
  in a local east/north frame centred on the box, so mobsim can use the very same draw); the box is
  centred on 52.0 N, 4.0 E and metres become degrees with BlueSky's own earth radius
  (``bluesky.tools.aero.Rearth`` = 6,371,000 m): ``lat = 52 + deg(y / R)``,
  ``lon = 4 + deg(x / (R cos 52 deg))``.
* Units: BlueSky's traffic arrays are SI (``traf.alt`` m, ``traf.tas``/``traf.gs`` m/s, ``traf.lat``/
  ``lon`` deg), but ``traf.cre(acspd=...)`` takes *calibrated* airspeed in m/s (or a Mach number if
  below 1), so 15 m/s TAS is passed as ``vtas2cas(15, alt)`` (14.91-14.98 m/s at 30-120 m). The stack
  commands take aviation units: ``ZONER`` nautical miles (50 m = 50 / 1852 nm), ``ZONEDH`` feet
  (15 m = 15 / 0.3048 ft), ``DTLOOK`` seconds.
* Protected zone 50 m radius, 15 m vertical half-height (``ZONER``/``ZONEDH``, and ``asas_pzr``/
  ``asas_pzh`` in the settings file); the resolution zone equals it (``asas_marh = asas_marv = 1``,
  i.e. ``RSZONER``/``RSZONEDH`` = ``ZONER``/``ZONEDH``; BlueSky's default adds 5 %).
* Conflict detection every 1 s of simulated time (``asas_dt = 1.0``), look-ahead 20 s (``DTLOOK
  20``), state-based detection in C (``CDMETHOD CSTATEBASED``: the same test as ``STATEBASED``,
  an O(n^2) double loop in C++ instead of n x n numpy matrices; ``--cd-method STATEBASED`` selects
  the numpy one), resolution ``RESO MVP`` (horizontal, heading and speed). BlueSky 1.1.1's
  compiled ``kwikqdrdist_matrix`` (``prefer_compiled = True``) returns a wrong bearing matrix (its
  lower triangle mirrors the upper one instead of adding 180 deg), which makes ``STATEBASED``
  report wrong pairs; ``STATEBASED`` runs therefore use the Python geo functions. Every run checks
  BlueSky's pairs at t = 0 against :func:`reference_conflicts` (``initial_conflicts`` and
  ``initial_conflicts_ref`` in the result).
* Aircraft type ``M600`` (DJI Matrice 600) of the default OpenAP performance model: a rotorcraft
  with 18 m/s maximum speed, so 15 m/s is not clamped (MVP may still ask for up to 18 m/s).
* Time step: ``simdt`` 0.5 s by default (mobsim's dt); BlueSky's own default is 0.05 s. The result
  records it. Kinematics run every step, detection and resolution every ``asas_dt``.

Measured: the wall time of the ``bs.sim.step()`` loop from t = 0 to ``sim_seconds`` (BlueSky
initialisation, navigation-database loading and aircraft creation are outside the clock).
``real_time_factor`` = simulated s / wall s, ``drone_updates_per_s`` = n x steps / wall s (no drone
leaves: BlueSky flies them on, there is no deletion). ``conflicts``/``los`` are the unique pairs
(a, b) = (b, a) in conflict / in loss of separation at the last detection (``traf.cd.
confpairs_unique``/``lospairs_unique``); ``*_total`` count the distinct pairs since t = 0.
``cd_wall_s``/``cr_wall_s`` are the parts of the wall time spent in detection and in resolution
(MVP's ``resumenav`` looks every resolved pair up with ``traf.id2idx``, which builds a dict of all
n ids per call: O(n x pairs), the larger share at 2,000+ drones).

BlueSky writes its settings copy, navigation-data cache and output folders into its working
directory: here a folder under the system temp dir (``mobsim-bluesky-<version>``, kept to reuse
the 7 s navigation-data cache), and each run's process has a fresh temporary cwd, so nothing is
written into the repository. Its console chatter goes to stderr; stdout carries only the JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
DIST = "bluesky-simulator"

# The benchmark set-up (SI units).
DENSITY_PER_M2 = 4000 / (10_000.0 * 10_000.0)  # 4,000 drones per 10 km x 10 km
LAYERS_M = (30.0, 60.0, 90.0, 120.0)
SPEED_MS = 15.0
PZ_RADIUS_M = 50.0
PZ_HALF_HEIGHT_M = 15.0
LOOKAHEAD_S = 20.0
ASAS_DT_S = 1.0
RESO_FACTOR = 1.0  # resolution zone / protected zone, horizontally and vertically
CENTER_LAT = 52.0
CENTER_LON = 4.0
ACTYPE = "M600"
RESO_METHOD = "MVP"
CD_METHODS = ("CSTATEBASED", "STATEBASED")
NM_M = 1852.0
FT_M = 0.3048


def available() -> bool:
    """True when BlueSky (the ``bluesky-simulator`` distribution) is installed.

    The import name ``bluesky`` is shared with NSLS-II's data-acquisition package, so the
    distribution is checked, not just the import name."""
    try:
        importlib.metadata.version(DIST)
    except importlib.metadata.PackageNotFoundError:
        return False
    return importlib.util.find_spec("bluesky") is not None


def bluesky_version() -> str | None:
    """Installed ``bluesky-simulator`` version, or None."""
    try:
        return importlib.metadata.version(DIST)
    except importlib.metadata.PackageNotFoundError:
        return None


def _require() -> None:
    if not available():
        raise ImportError(
            "BlueSky is not installed: the BlueSky reference needs the PyPI package "
            f"'{DIST}' (pip install {DIST}); 'import bluesky' must be TU Delft's ATM simulator"
        )


def box_side_m(n: int) -> float:
    """Side of the square box [m] holding n drones at 4,000 per 100 km^2."""
    return math.sqrt(n / DENSITY_PER_M2)


def make_drones(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """The initial drone states of the benchmark, drawn with ``numpy.random.default_rng(seed)``.

    Draw order: x, y (uniform in [-side/2, side/2), m, east/north of the box centre), heading
    (uniform in [0, 360) deg, clockwise from north), layer index (integers in [0, 4)). Returns
    ``x``, ``y`` [m], ``hdg`` [deg], ``alt`` [m], ``lat``, ``lon`` [deg] (box centred on
    52.0 N, 4.0 E, BlueSky's earth radius) and ``speed`` [m/s TAS]."""
    rng = np.random.default_rng(seed)
    side = box_side_m(n)
    x = rng.uniform(-side / 2, side / 2, n)
    y = rng.uniform(-side / 2, side / 2, n)
    hdg = rng.uniform(0.0, 360.0, n)
    alt = np.asarray(LAYERS_M)[rng.integers(0, len(LAYERS_M), n)]
    r_earth = 6_371_000.0  # bluesky.tools.aero.Rearth
    lat = CENTER_LAT + np.degrees(y / r_earth)
    lon = CENTER_LON + np.degrees(x / (r_earth * math.cos(math.radians(CENTER_LAT))))
    return {"x": x, "y": y, "hdg": hdg, "alt": alt, "lat": lat, "lon": lon,
            "speed": np.full(n, SPEED_MS)}


def reference_conflicts(drones: dict[str, np.ndarray], chunk: int = 512) -> dict[str, int]:
    """Unique conflict and loss-of-separation pairs of a drone state, by brute force in the local
    metric frame (straight-line extrapolation, the test of BlueSky's state-based detection): a
    pair is in conflict if it is on one layer (|dz| < 15 m, level flight) and the horizontal
    separation drops below 50 m at some time in [0, 20] s (including now); in loss of
    separation if it is below 50 m now. O(n^2) numpy, about 1 s at 8,000 drones."""
    x, y, alt = drones["x"], drones["y"], drones["alt"]
    h = np.radians(drones["hdg"])
    u, v = drones["speed"] * np.sin(h), drones["speed"] * np.cos(h)
    n = len(x)
    r2 = PZ_RADIUS_M * PZ_RADIUS_M
    conf = los = 0
    for i0 in range(0, n, chunk):
        i = np.arange(i0, min(n, i0 + chunk))[:, None]
        dx, dy = x[None, :] - x[i], y[None, :] - y[i]
        du, dv = u[None, :] - u[i], v[None, :] - v[i]
        dv2 = np.maximum(du * du + dv * dv, 1e-12)
        tcpa = -(dx * du + dy * dv) / dv2
        dcpa2 = (dx + du * tcpa) ** 2 + (dy + dv * tcpa) ** 2
        half = np.sqrt(np.maximum(0.0, r2 - dcpa2) / dv2)
        pair = (np.abs(alt[None, :] - alt[i]) < PZ_HALF_HEIGHT_M) & (np.arange(n)[None, :] > i)
        conf += int(np.count_nonzero(pair & (dcpa2 < r2) & (tcpa - half <= LOOKAHEAD_S)
                                     & (tcpa + half > 0.0)))
        los += int(np.count_nonzero(pair & (dx * dx + dy * dy < r2)))
    return {"conflicts": conf, "los": los}


def _workdir() -> Path:
    wd = Path(tempfile.gettempdir()) / f"mobsim-bluesky-{bluesky_version()}"
    wd.mkdir(parents=True, exist_ok=True)
    return wd


def _write_config(path: Path, simdt: float, prefer_compiled: bool = True) -> None:
    """BlueSky settings file: its default one plus the benchmark's values (the file is exec'd,
    later assignments win)."""
    from bluesky.pathfinder import resource

    base = Path(str(resource("default.cfg"))).read_text()
    path.write_text(base + "\n# mobsim drone benchmark (bench/bluesky_ref.py)\n" + "\n".join([
        f"simdt = {simdt!r}",
        f"asas_dt = {ASAS_DT_S!r}",
        f"asas_dtlookahead = {LOOKAHEAD_S!r}",
        f"asas_pzr = {PZ_RADIUS_M / NM_M!r}",
        f"asas_pzh = {PZ_HALF_HEIGHT_M / FT_M!r}",
        f"asas_marh = {RESO_FACTOR!r}",
        f"asas_marv = {RESO_FACTOR!r}",
        "performance_model = 'openap'",
        f"prefer_compiled = {prefer_compiled!r}",
        "enabled_plugins = []",
        "",
    ]))


def run_in_process(n: int, sim_seconds: float = 60.0, seed: int = 1, simdt: float = 0.5,
                   cd_method: str = "CSTATEBASED", max_wall_s: float | None = None) -> dict[str, Any]:
    """One BlueSky run in this process (call it once per process: BlueSky cannot be re-initialised).

    Stops early, with ``truncated`` true, when the stepping wall time passes ``max_wall_s``; the
    rates are then over the simulated time actually run (``sim_seconds_run``)."""
    _require()
    if cd_method not in CD_METHODS:
        raise ValueError(f"cd_method must be one of {CD_METHODS}, not {cd_method!r}")
    steps = round(sim_seconds / simdt)
    if steps < 1 or abs(steps * simdt - sim_seconds) > 1e-6 * max(1.0, sim_seconds):
        raise ValueError(f"sim_seconds ({sim_seconds}) must be a positive multiple of simdt ({simdt})")
    if abs(ASAS_DT_S / simdt - round(ASAS_DT_S / simdt)) > 1e-9:
        raise ValueError(f"simdt ({simdt}) must divide the detection interval {ASAS_DT_S} s")

    t_setup = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # BlueSky prints its progress to stdout
        import bluesky as bs

        wd = _workdir()
        with tempfile.TemporaryDirectory(prefix="bluesky-cfg-") as tmp:
            cfg = Path(tmp) / "settings.cfg"
            _write_config(cfg, simdt, prefer_compiled=cd_method == "CSTATEBASED")
            bs.init(mode="sim", detached=True, workdir=str(wd), configfile=str(cfg))
        # Only after init: modules read the settings when first imported (bluesky.tools.geo picks
        # its compiled C functions only if settings.prefer_compiled is already set).
        from bluesky.core import simtime
        from bluesky.tools.aero import Rearth, ft, nm, vtas2cas
        from bluesky.traffic.asas import ConflictDetection, ConflictResolution

        # The same values as stack commands (the settings file already holds them): they are what
        # a BlueSky scenario would say, and are checked below.
        for line in (f"CDMETHOD {cd_method}", f"RESO {RESO_METHOD}", f"ZONER {PZ_RADIUS_M / nm!r}",
                     f"ZONEDH {PZ_HALF_HEIGHT_M / ft!r}", f"DTLOOK {LOOKAHEAD_S!r}",
                     f"RSZONER {RESO_FACTOR * PZ_RADIUS_M / nm!r}",
                     f"RSZONEDH {RESO_FACTOR * PZ_HALF_HEIGHT_M / ft!r}", f"DT {simdt!r}"):
            bs.stack.stack(line)
        bs.stack.process()

        cd, cr = bs.traf.cd, bs.traf.cr
        checks = {
            "cd_method": (ConflictDetection.selected().__name__.upper(), cd_method),
            "reso_method": (ConflictResolution.selected().__name__.upper(), RESO_METHOD),
            "pz_radius_m": (cd.rpz_def, PZ_RADIUS_M),
            "pz_half_height_m": (cd.hpz_def, PZ_HALF_HEIGHT_M),
            "lookahead_s": (cd.dtlookahead_def, LOOKAHEAD_S),
            "reso_factor_h": (cr.resofach, RESO_FACTOR),
            "reso_factor_v": (cr.resofacv, RESO_FACTOR),
            "simdt": (simtime._clock.fdt, simdt),
            "asas_dt": (float(bs.traf.asastimer.dt_act), ASAS_DT_S),
            "earth_radius_m": (Rearth, 6_371_000.0),
        }
        for key, (got, want) in checks.items():
            ok = got == want if isinstance(want, str) else abs(got - want) <= 1e-9 * max(1.0, abs(want))
            if not ok:
                raise RuntimeError(f"BlueSky set-up: {key} is {got!r}, expected {want!r}")

        d = make_drones(n, seed)
        acid = [f"D{i:06d}" for i in range(n)]
        bs.traf.cre(acid, actype=ACTYPE, aclat=d["lat"], aclon=d["lon"], achdg=d["hdg"],
                    acalt=d["alt"], acspd=vtas2cas(d["speed"], d["alt"]))
        if bs.traf.ntraf != n or np.max(np.abs(bs.traf.tas - SPEED_MS)) > 1e-6:
            raise RuntimeError("BlueSky set-up: aircraft not created at 15 m/s TAS")
        # Detection on the initial state (untimed), for comparison with the reference count.
        init_conf, init_los = cd.detect(bs.traf, bs.traf, cd.rpz, cd.hpz, cd.dtlookahead)[:2]
        init_ref = reference_conflicts(d)

        # Time detection and resolution (both run inside traf.update every asas_dt). traf.cd and
        # traf.cr are proxies that keep the selected implementation's bound methods in their
        # __dict__, so the timers wrap those entries.
        split = {"cd": 0.0, "cr": 0.0, "cd_calls": 0}
        cd_update, cr_update = cd.update, cr.update

        def timed_cd(ownship: Any, intruder: Any) -> None:
            t = time.perf_counter()
            cd_update(ownship, intruder)
            split["cd"] += time.perf_counter() - t
            split["cd_calls"] += 1

        def timed_cr(conf: Any, ownship: Any, intruder: Any) -> None:
            t = time.perf_counter()
            cr_update(conf, ownship, intruder)
            split["cr"] += time.perf_counter() - t

        cd.__dict__["update"], cr.__dict__["update"] = timed_cd, timed_cr
        setup_s = time.perf_counter() - t_setup

        load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        done = 0
        t0 = time.perf_counter()
        while done < steps:
            bs.sim.step()
            done += 1
            if max_wall_s is not None and time.perf_counter() - t0 > max_wall_s:
                break
        wall = time.perf_counter() - t0
        cd.__dict__["update"], cr.__dict__["update"] = cd_update, cr_update

    sim_run = float(bs.sim.simt)
    if abs(sim_run - done * simdt) > 1e-6:
        raise RuntimeError(f"BlueSky stepped to t = {sim_run} s, expected {done * simdt} s")
    try:
        import resource as _resource

        peak_rss_mb = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except ImportError:  # not on Windows
        peak_rss_mb = None
    from bluesky.tools import geo

    return {
        "n": n,
        "sim_seconds": sim_seconds,
        "sim_seconds_run": sim_run,
        "truncated": done < steps,
        "simdt": simdt,
        "steps": done,
        "wall_s": wall,
        "real_time_factor": sim_run / wall,
        "drone_updates_per_s": n * done / wall,
        "conflicts": len(cd.confpairs_unique),
        "conflicts_directed": len(cd.confpairs),
        "los": len(cd.lospairs_unique),
        "conflicts_total": len(cd.confpairs_all),
        "initial_conflicts": len({frozenset(p) for p in init_conf}),
        "initial_los": len({frozenset(p) for p in init_los}),
        "initial_conflicts_ref": init_ref["conflicts"],
        "initial_los_ref": init_ref["los"],
        "los_total": len(cd.lospairs_all),
        "cd_calls": split["cd_calls"],
        "cd_wall_s": split["cd"],
        "cr_wall_s": split["cr"],
        "setup_s": setup_s,
        "peak_rss_mb": peak_rss_mb,
        "loadavg_1m_at_start": load_start,  # other processes on the machine skew wall_s
        "bluesky_version": bluesky_version(),
        "cd_method": cd_method,
        "reso_method": RESO_METHOD,
        "actype": ACTYPE,
        "perf_model": "openap",
        "compiled_geo": type(geo.qdrdist).__name__ == "builtin_function_or_method",
        "seed": seed,
        "box_side_m": box_side_m(n),
        "center_lat_lon": [CENTER_LAT, CENTER_LON],
        "layers_m": list(LAYERS_M),
        "speed_ms": SPEED_MS,
        "pz_radius_m": PZ_RADIUS_M,
        "pz_half_height_m": PZ_HALF_HEIGHT_M,
        "zoner_nm": PZ_RADIUS_M / NM_M,
        "zonedh_ft": PZ_HALF_HEIGHT_M / FT_M,
        "lookahead_s": LOOKAHEAD_S,
        "asas_dt": ASAS_DT_S,
        "reso_factor": RESO_FACTOR,
        "tas_min_end": float(np.min(bs.traf.tas)),
        "tas_max_end": float(np.max(bs.traf.tas)),
    }


def run_bluesky(n: int, sim_seconds: float = 60.0, seed: int = 1, simdt: float = 0.5,
                cd_method: str = "CSTATEBASED", max_wall_s: float | None = None,
                timeout_s: float | None = None) -> dict[str, Any]:
    """Run BlueSky on the benchmark set-up with n drones in a fresh Python process.

    Returns the dict of :func:`run_in_process` (keys ``n``, ``sim_seconds``, ``simdt``, ``wall_s``,
    ``real_time_factor``, ``drone_updates_per_s``, ``conflicts``, ``los``, ``bluesky_version`` and
    more). Raises ImportError when ``bluesky-simulator`` is not installed."""
    _require()
    cmd = [sys.executable, "-m", "bench.bluesky_ref", "--n", str(n), "--seconds", repr(sim_seconds),
           "--seed", str(seed), "--simdt", repr(simdt), "--cd-method", cd_method]
    if max_wall_s is not None:
        cmd += ["--max-wall", repr(max_wall_s)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    with tempfile.TemporaryDirectory(prefix="bluesky-run-") as cwd:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"BlueSky run n={n} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


_HEAD = (f"{'n':>6} {'simdt':>6} {'sim s':>6} {'RTF':>7} {'drone-upd/s':>12} {'conflicts':>9} "
         f"{'los':>4} {'conf@0':>7} {'ref@0':>7} {'wall s':>7} {'CD s':>7} {'CR s':>7}")


def _row(r: dict[str, Any]) -> str:
    sim = f"{r['sim_seconds_run']:g}" + ("*" if r["truncated"] else "")
    return (f"{r['n']:>6} {r['simdt']:>6g} {sim:>6} {r['real_time_factor']:>7.2f} "
            f"{r['drone_updates_per_s']:>12,.0f} {r['conflicts']:>9} {r['los']:>4} "
            f"{r['initial_conflicts']:>7} {r['initial_conflicts_ref']:>7} "
            f"{r['wall_s']:>7.1f} {r['cd_wall_s']:>7.1f} {r['cr_wall_s']:>7.1f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,2000,4000,8000", help="comma-separated drone counts")
    ap.add_argument("--n", type=int, help="one run in this process; prints its JSON line")
    ap.add_argument("--seconds", type=float, default=60.0, help="simulated seconds per run (60)")
    ap.add_argument("--simdt", default="0.5", help="time step(s) [s], comma-separated (0.5)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cd-method", default="CSTATEBASED", choices=CD_METHODS)
    ap.add_argument("--max-wall", type=float, default=None,
                    help="stop a run's stepping after this many wall seconds (table marks it *); "
                         "default none for --n, 150 for --sizes")
    ap.add_argument("--out", type=Path, default=RESULTS / "bluesky_ref.json")
    args = ap.parse_args(argv)
    if not available():
        print(f"BlueSky is not installed (pip install {DIST})", file=sys.stderr)
        return 2
    simdts = [float(s) for s in args.simdt.split(",")]

    if args.n is not None:
        res = run_in_process(args.n, args.seconds, args.seed, simdts[0], args.cd_method, args.max_wall)
        print(json.dumps(res), flush=True)
        return 0

    max_wall = 150.0 if args.max_wall is None else args.max_wall
    rows = []
    print(f"BlueSky {bluesky_version()}, {args.cd_method} + {RESO_METHOD}, {args.seconds:g} s simulated "
          f"per run, seed {args.seed}")
    print(_HEAD + "\n" + "-" * len(_HEAD), flush=True)
    for dt in simdts:
        for size in (int(s) for s in args.sizes.split(",")):
            r = run_bluesky(size, args.seconds, args.seed, dt, args.cd_method, max_wall_s=max_wall)
            rows.append(r)
            print(_row(r), flush=True)
    print("conflicts, los: unique pairs at the end; conf@0: BlueSky's pairs at t = 0; ref@0: brute-force"
          " count at t = 0 (reference_conflicts); CD s, CR s: detection, resolution parts of wall s")
    if any(r["truncated"] for r in rows):
        print(f"* stopped after {max_wall:g} s of wall time; rates over the simulated time run")
    meta = {
        "bluesky_version": bluesky_version(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python -m bench.bluesky_ref " + " ".join(sys.argv[1:] if argv is None else argv),
        "max_wall_s": max_wall,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "runs": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
