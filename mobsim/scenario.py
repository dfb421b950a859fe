"""Scenarios: one TOML file that names the network, vehicle types, demand and every setting.

Layout (every section optional except a network; relative paths are relative to the file)::

    [scenario]
    name = "default"               # used for the default output file results/<name>.h5
    description = "morning peak"

    [network]
    dir = "net"                    # GMNS CSV folder (node.csv, link.csv, ...) ...
    # generator = "grid"           # ... or one of mobsim.net.generators: grid, corridor, ring,
    # [network.params]             #     district, single_link, with its keyword arguments
    # rows = 3
    # sumo = "city.net.xml"        # ... or a SUMO network (.net.xml, .net.xml.gz; needs sumolib)
    # sumo_tls = ["tls.add.xml"]   #     with traffic-light programs of SUMO additional files
    # vclass = "passenger"         #     whose lanes for this SUMO vehicle class are kept

    [[vtypes]]                     # mobsim.demand.vtypes.VehicleType fields; default: one type "car"
    id = "car"
    tau = 1.2
    # cf_model = "Krauss"          # SUMO's default model (with sigma dawdling); default "IDM";
    # sigma = 0.5                  # "ACC" / "CACC": (cooperative) adaptive cruise control (gains
                                   # sc_gain ... sc_min_gap, made for sim.dt = 0.1)

    [demand]
    trips = "trips.csv"            # trip table(s); see mobsim.demand.sources for every source
    sumo = ["city.rou.xml"]        # SUMO routes, trips, flows and vTypes (mobsim.interop.sumo_demand)
    unreachable = "error"          # settings of the [demand] section (see mobsim.settings)
    [[demand.od]]
    file = "od.csv"
    zones = "zones.csv"
    end = 3600
    [[demand.flows]]
    id = "f1"
    from = "a"
    to = "b"
    end = 3600
    vehs_per_hour = 600

    [sim]                          # and [junction], [routing], [output], [kpi]:
    dt = 0.5                       # the settings of mobsim.settings.SETTINGS

The vTypes of SUMO demand files are vehicle types of the scenario: they replace the built-in
default type "car"; one also given in [[vtypes]] must have the same values there (else an error
naming both). A ``.sumocfg`` file loads as the configuration :mod:`mobsim.interop.sumocfg` derives from it.
SUMO vehicles with the taxi device and the persons who ride them are an on-demand fleet
(:mod:`mobsim.interop.sumo_taxi`) with SUMO's dispatch rules, which a ``[drt]`` section may
override (a ``[drt]`` fleet beside them is an error).

Unknown sections and keys are errors (with the closest known name). ``load_scenario`` applies
``--set key=value`` overrides after the file, validates everything, reads the network and
demand, and returns a :class:`Scenario` whose ``resolved_toml`` is the complete configuration
with every default written out (it loads back to the same settings).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobsim import settings as st
from mobsim.demand.sources import DEMAND_INPUT_KEYS, load_demand, normalize_config
from mobsim.demand.trip_tables import TripChecker
from mobsim.demand.trips import Trip
from mobsim.demand.vtype_tables import build_vtypes, check_vtypes, merge_vtypes, step_warnings
from mobsim.demand.vtypes import VehicleType
from mobsim.errors import InputError
from mobsim.modes.drones.airspace import DRONE_INPUT_KEYS
from mobsim.net.network import Network
from mobsim.scenario_network import build_network, check_network
from mobsim.toml_text import dumps_toml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

#: The table of every setting (re-exported from :mod:`mobsim.settings`).
SETTINGS = st.SETTINGS
#: Network generators a scenario may name (functions of :mod:`mobsim.net.generators`).
#: Sections of a scenario file (settings sections come from :data:`mobsim.settings.SECTIONS`).
SECTIONS = tuple(dict.fromkeys(("scenario", "network", "vtypes", "demand") + st.SECTIONS
                               + ("transit", "drt")))
SCENARIO_KEYS = ("name", "description")
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass
class Scenario:
    """A loaded, validated scenario: everything a :class:`mobsim.engine.Simulation` needs.

    Attributes
    ----------
    name: scenario name (letters, digits, ``_ . -``); names the default output file.
    path: the scenario file, or None for :func:`scenario_from_objects`.
    base_dir: folder that relative paths in the scenario are resolved against.
    network: the road network.
    vtypes: vehicle types; a trip's ``vtype`` is one of their ids.
    trips: every trip, sorted by ``(depart, id)``.
    settings: every setting of :data:`mobsim.settings.SETTINGS` by dotted key, defaults resolved.
    warnings: non-fatal findings of the network check and demand loading.
    resolved_toml: the complete configuration as TOML (defaults written out), for provenance.
    input_files: ``(absolute path, sha256 hex)`` of every file read.
    description: free text from ``[scenario] description``.
    config: the resolved non-setting sections (scenario, network, vtypes, demand inputs).
    airspace: the drones' :class:`mobsim.modes.drones.airspace.Airspace` (from ``[drones]``), or None.
    transit: the transit lines' :class:`mobsim.demand.transit.TransitPlan` (from ``[transit]``), or None.
    drt: the on-demand service's :class:`mobsim.modes.drt.plan.DrtPlan` (from ``[drt]``, or SUMO's
        taxis: :mod:`mobsim.interop.sumo_taxi`), or None.
    """

    name: str
    path: Path | None
    base_dir: Path
    network: Network
    vtypes: list[VehicleType]
    trips: list[Trip]
    settings: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    resolved_toml: str = ""
    input_files: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    config: dict[str, Any] = field(default_factory=dict, repr=False)
    airspace: Any = None
    transit: Any = None
    drt: Any = None

    def with_settings(self, **dotted: Any) -> Scenario:
        """A copy with some settings changed, e.g. ``sc.with_settings(**{"sim.dt": 0.25})`` or
        ``sc.with_settings(sim__dt=0.25)`` (``__`` stands for the dot).

        Values are validated as in a scenario file and vehicle types are re-checked against
        ``sim.dt``. The demand is *not* regenerated: a changed ``sim.seed`` affects the engine's
        random draws but not already-drawn OD departures (reload the scenario for that).
        """
        source = "with_settings"
        new = dict(self.settings)
        for raw, value in dotted.items():
            key = raw.replace("__", ".")
            new[key] = st.validate(key, value, source)
        st.check_consistency(new, source)
        check_vtypes(self.vtypes, new["sim.dt"], source)
        out = dataclasses.replace(self, settings=new, warnings=list(self.warnings),
                                  input_files=list(self.input_files))
        out.resolved_toml = _resolved_toml(self.config, new, self.path)
        return out

    def output_path(self, out: str | Path | None = None) -> Path:
        """Where the run's result file goes: ``out`` if given, else ``output.file``, else
        ``results/<name>.h5``; relative paths are relative to the current directory."""
        if out:
            return Path(out)
        if self.settings["output.file"]:
            return Path(self.settings["output.file"])
        return Path("results") / f"{self.name}.h5"

    def summary(self) -> dict[str, Any]:
        """Counts for ``mobsim validate``: nodes, links, lanes, signals, movements, trips, vtypes."""
        net = self.network
        departs = [t.depart for t in self.trips]
        return {
            "name": self.name,
            "nodes": len(net.nodes),
            "links": len(net.links),
            "lanes": sum(link.lanes for link in net.links),
            "lane_km": sum(link.lanes * link.length for link in net.links) / 1000.0,
            "movements": len(net.movements),
            "signals": sum(1 for n in net.nodes if n.control == "signal"),
            "trips": len(self.trips),
            "first_depart": min(departs) if departs else math.nan,
            "last_depart": max(departs) if departs else math.nan,
            "vtypes": [v.id for v in self.vtypes],
            "warnings": len(self.warnings),
        }


# --------------------------------------------------------------------------------------------
# loading


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load, validate and resolve a scenario file (or a folder holding ``scenario.toml``).

    ``overrides`` are ``"key=value"`` strings (``mobsim run --set``), applied after the file and
    validated the same way (source ``"--set"``). Raises :class:`InputError` for any bad input.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "scenario.toml"
    if not path.is_file():
        raise InputError("scenario file not found", source=str(path),
                         fix="give the path of a scenario .toml file (or a folder with scenario.toml)")
    source = str(path)
    files: list[Path] = [path]
    warnings: list[str] = []
    sumo_meta: dict[str, Any] = {}
    if path.suffix == ".sumocfg":
        from mobsim.interop.sumocfg import META_KEY, sumocfg_config

        cfg = sumocfg_config(path, warnings)
        sumo_meta = cfg.pop(META_KEY)
    else:
        data = path.read_bytes()
        try:
            cfg = tomllib.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", source=source,
                             fix="save the scenario file as UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"not valid TOML: {exc}", source=source,
                             fix="fix the syntax at that line (see https://toml.io)") from None
    base_dir = path.resolve().parent

    config, values = _split_config(cfg, source)
    settings = st.defaults()
    for key, value in values.items():
        settings[key] = st.validate(key, value, source)
    end_given = False
    for text in overrides:
        key, value = st.parse_override(text, "--set")
        settings[key] = value
        end_given = end_given or key == "sim.end"
    # A .sumocfg without end runs until the network is empty (sim.end is set from the demand below).
    until_empty = bool(sumo_meta.get("until_empty")) and not end_given
    st.check_consistency(settings, f"{source} (with --set)" if overrides else source)

    name = config["scenario"].get("name") or (path.parent.resolve().name if path.stem == "scenario"
                                              else path.stem)
    config["scenario"]["name"] = _check_name(name, source)
    explicit_vtypes = bool(config["vtypes"])
    vtypes = build_vtypes(config["vtypes"], settings["sim.dt"], source)
    config["vtypes"] = [v.as_dict() for v in vtypes]
    config["demand"] = normalize_config(config["demand"], source)

    network = build_network(config["network"], base_dir, source, files, warnings)
    warnings += list(check_network(network))
    sumo_trips: list[Trip] = []
    found_pt: list[Any] = []  # SUMO public transport (mobsim.interop.sumo_pt.PTFound)
    found_taxi: list[Any] = []  # SUMO taxis and taxi rides (mobsim.interop.sumo_taxi.TaxiFound)
    if config["demand"].get("sumo"):
        from mobsim.interop.sumo_demand import read_sumo_demand

        routes = [base_dir / f for f in config["demand"]["sumo"]]
        # SUMO checks a route by its connections: link -> the links a movement leads to.
        successors: dict[str, set[str]] = {}
        for m in network.movements:
            successors.setdefault(m.from_link, set()).add(m.to_link)
        vtype_files: dict[str, str] = {}
        svtypes, sumo_trips = read_sumo_demand(routes, {lk.id: lk for lk in network.links},
                                               begin=settings["sim.begin"],
                                               end=None if until_empty else settings["sim.end"],
                                               seed=settings["sim.seed"], warnings=warnings,
                                               lane_map=network.sumo_lanes, successors=successors,
                                               route_errors=sumo_meta.get("route_errors", "error"),
                                               vtype_sources=vtype_files,
                                               options=sumo_meta.get("options"), transit=found_pt,
                                               taxi=found_taxi)
        files.extend(routes)
        other_demand = any(config["demand"].get(k) for k in ("trips", "od", "flows"))
        vtypes = merge_vtypes(vtypes, svtypes, explicit_vtypes, other_demand, vtype_files, source)
        check_vtypes(vtypes, settings["sim.dt"], source)
        config["vtypes"] = [v.as_dict() for v in vtypes]
    warnings += step_warnings(vtypes, settings["sim.dt"], source)
    trips = load_demand(config["demand"], base_dir, network, settings["sim.seed"], source,
                        vtypes=[v.id for v in vtypes], warnings=warnings, files=files)
    if sumo_trips:
        ids = {t.id for t in trips}
        clash = next((t.id for t in sumo_trips if t.id in ids), None)
        if clash is not None:
            raise InputError(f"trip id '{clash}' is used by the SUMO demand and by another demand source",
                             source=source, element="[demand]", fix="make trip ids unique across sources")
        trips = sorted(trips + sumo_trips, key=lambda t: (t.depart, t.id))
    sumo_drt = None  # the [drt] tables of SUMO's taxis (mobsim.interop.sumo_taxi)
    if found_taxi:
        from mobsim.interop.sumo_taxi import drt_config

        sumo_drt = drt_config(found_taxi[0], warnings, source)
    if sumo_drt is not None and config["drt"].get("fleets"):
        raise InputError("an on-demand fleet both in the SUMO demand (vehicles with the taxi device) and in "
                         "[drt]", source=source, element="[drt] fleets",
                         fix="keep the fleet in one of them ([drt] may still set the service's rules)")
    if until_empty:
        from mobsim.interop.sumocfg import UNTIL_EMPTY_MARGIN

        last = max([t.depart for t in trips] + [r["time"] for r in (sumo_drt or {}).get("requests", [])],
                   default=settings["sim.begin"])
        settings["sim.end"] = max(last, settings["sim.begin"]) + UNTIL_EMPTY_MARGIN
        st.check_consistency(settings, source)
        warnings.append(f"{source}: no end time: as in SUMO the run ends when every vehicle has left the "
                        f"network, at the latest at sim.end = {settings['sim.end']:g} s (the last "
                        f"departure + {UNTIL_EMPTY_MARGIN:g} s; --end or --set sim.end=... to change it)")
    airspace = None
    if config["drones"]:
        from mobsim.modes.drones.airspace import load_airspace

        airspace = load_airspace(config["drones"], network, settings, base_dir, source, files)
        trips_or_flights = bool(trips) or bool(airspace.requests)
    else:
        trips_or_flights = bool(trips)
    transit = None
    if found_pt:
        from mobsim.interop.sumo_pt import transit_plan

        transit = transit_plan(found_pt[0], sumo_trips, warnings, source)
        if transit is not None and config["transit"]:
            raise InputError("public transport both in the SUMO demand and in [transit]", source=source,
                             element="[transit]", fix="keep the lines in one of them")
    if config["transit"]:
        from mobsim.demand.transit import SHUTTLE_VTYPE, load_transit

        tables, vtypes = _transit_tables(config, network, vtypes, base_dir, source, files, warnings)
        transit = load_transit(tables, network, [v.id for v in vtypes], base_dir, source, files, warnings)
        if any(v.vtype == SHUTTLE_VTYPE.id for v in transit.vehicles) and SHUTTLE_VTYPE.id not in {
                v.id for v in vtypes}:
            vtypes = [*vtypes, SHUTTLE_VTYPE]
            config["vtypes"] = [v.as_dict() for v in vtypes]
        trips_or_flights = True
    drt = None
    if config["drt"] or sumo_drt is not None:
        drt, vtypes = _drt_plan(config, network, vtypes, base_dir, source, files, warnings, sumo_drt,
                                seed=settings["sim.seed"])
        trips_or_flights = True
    warnings.extend(w for w in _window_warnings(trips, settings, source)
                    if trips_or_flights is False or "has no trips" not in w)
    return Scenario(
        name=config["scenario"]["name"], path=path, base_dir=base_dir, network=network,
        vtypes=vtypes, trips=trips, settings=settings, warnings=warnings,
        resolved_toml=_resolved_toml(config, settings, path), input_files=_hash_files(files),
        description=config["scenario"].get("description", ""), config=config, airspace=airspace,
        transit=transit, drt=drt)


def scenario_from_objects(network: Network, trips: Iterable[Trip],
                          vtypes: Sequence[VehicleType] | None = None,
                          settings: dict[str, Any] | None = None, name: str = "inline",
                          transit: dict[str, Any] | None = None,
                          drt: dict[str, Any] | None = None) -> Scenario:
    """A scenario from Python objects (notebooks, tests): checked like a loaded one.

    ``drt`` is a ``[drt]`` table as a scenario file gives it (the service's rules, fleets and
    requests: :mod:`mobsim.modes.drt.plan`; a ``requests_file`` relative to the current folder).

    ``transit`` is a ``[transit]`` table as a scenario file gives it (stops, vehicles, lines,
    passengers; :mod:`mobsim.demand.transit`; a ``gtfs`` table, :mod:`mobsim.interop.gtfs`, with
    its feed relative to the current folder).

    ``settings`` maps dotted keys to values (the rest are defaults); ``vtypes`` defaults to one
    ``VehicleType()`` (id ``"car"``). Trips are checked against the network and vehicle types and
    sorted by ``(depart, id)``; the network goes through :func:`mobsim.net.netcheck.check_network`.
    """
    source = f"scenario '{name}'"
    resolved = st.resolve(dict(settings or {}), source)
    vtypes = list(vtypes) if vtypes else [VehicleType()]
    check_vtypes(vtypes, resolved["sim.dt"], source)
    warnings = list(check_network(network)) + step_warnings(vtypes, resolved["sim.dt"], source)
    checker = TripChecker(network, [v.id for v in vtypes])
    seen: set[str] = set()
    checked = []
    for t in trips:
        element = f"trip '{t.id}'"
        if t.id in seen:
            raise InputError("duplicate trip id", source=source, element=element, fix="make trip ids unique")
        seen.add(t.id)
        if not math.isfinite(t.depart) or t.depart < 0:
            raise InputError(f"depart = {t.depart} is not a time >= 0 s", source=source, element=element,
                             fix="give depart in seconds, >= 0")
        ct = checker.trip(t.id, t.origin, t.destination, t.depart, t.vtype, tuple(t.route),
                          t.depart_lane, t.depart_speed, source, element, t.depart_pos)
        checked.append(dataclasses.replace(ct, stops=tuple(t.stops)) if t.stops else ct)
    checked.sort(key=lambda t: (t.depart, t.id))
    warnings.extend(_window_warnings(checked, resolved, source))
    config = {"scenario": {"name": _check_name(name, source), "description": ""},
              "network": {}, "vtypes": [v.as_dict() for v in vtypes],
              "demand": {"trips": [], "od": [], "flows": []},
              "inline": f"network {network.name!r} (source {network.source}) and {len(checked)} trips "
                        "given as Python objects; this file alone does not reproduce them"}
    plan = None
    if transit:
        from mobsim.demand.transit import SHUTTLE_VTYPE, load_transit

        config["transit"] = dict(transit)
        tables, vtypes = _transit_tables(config, network, vtypes, Path.cwd(), source, [], warnings)
        plan = load_transit(tables, network, [v.id for v in vtypes], Path.cwd(), source, [], warnings)
        if any(v.vtype == SHUTTLE_VTYPE.id for v in plan.vehicles) and SHUTTLE_VTYPE.id not in {
                v.id for v in vtypes}:
            vtypes = [*vtypes, SHUTTLE_VTYPE]
            config["vtypes"] = [v.as_dict() for v in vtypes]
    drt_plan = None
    if drt:
        config["drt"] = dict(drt)
        drt_plan, vtypes = _drt_plan(config, network, vtypes, Path.cwd(), source, [], warnings,
                                     seed=resolved["sim.seed"])
    return Scenario(name=name, path=None, base_dir=Path.cwd(), network=network, vtypes=vtypes,
                    trips=checked, settings=resolved, warnings=warnings,
                    resolved_toml=_resolved_toml(config, resolved, None), input_files=[],
                    config=config, transit=plan, drt=drt_plan)


def _drt_plan(config: dict[str, Any], network: Network, vtypes: list[VehicleType], base_dir: Path,
              source: str, files: list[Path], warnings: list[str],
              sumo: dict[str, Any] | None = None, seed: int = 0) -> tuple[Any, list[VehicleType]]:
    """The checked ``[drt]`` section (:func:`mobsim.modes.drt.plan.load_drt`) and ``vtypes`` with
    the built-in automated shuttle where a fleet uses it without defining it. ``sumo``: the
    ``[drt]`` tables of SUMO's taxis (:func:`mobsim.interop.sumo_taxi.drt_config`): their rules
    unless the section gives its own, their fleets, their requests before the section's. (Like
    SUMO's public transport, they stay out of ``config`` and the resolved configuration.) ``seed``:
    the scenario's, for requests drawn from rates."""
    from mobsim.demand.transit import SHUTTLE_VTYPE
    from mobsim.modes.drt.plan import load_drt

    ids = [v.id for v in vtypes]
    if SHUTTLE_VTYPE.id not in ids:
        ids.append(SHUTTLE_VTYPE.id)
    cfg = config["drt"]
    if sumo is not None:
        own = cfg.get("requests", [])
        cfg = {**sumo, **cfg, "fleets": sumo["fleets"],
               "requests": sumo["requests"] + ([own] if isinstance(own, dict) else list(own))}
    plan = load_drt(cfg, network, ids, base_dir, source, files, warnings, seed=seed)
    if (any(v.vtype == SHUTTLE_VTYPE.id for v in plan.vehicles)
            and SHUTTLE_VTYPE.id not in {v.id for v in vtypes}):
        vtypes = [*vtypes, SHUTTLE_VTYPE]
        config["vtypes"] = [v.as_dict() for v in vtypes]
    return plan, vtypes


