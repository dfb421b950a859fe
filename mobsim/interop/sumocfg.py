"""Run a SUMO configuration file (``.sumocfg``) as a mobsim scenario, as ``sumo -c`` runs it.

``mobsim run city.sumocfg`` reads the configuration with sumolib and turns it into the same
configuration a scenario TOML file gives. Relative paths are relative to the ``.sumocfg`` file, as
in SUMO. Options honoured (units: s):

* ``net-file`` -> ``[network] sumo``; ``route-files`` -> ``[demand] sumo``.
* ``additional-files``: a file that holds demand (vTypes, vTypeDistributions, routes,
  routeDistributions, vehicles, trips, flows) is read as demand too, after the route files, as
  SUMO does; the others (signal programs, detectors, stops, POIs, output definitions) are named in
  the warning of options mobsim does not use.
* ``begin``/``step-length``/``seed`` -> ``sim.begin``/``sim.dt``/``sim.seed``.
* ``end`` -> ``sim.end``. Without ``end`` (or ``end`` <= ``begin``, e.g. SUMO's -1) SUMO runs until
  every vehicle has left: mobsim's run ends once every trip arrived or was removed (the engine's
  ``stop_when_empty``), and ``sim.end`` is only a safety limit, set by
  :func:`mobsim.scenario.load_scenario` to the last departure + :data:`UNTIL_EMPTY_MARGIN` (a
  warning says so). Flows without ``end`` then end 24 h after their begin (SUMO's default).
* ``time-to-teleport`` -> ``sim.gridlock_time`` (default 300 s, as SUMO); a value <= 0 disables
  teleporting: ``sim.gridlock = "none"``. ``time-to-teleport.remove`` -> ``sim.gridlock = "remove"``.
* ``ignore-route-errors``: vehicles with a broken route (unknown edge or route, consecutive edges
  without a connection) are dropped with a warning instead of aborting
  (:func:`mobsim.interop.sumo_demand.read_sumo_demand` ``route_errors="drop"``), and trips without any
  route are dropped too (``demand.unreachable = "drop"``). Without it a broken route is an error,
  as in SUMO.
* Trips without a route (``<trip>``/``<flow>`` with ``from``/``to``) are routed when they are due
  on the travel times measured in the run (``routing.departure = "current"``), as SUMO routes
  them at insertion with its rerouting device; ``device.rerouting.adaptation-interval`` <= 0
  (SUMO's static weights) -> ``"setup"`` (free-flow routes before the run), and
  ``device.rerouting.adaptation-steps`` x ``adaptation-interval`` -> ``routing.average_window``.
* ``carfollow.model`` and ``default.speeddev``: the car-following model and speed deviation of
  vTypes that do not give their own (mapped as in :mod:`mobsim.interop.sumo_demand`).
* ``device.taxi.*``: which vehicles are taxis and the dispatch rules of the on-demand fleet they
  form (:mod:`mobsim.interop.sumo_taxi`, which names the taxi options it does not model).

Options that only shape SUMO's own outputs, reports or GUI are ignored silently (:data:`QUIET`,
:data:`QUIET_PREFIXES`); every other option is listed in one warning.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mobsim.errors import InputError

#: SUMO options mobsim honours.
USED = ("net-file", "route-files", "additional-files", "begin", "end", "step-length", "seed",
        "time-to-teleport", "time-to-teleport.remove", "ignore-route-errors", "carfollow.model",
        "default.speeddev", "device.rerouting.adaptation-interval", "device.rerouting.adaptation-steps")
#: Options that change the defaults of vTypes (passed to :func:`mobsim.interop.sumo_demand.read_sumo_demand`).
VTYPE_OPTIONS = ("carfollow.model", "default.speeddev")
#: Prefix of the taxi device's options, passed on too (:mod:`mobsim.interop.sumo_taxi` warns about
#: those it does not model).
TAXI_PREFIX = "device.taxi."
#: Options that only affect SUMO's own outputs, reports or GUI (ignored without a warning).
QUIET = ("xml-validation", "xml-validation.net", "xml-validation.routes", "gui-settings-file",
         "no-step-log", "step-log.period", "verbose", "print-options", "no-warnings", "aggregate-warnings",
         "duration-log.statistics", "duration-log.disable", "start", "quit-on-end", "delay", "window-size",
         "window-pos", "game", "game.mode", "demo", "osg-view", "breakpoints", "disable-textures",
         "tracker-interval", "registry-viewport", "log", "message-log", "error-log", "language",
         "human-readable-time", "precision", "precision.geo", "output-prefix", "write-license",
         "save-configuration", "save-template", "save-schema")
#: Option prefixes and suffixes with the same meaning (SUMO's output files and their options).
QUIET_PREFIXES = ("output.", "tripinfo-output", "vehroute-output", "summary-output", "statistic-output",
                  "fcd-output", "netstate-dump", "emission-output", "full-output", "queue-output",
                  "lanechange-output", "collision-output", "edgedata-output", "lanedata-output",
                  "person-summary-output", "stop-output", "battery-output", "railsignal-block-output")
QUIET_SUFFIXES = ("-output",)
#: Safety limit of a run without ``end``: the last departure plus this (s); the run itself ends
#: as soon as every vehicle has left the network.
UNTIL_EMPTY_MARGIN = 86400.0
#: Default ``time-to-teleport`` of SUMO (s).
SUMO_TIME_TO_TELEPORT = 300.0
#: Key of the SUMO-only information in the returned configuration (popped by load_scenario).
META_KEY = "_sumocfg"


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


def _bool(value: str, name: str, source: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes", "on", "x"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise InputError(f"option {name} = {value!r} is not a boolean", source=source, element=name,
                     fix="give true or false")


def _files(value: str) -> list[str]:
    return [f for f in value.replace(",", " ").split() if f]


def _quiet(name: str) -> bool:
    return (name in QUIET or name.startswith(QUIET_PREFIXES) or name.endswith(QUIET_SUFFIXES))


def sumocfg_config(path: str | Path, warnings: list[str] | None = None) -> dict[str, Any]:
    """The scenario configuration (the dict a scenario TOML file parses to) of a ``.sumocfg`` file.

    The result also holds ``META_KEY``: ``{"until_empty": bool, "route_errors": "error"|"drop"}``
    for :func:`mobsim.scenario.load_scenario`, which removes it before checking the sections.
    """
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
    until_empty = not ("end" in opts and _time(opts["end"], "end", source) > begin)
    # Without end: a provisional limit; load_scenario sets it from the last departure.
    sim["end"] = begin + UNTIL_EMPTY_MARGIN if until_empty else _time(opts["end"], "end", source)
    if "step-length" in opts:
        sim["dt"] = _time(opts["step-length"], "step-length", source)
    if "seed" in opts:
        try:
            sim["seed"] = int(opts["seed"])
        except ValueError:
            raise InputError(f"seed {opts['seed']!r} is not an integer", source=source, element="seed",
                             fix="give an integer seed") from None
    ttt = (_time(opts["time-to-teleport"], "time-to-teleport", source) if "time-to-teleport" in opts
           else SUMO_TIME_TO_TELEPORT)
    if ttt <= 0:
        sim["gridlock"] = "none"  # SUMO: time-to-teleport <= 0 disables teleporting
    else:
        sim["gridlock_time"] = ttt
        remove = "time-to-teleport.remove" in opts and _bool(opts["time-to-teleport.remove"],
                                                             "time-to-teleport.remove", source)
        sim["gridlock"] = "remove" if remove else "teleport"
    if "default.speeddev" in opts:
        try:
            float(opts["default.speeddev"])
        except ValueError:
            raise InputError(f"option default.speeddev = {opts['default.speeddev']!r} is not a number",
                             source=source, element="default.speeddev",
                             fix="give a deviation (e.g. 0.1), or -1 for the vClass defaults") from None
    if "carfollow.model" in opts:
        from mobsim.interop.sumo_demand import CF_MODEL_MAP

        if opts["carfollow.model"] not in CF_MODEL_MAP:
            raise InputError(f"option carfollow.model = {opts['carfollow.model']!r} is not a SUMO "
                             "car-following model", source=source, element="carfollow.model",
                             fix=f"use one of {', '.join(CF_MODEL_MAP)}")
    routing = _departure_routing(opts, source)
    drop = "ignore-route-errors" in opts and _bool(opts["ignore-route-errors"], "ignore-route-errors",
                                                   source)
    demand: dict[str, Any] = {}
    routes = _files(opts.get("route-files", ""))
    unused_additional = []
    tls_files = []
    for f in _files(opts.get("additional-files", "")):
        # SUMO loads vTypes, routes and vehicles from additional files as well (after the routes),
        # and traffic-light programs, the last loaded of which runs.
        from mobsim.interop.sumo_demand import file_has_demand

        full = path.resolve().parent / f
        used = False
        if file_has_demand(full):
            routes.append(f)
            used = True
        if _has_tls(full):
            tls_files.append(f)
            used = True
        if not used:
            unused_additional.append(f)
    if routes:
        demand["sumo"] = routes
    if drop:
        demand["unreachable"] = "drop"
    ignored = sorted(k for k in opts if k not in USED and not _quiet(k) and not k.startswith(TAXI_PREFIX))
    if unused_additional:
        ignored.append(f"additional-files ({', '.join(unused_additional)}: no demand or traffic-light "
                       "programs in them; detectors, stops and POIs of additional files are not read)")
    if ignored and warnings is not None:
        warnings.append(f"{source}: options not used by mobsim: {', '.join(ignored)}")
    network: dict[str, Any] = {"sumo": nets[0]}
    if tls_files:
        network["sumo_tls"] = tls_files
    return {"scenario": {"name": path.name.split(".")[0]}, "network": network, "demand": demand,
            "sim": sim, "routing": routing,
            META_KEY: {"until_empty": until_empty, "route_errors": "drop" if drop else "error",
                       "options": {k: v for k, v in opts.items()
                                   if k in VTYPE_OPTIONS or k.startswith(TAXI_PREFIX)}}}


def _departure_routing(opts: dict[str, str], source: str) -> dict[str, Any]:
    """The ``[routing]`` settings of SUMO's routing of trips at insertion: on the edge speeds its
    rerouting device measures every ``adaptation-interval`` s (default 1) and averages over the
    last ``adaptation-steps`` (default 180) samples; an interval <= 0 turns measuring off (static
    weights: free-flow routes)."""
    interval = 1.0
    steps = 180
    if "device.rerouting.adaptation-interval" in opts:
        interval = _time(opts["device.rerouting.adaptation-interval"], "device.rerouting.adaptation-interval",
                         source)
    if "device.rerouting.adaptation-steps" in opts:
        try:
            steps = int(opts["device.rerouting.adaptation-steps"])
        except ValueError:
            raise InputError(f"option device.rerouting.adaptation-steps = "
                             f"{opts['device.rerouting.adaptation-steps']!r} is not an integer",
                             source=source, element="device.rerouting.adaptation-steps",
                             fix="give a number of samples (SUMO's default is 180)") from None
    if interval <= 0:
        return {"departure": "setup"}
    out: dict[str, Any] = {"departure": "current"}
    if steps > 0:
        out["average_window"] = steps * interval
    return out


def _has_tls(path: Path) -> bool:
    """Whether a SUMO additional file defines a ``<tlLogic>`` (a cheap text scan; the network
    import parses it and reports what is wrong in it)."""
    try:
        with path.open("rb") as f:
            return any(b"<tlLogic" in block for block in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return False
