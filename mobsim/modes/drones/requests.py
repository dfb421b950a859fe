"""Flight requests of a scenario: read from request tables and files, or generated at depots
(rates, destinations, missions), checked against the vertiports and drone types."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from mobsim.config_tables import table_error, table_keys, table_list, table_number
from mobsim.errors import InputError
from mobsim.modes.drones.model import MISSIONS, DroneType, FlightRequest, Vertiport


def read_request(
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


def read_requests(
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
        table_keys(req, ("file",), source, "[drones.requests]")
        if "file" not in req:
            raise table_error("missing 'file'", source, "drones.requests.file", 'give file = "flights.csv"')
        p = base_dir / str(req["file"])
        if not p.is_file():
            raise table_error(
                "file not found", str(p), "drones.requests.file", "check the path (relative to the scenario)"
            )
        files.append(p)
        with open(p, newline="") as f:
            reader = csv.DictReader(f)
            need = {"id", "depart", "origin"}
            if not need <= set(reader.fieldnames or ()):
                raise table_error(
                    f"header needs {sorted(need)} and destination or dest_x,dest_y; got {reader.fieldnames}",
                    str(p),
                    "header",
                    "write id,depart,origin,destination,payload,type,mission,returns",
                )
            for k, row in enumerate(reader):
                out.append(read_request(row, k + 2, str(p), vp, ty, default_type))
    rng_seed = int(settings.get("sim.seed", 42))
    for k, g in enumerate(table_list(cfg, "generate", source)):
        el = f"[[drones.generate]] #{k + 1}"
        table_keys(
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
            raise table_error(
                f"depot {depot!r} is not a vertiport", source, f"{el}.depot", f"use one of {sorted(vp)}"
            )
        rate = table_number(g, "per_hour", None, source, el, positive=True)
        begin = table_number(g, "begin", settings.get("sim.begin", 0.0), source, el, minimum=0.0)
        end = table_number(g, "end", settings.get("sim.end", 3600.0), source, el)
        radius = table_number(g, "radius", 2000.0, source, el, positive=True)
        rmin = table_number(g, "min_radius", 0.0, source, el, minimum=0.0)
        if rmin >= radius:
            raise table_error("min_radius must be below radius", source, f"{el}.min_radius",
                              "lower min_radius")
        payload = table_number(g, "payload", 1.0, source, el, minimum=0.0)
        prefix = str(g.get("id_prefix", f"{depot}_{k}_"))
        dests = g.get("destinations", [])
        if not isinstance(dests, list) or any(d not in vp or d == depot for d in dests):
            raise table_error(
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
            out.append(read_request(row, n, f"{source} {el}", vp, ty, default_type))
            n += 1
    seen: set[str] = set()
    for r in out:
        if r.id in seen:
            raise table_error(
                f"flight id '{r.id}' is used twice", source, f"flight '{r.id}'", "make flight ids unique"
            )
        seen.add(r.id)
    out.sort(key=lambda r: (r.depart, r.id))
    return out
