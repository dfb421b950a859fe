"""The CSV layer of network folders (:mod:`mobsim.net.netio`): the files and their columns
(required, optional, ignored), rows with typed cell access, and errors that name the file, the line
and the column."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from mobsim.errors import InputError

NODE_FILE, LINK_FILE, MOVEMENT_FILE, SIGNAL_FILE = "node.csv", "link.csv", "movement.csv", "signal.csv"


@dataclass(frozen=True)
class Spec:
    """The columns of one file."""

    file: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    hints: dict[str, str] = field(default_factory=dict)

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


NODE_SPEC = Spec(
    NODE_FILE, ("node_id", "x_coord", "y_coord"), ("control",),
    ignored=("name", "z_coord", "node_type", "zone_id", "parent_node_id", "osm_node_id", "notes"),
    hints={"ctrl_type": "rename it to 'control' with values signal, priority or none"},
)
LINK_SPEC = Spec(
    LINK_FILE, ("link_id", "from_node_id", "to_node_id", "length", "lanes"),
    ("free_speed", "free_speed_kmh", "priority", "geometry"),
    ignored=("name", "facility_type", "link_type", "capacity", "grade", "toll", "jurisdiction",
             "row_width", "notes", "allowed_uses", "bike_facility", "ped_facility", "parking",
             "parent_link_id", "geometry_id", "osm_way_id"),
    hints={"directed": "remove it: mobsim links are one-way; write one row per direction",
           "dir_flag": "remove it: mobsim links are one-way; write one row per direction"},
)
MOVEMENT_SPEC = Spec(
    MOVEMENT_FILE, ("node_id", "ib_link_id", "ib_lane", "ob_link_id", "ob_lane"),
    ("kind", "signal_index", "turn", "length", "speed", "wait", "yields_to", "waits_for", "keep_clear"),
    ignored=("mvmt_id", "name", "mvmt_code", "penalty", "capacity", "notes", "geometry"),
    hints={**{c: "write one row per lane pair with ib_lane and ob_lane (0 = rightmost lane)"
              for c in ("start_ib_lane", "end_ib_lane", "start_ob_lane", "end_ob_lane")},
           "type": "rename it to 'turn' with values s, l, r or t",
           "ctrl_type": "rename it to 'kind' with values major, minor, stop or zipper"},
)
#: Program-level columns of signal.csv beside ``offset``: the same on every row of a program.
PROGRAM_COLUMNS = (("max_gap", 3.0), ("detector_gap", 2.0), ("passing_time", 1.9), ("detector_range", 100.0),
                   ("min_time_loss", 1.0))
SIGNAL_SPEC = Spec(SIGNAL_FILE, ("node_id", "duration", "state"),
                    ("program_id", "offset", "phase", "type", "min_dur", "max_dur", "next",
                     *(c for c, _ in PROGRAM_COLUMNS), "extend_max_dur"),
                    ignored=("notes",))

#: Standard GMNS columns that are accepted and ignored, per file.
IGNORED_COLUMNS = {s.file: s.ignored for s in (NODE_SPEC, LINK_SPEC, MOVEMENT_SPEC, SIGNAL_SPEC)}


# --------------------------------------------------------------------------------------------
# reading rows


@dataclass
class Row:
    """One data row of a CSV file, with helpers that raise row-and-column errors."""

    path: Path
    line: int
    values: dict[str, str]

    def err(self, col: str | None, what: str, fix: str) -> InputError:
        where = f"row {self.line}" + (f", column '{col}'" if col else "")
        return InputError(what, source=str(self.path), element=where, fix=fix)

    def has(self, col: str) -> bool:
        """True if the column is present and the value not empty."""
        return bool(self.values.get(col, ""))

    def text(self, col: str, default: str | None = None) -> str:
        value = self.values.get(col, "")
        if value:
            return value
        if default is not None:
            return default
        raise self.err(col, "value is missing", f"fill in {col}")

    def number(self, col: str, *, positive: bool = False, default: float | None = None) -> float:
        if not self.has(col) and default is not None:
            return default
        raw = self.text(col)
        try:
            x = float(raw)
        except ValueError:
            raise self.err(col, f"'{raw}' is not a number", f"write {col} as a number, e.g. 12.5") from None
        if not math.isfinite(x):
            raise self.err(col, f"'{raw}' is not a finite number", f"write {col} as a finite number")
        if positive and x <= 0:
            raise self.err(col, f"{col} is {raw}, it must be > 0", f"give a positive {col}")
        return x

    def integer(self, col: str, *, minimum: int | None = None, default: int | None = None) -> int:
        if not self.has(col) and default is not None:
            return default
        raw = self.text(col)
        try:
            x = float(raw)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and x == int(x)):
            raise self.err(col, f"'{raw}' is not an integer", f"write {col} as a whole number, e.g. 2")
        if minimum is not None and x < minimum:
            raise self.err(col, f"{col} is {raw}, it must be >= {minimum}", f"give {col} >= {minimum}")
        return int(x)


def file_error(path: Path, what: str, fix: str, element: str | None = None) -> InputError:
    return InputError(what, source=str(path), element=element, fix=fix)


def check_header(path: Path, header: list[str], spec: Spec) -> None:
    def err(what: str, fix: str) -> InputError:
        return file_error(path, what, fix, element="row 1 (header)")

    for col in header:
        if header.count(col) > 1:
            raise err(f"column '{col}' appears {header.count(col)} times", "keep one column of each name")
        if col in spec.known or col in spec.ignored:
            continue
        if col in spec.hints:
            raise err(f"column '{col}' is not supported", spec.hints[col])
        raise err(f"unknown column '{col}'",
                  f"remove or rename it; allowed columns: {', '.join(spec.known + spec.ignored)}")
    for col in spec.required:
        if col not in header:
            raise err(f"required column '{col}' is missing",
                      f"add a column '{col}' (required: {', '.join(spec.required)})")


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise file_error(path, f"is not UTF-8 text ({e.reason} at byte {e.start})",
                          "save the file as UTF-8 CSV") from None
    except OSError as e:
        raise file_error(path, f"cannot be read: {e.strerror}", "check the path and permissions") from None


def blank(record: list[str]) -> bool:
    return all(not c.strip() for c in record)


def read_table(folder: Path, spec: Spec, required: bool) -> list[Row] | None:
    """Rows of ``folder/spec.file``; ``None`` if an optional file is absent."""
    path = folder / spec.file
    if not path.is_file():
        if not required:
            return None
        raise file_error(path, "file is missing",
                          f"create {spec.file} with the columns {', '.join(spec.required)}")
    reader = csv.reader(io.StringIO(read_text(path)), strict=True)
    header: list[str] | None = None
    rows: list[Row] = []
    try:
        for record in reader:
            if blank(record):
                continue
            if header is None:
                header = [c.strip() for c in record]
                check_header(path, header, spec)
                continue
            if len(record) != len(header):
                missing = len(record) < len(header)
                raise file_error(
                    path, f"row has {len(record)} values but the header has {len(header)} columns"
                    + ("; the file may be truncated" if missing else ""),
                    "complete the row or delete it" if missing
                    else "remove the extra values, or quote values that contain commas",
                    element=f"row {reader.line_num}")
            values = {h: c.strip() for h, c in zip(header, record, strict=True)}
            rows.append(Row(path, reader.line_num, values))
    except csv.Error as e:
        raise file_error(path, f"is not valid CSV ({e}); the file may be truncated",
                          "close the open quote or repair the row",
                          element=f"row {reader.line_num}") from None
    if header is None:
        raise file_error(path, "file is empty (no header row)",
                          f"write the header {','.join(spec.required)} and one row per element")
    return rows


# --------------------------------------------------------------------------------------------
# elements


def unique(row: Row, col: str, ident: str, seen: dict[str, int], kind: str) -> None:
    if ident in seen:
        raise row.err(col, f"{kind} id '{ident}' is already used on row {seen[ident]}",
                      f"give each {kind} a unique id")
    seen[ident] = row.line
