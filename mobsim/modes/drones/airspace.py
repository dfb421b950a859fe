"""The airspace of a scenario: drone types, vertiports, altitude layers, corridors, geofences and
flight requests, read from the ``[drones]`` section of a scenario file and validated on load.

Scenario file (every table optional except at least one vertiport when ``[drones]`` is given)::

    [drones]
    detection_interval = 1.0        # scalar settings: see 'mobsim settings' (drones.*)

    [[drones.types]]                # performance and battery model; defaults in DroneType
    id = "quad"

    [[drones.vertiports]]           # x, y in network metres, or node = "<network node id>"
    id = "depot"
    node = "n2_2"
    pads = 2
    turnaround = 60                 # s on the pad before take-off and after landing
    charge_power = 2000             # W of the charging bay (off the pads); 0 = no charger
    departure_interval = 10         # s between take-offs (departure sequencing)

    [[drones.layers]]               # cruise layers by track (degrees clockwise from north)
    name = "eastbound"
    bottom = 60
    top = 75
    headings = [0, 180]

    [[drones.geofences]]            # polygon in network metres, altitude band, time window
    id = "hospital"
    polygon = [[100, 100], [300, 100], [300, 300], [100, 300]]
    top = 150

    [drones.requests]               # a CSV of flights ...
    file = "flights.csv"

    [[drones.generate]]             # ... and/or a Poisson stream per depot
    depot = "depot"
    per_hour = 60

    [drones.corridors]              # explicit air corridors; default: above the road links
    nodes = "air_nodes.csv"         # id,x,y
    edges = "air_edges.csv"         # from,to
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.errors import InputError
from mobsim.modes.drones.geometry import points_in_polygon

DRONE_INPUT_KEYS = ("types", "vertiports", "layers", "geofences", "requests", "generate", "corridors")
MISSIONS = {"delivery": 1, "taxi": 1, "emergency": 2}
#: Most geofences per scenario (a drone keeps one bit per geofence).
MAX_GEOFENCES = 62


@dataclass
class DroneType:
    """Performance, separation and battery model of a drone type (SI units; turn rate in deg/s).

    Powers are those of the empty drone; a payload ``p`` (kg) scales them by ``((mass + p) /
    mass) ** 1.5`` (momentum theory: induced power grows with thrust to the power 1.5). Defaults
    are those of a ~5 kg delivery multicopter.
    """

    id: str = "quad"
    cruise_speed: float = 15.0  # m/s airspeed
    max_speed: float = 20.0  # m/s airspeed
    climb_rate: float = 3.0  # m/s
    descent_rate: float = 2.0  # m/s
    accel: float = 2.0  # m/s^2
    turn_rate: float = 90.0  # deg/s
    rpz: float = 50.0  # m, protected zone radius
    hpz: float = 15.0  # m, protected zone half height
    battery_wh: float = 500.0  # Wh usable
    mass: float = 5.0  # kg, empty
    max_payload: float = 2.5  # kg
    power_hover: float = 800.0  # W
    power_climb: float = 1000.0  # W
    power_cruise: float = 700.0  # W
    power_descent: float = 600.0  # W

    def row(self) -> list[float]:
        """The kernels' type-table row (:mod:`mobsim.kernels.air_layout` ``DT_*`` order)."""
        return [
            self.cruise_speed,
            self.max_speed,
            self.climb_rate,
            self.descent_rate,
            self.accel,
            math.radians(self.turn_rate),
            self.rpz,
            self.hpz,
            self.battery_wh,
            self.power_hover,
            self.power_climb,
            self.power_cruise,
            self.power_descent,
            self.mass,
        ]

    def power_factor(self, payload: float) -> float:
        """Power scale (1) of a payload (kg)."""
        return ((self.mass + payload) / self.mass) ** 1.5


@dataclass
class Vertiport:
    """A vertiport or depot: position (m), pads, turnaround (s) and the power (W) of its charging bay:
    a landed drone leaves the pad after the turnaround and recharges off the pad; its recharge time
    (energy used / power) is reported in ``/drones/flights``. Take-offs are at least
    ``departure_interval`` s apart (departure sequencing: drones leaving on the same route are in
    trail at cruise speed times that interval)."""

    id: str
    x: float
    y: float
    pads: int = 1
    turnaround: float = 60.0
    charge_power: float = 0.0
    departure_interval: float = 10.0


