"""Run a SUMO configuration file (``.sumocfg``) as a mobsim scenario.

``mobsim run city.sumocfg`` reads the configuration with sumolib and turns it into the same
configuration a scenario TOML file gives: ``net-file`` -> ``[network] sumo``, ``route-files``
-> ``[demand] sumo``, ``begin``/``end``/``step-length`` -> ``sim.begin``/``sim.end``/``sim.dt``
(s), ``seed`` -> ``sim.seed``. Other options (additional files, outputs, GUI settings,
``--random``, ...) are listed in one warning. Relative paths are relative to the ``.sumocfg``
file, as in SUMO.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .errors import InputError

#: SUMO options read here, and those that only affect SUMO's own outputs or GUI (ignored silently).
USED = ("net-file", "route-files", "begin", "end", "step-length", "seed")
QUIET = ("xml-validation", "gui-settings-file", "no-step-log", "verbose", "duration-log.statistics",
         "no-warnings", "start", "quit-on-end", "delay", "window-size", "window-pos", "tripinfo-output",
         "summary-output", "fcd-output", "statistic-output", "log", "message-log", "error-log")
#: Default end (s) when the configuration has none (SUMO would run until the last vehicle arrives).
DEFAULT_END = 3600.0


def _time(value: str, name: str, source: str) -> float:
    try:
        if ":" in value:
            parts = [float(x) for x in value.split(":")]
            t = 0.0
            for p in parts:
                t = t * 60.0 + p
        else:
            t = float(value)
    except ValueError:
        raise InputError(f"option {name} = {value!r} is not a time", source=source, element=name,
                         fix="give seconds, e.g. 3600, or h:m:s") from None
    if not math.isfinite(t):
        raise InputError(f"option {name} = {value!r} is not a finite time", source=source, element=name,
                         fix="give seconds")
    return t


def _files(value: str) -> list[str]:
    return [f for f in value.replace(",", " ").split() if f]


def sumocfg_config(path: str | Path, warnings: list[str] | None = None) -> dict[str, Any]:
    """The scenario configuration (the dict a scenario TOML file parses to) of a ``.sumocfg`` file."""
    path = Path(path)
    source = str(path)
    try:
        import sumolib.options
    except ImportError as exc:
        raise InputError("running a .sumocfg file needs sumolib, which is not installed", source=source,
                         fix="pip install -e '.[sumo]'") from exc
    try:
        options = sumolib.options.readOptions(path.resolve().as_uri())
    except Exception as exc:  # noqa: BLE001 - expat and sax raise several kinds; all mean a bad file
        raise InputError(f"cannot read the SUMO configuration: {exc}", source=source,
                         fix="give a configuration written by sumo --save-configuration or netedit") from None
    opts = {o.name: str(o.value) for o in options}
    if "net-file" not in opts:
        raise InputError("the configuration has no net-file", source=source, element="input/net-file",
                         fix='add <net-file value="city.net.xml"/> to <input>')
    nets = _files(opts["net-file"])
    if len(nets) != 1:
        raise InputError(f"net-file must name one file, got {opts['net-file']!r}", source=source,
                         element="input/net-file", fix="give one network file")
    sim: dict[str, Any] = {}
    begin = _time(opts["begin"], "begin", source) if "begin" in opts else 0.0
    sim["begin"] = begin
    if "end" in opts and _time(opts["end"], "end", source) > begin:
        sim["end"] = _time(opts["end"], "end", source)
    else:
        sim["end"] = begin + DEFAULT_END
        if warnings is not None:
            warnings.append(f"{source}: no end time (SUMO runs until the last vehicle arrives); mobsim "
                            f"stops at {sim['end']:g} s: use --end to change it")
    if "step-length" in opts:
        sim["dt"] = _time(opts["step-length"], "step-length", source)
    if "seed" in opts:
        try:
            sim["seed"] = int(opts["seed"])
        except ValueError:
            raise InputError(f"seed {opts['seed']!r} is not an integer", source=source, element="seed",
                             fix="give an integer seed") from None
    ignored = sorted(k for k in opts if k not in USED and k not in QUIET)
    if ignored and warnings is not None:
        warnings.append(f"{source}: options not used by mobsim: {', '.join(ignored)}")
    cfg: dict[str, Any] = {"scenario": {"name": path.name.split(".")[0]}, "network": {"sumo": nets[0]},
                           "demand": {}, "sim": sim}
    routes = _files(opts.get("route-files", ""))
    if routes:
        cfg["demand"]["sumo"] = routes
    return cfg
