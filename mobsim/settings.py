"""Every scenario setting in one self-documenting table (after Veros' ``settings.py``).

A scenario file's ``[sim]``, ``[junction]``, ``[routing]``, ``[demand]``, ``[output]`` and ``[kpi]``
sections hold these keys; ``mobsim run --set key=value`` overrides them; ``mobsim settings`` prints
the table. The engine reads the resolved values from ``Scenario.settings[<dotted key>]``.

Adding a setting is one entry in :data:`SETTINGS`: its default, type, units, description and
allowed range or choices. Validation, overrides, the resolved config and the help text all come from
the table, so a key cannot exist without documentation. Units are SI (s, m, m/s); ``"1"`` marks a
dimensionless value, ``""`` a name or a switch.
"""

from __future__ import annotations

import copy
import difflib
import math
import numbers
import textwrap
from dataclasses import dataclass
from typing import Any

from mobsim.errors import InputError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Setting:
    """One scenario setting.

    Attributes
    ----------
    default: the value used when the scenario does not give one.
    type: ``float``, ``int``, ``str``, ``bool`` or ``list`` (a list of floats).
    units: SI units of the value (``"s"``, ``"1"``; ``""`` for names and switches).
    description: what the setting does, in one or two sentences.
    choices: the allowed values of a ``str`` setting.
    minimum, maximum: inclusive numeric bounds (for a ``list``: bounds of every element).
    min_exclusive: the value must be strictly greater than ``minimum``.
    length: the required number of elements of a ``list`` setting.
    increasing: the elements of a ``list`` setting must be strictly increasing.
    """

    default: Any
    type: type
    units: str
    description: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    length: int | None = None
    increasing: bool = False

    def allowed(self) -> str:
        """The allowed values in words, for help texts and error messages."""
        if self.choices:
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.type is bool:
            return "true or false"
        if self.type is str:
            return "a string"
        kind = {float: "a number", int: "an integer", list: "a list of numbers"}[self.type]
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.min_exclusive else '>='} {_fmt(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"<= {_fmt(self.maximum)}")
        text = kind + (" " + " and ".join(parts) if parts else "")
        if self.type is list:
            extra = []
            if self.length is not None:
                extra.append(f"{self.length} elements")
            if self.increasing:
                extra.append("strictly increasing")
            if extra:
                text += " (" + ", ".join(extra) + ")"
        return text


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else str(x)


_SEED_MAX = 2**63 - 1

#: The table of every setting, keyed by dotted name ``<section>.<key>``.
SETTINGS: dict[str, Setting] = {
    # -- simulation clock and engine -------------------------------------------------------
    "sim.dt": Setting(
        0.5, float, "s", "Time step. Every vehicle type's headway tau must be >= dt.",
        minimum=0.0, maximum=2.0, min_exclusive=True),
    "sim.begin": Setting(
        0.0, float, "s", "Simulated time at which the run starts (SUMO --begin).", minimum=0.0),
    "sim.end": Setting(
        3600.0, float, "s", "Simulated time at which the run stops (SUMO --end); must be > sim.begin. "
        "Vehicles still waiting or driving then stay in /trips with status waiting or running.",
        minimum=0.0, min_exclusive=True),
    "sim.seed": Setting(
        42, int, "1", "Seed of every random draw: random departures in the demand and the "
        "counter-based hash u01(seed, stream, agent, step) in the engine.",
        minimum=0, maximum=_SEED_MAX),
    "sim.threads": Setting(
        0, int, "1", "CPU threads for the cpu backend; 0 = all cores.", minimum=0, maximum=4096),
    "sim.backend": Setting(
        "auto", str, "", "Where the kernels run: auto = cuda if a CUDA device is usable, else cpu.",
        choices=("auto", "cpu", "cuda")),
    "sim.cuda_graphs": Setting(
        "auto", str, "", "cuda backend: replay each step as one captured CUDA graph instead of 24 "
        "kernel launches (faster on small and medium scenarios; the same results). auto = whenever "
        "the step allows it, off = never (to compare, or if a driver fails at the capture: it "
        "then falls back with a warning anyway).",
        choices=("auto", "on", "off")),
    "sim.gridlock": Setting(
        "teleport", str, "", "What happens to the first vehicle of a lane stopped for "
        "sim.gridlock_time: teleport = it leaves the network and moves on along its route until a "
        "lane has room for it, or arrives past its last link (SUMO time-to-teleport), remove = "
        "taken out of the simulation (status removed), none = it waits forever.",
        choices=("teleport", "remove", "none")),
    "sim.gridlock_time": Setting(
        300.0, float, "s", "A vehicle with speed below 0.1 m/s for this long is handled by "
        "sim.gridlock (an event is logged either way).", minimum=0.0, min_exclusive=True),
    # -- junctions -------------------------------------------------------------------------
    "junction.timegap_minor": Setting(
        1.0, float, "s", "Time a yielding vehicle must have cleared the junction (its distance to "
        "the line, the movement's length through the junction and its own length, driven at its "
        "acceleration) before the next conflicting vehicle with right of way arrives, unless it "
        "arrives only after that vehicle has left (SUMO's jmTimegapMinor and "
        "MSLink::blockedByFoe).", minimum=0.0, maximum=30.0),
    "junction.stop_time": Setting(
        1.0, float, "s", "Time a vehicle stands at the stop line of a 'stop' movement before it "
        "may yield and go.", minimum=0.0, maximum=60.0),
    # -- routing ---------------------------------------------------------------------------
    "routing.reroute_period": Setting(
        0.0, float, "s", "Period at which driving vehicles re-route on current travel times; "
        "0 = off (routes fixed at departure).", minimum=0.0),
    "routing.departure": Setting(
        "setup", str, "", "When trips without a given route are routed: setup = once before the "
        "run, by free-flow travel time; current = when they are due, on the travel times the "
        "vehicles measure (link length over the mean speed on the link, averaged over "
        "routing.average_window), as SUMO routes the trips loaded into it (its rerouting "
        "device). A .sumocfg run uses current.", choices=("setup", "current")),
    "routing.update_period": Setting(
        10.0, float, "s", "With routing.departure = current: how often the measured travel times are "
        "sampled and the trips due before the next sample are routed (SUMO samples every 1 s).",
        minimum=0.0, min_exclusive=True),
    "routing.average_window": Setting(
        180.0, float, "s", "With routing.departure = current: the measured speeds are averaged over "
        "this window (SUMO's adaptation-steps x adaptation-interval, 180 x 1 s).", minimum=0.0,
        min_exclusive=True),
    # -- demand ----------------------------------------------------------------------------
    "demand.unreachable": Setting(
        "error", str, "", "A trip whose destination cannot be reached from its origin: error = "
        "stop with an input error naming the trip, drop = leave it out and log a warning.",
        choices=("error", "drop")),
    "demand.insertion_delay_event": Setting(
        120.0, float, "s", "Log an insertion_delay event when a departure has waited this long "
        "for room on its first link.", minimum=0.0, min_exclusive=True),
    # -- output ----------------------------------------------------------------------------
    "output.file": Setting(
        "", str, "", "Result file; relative paths are relative to the current directory. "
        "Empty = results/<scenario name>.h5. mobsim run --out overrides it."),
    "output.summary_period": Setting(
        0.0, float, "s", "Period of the /summary rows; 0 = every step. Rounded to whole steps.",
        minimum=0.0),
    "output.edgedata_period": Setting(
        300.0, float, "s", "Aggregation interval of /edgedata (SUMO edgeData period); 0 = no "
        "edge data. Rounded to whole steps.", minimum=0.0),
    "output.fcd": Setting(
        False, bool, "", "Write sampled trajectories to /fcd (SUMO FCD output)."),
    "output.fcd_period": Setting(
        1.0, float, "s", "Sampling period of /fcd. Rounded to whole steps (at least one).",
        minimum=0.0, min_exclusive=True),
    "output.fcd_share": Setting(
        1.0, float, "1", "Fraction of vehicles whose trajectories are sampled (chosen by a "
        "seeded hash of the vehicle, so the same vehicles every sample).",
        minimum=0.0, maximum=1.0, min_exclusive=True),
    "output.compression": Setting(
        "gzip", str, "", "HDF5 compression: gzip = gzip level 1 + shuffle (readable everywhere), "
        "zstd = Zstandard through hdf5plugin, none = uncompressed.",
        choices=("gzip", "zstd", "none")),
    "output.log_period": Setting(
        300.0, float, "s", "Simulated time between two progress lines in log mode "
        "(mobsim run --progress log, used in batch jobs).", minimum=0.0, min_exclusive=True),
    # -- drones ----------------------------------------------------------------------------
    "drones.detection_interval": Setting(
        1.0, float, "s", "Period of drone conflict detection and resolution (BlueSky asas_dt). "
        "Rounded to whole steps (at least one).", minimum=0.0, min_exclusive=True),
    "drones.lookahead": Setting(
        20.0, float, "s", "Look-ahead time of state-based conflict detection (BlueSky DTLOOK).",
        minimum=0.0, min_exclusive=True, maximum=600.0),
    "drones.resolution": Setting(
        "mvp", str, "", "Conflict resolution: mvp = modified voltage potential in speed and heading, "
        "mvp3d = also in altitude (within the layers' band), off = detect and record only.",
        choices=("mvp", "mvp3d", "off")),
    "drones.resolution_margin": Setting(
        1.05, float, "1", "Factor on the protected zone that the resolution aims for (BlueSky "
        "resofach).", minimum=1.0, maximum=2.0),
    "drones.wind": Setting(
        [0.0, 0.0], list, "m/s", "Uniform wind [towards east, towards north]; ground velocity = air "
        "velocity + wind.", length=2, minimum=-40.0, maximum=40.0),
    "drones.pad_clearance": Setting(
        10.0, float, "m", "Height at which a departing drone frees its pad for the next one.",
        minimum=0.0, min_exclusive=True),
    "drones.terminal_radius": Setting(
        100.0, float, "m", "Radius of the terminal area around a leg's take-off point and its end: "
        "cruising drones inside it are sequenced by the vertiport, not separated en route.",
        minimum=0.0),
    "drones.drop_height": Setting(
        15.0, float, "m", "Hover height of a delivery drop at a destination point.", minimum=0.0),
    "drones.service_time": Setting(
        30.0, float, "s", "Hover time of a delivery drop at a destination point.", minimum=0.0),
    "drones.reserve": Setting(
        0.2, float, "1", "Battery reserve at planning: a flight whose estimated energy times "
        "(1 + reserve) exceeds the battery is refused.", minimum=0.0, maximum=5.0),
    "drones.track_period": Setting(
        5.0, float, "s", "Sampling period of /drones/tracks (positions of airborne drones); 0 = "
        "no tracks. Rounded to whole steps.", minimum=0.0),
    "drones.summary_period": Setting(
        10.0, float, "s", "Period of /drones/summary and /drones/pad_queue rows. Rounded to whole "
        "steps.", minimum=0.0, min_exclusive=True),
    # -- KPIs ------------------------------------------------------------------------------
    "kpi.interval": Setting(
        900.0, float, "s", "Length of the time bins of per-interval KPIs (by departure time).",
        minimum=0.0, min_exclusive=True),
    "kpi.los_signal": Setting(
        [10.0, 20.0, 35.0, 55.0, 80.0], list, "s", "Level-of-service thresholds of mean control "
        "delay per vehicle at signalised junctions: upper bounds of A, B, C, D, E (HCM); above = F.",
        minimum=0.0, length=5, increasing=True),
    "kpi.los_priority": Setting(
        [10.0, 15.0, 25.0, 35.0, 50.0], list, "s", "Level-of-service thresholds of mean control "
        "delay per vehicle at priority (unsignalised) junctions: upper bounds of A..E (HCM); "
        "above = F.", minimum=0.0, length=5, increasing=True),
}

#: The scenario-file sections that hold settings, in table order.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(k.split(".", 1)[0] for k in SETTINGS))


def defaults() -> dict[str, Any]:
    """A fresh flat dict ``{dotted key: default}`` of every setting (lists are copies)."""
    return {k: copy.copy(s.default) for k, s in SETTINGS.items()}


def suggest(name: str, candidates: list[str] | tuple[str, ...] | Any) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidate to ``name``, or ``""``."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def unknown_key_error(key: str, source: str) -> InputError:
    """The :class:`InputError` for a setting key that is not in :data:`SETTINGS`."""
    section = key.split(".", 1)[0]
    if section in SECTIONS:
        keys = [k for k in SETTINGS if k.startswith(section + ".")]
        fix = f"known keys of [{section}]: {', '.join(k.split('.', 1)[1] for k in keys)}"
    else:
        fix = "run 'mobsim settings' for the list of settings"
    return InputError(f"unknown setting{suggest(key, SETTINGS)}", source=source, element=key,
                      fix=fix)


def _type_error(key: str, s: Setting, value: Any, source: str) -> InputError:
    return InputError(f"must be {s.allowed()}, got {value!r} ({type(value).__name__})",
                      source=source, element=key, fix=f"set {key} to {s.allowed()}")


def _check_number(key: str, s: Setting, x: float, source: str, whole: Any) -> None:
    if isinstance(x, float) and not math.isfinite(x):
        raise InputError(f"must be finite, got {whole!r}", source=source, element=key,
                         fix=f"set {key} to {s.allowed()}")
    low_bad = s.minimum is not None and (x <= s.minimum if s.min_exclusive else x < s.minimum)
    high_bad = s.maximum is not None and x > s.maximum
    if low_bad or high_bad:
        raise InputError(f"value {whole!r} is out of range", source=source, element=key,
                         fix=f"set {key} to {s.allowed()}")


def validate(key: str, value: Any, source: str) -> Any:
    """Check one setting and return it in its canonical type.

    Integers are accepted (and converted) where a float is expected; booleans are never accepted as
    numbers; ``list`` settings become lists of floats. Raises :class:`InputError` naming ``source``
    (a file, ``"--set"``) and ``key``, what is wrong and the allowed range or choices.
    """
    s = SETTINGS.get(key)
    if s is None:
        raise unknown_key_error(key, source)
    if s.type is bool:
        if not isinstance(value, bool):
            raise _type_error(key, s, value, source)
        return value
    if s.type is str:
        if not isinstance(value, str):
            raise _type_error(key, s, value, source)
        if s.choices and value not in s.choices:
            raise InputError(f"value {value!r} is not allowed{suggest(value, s.choices)}",
                             source=source, element=key, fix=f"set {key} to {s.allowed()}")
        return value
    if s.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(key, s, value, source)
        _check_number(key, s, value, source, value)
        return int(value)
    if s.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(key, s, value, source)
        _check_number(key, s, value, source, value)
        return float(value)
    if s.type is list:
        if not isinstance(value, (list, tuple)) or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
            raise _type_error(key, s, value, source)
        out = [float(v) for v in value]
        if s.length is not None and len(out) != s.length:
            raise InputError(f"must have {s.length} elements, got {len(out)}", source=source,
                             element=key, fix=f"set {key} to {s.allowed()}")
        for v in out:
            _check_number(key, s, v, source, value)
        if s.increasing and any(out[i + 1] <= out[i] for i in range(len(out) - 1)):
            raise InputError(f"value {value!r} is not strictly increasing", source=source,
                             element=key, fix=f"set {key} to {s.allowed()}")
        return out
    raise TypeError(f"setting {key} has unsupported type {s.type!r}")  # a bug in SETTINGS


def check_consistency(settings: dict[str, Any], source: str) -> None:
    """Checks that involve more than one setting (each value is assumed valid on its own)."""
    begin, end, dt = settings["sim.begin"], settings["sim.end"], settings["sim.dt"]
    if end <= begin:
        raise InputError(f"sim.end = {end} s is not after sim.begin = {begin} s", source=source,
                         element="sim.end", fix="make sim.end larger than sim.begin")
    if end - begin < dt:
        raise InputError(f"the run (sim.begin {begin} s to sim.end {end} s) is shorter than one "
                         f"step sim.dt = {dt} s", source=source, element="sim.end",
                         fix="make sim.end - sim.begin at least sim.dt")
    periods = ["output.summary_period", "output.edgedata_period", "routing.reroute_period",
               "routing.update_period"]
    if settings["output.fcd"]:
        periods.append("output.fcd_period")
    for key in periods:
        period = settings[key]
        if 0 < period < dt:
            raise InputError(f"{key} = {period} s is shorter than the step sim.dt = {dt} s",
                             source=source, element=key,
                             fix=f"set {key} to at least {dt} s (or 0 where 0 is allowed)")


def resolve(values: dict[str, Any], source: str) -> dict[str, Any]:
    """Defaults updated with ``values`` (dotted keys), each validated, then the cross checks."""
    out = defaults()
    for k, v in values.items():
        out[k] = validate(k, v, source)
    check_consistency(out, source)
    return out


def from_toml(text: str, source: str) -> dict[str, Any]:
    """The settings of a resolved configuration (``Scenario.resolved_toml``, a result file's
    ``/provenance/config``): every key, with defaults for those the text lacks.

    Keys that are not settings (network, demand inputs, settings of other mobsim versions) are
    ignored, so old result files stay readable; the values that are settings are validated.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"the stored configuration is not valid TOML: {exc}", source=source,
                         fix="the file may be damaged; re-run the scenario") from None
    out = defaults()
    for sec in SECTIONS:
        table = doc.get(sec, {})
        if isinstance(table, dict):
            for key, value in table.items():
                dotted = f"{sec}.{key}"
                if dotted in SETTINGS:
                    out[dotted] = validate(dotted, value, source)
    return out


def parse_value(text: str) -> Any:
    """Parse a command-line value as a TOML scalar or array; a bare word stays a string.

    ``"0.25"`` → 0.25, ``"true"`` → True, ``"[1, 2]"`` → [1, 2], ``"cpu"`` → ``"cpu"``,
    ``'"cpu"'`` → ``"cpu"``.
    """
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_override(text: str, source: str = "--set") -> tuple[str, Any]:
    """Parse and validate one ``key=value`` override, e.g. ``"sim.dt=0.25"`` → ``("sim.dt", 0.25)``.

    The value is read as a TOML scalar or array (a bare word is a string). Raises
    :class:`InputError` for a missing ``=``, an unknown key (with the closest known key) or a
    value the key does not allow.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"override {text!r} is not of the form key=value", source=source,
                         element=text, fix="write it like --set sim.dt=0.25")
    if key not in SETTINGS:
        raise unknown_key_error(key, source)
    value = parse_value(raw)
    if SETTINGS[key].type is str and not isinstance(value, str):
        value = raw.strip()  # output.file=2024-01-01 is a name, not a TOML date
    return key, validate(key, value, source)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def format_value(value: Any) -> str:
    """A value as it is written in a scenario file (TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))  # shortest round-trip form: 0.5, 3600.0, 1e-05, inf, nan
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as a TOML value")


def describe(width: int = 100) -> str:
    """The settings table as text: one block per section, each key with default, units and meaning."""
    lines = ["mobsim settings (scenario-file sections [sim], [junction], ...; override with "
             "--set section.key=value)", ""]
    key_w = max(len(k) for k in SETTINGS) + 2
    indent = " " * (key_w + 2)
    section = None
    for key, s in SETTINGS.items():
        sec = key.split(".", 1)[0]
        if sec != section:
            if section is not None:
                lines.append("")
            lines.append(f"[{sec}]")
            section = sec
        units = f" {s.units}" if s.units not in ("", "1") else ""
        head = f"  {key:<{key_w}}default {format_value(s.default)}{units}; {s.allowed()}"
        lines.extend(textwrap.wrap(head, width, subsequent_indent=indent))
        lines.extend(textwrap.wrap(s.description, width, initial_indent=indent,
                                   subsequent_indent=indent))
    return "\n".join(lines) + "\n"