@dataclass
class Layer:
    """An altitude band (m). ``use = "cruise"``: flights whose track (deg clockwise from north) lies
    in ``[headings[0], headings[1])`` cruise at its middle; ``"climb"`` or ``"resolution"``: kept free
    for climbing and descending traffic and for vertical resolution manoeuvres (``mvp3d``), never
    assigned for cruise. Vertical resolutions stay within the lowest and highest band of all layers."""

    name: str
    bottom: float
    top: float
    use: str = "cruise"
    headings: tuple[float, float] = (0.0, 360.0)

    @property
    def altitude(self) -> float:
        return 0.5 * (self.bottom + self.top)

    def takes(self, track_deg: float) -> bool:
        a, b = self.headings
        h = track_deg % 360.0
        return (a <= h < b) if a <= b else (h >= a or h < b)


@dataclass
class Geofence:
    """A no-fly zone: polygon (m), altitude band ``[bottom, top)`` (m), time window ``[begin, end)`` (s).

    ``known = false`` makes it a pop-up geofence that flight planning does not know about (issued
    at short notice): planned routes may cross it, and drones that enter it are recorded as
    violations."""

    id: str
    polygon: np.ndarray
    bottom: float = 0.0
    top: float = 1e9
    begin: float = 0.0
    end: float = math.inf
    known: bool = True

    def active(self, t0: float, t1: float) -> bool:
        """Active at some time in ``[t0, t1]``."""
        return self.begin <= t1 and self.end > t0


@dataclass
class FlightRequest:
    """One flight: request time (s), origin vertiport, destination (a vertiport or a point, m),
    payload (kg), drone type, mission (delivery, taxi, emergency) and whether it flies back."""

    id: str
    depart: float
    origin: str
    dest_vp: str | None
    dest_x: float
    dest_y: float
    payload: float = 0.0
    dtype: str = "quad"
    mission: str = "delivery"
    returns: bool = True


@dataclass
class Airspace:
    """Everything about drones in a scenario (see the module docstring)."""

    types: list[DroneType]
    vertiports: list[Vertiport]
    layers: list[Layer]
    geofences: list[Geofence]
    requests: list[FlightRequest]
    corridor_xy: np.ndarray  # (n, 2) corridor node positions (m)
    corridor_edges: np.ndarray  # (m, 2) undirected edges (node indices)
    corridor_source: str = "roads"
    config: dict[str, Any] = field(default_factory=dict)

    def type_index(self) -> dict[str, int]:
        return {t.id: k for k, t in enumerate(self.types)}

    def vertiport_index(self) -> dict[str, int]:
        return {v.id: k for k, v in enumerate(self.vertiports)}


# --------------------------------------------------------------------------------------------
# parsing


def _err(msg: str, source: str, element: str, fix: str) -> InputError:
    return InputError(msg, source=source, element=element, fix=fix)


def _num(
    table: dict,
    key: str,
    default: Any,
    source: str,
    element: str,
    minimum: float | None = None,
    positive: bool = False,
) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise _err(
            f"'{key}' must be a finite number, got {v!r}",
            source,
            f"{element}.{key}",
            f"write {key} = <number>",
        )
    v = float(v)
    if positive and v <= 0:
        raise _err(f"'{key}' must be > 0, got {v}", source, f"{element}.{key}", f"give {key} > 0")
    if minimum is not None and v < minimum:
        raise _err(
            f"'{key}' must be >= {minimum}, got {v}", source, f"{element}.{key}", f"give {key} >= {minimum}"
        )
    return v


def _keys(table: Any, allowed: tuple[str, ...], source: str, element: str) -> dict:
    from mobsim.settings import suggest

    if not isinstance(table, dict):
        raise _err(f"must be a table, got {table!r}", source, element, "write it as a TOML table")
    for k in table:
        if k not in allowed:
            raise _err(
                f"unknown key{suggest(k, allowed)}",
                source,
                f"{element}.{k}",
                f"known keys: {', '.join(allowed)}",
            )
    return table