def _transit_tables(config: dict[str, Any], network: Network, vtypes: list[VehicleType], base_dir: Path,
                    source: str, files: list[Path], warnings: list[str]
                    ) -> tuple[dict[str, Any], list[VehicleType]]:
    """The ``[transit]`` tables that :func:`mobsim.demand.transit.load_transit` checks: those of
    ``config["transit"]``, with a ``[transit.gtfs]`` feed expanded into stops, vehicles and lines
    (:mod:`mobsim.interop.gtfs`; its files join ``files``); and ``vtypes`` with the built-in road
    vehicle types the imported lines use (``config["vtypes"]`` follows)."""
    tables = config["transit"]
    if "gtfs" not in tables:
        return tables, vtypes
    from mobsim.interop.gtfs import builtin_vtypes, expand_transit, resolved_config

    tables = expand_transit(tables, network, base_dir, source, files, warnings)
    config["transit"] = resolved_config(config["transit"])
    extra = builtin_vtypes(tables, [v.id for v in vtypes])
    if extra:
        vtypes = [*vtypes, *extra]
        config["vtypes"] = [v.as_dict() for v in vtypes]
    return tables, vtypes


def _split_config(cfg: dict, source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a parsed file into the non-setting sections and a flat dict of setting values."""
    for sec, value in cfg.items():
        if sec not in SECTIONS:
            raise InputError(f"unknown section [{sec}]{st.suggest(sec, SECTIONS)}", source=source,
                             element=f"[{sec}]", fix=f"use only the sections {', '.join(SECTIONS)}")
        if sec == "vtypes":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise InputError("vtypes must be an array of tables", source=source, element="vtypes",
                                 fix="write each vehicle type as a [[vtypes]] table")
        elif not isinstance(value, dict):
            raise InputError(f"[{sec}] must be a table, got {value!r}", source=source, element=sec,
                             fix=f"write it as a [{sec}] section")
    config: dict[str, Any] = {"scenario": dict(cfg.get("scenario", {})),
                              "network": dict(cfg.get("network", {})),
                              "vtypes": list(cfg.get("vtypes", [])), "demand": {}, "drones": {},
                              "transit": dict(cfg.get("transit", {})), "drt": dict(cfg.get("drt", {}))}
    for key, value in config["scenario"].items():
        if key not in SCENARIO_KEYS:
            raise InputError(f"unknown key{st.suggest(key, SCENARIO_KEYS)}", source=source,
                             element=f"scenario.{key}", fix=f"use only: {', '.join(SCENARIO_KEYS)}")
        if not isinstance(value, str):
            raise InputError(f"must be a string, got {value!r}", source=source, element=f"scenario.{key}",
                             fix=f'write {key} = "..."')
    values: dict[str, Any] = {}
    for sec in st.SECTIONS:
        for key, value in cfg.get(sec, {}).items():
            dotted = f"{sec}.{key}"
            if sec == "demand" and key in DEMAND_INPUT_KEYS:
                config["demand"][key] = value
            elif sec == "drones" and key in DRONE_INPUT_KEYS:
                config["drones"][key] = value
            elif dotted in st.SETTINGS:
                values[dotted] = value
            else:
                known = [k.split(".", 1)[1] for k in st.SETTINGS if k.startswith(sec + ".")]
                if sec == "demand":
                    known += list(DEMAND_INPUT_KEYS)
                if sec == "drones":
                    known += list(DRONE_INPUT_KEYS)
                raise InputError(f"unknown key{st.suggest(key, known)}", source=source, element=dotted,
                                 fix=f"known keys of [{sec}]: {', '.join(known)} "
                                     "('mobsim settings' explains each)")
    return config, values


def _check_name(name: Any, source: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InputError(f"scenario name {name!r} cannot be used in a file name", source=source,
                         element="scenario.name", fix="use letters, digits, '_', '.' and '-' only")
    return name


def _window_warnings(trips: list[Trip], settings: dict[str, Any], source: str) -> list[str]:
    out = []
    begin, end = settings["sim.begin"], settings["sim.end"]
    if not trips:
        out.append(f"{source}: the scenario has no trips")
    late = sum(1 for t in trips if t.depart >= end)
    if late:
        out.append(f"{source}: {late} trip(s) depart at or after sim.end = {end} s and will not be "
                   "inserted")
    early = sum(1 for t in trips if t.depart < begin)
    if early:
        out.append(f"{source}: {early} trip(s) depart before sim.begin = {begin} s and will be "
                   "inserted from sim.begin on, late")
    return out


def _hash_files(files: list[Path]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for p in files:
        key = str(Path(p).resolve())
        if key not in out:
            out[key] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return list(out.items())


# --------------------------------------------------------------------------------------------
# the resolved configuration as TOML


def _resolved_doc(config: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"scenario": config["scenario"]}
    if config.get("network"):
        doc["network"] = config["network"]
    doc["vtypes"] = config["vtypes"]
    for sec in st.SECTIONS:
        table = {k.split(".", 1)[1]: v for k, v in settings.items() if k.startswith(sec + ".")}
        if sec == "demand":
            dem = config["demand"]
            if not config.get("inline"):
                table["trips"] = dem["trips"]
            for name in ("od", "flows"):
                if dem[name]:
                    table[name] = [{k: v for k, v in t.items() if v is not None} for t in dem[name]]
        if sec == "drones":
            table.update(config.get("drones") or {})
        doc[sec] = table
    if config.get("transit"):
        doc["transit"] = config["transit"]
    if config.get("drt"):
        doc["drt"] = config["drt"]
    return doc


def _resolved_toml(config: dict[str, Any], settings: dict[str, Any], path: Path | None) -> str:
    head = ["# mobsim resolved scenario: every setting written out, including defaults."]
    if path is not None:
        head.append(f"# from {path}; relative paths are relative to {path.resolve().parent}")
    if config.get("inline"):
        head.append(f"# {config['inline']}")
    return "\n".join(head) + "\n\n" + dumps_toml(_resolved_doc(config, settings))


def load_sumo_inputs(inputs: list[str | Path], overrides: list[str] | None = None) -> Any:
    """A :class:`~mobsim.scenario.Scenario` from a ``.sumocfg`` file, or from a network file
    followed by route files."""
    paths = [Path(p) for p in inputs]
    if not paths:
        raise InputError("no input given", source="mobsim convert sumo",
                         fix="give a .sumocfg file, or a .net.xml file and route files")
    if paths[0].suffix == ".sumocfg":
        if len(paths) > 1:
            raise InputError("a .sumocfg file names its own network and routes", source=str(paths[0]),
                             fix="give the .sumocfg alone, or the network and route files without it")
        return load_scenario(paths[0], overrides or [])
    for p in paths:
        if not p.is_file():
            raise InputError("file not found", source=str(p), fix="check the path")
    with tempfile.TemporaryDirectory() as tmp:
        toml = Path(tmp) / f"{paths[0].name.split('.')[0]}.toml"
        lines = ["[network]", f"sumo = {st.format_value(str(paths[0].resolve()))}", "", "[demand]"]
        if len(paths) > 1:
            lines.append("sumo = [" + ", ".join(st.format_value(str(p.resolve())) for p in paths[1:]) + "]")
        toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_scenario(toml, overrides or [])
