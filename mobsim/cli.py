"""The ``mobsim`` command line: run, validate, kpi, plot, settings.

Exit codes: 0 success; 2 bad input or usage (a short ``mobsim: error: ...`` message on stderr, no
traceback unless ``--debug``); 1 a run that failed for another reason; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from mobsim.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A command-line usage error (exit code 2)."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`UsageError` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


class _SettingsHelp(argparse.Action):
    """``--help-settings``: print the settings table and exit 0."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from mobsim.settings import describe

        print(describe(), end="")
        parser.exit(0)


def _common() -> argparse.ArgumentParser:
    p = _Parser(add_help=False)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full Python traceback when something goes wrong")
    return p


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting of the scenario file, e.g. --set sim.dt=0.25 or "
                        "--set output.fcd=true (repeatable; values are TOML; 'mobsim settings' "
                        "lists every key)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mobsim`` command."""
    common = _common()
    fmt = argparse.HelpFormatter
    parser = _Parser(
        prog="mobsim", formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common],
        description="mobsim: a traffic microsimulator (IDM car following, MOBIL lane changes,\n"
                    "signals and priority junctions) on CPU or CUDA, writing one HDF5 file per run.",
        epilog="exit codes: 0 ok, 1 run failed, 2 bad input or usage, 130 interrupted\n"
               "'mobsim COMMAND --help' explains each command.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run", parents=[common], formatter_class=fmt, help="run a scenario and write its result file",
        description="Load a scenario, simulate it and write the result file (HDF5). Prints the "
                    "output path and a short KPI line.")
    run.add_argument("scenario", metavar="SCENARIO",
                     help="scenario .toml file (or a folder holding scenario.toml), or a SUMO .sumocfg")
    run.add_argument("--out", metavar="FILE",
                     help="result file to write (default: output.file, else results/<name>.h5)")
    run.add_argument("--seed", type=int, metavar="N",
                     help="random seed (same as --set sim.seed=N); same seed and backend give "
                          "identical results")
    run.add_argument("--end", type=float, metavar="SECONDS",
                     help="simulated end time in s (same as --set sim.end=SECONDS)")
    run.add_argument("--backend", choices=("auto", "cpu", "cuda"),
                     help="where the kernels run (same as --set sim.backend=...); auto = cuda if "
                          "a CUDA device is usable, else cpu")
    run.add_argument("--threads", type=int, metavar="N",
                     help="CPU threads for the cpu backend, 0 = all cores (same as --set sim.threads=N)")
    run.add_argument("--progress", choices=("auto", "bar", "log", "none"), default="auto",
                     help="progress display: bar = a progress bar, log = a line every "
                          "output.log_period simulated seconds (batch jobs), none = silent, "
                          "auto = bar on a terminal, log otherwise (default: auto)")
    _add_set(run)
    run.add_argument("--help-settings", action=_SettingsHelp,
                     help="list every setting --set accepts, with defaults and units, and exit")

    val = sub.add_parser(
        "validate", parents=[common], formatter_class=fmt,
        help="check a scenario (network, demand, settings) without running it",
        description="Load and check a scenario and print a summary: nodes, links, lanes, signals, "
                    "trips and warnings. Nothing is simulated.")
    val.add_argument("scenario", metavar="SCENARIO",
                     help="scenario .toml file (or a folder holding scenario.toml)")
    _add_set(val)

    kpi = sub.add_parser(
        "kpi", parents=[common], formatter_class=fmt, help="key performance indicators of a run",
        description="Compute KPIs (travel times, delays, throughput, level of service) from a "
                    "result file.")
    kpi.add_argument("result", metavar="RUN.h5", help="result file written by mobsim run")
    kpi.add_argument("--json", action="store_true", help="print JSON instead of a table")
    kpi.add_argument("--by", choices=("vtype", "depart_interval"),
                     help="group the trip KPIs by vehicle type or by departure interval "
                          "(kpi.interval of the run)")
    kpi.add_argument("--allow-partial", action="store_true",
                     help="also read a result file whose run did not complete (*.h5.partial or "
                          "status not complete)")

    plot = sub.add_parser(
        "plot", parents=[common], formatter_class=fmt, help="standard plots of a run",
        description="Write the standard plots of a result file (PNG) into a folder.")
    plot.add_argument("result", metavar="RUN.h5", help="result file written by mobsim run")
    plot.add_argument("--out", metavar="DIR", required=True, help="folder for the plots (created)")
    plot.add_argument("--allow-partial", action="store_true",
                      help="also read a result file whose run did not complete")

    conv = sub.add_parser(
        "convert", parents=[common], formatter_class=fmt, help="convert SUMO inputs to a mobsim scenario",
        description="Convert a SUMO scenario (a .sumocfg file, or a .net.xml file and route files) into "
                    "a native mobsim scenario folder: scenario.toml, net/ (GMNS-style CSV), trips.csv.")
    conv.add_argument("source", choices=("sumo", "osm", "to-sumo"),
                      help="sumo or osm: to a mobsim scenario; to-sumo: a mobsim scenario to SUMO files")
    conv.add_argument("inputs", nargs="+", metavar="FILE",
                      help="sumo: a .sumocfg file, or a .net.xml[.gz] file followed by .rou.xml/.trips.xml "
                           "files; osm: one OpenStreetMap XML file (converted with SUMO's netconvert); "
                           "to-sumo: a mobsim scenario .toml (or folder)")
    conv.add_argument("--out", metavar="DIR", required=True, help="scenario folder to write (replaced)")
    conv.add_argument("--random-trips", type=int, metavar="N", default=0,
                      help="add N random trips between links that reach each other (departures "
                           "uniform over the first half of the simulated time)")
    _add_set(conv)

    sub.add_parser("settings", parents=[common], formatter_class=fmt,
                   help="list every scenario setting with default, units and meaning",
                   description="List every setting a scenario file or --set accepts.")
    return parser


