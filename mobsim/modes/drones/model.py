"""The airspace as data (m, s, m/s, kg, W, Wh): drone types, vertiports, cruise layers, geofences,
flight requests and the :class:`Airspace` that holds them. Read from a scenario's ``[drones]``
tables by :mod:`mobsim.modes.drones.airspace`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DRONE_INPUT_KEYS = ("types", "vertiports", "layers", "geofences", "requests", "generate", "corridors")
MISSIONS = {"delivery": 1, "taxi": 1, "emergency": 2}
#: Most geofences per scenario (a drone keeps one bit per geofence).
MAX_GEOFENCES = 62


@dataclass
class DroneType:
    """Performance, separation and battery model of a drone type (SI units; turn rate in deg/s).

    Powers are those of the empty drone; a payload ``p`` (kg) scales them by ``((mass + p) /
    mass) ** 1.5`` (momentum theory: induced power grows with thrust to the power 1.5). Defaults
    are those of a ~5 kg delivery multicopter.
    """

    id: str = "quad"
    cruise_speed: float = 15.0  # m/s airspeed
    max_speed: float = 20.0  # m/s airspeed
    climb_rate: float = 3.0  # m/s
    descent_rate: float = 2.0  # m/s
    accel: float = 2.0  # m/s^2
    turn_rate: float = 90.0  # deg/s
    rpz: float = 50.0  # m, protected zone radius
    hpz: float = 15.0  # m, protected zone half height
    battery_wh: float = 500.0  # Wh usable
    mass: float = 5.0  # kg, empty
    max_payload: float = 2.5  # kg
    power_hover: float = 800.0  # W
    power_climb: float = 1000.0  # W
    power_cruise: float = 700.0  # W
    power_descent: float = 600.0  # W

    def row(self) -> list[float]:
        """The kernels' type-table row (:mod:`mobsim.kernels.air.layout` ``DT_*`` order)."""
        return [
            self.cruise_speed,
            self.max_speed,
            self.climb_rate,
            self.descent_rate,
            self.accel,
            math.radians(self.turn_rate),
            self.rpz,
            self.hpz,
            self.battery_wh,
            self.power_hover,
            self.power_climb,
            self.power_cruise,
            self.power_descent,
            self.mass,
        ]

    def power_factor(self, payload: float) -> float:
        """Power scale (1) of a payload (kg)."""
        return ((self.mass + payload) / self.mass) ** 1.5


@dataclass
class Vertiport:
    """A vertiport or depot: position (m), pads, turnaround (s) and the power (W) of its charging bay:
    a landed drone leaves the pad after the turnaround and recharges off the pad; its recharge time
    (energy used / power) is reported in ``/drones/flights``. Take-offs are at least
    ``departure_interval`` s apart (departure sequencing: drones leaving on the same route are in
    trail at cruise speed times that interval)."""

    id: str
    x: float
    y: float
    pads: int = 1
    turnaround: float = 60.0
    charge_power: float = 0.0
    departure_interval: float = 10.0


@dataclass
class Layer:
    """An altitude band (m). ``use = "cruise"``: flights whose track (deg clockwise from north) lies
    in ``[headings[0], headings[1])`` cruise at its middle; ``"climb"`` or ``"resolution"``: kept free
    for climbing and descending traffic and for vertical resolution manoeuvres (``mvp3d``), never
    assigned for cruise. Vertical resolutions stay within the lowest and highest band of all layers."""

    name: str
    bottom: float
    top: float
    use: str = "cruise"
    headings: tuple[float, float] = (0.0, 360.0)

    @property
    def altitude(self) -> float:
        return 0.5 * (self.bottom + self.top)

    def takes(self, track_deg: float) -> bool:
        a, b = self.headings
        h = track_deg % 360.0
        return (a <= h < b) if a <= b else (h >= a or h < b)


@dataclass
class Geofence:
    """A no-fly zone: polygon (m), altitude band ``[bottom, top)`` (m), time window ``[begin, end)`` (s).

    ``known = false`` makes it a pop-up geofence that flight planning does not know about (issued
    at short notice): planned routes may cross it, and drones that enter it are recorded as
    violations."""

    id: str
    polygon: np.ndarray
    bottom: float = 0.0
    top: float = 1e9
    begin: float = 0.0
    end: float = math.inf
    known: bool = True

    def active(self, t0: float, t1: float) -> bool:
        """Active at some time in ``[t0, t1]``."""
        return self.begin <= t1 and self.end > t0


@dataclass
class FlightRequest:
    """One flight: request time (s), origin vertiport, destination (a vertiport or a point, m),
    payload (kg), drone type, mission (delivery, taxi, emergency) and whether it flies back."""

    id: str
    depart: float
    origin: str
    dest_vp: str | None
    dest_x: float
    dest_y: float
    payload: float = 0.0
    dtype: str = "quad"
    mission: str = "delivery"
    returns: bool = True


@dataclass
class Airspace:
    """Everything about drones in a scenario (see the module docstring)."""

    types: list[DroneType]
    vertiports: list[Vertiport]
    layers: list[Layer]
    geofences: list[Geofence]
    requests: list[FlightRequest]
    corridor_xy: np.ndarray  # (n, 2) corridor node positions (m)
    corridor_edges: np.ndarray  # (m, 2) undirected edges (node indices)
    corridor_source: str = "roads"
    config: dict[str, Any] = field(default_factory=dict)

    def type_index(self) -> dict[str, int]:
        return {t.id: k for k, t in enumerate(self.types)}

    def vertiport_index(self) -> dict[str, int]:
        return {v.id: k for k, v in enumerate(self.vertiports)}


# --------------------------------------------------------------------------------------------
# parsing
