"""The HDF5 result schema: one table of every dataset mobsim writes, with dtype, units and meaning.

This table is the contract between the engine (which produces columns), the recorder (which writes
them) and the results reader, KPIs and plots (which read them). A column the engine produces and the
table does not list is an error in the recorder, so the schema cannot drift silently.

Names follow SUMO's output families where SUMO has one (tripinfo, summary, edgeData, FCD), in
snake_case. Units are SI; ``"1"`` marks a dimensionless count or ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bump when a dataset is renamed, removed or changes meaning; readers check it. 1.1: /vtypes
#: cf_model and sigma, the signal_switch event (a 1.0 file reads with those columns missing); 1.2:
#: /vtypes ACC and CACC gains (a 1.1 file reads without them).
SCHEMA_VERSION = "1.2"


@dataclass(frozen=True)
class Column:
    """One dataset of a table group: name, numpy dtype string, units, description."""

    name: str
    dtype: str
    units: str
    description: str


def _cols(*rows: tuple[str, str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*r) for r in rows)


#: Trip status codes in ``/trips/status``.
TRIP_STATUS = {0: "waiting", 1: "running", 2: "arrived", 3: "removed"}

#: Event kind codes in ``/events/kind``.
EVENT_KINDS = {
    0: "collision",          # a position had to be clamped beyond emergency deceleration
    1: "teleport",           # gridlock policy moved a vehicle to its next link
    2: "removal",            # gridlock policy removed a vehicle
    3: "emergency_braking",  # deceleration beyond the vehicle type's comfortable decel, up to emergency
    4: "insertion_delay",    # a departure waited longer than the insertion-delay threshold
    5: "junction_blocked",   # a vehicle lost the arbitration for a downstream lane at the stop line
    6: "signal_switch",      # an actuated signal changed phase (link: into its node; value: new phase)
}

TRIPS = _cols(
    ("id", "str", "1", "trip id from the demand"),
    ("vtype", "int16", "1", "index into /vtypes"),
    ("origin", "int32", "1", "index of the first link of the route in /network/links"),
    ("destination", "int32", "1", "index of the last link of the route in /network/links"),
    ("depart_planned", "float64", "s", "planned departure time"),
    ("depart", "float64", "s", "insertion time; NaN if never inserted"),
    ("arrival", "float64", "s", "arrival time; NaN if not arrived"),
    ("duration", "float64", "s", "arrival - depart (tripinfo duration); NaN if not arrived"),
    ("route_length", "float64", "m", "distance driven (tripinfo routeLength)"),
    ("waiting_time", "float64", "s", "time spent at speed below 0.1 m/s (tripinfo waitingTime)"),
    ("stops", "int32", "1", "number of times the speed fell below 0.1 m/s (tripinfo waitingCount)"),
    ("time_loss", "float64", "s", "time lost against driving at desired speed (tripinfo timeLoss)"),
    ("insertion_delay", "float64", "s", "depart - depart_planned (tripinfo departDelay)"),
    ("teleports", "int32", "1", "gridlock teleports of this vehicle"),
    ("status", "int8", "1", "0 waiting, 1 running, 2 arrived, 3 removed (TRIP_STATUS)"),
)

SUMMARY = _cols(
    ("time", "float64", "s", "simulation time at the end of the step"),
    ("loaded", "int64", "1", "trips loaded so far (planned departure <= time)"),
    ("inserted", "int64", "1", "vehicles inserted so far"),
    ("running", "int64", "1", "vehicles on the network"),
    ("waiting", "int64", "1", "loaded vehicles waiting for insertion"),
    ("arrived", "int64", "1", "vehicles arrived so far"),
    ("removed", "int64", "1", "vehicles removed by the gridlock policy so far"),
    ("halting", "int64", "1", "running vehicles with speed below 0.1 m/s"),
    ("mean_speed", "float64", "m/s", "mean speed of running vehicles (NaN when none)"),
    ("collisions", "int64", "1", "collision events so far"),
    ("teleports", "int64", "1", "teleports so far"),
    ("wall_time", "float64", "s", "wall-clock seconds since the step loop started"),
)

EDGEDATA = _cols(
    ("sampled_seconds", "float64", "s", "vehicle-seconds spent on the link (SUMO sampledSeconds)"),
    ("distance", "float64", "m", "vehicle-metres driven on the link"),
    ("entered", "int32", "1", "vehicles that entered the link (by junction or insertion)"),
    ("left", "int32", "1", "vehicles that left the link (by junction or arrival)"),
    ("speed", "float64", "m/s", "space-mean speed = distance / sampled_seconds (NaN when empty)"),
    ("density", "float64", "veh/km", "mean vehicles per km of link (all lanes)"),
    ("flow", "float64", "veh/h", "left / interval length"),
    ("occupancy", "float64", "1", "share of lane length covered by vehicles, time-averaged"),
    ("waiting_time", "float64", "s", "vehicle-seconds at speed below 0.1 m/s"),
    ("time_loss", "float64", "s", "vehicle-seconds lost against driving at desired speed on the link"),
    ("queue", "float64", "1", "mean number of halting vehicles (speed below 0.1 m/s)"),
    ("max_queue", "int32", "1", "maximum number of halting vehicles at any step"),
    ("traveltime", "float64", "s", "length / speed (free-flow time when empty)"),
)

EDGEDATA_INDEX = _cols(
    ("begin", "float64", "s", "interval start"),
    ("end", "float64", "s", "interval end"),
)

FCD = _cols(
    ("vehicle", "int32", "1", "trip row in /trips"),
    ("link", "int32", "1", "link index"),
    ("lane", "int8", "1", "lane index on the link, 0 = rightmost"),
    ("pos", "float32", "m", "position of the front bumper from the lane start"),
    ("speed", "float32", "m/s", "speed"),
    ("accel", "float32", "m/s^2", "acceleration applied in the step"),
    ("x", "float32", "m", "network x coordinate of the front bumper"),
    ("y", "float32", "m", "network y coordinate of the front bumper"),
)

FCD_INDEX = _cols(
    ("time", "float64", "s", "sample time"),
    ("offset", "int64", "1", "first /fcd row of the sample (it ends before the next offset)"),
)

EVENTS = _cols(
    ("time", "float64", "s", "time of the event"),
    ("kind", "int8", "1", "event kind code (EVENT_KINDS)"),
    ("vehicle", "int32", "1", "trip row in /trips (-1 if none)"),
    ("link", "int32", "1", "link index (-1 if none)"),
    ("value", "float64", "1", "kind-specific value: deceleration (m/s^2), delay (s) or phase index"),
)

NODES = _cols(
    ("id", "str", "1", "node id"),
    ("x", "float64", "m", "x coordinate"),
    ("y", "float64", "m", "y coordinate"),
    ("control", "str", "1", "signal, priority or none"),
)

LINKS = _cols(
    ("id", "str", "1", "link id (SUMO edge id)"),
    ("from_node", "int32", "1", "index of the from-node in /network/nodes"),
    ("to_node", "int32", "1", "index of the to-node in /network/nodes"),
    ("length", "float64", "m", "length"),
    ("speed", "float64", "m/s", "speed limit"),
    ("lanes", "int32", "1", "number of lanes"),
    ("priority", "int32", "1", "road priority at priority junctions"),
    ("first_lane", "int32", "1", "row of lane 0 of this link in /network/lanes"),
)

LANES = _cols(
    ("link", "int32", "1", "link index"),
    ("index", "int32", "1", "lane index on the link, 0 = rightmost"),
    ("length", "float64", "m", "length"),
    ("speed", "float64", "m/s", "speed limit"),
)

MOVEMENTS = _cols(
    ("node", "int32", "1", "node index"),
    ("from_lane", "int32", "1", "row in /network/lanes"),
    ("to_lane", "int32", "1", "row in /network/lanes"),
    ("kind", "int8", "1", "0 major, 1 minor (yield), 2 stop"),
    ("signal_index", "int32", "1", "state index in the node's signal program, -1 if none"),
)

VTYPES = _cols(
    ("id", "str", "1", "vehicle type id"),
    ("length", "float64", "m", "vehicle length"),
    ("min_gap", "float64", "m", "IDM jam distance s0"),
    ("tau", "float64", "s", "IDM desired time headway T"),
    ("accel", "float64", "m/s^2", "IDM maximum acceleration a"),
    ("decel", "float64", "m/s^2", "IDM comfortable deceleration b"),
    ("emergency_decel", "float64", "m/s^2", "maximum possible deceleration"),
    ("max_speed", "float64", "m/s", "top speed"),
    ("speed_factor", "float64", "1", "desired speed / speed limit"),
    ("speed_dev", "float64", "1", "standard deviation of the per-vehicle speed factor"),
    ("delta", "float64", "1", "IDM exponent"),
    ("politeness", "float64", "1", "MOBIL politeness"),
    ("lc_threshold", "float64", "m/s^2", "MOBIL gain threshold"),
    ("lc_safe_decel", "float64", "m/s^2", "MOBIL safe deceleration"),
    ("cf_model", "str", "1", "car-following model (IDM, Krauss, ACC)"),
    ("sigma", "float64", "1", "Krauss driver imperfection (dawdling)"),
    ("sc_gain", "float64", "1/s", "ACC speed control gain"),
    ("gcc_gain_speed", "float64", "1/s", "ACC gap-closing gain on the speed difference"),
    ("gcc_gain_space", "float64", "1/s^2", "ACC gap-closing gain on the spacing error"),
    ("gc_gain_speed", "float64", "1/s", "ACC gap control gain on the speed difference"),
    ("gc_gain_space", "float64", "1/s^2", "ACC gap control gain on the spacing error"),
    ("ca_gain_speed", "float64", "1/s", "ACC collision avoidance gain on the speed difference"),
    ("ca_gain_space", "float64", "1/s^2", "ACC collision avoidance gain on the spacing error"),
    ("ca_override", "float64", "m/s", "ACC: margin over the safe speed before the safe speed overrides"),
    ("sc_gain_cacc", "float64", "1/s", "CACC speed control gain"),
    ("gcc_gain_gap", "float64", "1", "CACC gap-closing gain on the spacing error (per 0.1 s step)"),
    ("gcc_gain_gap_dot", "float64", "1", "CACC gap-closing gain on the spacing error's rate"),
    ("gc_gain_gap", "float64", "1", "CACC gap control gain on the spacing error"),
    ("gc_gain_gap_dot", "float64", "1", "CACC gap control gain on the spacing error's rate"),
    ("ca_gain_gap", "float64", "1", "CACC collision avoidance gain on the spacing error"),
    ("ca_gain_gap_dot", "float64", "1", "CACC collision avoidance gain on the spacing error's rate"),
    ("tau_cacc_to_acc", "float64", "s", "CACC: the ACC time gap behind a leader that is not CACC"),
    ("sc_min_gap", "float64", "m", "CACC: spacing error above which speed control may take over"),
)

#: The static tables written once per run: HDF5 path -> columns.
STATIC = {
    "network/nodes": NODES,
    "network/links": LINKS,
    "network/lanes": LANES,
    "network/movements": MOVEMENTS,
    "vtypes": VTYPES,
}

#: Every table group a run may write: HDF5 path -> columns. The road's tables are listed here; each
#: mode adds its own with :func:`register_groups` when its package is imported.
GROUPS: dict[str, tuple[Column, ...]] = {
    "trips": TRIPS,
    "summary": SUMMARY,
    "edgedata": EDGEDATA,
    "fcd": FCD,
    "events": EVENTS,
}
#: The tables registered by modes (a subset of :data:`GROUPS`), written row by row with
#: ``HDF5Recorder.append``; and the rows per HDF5 chunk of those that are not the default.
MODE_GROUPS: dict[str, tuple[Column, ...]] = {}
MODE_CHUNK_ROWS: dict[str, int] = {}


def register_groups(groups: dict[str, tuple[Column, ...]], chunk_rows: dict[str, int] | None = None) -> None:
    """Add a mode's tables (HDF5 path -> columns; ``chunk_rows``: rows per chunk of the large ones)
    to the schema, so that the recorder writes them and the results reader knows their units. A
    path already held by another table, or a column named ``row`` (the tables' dimension), is an
    error in the mode."""
    for path, cols in groups.items():
        if path in GROUPS and GROUPS[path] != cols or path in STATIC:
            raise ValueError(f"schema: /{path} is already a table with other columns")
        if any(c.name == "row" for c in cols):
            raise ValueError(f"schema: /{path} has a column named like its dimension ('row')")
    GROUPS.update(groups)
    MODE_GROUPS.update(groups)
    MODE_CHUNK_ROWS.update(chunk_rows or {})


def columns(group: str) -> dict[str, Column]:
    """Columns of ``group`` by name."""
    return {c.name: c for c in GROUPS[group]}


#: Columns of ``/provenance/files`` (one row per input file).
PROVENANCE_FILES = (
    Column("path", "str", "1", "input file path as given by the scenario"),
    Column("sha256", "str", "1", "SHA-256 of the file contents, hex"),
)
