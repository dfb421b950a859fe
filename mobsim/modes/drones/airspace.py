"""The airspace of a scenario: drone types, vertiports, altitude layers, corridors, geofences and
flight requests, read from the ``[drones]`` section of a scenario file and validated on load.

Scenario file (every table optional except at least one vertiport when ``[drones]`` is given)::

    [drones]
    detection_interval = 1.0        # scalar settings: see 'mobsim settings' (drones.*)

    [[drones.types]]                # performance and battery model; defaults in DroneType
    id = "quad"

    [[drones.vertiports]]           # x, y in network metres, or node = "<network node id>"
    id = "depot"
    node = "n2_2"
    pads = 2
    turnaround = 60                 # s on the pad before take-off and after landing
    charge_power = 2000             # W of the charging bay (off the pads); 0 = no charger
    departure_interval = 10         # s between take-offs (departure sequencing)

    [[drones.layers]]               # cruise layers by track (degrees clockwise from north)
    name = "eastbound"
    bottom = 60
    top = 75
    headings = [0, 180]

    [[drones.geofences]]            # polygon in network metres, altitude band, time window
    id = "hospital"
    polygon = [[100, 100], [300, 100], [300, 300], [100, 300]]
    top = 150

    [drones.requests]               # a CSV of flights ...
    file = "flights.csv"

    [[drones.generate]]             # ... and/or a Poisson stream per depot
    depot = "depot"
    per_hour = 60

    [drones.corridors]              # explicit air corridors; default: above the road links
    nodes = "air_nodes.csv"         # id,x,y
    edges = "air_edges.csv"         # from,to
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mobsim.config_tables import table_error
from mobsim.modes.drones.geometry import points_in_polygon
from mobsim.modes.drones.model import (
    DRONE_INPUT_KEYS,
    MAX_GEOFENCES,
    MISSIONS,
    Airspace,
    DroneType,
    FlightRequest,
    Geofence,
    Layer,
    Vertiport,
)
from mobsim.modes.drones.requests import read_requests
from mobsim.modes.drones.tables import (
    read_corridors,
    read_geofences,
    read_layers,
    read_types,
    read_vertiports,
)

__all__ = ["DRONE_INPUT_KEYS", "MAX_GEOFENCES", "MISSIONS", "Airspace", "DroneType", "FlightRequest",
           "Geofence", "Layer", "Vertiport", "load_airspace"]

def load_airspace(
    cfg: dict, network: Any, settings: dict, base_dir: Path, source: str, files: list[Path]
) -> Airspace:
    """Build and validate the :class:`Airspace` of a scenario's ``[drones]`` input tables."""
    types = read_types(cfg, source)
    vps = read_vertiports(cfg, network, source)
    layers = read_layers(cfg, source)
    fences = read_geofences(cfg, source)
    for v in vps:
        for g in fences:
            if g.bottom <= 0.0 and points_in_polygon(np.array([[v.x, v.y]]), g.polygon)[0]:
                raise table_error(
                    f"vertiport '{v.id}' lies inside geofence '{g.id}'",
                    source,
                    f"vertiport '{v.id}'",
                    "move the vertiport or the geofence (drones take off there)",
                )
    xy, edges, csrc = read_corridors(cfg, network, base_dir, source, files)
    reqs = read_requests(cfg, vps, types, settings, base_dir, source, files)
    return Airspace(types, vps, layers, fences, reqs, xy, edges, csrc, config=dict(cfg))
