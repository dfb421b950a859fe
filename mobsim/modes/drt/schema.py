"""The on-demand tables in the result file (``/drt/...``): their columns with dtype, units and
meaning. Registered with the output schema (:func:`mobsim.output.schema.register_groups`) when the
package is imported. Every table is written once, at the end of the run.
"""

from __future__ import annotations

from mobsim.output.schema import _cols, register_groups

#: Request states in ``/drt/requests/status``.
R_FUTURE, R_OPEN, R_ASSIGNED, R_ONBOARD, R_DONE, R_REJECTED = 0, 1, 2, 3, 4, 5
#: Event kinds in ``/drt/events/kind``.
EV_PICKUP, EV_DROPOFF, EV_ASSIGN, EV_REJECT, EV_LOST = 0, 1, 2, 3, 4

DRT_REQUESTS = _cols(
    ("id", "str", "1", "request id"),
    ("time", "float64", "s", "when the request was made"),
    ("earliest", "float64", "s", "earliest pick-up"),
    ("origin", "str", "1", "link of the pick-up"),
    ("origin_pos", "float64", "m", "where the vehicle halts for the pick-up, from the link start"),
    ("destination", "str", "1", "link of the drop-off"),
    ("destination_pos", "float64", "m", "where the vehicle halts for the drop-off"),
    ("group", "int32", "1", "persons travelling together"),
    ("status", "int8", "1", "0 not yet made, 1 unassigned at the end, 2 assigned, 3 on board at the end, "
     "4 served, 5 rejected"),
    ("vehicle", "int32", "1", "row in /drt/vehicles of the vehicle assigned last; -1 if none"),
    ("assigned", "float64", "s", "when it was assigned; NaN if never"),
    ("pickup", "float64", "s", "when the vehicle halted at the pick-up; NaN if not picked up"),
    ("dropoff", "float64", "s", "when the persons had alighted: the vehicle's halt at the drop-off plus "
     "the drop-off time (SUMO's ride arrival); NaN if not dropped off"),
    ("direct", "float64", "s", "travel time of the direct route when the request was made (the "
     "dispatcher's link travel times)"),
    ("wait", "float64", "s", "pickup - earliest; NaN if not picked up"),
    ("ride", "float64", "s", "dropoff - pickup (both halts included); NaN if not served"),
    ("latest_pickup", "float64", "s", "the pick-up deadline of the dispatcher (inf: none)"),
    ("latest_dropoff", "float64", "s", "the dispatcher's deadline for the halt at the drop-off (inf: none)"),
    ("planned_pickup", "float64", "s", "the pick-up time the dispatcher planned when it assigned the "
     "request (its travel times); NaN if never assigned"),
    ("planned_dropoff", "float64", "s", "the drop-off time it planned then"),
)

DRT_VEHICLES = _cols(
    ("id", "str", "1", "vehicle id (fleet id . number)"),
    ("trip", "int32", "1", "row in /trips of the vehicle's road trip"),
    ("depot", "str", "1", "link it starts from"),
    ("capacity", "int32", "1", "seats"),
    ("start", "float64", "s", "start of its service hours"),
    ("end", "float64", "s", "end of its service hours (inf: none)"),
    ("distance", "float64", "m", "distance driven (to the last step it was on the road)"),
    ("occupied_distance", "float64", "m", "distance driven with at least one person on board"),
    ("person_distance", "float64", "m", "persons on board times distance (person-metres)"),
    ("pickups", "int32", "1", "requests picked up"),
    ("dropoffs", "int32", "1", "requests dropped off"),
)

DRT_EVENTS = _cols(
    ("time", "float64", "s", "when"),
    ("vehicle", "int32", "1", "row in /drt/vehicles; -1: none (a rejection)"),
    ("kind", "int8", "1", "0 pick-up, 1 drop-off, 2 assignment, 3 rejection, 4 vehicle left the network "
     "before the end of its service"),
    ("request", "int32", "1", "row in /drt/requests; -1: none"),
    ("link", "int32", "1", "row in /network/links where it happened (a rejection or an assignment: the "
     "request's pick-up link); -1: none"),
    ("load", "int32", "1", "persons on board after the event"),
)

DRT_SUMMARY = _cols(
    ("dispatch_calls", "int64", "1", "calls of the dispatcher"),
    ("dispatch_wall", "float64", "s", "wall time of the dispatch (travel-time trees, costs, assignment)"),
    ("missed_stops", "int64", "1", "stops a vehicle passed without halting there (it could not brake in "
     "time; it goes round the block and comes back)"),
)

#: On-demand tables: HDF5 path -> columns (present only in runs with ``[drt]``).
DRT_GROUPS = {
    "drt/requests": DRT_REQUESTS,
    "drt/vehicles": DRT_VEHICLES,
    "drt/events": DRT_EVENTS,
    "drt/dispatch": DRT_SUMMARY,
}

register_groups(DRT_GROUPS, {"drt/requests": 65536, "drt/events": 65536})