def _id(table: dict, source: str, element: str, seen: set[str]) -> str:
    v = table.get("id", table.get("name"))
    if not isinstance(v, str) or not v:
        raise _err("missing or empty id", source, element, 'give it an id, e.g. id = "depot"')
    if v in seen:
        raise _err(f"id '{v}' is used twice", source, element, "give every table its own id")
    seen.add(v)
    return v


def _table_list(cfg: dict, key: str, source: str) -> list[dict]:
    v = cfg.get(key, [])
    if isinstance(v, dict):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
        raise _err(
            f"drones.{key} must be an array of tables",
            source,
            f"drones.{key}",
            f"write each as a [[drones.{key}]] table",
        )
    return v


def _types(cfg: dict, source: str) -> list[DroneType]:
    names = tuple(f.name for f in fields(DroneType))
    out: list[DroneType] = []
    seen: set[str] = set()
    for k, t in enumerate(_table_list(cfg, "types", source)):
        el = f"[[drones.types]] #{k + 1}"
        _keys(t, names, source, el)
        tid = _id(t, source, el, seen)
        el = f"drone type '{tid}'"
        vals: dict[str, Any] = {"id": tid}
        for name in names[1:]:
            vals[name] = _num(
                t,
                name,
                getattr(DroneType, name),
                source,
                el,
                minimum=0.0,
                positive=name not in ("max_payload",),
            )
        dt = DroneType(**vals)
        if dt.max_speed < dt.cruise_speed:
            raise _err(
                f"max_speed {dt.max_speed} m/s is below cruise_speed {dt.cruise_speed} m/s",
                source,
                f"{el}.max_speed",
                "give max_speed >= cruise_speed",
            )
        out.append(dt)
    return out or [DroneType()]


def _vertiports(cfg: dict, network: Any, source: str) -> list[Vertiport]:
    tables = _table_list(cfg, "vertiports", source)
    if not tables:
        raise _err(
            "no vertiport: drones need at least one",
            source,
            "[[drones.vertiports]]",
            'add [[drones.vertiports]] with id, node = "<node id>" (or x, y) and pads',
        )
    nodes = {n.id: n for n in network.nodes} if network is not None else {}
    out: list[Vertiport] = []
    seen: set[str] = set()
    for k, t in enumerate(tables):
        el = f"[[drones.vertiports]] #{k + 1}"
        _keys(t, ("id", "x", "y", "node", "pads", "turnaround", "charge_power", "departure_interval"),
              source, el)
        vid = _id(t, source, el, seen)
        el = f"vertiport '{vid}'"
        if "node" in t:
            if "x" in t or "y" in t:
                raise _err("give either node or x and y, not both", source, el, "remove one of them")
            node = nodes.get(str(t["node"]))
            if node is None:
                raise _err(
                    f"node '{t['node']}' is not in the network",
                    source,
                    f"{el}.node",
                    "use a node id of the network (mobsim validate lists the network)",
                )
            x, y = float(node.x), float(node.y)
        elif "x" in t and "y" in t:
            x, y = _num(t, "x", 0, source, el), _num(t, "y", 0, source, el)
        else:
            raise _err("no position", source, el, 'give node = "<node id>" or x and y (m)')
        pads = t.get("pads", 1)
        if isinstance(pads, bool) or not isinstance(pads, int) or pads < 1:
            raise _err(
                f"pads must be an integer >= 1, got {pads!r}", source, f"{el}.pads", "give pads = 1 or more"
            )
        out.append(
            Vertiport(
                vid,
                x,
                y,
                pads,
                _num(t, "turnaround", 60.0, source, el, minimum=0.0),
                _num(t, "charge_power", 0.0, source, el, minimum=0.0),
                _num(t, "departure_interval", 10.0, source, el, minimum=0.0),
            )
        )
    return out


