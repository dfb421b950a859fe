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
#: cf_model and sigma, the signal_switch event (a 1.0 file reads with those columns missing).
SCHEMA_VERSION = "1.1"


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
    ("cf_model", "str", "1", "car-following model (IDM, Krauss)"),
    ("sigma", "float64", "1", "Krauss driver imperfection (dawdling)"),
)

#: Drone flight status codes in ``/drones/flights/status``.
DRONE_STATUS = {0: "waiting", 1: "flying", 2: "done", 3: "refused", 4: "battery_depleted"}

#: Drone event kind codes in ``/drones/events/kind``.
DRONE_EVENT_KINDS = {
    0: "conflict",          # predicted loss of separation within the look-ahead time (start, end)
    1: "los",               # loss of separation: inside each other's protected zone (start, end)
    2: "geofence",          # a drone inside an active geofence (start, end; other = geofence row)
    3: "battery_depleted",  # the battery ran out in flight: emergency landing (value = Wh used)
}

DRONE_FLIGHTS = _cols(
    ("id", "str", "1", "flight id from the requests"),
    ("type", "int16", "1", "row in /drones/types"),
    ("mission", "str", "1", "delivery, taxi or emergency"),
    ("origin", "int32", "1", "row in /drones/vertiports"),
    ("dest_vertiport", "int32", "1", "row in /drones/vertiports, -1 for a destination point"),
    ("dest_x", "float64", "m", "destination x"),
    ("dest_y", "float64", "m", "destination y"),
    ("payload", "float64", "kg", "payload"),
    ("t_request", "float64", "s", "requested departure time"),
    ("t_takeoff", "float64", "s", "start of the climb from the pad; NaN if it never took off"),
    ("t_delivery", "float64", "s", "drop done at a point, or landed at the destination vertiport; "
     "NaN if not"),
    ("t_done", "float64", "s", "end of the flight (landed for good); NaN if not ended"),
    ("departure_delay", "float64", "s", "t_takeoff - t_request - turnaround: the wait for a pad"),
    ("status", "int8", "1", "0 waiting, 1 flying, 2 done, 3 refused, 4 battery depleted (DRONE_STATUS)"),
    ("refused", "str", "1", "why planning refused the flight: battery, no_route, geofence; empty if not"),
    ("energy", "float64", "Wh", "battery energy used"),
    ("energy_climb", "float64", "Wh", "energy used climbing"),
    ("energy_cruise", "float64", "Wh", "energy used in cruise"),
    ("energy_descent", "float64", "Wh", "energy used descending"),
    ("energy_hover", "float64", "Wh", "energy used hovering"),
    ("time_climb", "float64", "s", "time climbing"),
    ("time_cruise", "float64", "s", "time in cruise"),
    ("time_descent", "float64", "s", "time descending"),
    ("time_hover", "float64", "s", "time hovering"),
    ("distance", "float64", "m", "horizontal distance flown"),
    ("direct_distance", "float64", "m", "straight-line distance of the planned legs (origin to "
     "destination, and back)"),
    ("energy_planned", "float64", "Wh", "planning estimate of the energy (without reserve)"),
    ("min_separation", "float64", "m", "smallest 3-D distance to another drone in cruise at a detection"),
    ("recharge_time", "float64", "s", "time to recharge the energy used at the landing vertiport's "
     "charge_power (in its charging bay, off the pads); NaN without a charger or if not done"),
    ("battery_left", "float64", "1", "state of charge at the end: 1 - energy / battery_wh of the type"),
)

DRONE_EVENTS = _cols(
    ("kind", "int8", "1", "event kind code (DRONE_EVENT_KINDS)"),
    ("drone", "int32", "1", "row in /drones/flights (the lower row of a pair)"),
    ("other", "int32", "1", "the other drone's row, or the geofence row; -1 if none"),
    ("start", "float64", "s", "start time"),
    ("end", "float64", "s", "end time; NaN if still going at the end of the run"),
    ("value", "float64", "1", "minimum horizontal distance (m) for conflict and los; Wh used "
     "for battery_depleted"),
)

