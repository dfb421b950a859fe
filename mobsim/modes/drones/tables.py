"""Readers of a scenario's ``[drones]`` tables (drone types, vertiports, layers, geofences,
corridors; see :mod:`mobsim.modes.drones.airspace` for the format), each checked with an error that
names the table, the element and the fix."""

from __future__ import annotations

import csv
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.config_tables import table_error, table_id, table_keys, table_list, table_number
from mobsim.modes.drones.model import MAX_GEOFENCES, DroneType, Geofence, Layer, Vertiport


def read_types(cfg: dict, source: str) -> list[DroneType]:
    names = tuple(f.name for f in fields(DroneType))
    out: list[DroneType] = []
    seen: set[str] = set()
    for k, t in enumerate(table_list(cfg, "types", source)):
        el = f"[[drones.types]] #{k + 1}"
        table_keys(t, names, source, el)
        tid = table_id(t, source, el, seen)
        el = f"drone type '{tid}'"
        vals: dict[str, Any] = {"id": tid}
        for name in names[1:]:
            vals[name] = table_number(
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
            raise table_error(
                f"max_speed {dt.max_speed} m/s is below cruise_speed {dt.cruise_speed} m/s",
                source,
                f"{el}.max_speed",
                "give max_speed >= cruise_speed",
            )
        out.append(dt)
    return out or [DroneType()]


def read_vertiports(cfg: dict, network: Any, source: str) -> list[Vertiport]:
    tables = table_list(cfg, "vertiports", source)
    if not tables:
        raise table_error(
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
        table_keys(t, ("id", "x", "y", "node", "pads", "turnaround", "charge_power", "departure_interval"),
              source, el)
        vid = table_id(t, source, el, seen)
        el = f"vertiport '{vid}'"
        if "node" in t:
            if "x" in t or "y" in t:
                raise table_error("give either node or x and y, not both", source, el, "remove one of them")
            node = nodes.get(str(t["node"]))
            if node is None:
                raise table_error(
                    f"node '{t['node']}' is not in the network",
                    source,
                    f"{el}.node",
                    "use a node id of the network (mobsim validate lists the network)",
                )
            x, y = float(node.x), float(node.y)
        elif "x" in t and "y" in t:
            x, y = table_number(t, "x", 0, source, el), table_number(t, "y", 0, source, el)
        else:
            raise table_error("no position", source, el, 'give node = "<node id>" or x and y (m)')
        pads = t.get("pads", 1)
        if isinstance(pads, bool) or not isinstance(pads, int) or pads < 1:
            raise table_error(
                f"pads must be an integer >= 1, got {pads!r}", source, f"{el}.pads", "give pads = 1 or more"
            )
        out.append(
            Vertiport(
                vid,
                x,
                y,
                pads,
                table_number(t, "turnaround", 60.0, source, el, minimum=0.0),
                table_number(t, "charge_power", 0.0, source, el, minimum=0.0),
                table_number(t, "departure_interval", 10.0, source, el, minimum=0.0),
            )
        )
    return out


def read_layers(cfg: dict, source: str) -> list[Layer]:
    tables = table_list(cfg, "layers", source)
    if not tables:
        return [
            Layer("eastbound", 60.0, 75.0, "cruise", (0.0, 180.0)),
            Layer("westbound", 75.0, 90.0, "cruise", (180.0, 360.0)),
        ]
    out: list[Layer] = []
    seen: set[str] = set()
    for k, t in enumerate(tables):
        el = f"[[drones.layers]] #{k + 1}"
        table_keys(t, ("name", "bottom", "top", "use", "headings"), source, el)
        name = table_id(t, source, el, seen)
        el = f"layer '{name}'"
        bottom = table_number(t, "bottom", None, source, el, minimum=0.0)
        top = table_number(t, "top", None, source, el)
        if top <= bottom:
            raise table_error(
                f"top {top} m is not above bottom {bottom} m", source, f"{el}.top", "give top > bottom"
            )
        use = t.get("use", "cruise")
        if use not in ("cruise", "climb", "resolution"):
            raise table_error(
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
            raise table_error(
                f"headings must be [from, to] in degrees 0..360, got {h!r}",
                source,
                f"{el}.headings",
                "write headings = [0, 180] (tracks from 0 up to 180 degrees)",
            )
        out.append(Layer(name, bottom, top, use, (float(h[0]), float(h[1]))))
    srt = sorted(out, key=lambda a: a.bottom)
    for a, b in zip(srt, srt[1:], strict=False):
        if b.bottom < a.top:
            raise table_error(
                f"layers '{a.name}' and '{b.name}' overlap ({a.bottom}-{a.top} m and {b.bottom}-{b.top} m)",
                source,
                f"layer '{b.name}'",
                "give layers disjoint altitude bands",
            )
    cruise = [a for a in out if a.use == "cruise"]
    if not cruise:
        raise table_error(
            "no cruise layer", source, "[[drones.layers]]", 'give at least one layer with use = "cruise"'
        )
    for deg in range(360):
        if not any(a.takes(deg + 0.5) for a in cruise):
            raise table_error(
                f"no cruise layer takes tracks near {deg + 0.5} degrees",
                source,
                "[[drones.layers]]",
                "make the cruise layers' headings cover 0..360 degrees",
            )
    return out


def read_geofences(cfg: dict, source: str) -> list[Geofence]:
    out: list[Geofence] = []
    seen: set[str] = set()
    tables = table_list(cfg, "geofences", source)
    if len(tables) > MAX_GEOFENCES:
        raise table_error(
            f"{len(tables)} geofences; at most {MAX_GEOFENCES} are supported",
            source,
            "[[drones.geofences]]",
            "merge neighbouring geofences into one polygon",
        )
    for k, t in enumerate(tables):
        el = f"[[drones.geofences]] #{k + 1}"
        table_keys(t, ("id", "polygon", "bottom", "top", "begin", "end", "known"), source, el)
        gid = table_id(t, source, el, seen)
        el = f"geofence '{gid}'"
        poly = t.get("polygon")
        try:
            arr = np.asarray(poly, dtype=np.float64)
        except (TypeError, ValueError):
            arr = np.zeros((0,))
        if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 3 or not np.isfinite(arr).all():
            raise table_error(
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
            raise table_error(
                "polygon has zero area", source, f"{el}.polygon", "give at least 3 points not on one line"
            )
        bottom = table_number(t, "bottom", 0.0, source, el, minimum=0.0)
        top = table_number(t, "top", 1e9, source, el)
        if top <= bottom:
            raise table_error(
                f"top {top} m is not above bottom {bottom} m", source, f"{el}.top", "give top > bottom"
            )
        begin = table_number(t, "begin", 0.0, source, el, minimum=0.0)
        end = math.inf
        if "end" in t:
            end = table_number(t, "end", None, source, el)
            if end <= begin:
                raise table_error(
                    f"end {end} s is not after begin {begin} s", source, f"{el}.end", "give end > begin"
                )
        known = t.get("known", True)
        if not isinstance(known, bool):
            raise table_error(f"known must be true or false, got {known!r}", source, f"{el}.known",
                       "write known = false for a pop-up geofence that planning does not know")
        out.append(Geofence(gid, arr, bottom, top, begin, end, known))
    return out


def read_corridors(
    cfg: dict, network: Any, base_dir: Path, source: str, files: list[Path]
) -> tuple[np.ndarray, np.ndarray, str]:
    c = cfg.get("corridors")
    if c is None:
        if network is None:
            raise table_error(
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
    table_keys(c, ("nodes", "edges"), source, "[drones.corridors]")
    paths = {}
    for key in ("nodes", "edges"):
        if key not in c:
            raise table_error(f"missing '{key}'", source, f"drones.corridors.{key}",
                              f'give {key} = "air_{key}.csv"')
        p = base_dir / str(c[key])
        if not p.is_file():
            raise table_error(
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
            raise table_error(
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
                raise table_error(
                    f"row {k + 2}: node {a if a not in idx else b!r} is not in {paths['nodes'].name}",
                    str(paths["edges"]),
                    f"row {k + 2}",
                    "use node ids of the corridor nodes file",
                )
            if a != b:
                edges.add(tuple(sorted((idx[a], idx[b]))))
    if not edges:
        raise table_error("no corridor edges", str(paths["edges"]), "edges", "give at least one from,to row")
    return np.array(xy, np.float64), np.array(sorted(edges), np.int64), str(paths["nodes"])