def _layers(cfg: dict, source: str) -> list[Layer]:
    tables = _table_list(cfg, "layers", source)
    if not tables:
        return [
            Layer("eastbound", 60.0, 75.0, "cruise", (0.0, 180.0)),
            Layer("westbound", 75.0, 90.0, "cruise", (180.0, 360.0)),
        ]
    out: list[Layer] = []
    seen: set[str] = set()
    for k, t in enumerate(tables):
        el = f"[[drones.layers]] #{k + 1}"
        _keys(t, ("name", "bottom", "top", "use", "headings"), source, el)
        name = _id(t, source, el, seen)
        el = f"layer '{name}'"
        bottom = _num(t, "bottom", None, source, el, minimum=0.0)
        top = _num(t, "top", None, source, el)
        if top <= bottom:
            raise _err(
                f"top {top} m is not above bottom {bottom} m", source, f"{el}.top", "give top > bottom"
            )
        use = t.get("use", "cruise")
        if use not in ("cruise", "climb", "resolution"):
            raise _err(
                f'use must be "cruise", "climb" or "resolution", got {use!r}',
                source,
                f"{el}.use",
                'write use = "cruise" (assigned by track), or "climb" / "resolution" (kept for vertical '
                "traffic and vertical resolution manoeuvres)",
            )
        h = t.get("headings", [0.0, 360.0])
        if (
            not isinstance(h, list)
            or len(h) != 2
            or not all(isinstance(a, (int, float)) for a in h)
            or not all(0 <= a <= 360 for a in h)
        ):
            raise _err(
                f"headings must be [from, to] in degrees 0..360, got {h!r}",
                source,
                f"{el}.headings",
                "write headings = [0, 180] (tracks from 0 up to 180 degrees)",
            )
        out.append(Layer(name, bottom, top, use, (float(h[0]), float(h[1]))))
    srt = sorted(out, key=lambda a: a.bottom)
    for a, b in zip(srt, srt[1:], strict=False):
        if b.bottom < a.top:
            raise _err(
                f"layers '{a.name}' and '{b.name}' overlap ({a.bottom}-{a.top} m and {b.bottom}-{b.top} m)",
                source,
                f"layer '{b.name}'",
                "give layers disjoint altitude bands",
            )
    cruise = [a for a in out if a.use == "cruise"]
    if not cruise:
        raise _err(
            "no cruise layer", source, "[[drones.layers]]", 'give at least one layer with use = "cruise"'
        )
    for deg in range(360):
        if not any(a.takes(deg + 0.5) for a in cruise):
            raise _err(
                f"no cruise layer takes tracks near {deg + 0.5} degrees",
                source,
                "[[drones.layers]]",
                "make the cruise layers' headings cover 0..360 degrees",
            )
    return out


def _geofences(cfg: dict, source: str) -> list[Geofence]:
    out: list[Geofence] = []
    seen: set[str] = set()
    tables = _table_list(cfg, "geofences", source)
    if len(tables) > MAX_GEOFENCES:
        raise _err(
            f"{len(tables)} geofences; at most {MAX_GEOFENCES} are supported",
            source,
            "[[drones.geofences]]",
            "merge neighbouring geofences into one polygon",
        )
    for k, t in enumerate(tables):
        el = f"[[drones.geofences]] #{k + 1}"
        _keys(t, ("id", "polygon", "bottom", "top", "begin", "end", "known"), source, el)
        gid = _id(t, source, el, seen)
        el = f"geofence '{gid}'"
        poly = t.get("polygon")
        try:
            arr = np.asarray(poly, dtype=np.float64)
        except (TypeError, ValueError):
            arr = np.zeros((0,))
        if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 3 or not np.isfinite(arr).all():
            raise _err(
                f"polygon must be a list of at least 3 [x, y] points (m), got {poly!r}",
                source,
                f"{el}.polygon",
                "write polygon = [[x1, y1], [x2, y2], [x3, y3], ...]",
            )
        if len(arr) > 3 and np.allclose(arr[0], arr[-1]):
            arr = arr[:-1]
        area = 0.5 * abs(
            np.dot(arr[:, 0], np.roll(arr[:, 1], -1)) - np.dot(arr[:, 1], np.roll(arr[:, 0], -1))
        )
        if area <= 0:
            raise _err(
                "polygon has zero area", source, f"{el}.polygon", "give at least 3 points not on one line"
            )
        bottom = _num(t, "bottom", 0.0, source, el, minimum=0.0)
        top = _num(t, "top", 1e9, source, el)
        if top <= bottom:
            raise _err(
                f"top {top} m is not above bottom {bottom} m", source, f"{el}.top", "give top > bottom"
            )
        begin = _num(t, "begin", 0.0, source, el, minimum=0.0)
        end = math.inf
        if "end" in t:
            end = _num(t, "end", None, source, el)
            if end <= begin:
                raise _err(
                    f"end {end} s is not after begin {begin} s", source, f"{el}.end", "give end > begin"
                )
        known = t.get("known", True)
        if not isinstance(known, bool):
            raise _err(f"known must be true or false, got {known!r}", source, f"{el}.known",
                       "write known = false for a pop-up geofence that planning does not know")
        out.append(Geofence(gid, arr, bottom, top, begin, end, known))
    return out


