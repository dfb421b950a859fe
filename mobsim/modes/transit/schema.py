"""The transit tables in the result file (``/transit/...``): their columns with dtype, units and
meaning. Registered with the output schema (:func:`mobsim.output.schema.register_groups`) when the
transit package is imported. Every table is written once, at the end of the run.
"""

from __future__ import annotations

from mobsim.output.schema import _cols, register_groups

TRANSIT_STOPS = _cols(
    ("id", "str", "1", "stop id"),
    ("link", "str", "1", "the link it is on"),
    ("pos", "float64", "m", "where the front of a vehicle halts, from the link start"),
    ("length", "float64", "m", "length of the stop area (ending at pos)"),
    ("bay", "int8", "1", "1: vehicles dwell in a bay beside the lane, 0: in the lane"),
)

TRANSIT_LINES = _cols(
    ("id", "str", "1", "line id"),
    ("loop", "int8", "1", "1: a loop (back to the first stop after the last), 0: one way"),
    ("vehicle", "str", "1", "transit vehicle type"),
    ("capacity", "int32", "1", "places per vehicle (seats + standing)"),
    ("stops", "int32", "1", "stops of one round (rows of /transit/line_stops)"),
    ("rounds", "int32", "1", "rounds per service"),
    ("services", "int32", "1", "departures (services) of the line"),
)

TRANSIT_LINE_STOPS = _cols(
    ("line", "int32", "1", "row in /transit/lines"),
    ("seq", "int32", "1", "position in the line's stop pattern (0 first)"),
    ("stop", "int32", "1", "row in /transit/stops"),
    ("distance", "float64", "m", "route distance from the line's first stop"),
)

TRANSIT_LINE_LINKS = _cols(
    ("line", "int32", "1", "row in /transit/lines"),
    ("link", "int32", "1", "row in /network/links: a link of the line's route, in driving order"),
)

TRANSIT_STOP_EVENTS = _cols(
    ("trip", "int32", "1", "the service's row in /trips (the road vehicle that runs it)"),
    ("line", "int32", "1", "row in /transit/lines"),
    ("service", "int32", "1", "the departure's number on its line (0 first)"),
    ("visit", "int32", "1", "the stop's number along the service (0 first; rounds follow each other)"),
    ("stop", "int32", "1", "row in /transit/stops"),
    ("scheduled", "float64", "s", "scheduled departure (first stop and time points); NaN elsewhere"),
    ("arrival", "float64", "s", "halt at the stop; NaN if the vehicle did not call there"),
    ("departure", "float64", "s", "departure from the stop; NaN if it did not call there or had not left"),
    ("boardings", "int32", "1", "passengers who boarded"),
    ("alightings", "int32", "1", "passengers who alighted"),
    ("load", "int32", "1", "passengers on board when it left"),
    ("distance", "float64", "m", "route distance of the stop from the service's first stop"),
)

TRANSIT_PASSENGERS = _cols(
    ("origin", "int32", "1", "row in /transit/stops: where the journey starts"),
    ("destination", "int32", "1", "row in /transit/stops: where it ends"),
    ("line", "int32", "1", "row in /transit/lines: the line of the first ride; -1 if not boarded"),
    ("arrival", "float64", "s", "arrival at the origin stop"),
    ("boarding", "float64", "s", "first boarding (the end of the step in which the passenger boarded); "
     "NaN if not"),
    ("departure", "float64", "s", "departure of the first vehicle from the origin stop (SUMO's end of "
     "waiting); NaN if not boarded or not left"),
    ("alighting", "float64", "s", "arrival at the destination (of the last ride); NaN if not reached"),
    ("trip", "int32", "1", "row in /trips of the first service boarded; -1 if none"),
    ("denied", "int32", "1", "full vehicles that left a stop while the passenger waited for them"),
    ("legs", "int32", "1", "rides the journey was planned with (transfers + 1)"),
    ("rides", "int32", "1", "rides boarded"),
)

TRANSIT_LEGS = _cols(
    ("passenger", "int32", "1", "row in /transit/passengers"),
    ("leg", "int32", "1", "the ride's number in the journey (0 first)"),
    ("origin", "int32", "1", "row in /transit/stops: where the ride starts"),
    ("destination", "int32", "1", "row in /transit/stops: where it ends"),
    ("line", "int32", "1", "row in /transit/lines: the line of the vehicle boarded; -1 if none"),
    ("arrival", "float64", "s", "arrival at the stop (a transfer: alighting there plus the transfer time); "
     "NaN if never"),
    ("boarding", "float64", "s", "boarding (the end of the step in which the passenger boarded); NaN if not"),
    ("departure", "float64", "s", "departure of the vehicle from the stop; NaN if not boarded or not left"),
    ("alighting", "float64", "s", "arrival of the vehicle at the ride's end; NaN if not reached"),
    ("trip", "int32", "1", "row in /trips of the service boarded; -1 if none"),
    ("denied", "int32", "1", "full vehicles that left the stop while the passenger waited for them"),
)

#: Transit tables: HDF5 path -> columns (present only in runs with transit lines).
TRANSIT_GROUPS = {
    "transit/stops": TRANSIT_STOPS,
    "transit/lines": TRANSIT_LINES,
    "transit/line_stops": TRANSIT_LINE_STOPS,
    "transit/line_links": TRANSIT_LINE_LINKS,
    "transit/stop_events": TRANSIT_STOP_EVENTS,
    "transit/passengers": TRANSIT_PASSENGERS,
    "transit/legs": TRANSIT_LEGS,
}

register_groups(TRANSIT_GROUPS, {"transit/passengers": 65536, "transit/legs": 65536})
