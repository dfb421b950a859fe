"""Trip tables (``trips.csv``): CSV reading with header and cell checks that name the file, the
line and the column, and :class:`TripChecker`, which checks every trip against the network and
the vehicle types. Units: s, m/s, m."""

from __future__ import annotations

import csv
import math
from collections.abc import Collection
from pathlib import Path

from mobsim.demand.trips import DEPART_POS_WORDS, Trip
from mobsim.errors import InputError
from mobsim.net.network import Link, Network
from mobsim.settings import suggest

TRIP_REQUIRED = ("id", "origin", "destination", "depart")
TRIP_OPTIONAL = ("vtype", "route", "depart_lane", "depart_speed", "depart_pos")


def read_csv(path: Path, source: str, required: tuple[str, ...], optional: tuple[str, ...],
              files: list | None) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Rows of a CSV file as ``(line number, {column: stripped cell})``, with the header checked."""
    if not path.is_file():
        raise InputError(f"file not found: {path}", source=source,
                         fix="check the file name (relative paths are relative to the scenario file)")
    if files is not None:
        files.append(path)
    name = str(path)
    rows: list[tuple[int, dict[str, str]]] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = None
            for cells in reader:
                if not cells or all(not c.strip() for c in cells):
                    continue
                if header is None:
                    header = [c.strip() for c in cells]
                    check_header(header, required, optional, name)
                    continue
                if len(cells) != len(header):
                    what = (f"has {len(cells)} fields, the header has {len(header)}"
                            + (": the file looks truncated or a field is missing"
                               if len(cells) < len(header) else ""))
                    raise InputError(what, source=name, element=f"line {reader.line_num}",
                                     fix="give every row one field per header column")
                rows.append((reader.line_num, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
        except csv.Error as exc:
            raise InputError(f"not valid CSV ({exc}); the file may be truncated", source=name,
                             element=f"line {reader.line_num}", fix="check quotes and line ends") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", source=name,
                             fix="save the file as UTF-8 CSV") from None
    if header is None:
        raise InputError("the file is empty (no header)", source=name,
                         fix=f"start with the header line: {','.join(required)}")
    return header, rows


def check_header(header: list[str], required: tuple[str, ...], optional: tuple[str, ...],
                  name: str) -> None:
    known = required + optional
    seen = set()
    for col in header:
        if col in seen:
            raise InputError(f"column '{col}' appears twice", source=name, element="line 1",
                             fix="remove the duplicate column")
        seen.add(col)
        if col not in known:
            raise InputError(f"unknown column '{col}'{suggest(col, known)}", source=name,
                             element="line 1", fix=f"use only the columns {', '.join(known)}")
    missing = [c for c in required if c not in seen]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", source=name, element="line 1",
                         fix=f"the header must contain {', '.join(required)}")


def float_cell(row: dict[str, str], col: str, name: str, line: int, *, minimum: float | None = 0.0,
                default: float | None = None) -> float:
    text = row.get(col, "")
    element = f"line {line}, column '{col}'"
    if text == "" and default is not None:
        return default
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number", source=name, element=element,
                         fix=f"give {col} as a number") from None
    if not math.isfinite(v):
        raise InputError(f"{text!r} is not a finite number", source=name, element=element,
                         fix=f"give {col} as a finite number")
    if minimum is not None and v < minimum:
        raise InputError(f"{col} = {text} is negative", source=name, element=element,
                         fix=f"give {col} >= {minimum:g}")
    return v


# --------------------------------------------------------------------------------------------
# trip checks shared by every source


class TripChecker:
    """Checks links, vehicle types, routes and departure lane/speed against the network."""

    def __init__(self, network: Network, vtypes: Collection[str]) -> None:
        self.links: dict[str, Link] = {link.id: link for link in network.links}
        self.vtypes = list(vtypes)

    def link(self, link_id: str, source: str, element: str) -> str:
        if link_id not in self.links:
            raise InputError(f"unknown link '{link_id}'{suggest(link_id, self.links)}", source=source,
                             element=element, fix="use a link id of the scenario's network")
        return link_id

    def trip(self, tid: str, origin: str, destination: str, depart: float, vtype: str,
             route: tuple[str, ...], lane: str, speed: str, source: str, element: str,
             pos: str = "base") -> Trip:
        if vtype not in self.vtypes:
            raise InputError(f"unknown vehicle type '{vtype}'{suggest(vtype, self.vtypes)}",
                             source=source, element=element,
                             fix=f"use one of {', '.join(self.vtypes)} or add a [[vtypes]] table")
        self.link(origin, source, element)
        self.link(destination, source, element)
        if route:
            for r in route:
                self.link(r, source, element)
            if route[0] != origin or route[-1] != destination:
                raise InputError(f"route runs {route[0]} … {route[-1]} but the trip goes from "
                                 f"{origin} to {destination}", source=source, element=element,
                                 fix="start the route at the origin link and end it at the destination")
            for a, b in zip(route, route[1:], strict=False):
                if self.links[a].to_node != self.links[b].from_node:
                    raise InputError(f"route is not contiguous: link {a} ends at node "
                                     f"{self.links[a].to_node}, link {b} starts at node "
                                     f"{self.links[b].from_node}", source=source, element=element,
                                     fix="list every link of the route in driving order")
        if lane not in ("best", "first", "free"):
            if not lane.isdigit():
                raise InputError(f"depart_lane {lane!r} is not best, free, first or a lane index",
                                 source=source, element=element, fix="use best, free, first or 0, 1, ...")
            if int(lane) >= self.links[origin].lanes:
                raise InputError(f"depart_lane {lane} does not exist: link {origin} has "
                                 f"{self.links[origin].lanes} lane(s)", source=source, element=element,
                                 fix=f"use a lane index below {self.links[origin].lanes}")
        if speed != "max":
            try:
                v = float(speed)
            except ValueError:
                v = float("nan")
            if not math.isfinite(v) or v < 0:
                raise InputError(f"depart_speed {speed!r} is not max or a speed >= 0 in m/s",
                                 source=source, element=element, fix="use max or a number of m/s")
        if pos not in DEPART_POS_WORDS:
            try:
                x = float(pos)
            except ValueError:
                x = float("nan")
            if not math.isfinite(x) or x < 0 or x > self.links[origin].length:
                words = ", ".join(DEPART_POS_WORDS)
                raise InputError(f"depart_pos {pos!r} is not {words} or a position in m on link {origin} "
                                 f"(0 to {self.links[origin].length:g} m)", source=source,
                                 element=element, fix="use base, last, free, random, random_free or a number "
                                 "of m along the origin link")
            pos = repr(x)
        return Trip(tid, origin, destination, float(depart), vtype, route, lane, speed, pos)


# --------------------------------------------------------------------------------------------
# sources


def read_trip_table(path: Path, checker: TripChecker, files: list | None = None) -> list[Trip]:
    """Trips from a trip-table CSV (see the module docstring for the columns)."""
    name = str(path)
    _, rows = read_csv(path, name, TRIP_REQUIRED, TRIP_OPTIONAL, files)
    seen: dict[str, int] = {}
    trips = []
    for line, row in rows:
        tid = row["id"]
        if not tid:
            raise InputError("empty trip id", source=name, element=f"line {line}, column 'id'",
                             fix="give every trip an id")
        if tid in seen:
            raise InputError(f"duplicate trip id '{tid}' (first on line {seen[tid]})", source=name,
                             element=f"line {line}, column 'id'", fix="make trip ids unique")
        seen[tid] = line
        depart = float_cell(row, "depart", name, line)
        route = tuple(row.get("route", "").split())
        origin = row["origin"] or (route[0] if route else "")
        destination = row["destination"] or (route[-1] if route else "")
        for col, value in (("origin", origin), ("destination", destination)):
            if not value:
                raise InputError(f"empty {col}", source=name, element=f"line {line}, column '{col}'",
                                 fix=f"give the {col} link id (or a route)")
        trips.append(checker.trip(tid, origin, destination, depart, row.get("vtype") or "car", route,
                                  row.get("depart_lane") or "best", row.get("depart_speed") or "max",
                                  name, f"line {line} (trip '{tid}')", row.get("depart_pos") or "base"))
    return trips