def _corridors(
    cfg: dict, network: Any, base_dir: Path, source: str, files: list[Path]
) -> tuple[np.ndarray, np.ndarray, str]:
    c = cfg.get("corridors")
    if c is None:
        if network is None:
            raise _err(
                "no road network to follow and no [drones.corridors]",
                source,
                "[drones.corridors]",
                "give nodes and edges files",
            )
        idx = {n.id: k for k, n in enumerate(network.nodes)}
        xy = np.array([[n.x, n.y] for n in network.nodes], np.float64).reshape(-1, 2)
        pairs = {
            tuple(sorted((idx[lk.from_node], idx[lk.to_node])))
            for lk in network.links
            if lk.from_node != lk.to_node
        }
        edges = np.array(sorted(pairs), np.int64).reshape(-1, 2)
        return xy, edges, "roads"
    _keys(c, ("nodes", "edges"), source, "[drones.corridors]")
    paths = {}
    for key in ("nodes", "edges"):
        if key not in c:
            raise _err(f"missing '{key}'", source, f"drones.corridors.{key}", f'give {key} = "air_{key}.csv"')
        p = base_dir / str(c[key])
        if not p.is_file():
            raise _err(
                "file not found",
                str(p),
                f"drones.corridors.{key}",
                "check the path (relative to the scenario)",
            )
        files.append(p)
        paths[key] = p
    with open(paths["nodes"], newline="") as f:
        rows = list(csv.DictReader(f))
    idx = {}
    xy = []
    for k, r in enumerate(rows):
        try:
            idx[r["id"]] = len(xy)
            xy.append([float(r["x"]), float(r["y"])])
        except (KeyError, TypeError, ValueError):
            raise _err(
                f"row {k + 2} needs id, x, y (numbers)",
                str(paths["nodes"]),
                f"row {k + 2}",
                "write the header id,x,y and one node per row",
            ) from None
    edges = set()
    with open(paths["edges"], newline="") as f:
        for k, r in enumerate(csv.DictReader(f)):
            a, b = r.get("from"), r.get("to")
            if a not in idx or b not in idx:
                raise _err(
                    f"row {k + 2}: node {a if a not in idx else b!r} is not in {paths['nodes'].name}",
                    str(paths["edges"]),
                    f"row {k + 2}",
                    "use node ids of the corridor nodes file",
                )
            if a != b:
                edges.add(tuple(sorted((idx[a], idx[b]))))
    if not edges:
        raise _err("no corridor edges", str(paths["edges"]), "edges", "give at least one from,to row")
    return np.array(xy, np.float64), np.array(sorted(edges), np.int64), str(paths["nodes"])


