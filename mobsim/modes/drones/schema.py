"""The drones' tables in the result file (``/drones/...``): their columns with dtype, units and
meaning, and the codes of flight status and event kinds. Registered with the output schema
(:func:`mobsim.output.schema.register_groups`) when the drone package is imported.
"""

from __future__ import annotations

from mobsim.output.schema import _cols, register_groups

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

#: Rows per HDF5 chunk of the large drone tables (the others take the default).
DRONE_CHUNK_ROWS = {"drones/tracks": 16384}

register_groups(DRONE_GROUPS, DRONE_CHUNK_ROWS)