# --------------------------------------------------------------------------------------------
# commands


def _overrides(args: argparse.Namespace) -> list[str]:
    out = list(args.overrides)
    for key, value in (("sim.seed", getattr(args, "seed", None)), ("sim.end", getattr(args, "end", None)),
                       ("sim.backend", getattr(args, "backend", None)),
                       ("sim.threads", getattr(args, "threads", None))):
        if value is not None:
            out.append(f"{key}={json.dumps(value)}")
    return out


def _print_warnings(warnings: Sequence[str], limit: int = 20) -> None:
    for w in warnings[:limit]:
        print(f"mobsim: warning: {w}", file=sys.stderr)
    if len(warnings) > limit:
        print(f"mobsim: warning: ... and {len(warnings) - limit} more (mobsim validate lists all)",
              file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from mobsim.scenario import load_scenario

    sc = load_scenario(args.scenario, _overrides(args))
    s = sc.summary()
    st = sc.settings
    window = (f"{s['first_depart']:.1f}-{s['last_depart']:.1f} s" if s["trips"] else "-")
    print(f"scenario   {s['name']}  ({sc.path})")
    print(f"network    {s['nodes']} nodes, {s['links']} links, {s['lanes']} lanes "
          f"({s['lane_km']:.1f} lane-km), {s['movements']} movements, {s['signals']} signals")
    print(f"vtypes     {', '.join(s['vtypes'])}")
    print(f"trips      {s['trips']} (departures {window})")
    print(f"sim        {st['sim.begin']:g}-{st['sim.end']:g} s, dt {st['sim.dt']:g} s, "
          f"seed {st['sim.seed']}, backend {st['sim.backend']}")
    air = sc.airspace
    if air is not None:
        from collections import Counter

        from mobsim.modes.drones.flights import REFUSE_REASONS, plan_flights

        plans = plan_flights(air, st)
        why = Counter(REFUSE_REASONS[int(c)] for c in plans.refused if c)
        refused = ", ".join(f"{n} {r}" for r, n in sorted(why.items())) or "none"
        print(f"drones     {len(air.requests)} flight requests (refused at planning: {refused}), "
              f"{len(air.vertiports)} vertiports, {len(air.layers)} layers, {len(air.geofences)} geofences, "
              f"corridors {air.corridor_source} ({len(air.corridor_xy)} nodes, "
              f"{len(air.corridor_edges)} edges)")
    print(f"warnings   {s['warnings']}")
    for w in sc.warnings:
        print(f"  - {w}")
    print("ok: the scenario is valid")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from mobsim.scenario import load_scenario

    sc = load_scenario(args.scenario, _overrides(args))
    _print_warnings(sc.warnings)
    from mobsim.engine import Simulation

    st = sc.settings
    sim = Simulation(sc, backend=st["sim.backend"], seed=st["sim.seed"], threads=st["sim.threads"])
    print(f"backend {sim.backend.name} ({sim.backend.choice}): {sim.backend.describe()}", file=sys.stderr)
    out = sim.run(out=sc.output_path(args.out), end=st["sim.end"], progress=args.progress)
    print(f"wrote {out}")
    line = _kpi_line(Path(out))
    if line:
        print(line)
    return EXIT_OK


def cmd_convert(args: argparse.Namespace) -> int:
    import dataclasses
    import tempfile

    from mobsim.interop.convert import convert_osm, random_trips, write_native
    from mobsim.scenario import load_sumo_inputs

    if args.source == "to-sumo":
        from mobsim.interop.sumo_export import export_scenario
        from mobsim.scenario import load_scenario

        if len(args.inputs) != 1:
            raise UsageError("convert to-sumo takes one scenario", "mobsim convert")
        sc = load_scenario(args.inputs[0], _overrides(args))
        _print_warnings(sc.warnings)
        cfg = export_scenario(sc, args.out)
        print(f"wrote {cfg} (run it with: sumo -c {cfg})")
        return EXIT_OK
    with tempfile.TemporaryDirectory() as tmp:
        if args.source == "osm":
            if len(args.inputs) != 1:
                raise UsageError("convert osm takes one OpenStreetMap file", "mobsim convert")
            stem = Path(args.inputs[0]).name.split(".")[0]
            net = convert_osm(args.inputs[0], Path(tmp) / f"{stem}.net.xml")
            sc = load_sumo_inputs([net], _overrides(args))
        else:
            sc = load_sumo_inputs(args.inputs, _overrides(args))
        if args.random_trips > 0:
            st = sc.settings
            extra = random_trips(sc.network, args.random_trips, (st["sim.end"] - st["sim.begin"]) / 2,
                                 seed=st["sim.seed"])
            extra = [dataclasses.replace(t, depart=t.depart + st["sim.begin"], vtype=sc.vtypes[0].id)
                     for t in extra]
            sc.trips = sorted(sc.trips + extra, key=lambda t: (t.depart, t.id))
            sc.warnings = [w for w in sc.warnings if "has no trips" not in w]
        _print_warnings(sc.warnings)
        out = write_native(sc, args.out)
    n_lanes = sum(lk.lanes for lk in sc.network.links)
    print(f"wrote {out}: {len(sc.network.nodes)} nodes, {len(sc.network.links)} links, {n_lanes} lanes, "
          f"{len(sc.network.signals)} signals, {len(sc.trips)} trips, {len(sc.vtypes)} vehicle types")
    return EXIT_OK


def _kpi_line(path: Path) -> str:
    """A one-line summary of a finished run's trips (empty if the results cannot be read), read
    back from the file with h5py and numpy (pandas, which ``mobsim.open`` builds its tables with,
    took a quarter of a second to import: a tenth of a short run); drones through ``mobsim.open``."""
    try:
        import h5py
        import numpy as np

        with h5py.File(path, "r") as h5:
            if h5.attrs.get("status") != "complete":
                raise ValueError(f"status {h5.attrs.get('status')!r}")
            g = h5["trips"]
            cols = {c: g[c][()].astype(np.float64) for c in ("arrival", "duration", "time_loss",
                                                             "insertion_delay") if c in g}
            has_drones = "drones" in h5
        arrival = cols["arrival"]
        arrived = ~np.isnan(arrival)
        n, na = len(arrival), int(arrived.sum())
        parts = [f"trips {n}", f"arrived {na}"]
        for col, label in (("duration", "mean travel time"), ("time_loss", "mean time loss")):
            if col in cols and na:
                parts.append(f"{label} {float(cols[col][arrived].mean()):.1f} s")
        delay = cols.get("insertion_delay")
        if delay is not None and n and (~np.isnan(delay)).any():
            parts.append(f"mean insertion delay {float(np.nanmean(delay)):.1f} s")
        line = "kpi: " + ", ".join(parts)
        if not has_drones:
            return line
        from mobsim.analysis import results
        from mobsim.modes.drones.kpi import drone_kpis

        d = drone_kpis(results.open(path))
        if d:
            line += (f"\n     drones: {d['drone_flights_requested']} flights requested, "
                     f"{d['drone_flights_completed']} completed, {d['drone_flights_refused']} refused, "
                     f"mean delivery time {d['drone_mean_delivery_time_s']:.1f} s, "
                     f"{d['drone_conflicts_per_flight_hour']:.2f} conflicts and "
                     f"{d['drone_los_per_flight_hour']:.2f} losses of separation per flight hour")
        return line
    except Exception as exc:  # the run itself succeeded; say why there is no KPI line
        return f"kpi: not available ({type(exc).__name__}: {exc}); try 'mobsim kpi {path}'"


def _result_path(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise InputError(f"result file not found: {path}", source=str(path),
                         fix="give the .h5 file written by 'mobsim run'")
    return path


def cmd_kpi(args: argparse.Namespace) -> int:
    """KPIs of a result file, with the kpi.* settings the run was made with."""
    path = _result_path(args.result)
    from mobsim.analysis import kpi, results

    res = results.open(path, allow_partial=args.allow_partial)
    values = res.kpis(group_by=args.by)  # with the run's own kpi.* settings
    if args.json:
        to_json = getattr(kpi, "to_json", None)
        print(to_json(values) if to_json else json.dumps(values, indent=2, default=_json_default))
    else:
        print(kpi.format_table(values))
    return EXIT_OK


def _json_default(x: Any) -> Any:
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if hasattr(x, "to_dict"):
        return x.to_dict()
    return str(x)


def cmd_plot(args: argparse.Namespace) -> int:
    path = _result_path(args.result)
    from mobsim.analysis import plot, results

    res = results.open(path, allow_partial=args.allow_partial)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in plot.plot_all(res, out_dir):
        print(p)
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    from mobsim.settings import describe

    print(describe(), end="")
    return EXIT_OK


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "kpi": cmd_kpi, "plot": cmd_plot,
            "settings": cmd_settings, "convert": cmd_convert}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mobsim`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        debug = getattr(args, "debug", False)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except SystemExit as exc:  # --help, --help-settings
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except UsageError as exc:
        print(f"mobsim: error: {exc}\n  see '{exc.prog} --help'", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mobsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InputError as exc:
        if debug:
            traceback.print_exc()
        print(f"mobsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if debug:
            traceback.print_exc()
            print(f"mobsim: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            print(f"mobsim: error: {type(exc).__name__}: {exc}\n  run with --debug for the traceback",
                  file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
