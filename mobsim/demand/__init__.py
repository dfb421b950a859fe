"""Demand: trips (:mod:`.trips`), vehicle types (:mod:`.vtypes`), trip tables, OD matrices and
flows (:mod:`.sources`, with :mod:`.trip_tables`, :mod:`.od` and the seeded streams of
:mod:`.streams`), the route service that every mode shares (:mod:`.routing`: shortest paths
on the link graph, reachability, routing when due) and routes packed for the kernels
(:mod:`.route_codes`).
"""

import importlib as _importlib
import warnings as _warnings
from typing import Any as _Any

#: The public names of the flat layout's ``mobsim.demand`` module, for one release: the module
#: each lives in now (``from mobsim.demand import load_demand`` still works, with a warning).
_MOVED = {
    **dict.fromkeys(("TRIP_REQUIRED", "TRIP_OPTIONAL", "TripChecker", "read_trip_table"), "trip_tables"),
    **dict.fromkeys(("OD_REQUIRED", "ZONE_REQUIRED", "ZONE_OPTIONAL", "ZONE_ROLES", "largest_remainder",
                     "read_od"), "od"),
    **dict.fromkeys(("stable_hash", "rng_for"), "streams"),
    **dict.fromkeys(("DEPARTURE_MODES", "FLOW_RATES", "DEMAND_INPUT_KEYS", "normalize_config",
                     "flow_departures", "read_flow", "load_demand", "write_trips"), "sources"),
}


def __getattr__(name: str) -> _Any:
    where = _MOVED.get(name)
    if where is None:
        raise AttributeError(f"module 'mobsim.demand' has no attribute {name!r}")
    _warnings.warn(f"mobsim.demand.{name} is now mobsim.demand.{where}.{name}; the old path goes in the next "
                   "release", DeprecationWarning, stacklevel=2)
    return getattr(_importlib.import_module(f"mobsim.demand.{where}"), name)