def _request(
    row: dict, k: int, where: str, vp: dict[str, Vertiport], types: dict[str, DroneType], default_type: str
) -> FlightRequest:
    el = f"flight '{row.get('id', f'row {k}')}'"

    def bad(msg: str, fix: str) -> InputError:
        return InputError(msg, source=where, element=el, fix=fix)

    fid = str(row.get("id") or "").strip()
    if not fid:
        raise bad("missing id", "give every flight an id")
    try:
        depart = float(row.get("depart", ""))
    except ValueError:
        raise bad(f"depart {row.get('depart')!r} is not a number", "give depart in seconds") from None
    if not math.isfinite(depart) or depart < 0:
        raise bad(f"depart {depart} is not a time >= 0 s", "give depart in seconds, >= 0")
    origin = str(row.get("origin", "")).strip()
    if origin not in vp:
        raise bad(f"origin '{origin}' is not a vertiport", f"use one of {sorted(vp)}")
    dest = str(row.get("destination") or "").strip()
    if dest:
        if dest not in vp:
            raise bad(
                f"destination '{dest}' is not a vertiport", f"use one of {sorted(vp)}, or dest_x and dest_y"
            )
        dx, dy, dvp = vp[dest].x, vp[dest].y, dest
    else:
        try:
            dx, dy = float(row.get("dest_x", "")), float(row.get("dest_y", ""))
        except ValueError:
            raise bad(
                "no destination", "give destination (a vertiport id) or dest_x and dest_y (m)"
            ) from None
        dvp = None
        if not (math.isfinite(dx) and math.isfinite(dy)):
            raise bad(f"destination ({dx}, {dy}) is not a finite point", "give dest_x and dest_y in metres")
    dtype = str(row.get("type") or default_type).strip()
    if dtype not in types:
        raise bad(f"drone type '{dtype}' is not defined", f"use one of {sorted(types)}")
    try:
        payload = float(row.get("payload") or 0.0)
    except ValueError:
        raise bad(f"payload {row.get('payload')!r} is not a number", "give payload in kg") from None
    if not math.isfinite(payload) or payload < 0 or payload > types[dtype].max_payload:
        raise bad(
            f"payload {payload} kg is outside 0..{types[dtype].max_payload} kg of type '{dtype}'",
            "lower the payload or raise the type's max_payload",
        )
    mission = str(row.get("mission") or "delivery").strip()
    if mission not in MISSIONS:
        raise bad(f"mission '{mission}' is unknown", f"use one of {sorted(MISSIONS)}")
    ret = row.get("returns")
    if ret in (None, ""):
        returns = mission != "taxi"
    elif isinstance(ret, bool):
        returns = ret
    elif str(ret).strip().lower() in ("1", "true", "yes"):
        returns = True
    elif str(ret).strip().lower() in ("0", "false", "no"):
        returns = False
    else:
        raise bad(f"returns {ret!r} is not true or false", "write returns = true or false")
    if dvp is None and mission == "taxi":
        raise bad("a taxi flight needs a destination vertiport", "give destination = <vertiport id>")
    if dvp == origin and dvp is not None:
        raise bad("destination is the origin", "give another destination")
    return FlightRequest(fid, depart, origin, dvp, dx, dy, payload, dtype, mission, returns)


