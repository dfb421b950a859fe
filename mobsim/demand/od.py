"""Demand from OD matrices over zones: zone tables (links with weights and roles), trip counts
split over departure intervals by largest remainder, origins and destinations drawn by weight
from a seeded stream per matrix. Units: s, veh."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mobsim.demand.streams import rng_for
from mobsim.demand.trip_tables import TripChecker, float_cell, read_csv
from mobsim.demand.trips import Trip
from mobsim.errors import InputError
from mobsim.settings import suggest

OD_REQUIRED = ("origin_zone", "destination_zone", "trips")
ZONE_REQUIRED = ("zone", "link")
ZONE_OPTIONAL = ("weight", "role")
ZONE_ROLES = ("both", "origin", "destination")


def largest_remainder(values: list[float]) -> list[int]:
    """Round non-negative ``values`` to integers that sum to ``round(sum(values))`` (halves up).

    Every value gets its integer part; the remaining units go one each to the values with the
    largest fractional parts, ties to the earlier value.
    """
    floors = [math.floor(v) for v in values]
    target = math.floor(math.fsum(values) + 0.5)
    left = target - sum(floors)
    order = sorted(range(len(values)), key=lambda i: -(values[i] - floors[i]))
    for i in order[:max(left, 0)]:
        floors[i] += 1
    return floors


def read_zones(path: Path, checker: TripChecker, files: list | None) -> dict[str, dict[str, list]]:
    """``{zone: {"origin": [(link, weight)], "destination": [(link, weight)]}}``."""
    name = str(path)
    _, rows = read_csv(path, name, ZONE_REQUIRED, ZONE_OPTIONAL, files)
    zones: dict[str, dict[str, list]] = {}
    for line, row in rows:
        zone, link = row["zone"], row["link"]
        if not zone:
            raise InputError("empty zone", source=name, element=f"line {line}, column 'zone'",
                             fix="give every row a zone name")
        checker.link(link, name, f"line {line}, column 'link'")
        weight = float_cell(row, "weight", name, line, default=1.0)
        role = row.get("role") or "both"
        if role not in ZONE_ROLES:
            raise InputError(f"role {role!r} is not allowed{suggest(role, ZONE_ROLES)}", source=name,
                             element=f"line {line}, column 'role'", fix="use both, origin or destination")
        z = zones.setdefault(zone, {"origin": [], "destination": []})
        for r in ("origin", "destination"):
            if role in (r, "both") and weight > 0:
                z[r].append((link, weight))
    return zones


def read_od(table: dict, index: int, base_dir: Path, checker: TripChecker, seed: int, source: str,
            files: list | None = None, warnings: list | None = None) -> list[Trip]:
    """Trips of one normalised ``[[demand.od]]`` table (see the module docstring)."""
    zones_path = base_dir / table["zones"]
    zones = read_zones(zones_path, checker, files)
    od_path = base_dir / table["file"]
    name = str(od_path)
    _, rows = read_csv(od_path, name, OD_REQUIRED, (), files)
    pairs: list[tuple[str, str]] = []
    values: list[float] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        o, d = row["origin_zone"], row["destination_zone"]
        for col, z in (("origin_zone", o), ("destination_zone", d)):
            if z not in zones:
                raise InputError(f"unknown zone '{z}'{suggest(z, zones)}", source=name,
                                 element=f"line {line}, column '{col}'",
                                 fix=f"add the zone to {zones_path.name} or fix the name")
        if (o, d) in seen:
            raise InputError(f"duplicate OD pair {o} -> {d} (first on line {seen[(o, d)]})",
                             source=name, element=f"line {line}", fix="give each pair once")
        seen[(o, d)] = line
        v = float_cell(row, "trips", name, line) * table["scale"]
        for z, role, col in ((o, "origin", "origin_zone"), (d, "destination", "destination_zone")):
            if v > 0 and not zones[z][role]:
                raise InputError(f"zone '{z}' has trips but no {role} link with weight > 0",
                                 source=name, element=f"line {line}, column '{col}'",
                                 fix=f"give zone '{z}' a link with role {role} or both in "
                                     f"{zones_path.name}")
        pairs.append((o, d))
        values.append(v)

    counts = largest_remainder(values)
    rng = rng_for(seed, f"od:{index}:{table['id_prefix']}")
    begin, end = table["begin"], table["end"]
    generated: list[tuple[float, int, int, str, str]] = []
    skipped = 0
    for p, ((o, d), n) in enumerate(zip(pairs, counts, strict=True)):
        if n == 0:
            continue
        if table["departure"] == "random":
            departs = np.sort(rng.uniform(begin, end, n))
        else:
            departs = begin + (np.arange(n) + 0.5) * ((end - begin) / n)
        o_links = draw_links(zones[o]["origin"], n, rng)
        d_links = draw_links(zones[d]["destination"], n, rng)
        for k in range(n):
            if o_links[k] == d_links[k]:
                skipped += 1
                continue
            generated.append((float(departs[k]), p, k, o_links[k], d_links[k]))
    generated.sort()
    if skipped and warnings is not None:
        warnings.append(f"{source}: [[demand.od]] #{index + 1} ({table['file']}): {skipped} trip(s) "
                        "skipped because their origin and destination link are the same")
    element = f"[[demand.od]] #{index + 1}"
    prefix = table["id_prefix"]
    return [checker.trip(f"{prefix}{i}", o, d, t, table["vtype"], (), table["depart_lane"],
                         table["depart_speed"], source, element)
            for i, (t, _, _, o, d) in enumerate(generated)]


def draw_links(links: list[tuple[str, float]], n: int, rng: np.random.Generator) -> list[str]:
    ids = [link for link, _ in links]
    w = np.array([weight for _, weight in links], dtype=np.float64)
    idx = rng.choice(len(ids), size=n, p=w / w.sum())
    return [ids[i] for i in idx]