DRONE_SUMMARY = _cols(
    ("time", "float64", "s", "simulation time"),
    ("queued", "int64", "1", "flights waiting for a pad at their origin"),
    ("airborne", "int64", "1", "drones in the air"),
    ("done", "int64", "1", "flights ended so far"),
    ("conflicts", "int64", "1", "drones in conflict at the last detection"),
    ("los", "int64", "1", "pairs in loss of separation at the last detection"),
    ("energy", "float64", "Wh", "battery energy used so far by all flights"),
)

DRONE_PAD_QUEUE = _cols(
    ("time", "float64", "s", "simulation time"),
    ("vertiport", "int32", "1", "row in /drones/vertiports"),
    ("queue", "int32", "1", "flights waiting for a pad to take off"),
    ("holding", "int32", "1", "drones holding over the vertiport for a pad to land"),
)

DRONE_TRACKS = _cols(
    ("time", "float64", "s", "sample time"),
    ("drone", "int32", "1", "row in /drones/flights"),
    ("x", "float32", "m", "x"),
    ("y", "float32", "m", "y"),
    ("z", "float32", "m", "altitude above ground"),
    ("speed", "float32", "m/s", "horizontal ground speed"),
    ("phase", "int8", "1", "flight phase (3 climb, 4 cruise, 5 descent, 6 drop hover, 7 landing hold)"),
)

DRONE_VERTIPORTS = _cols(
    ("id", "str", "1", "vertiport id"),
    ("x", "float64", "m", "x"),
    ("y", "float64", "m", "y"),
    ("pads", "int32", "1", "number of pads"),
)

DRONE_TYPES = _cols(
    ("id", "str", "1", "drone type id"),
    ("cruise_speed", "float64", "m/s", "cruise airspeed"),
    ("rpz", "float64", "m", "protected zone radius"),
    ("hpz", "float64", "m", "protected zone half height"),
    ("battery_wh", "float64", "Wh", "usable battery energy"),
)

DRONE_GEOFENCES = _cols(
    ("id", "str", "1", "geofence id"),
    ("bottom", "float64", "m", "lower altitude of the band"),
    ("top", "float64", "m", "upper altitude of the band"),
    ("begin", "float64", "s", "start of the time window"),
    ("end", "float64", "s", "end of the time window (inf: none)"),
)

DRONE_GEOFENCE_VERTICES = _cols(
    ("geofence", "int32", "1", "row in /drones/geofences"),
    ("x", "float64", "m", "vertex x"),
    ("y", "float64", "m", "vertex y"),
)

#: Drone tables: HDF5 path -> columns (appended in batches; present only in runs with drones).
DRONE_GROUPS = {
    "drones/flights": DRONE_FLIGHTS,
    "drones/events": DRONE_EVENTS,
    "drones/summary": DRONE_SUMMARY,
    "drones/pad_queue": DRONE_PAD_QUEUE,
    "drones/tracks": DRONE_TRACKS,
    "drones/vertiports": DRONE_VERTIPORTS,
    "drones/types": DRONE_TYPES,
    "drones/geofences": DRONE_GEOFENCES,
    "drones/geofence_vertices": DRONE_GEOFENCE_VERTICES,
}

#: The static tables written once per run: HDF5 path -> columns.
STATIC = {
    "network/nodes": NODES,
    "network/links": LINKS,
    "network/lanes": LANES,
    "network/movements": MOVEMENTS,
    "vtypes": VTYPES,
}

GROUPS = {
    "trips": TRIPS,
    "summary": SUMMARY,
    "edgedata": EDGEDATA,
    "fcd": FCD,
    "events": EVENTS,
    **DRONE_GROUPS,
}


def columns(group: str) -> dict[str, Column]:
    """Columns of ``group`` by name."""
    return {c.name: c for c in GROUPS[group]}


#: Columns of ``/provenance/files`` (one row per input file).
PROVENANCE_FILES = (
    Column("path", "str", "1", "input file path as given by the scenario"),
    Column("sha256", "str", "1", "SHA-256 of the file contents, hex"),
)