def _requests(
    cfg: dict,
    vps: list[Vertiport],
    types: list[DroneType],
    settings: dict,
    base_dir: Path,
    source: str,
    files: list[Path],
) -> list[FlightRequest]:
    vp = {v.id: v for v in vps}
    ty = {t.id: t for t in types}
    default_type = types[0].id
    out: list[FlightRequest] = []
    req = cfg.get("requests")
    if req is not None:
        _keys(req, ("file",), source, "[drones.requests]")
        if "file" not in req:
            raise _err("missing 'file'", source, "drones.requests.file", 'give file = "flights.csv"')
        p = base_dir / str(req["file"])
        if not p.is_file():
            raise _err(
                "file not found", str(p), "drones.requests.file", "check the path (relative to the scenario)"
            )
        files.append(p)
        with open(p, newline="") as f:
            reader = csv.DictReader(f)
            need = {"id", "depart", "origin"}
            if not need <= set(reader.fieldnames or ()):
                raise _err(
                    f"header needs {sorted(need)} and destination or dest_x,dest_y; got {reader.fieldnames}",
                    str(p),
                    "header",
                    "write id,depart,origin,destination,payload,type,mission,returns",
                )
            for k, row in enumerate(reader):
                out.append(_request(row, k + 2, str(p), vp, ty, default_type))
    rng_seed = int(settings.get("sim.seed", 42))
    for k, g in enumerate(_table_list(cfg, "generate", source)):
        el = f"[[drones.generate]] #{k + 1}"
        _keys(
            g,
            (
                "depot",
                "per_hour",
                "begin",
                "end",
                "radius",
                "min_radius",
                "payload",
                "type",
                "mission",
                "id_prefix",
                "destinations",
            ),
            source,
            el,
        )
        depot = g.get("depot")
        if depot not in vp:
            raise _err(
                f"depot {depot!r} is not a vertiport", source, f"{el}.depot", f"use one of {sorted(vp)}"
            )
        rate = _num(g, "per_hour", None, source, el, positive=True)
        begin = _num(g, "begin", settings.get("sim.begin", 0.0), source, el, minimum=0.0)
        end = _num(g, "end", settings.get("sim.end", 3600.0), source, el)
        radius = _num(g, "radius", 2000.0, source, el, positive=True)
        rmin = _num(g, "min_radius", 0.0, source, el, minimum=0.0)
        if rmin >= radius:
            raise _err("min_radius must be below radius", source, f"{el}.min_radius", "lower min_radius")
        payload = _num(g, "payload", 1.0, source, el, minimum=0.0)
        prefix = str(g.get("id_prefix", f"{depot}_{k}_"))
        dests = g.get("destinations", [])
        if not isinstance(dests, list) or any(d not in vp or d == depot for d in dests):
            raise _err(
                f"destinations must be a list of other vertiport ids, got {dests!r}",
                source,
                f"{el}.destinations",
                f"use ids of {sorted(vp)} other than the depot",
            )
        rng = np.random.default_rng([rng_seed, 0xD0, k])
        t = begin
        n = 0
        while True:
            t += rng.exponential(3600.0 / rate)
            if t >= end:
                break
            row: dict[str, Any] = {
                "id": f"{prefix}{n}",
                "depart": round(t, 3),
                "origin": depot,
                "payload": payload,
                "type": g.get("type", default_type),
                "mission": g.get("mission", "delivery"),
            }
            if dests:
                row["destination"] = dests[int(rng.integers(len(dests)))]
            else:
                r = math.sqrt(rng.uniform(rmin * rmin, radius * radius))
                a = rng.uniform(0, 2 * math.pi)
                row["dest_x"] = vp[depot].x + r * math.cos(a)
                row["dest_y"] = vp[depot].y + r * math.sin(a)
            out.append(_request(row, n, f"{source} {el}", vp, ty, default_type))
            n += 1
    seen: set[str] = set()
    for r in out:
        if r.id in seen:
            raise _err(
                f"flight id '{r.id}' is used twice", source, f"flight '{r.id}'", "make flight ids unique"
            )
        seen.add(r.id)
    out.sort(key=lambda r: (r.depart, r.id))
    return out


def load_airspace(
    cfg: dict, network: Any, settings: dict, base_dir: Path, source: str, files: list[Path]
) -> Airspace:
    """Build and validate the :class:`Airspace` of a scenario's ``[drones]`` input tables."""
    types = _types(cfg, source)
    vps = _vertiports(cfg, network, source)
    layers = _layers(cfg, source)
    fences = _geofences(cfg, source)
    for v in vps:
        for g in fences:
            if g.bottom <= 0.0 and points_in_polygon(np.array([[v.x, v.y]]), g.polygon)[0]:
                raise _err(
                    f"vertiport '{v.id}' lies inside geofence '{g.id}'",
                    source,
                    f"vertiport '{v.id}'",
                    "move the vertiport or the geofence (drones take off there)",
                )
    xy, edges, csrc = _corridors(cfg, network, base_dir, source, files)
    reqs = _requests(cfg, vps, types, settings, base_dir, source, files)
    return Airspace(types, vps, layers, fences, reqs, xy, edges, csrc, config=dict(cfg))
