"""Vehicle types: the behaviour parameters of car following (IDM, Krauss or ACC, per type) and
MOBIL lane changing.

Parameter names follow SUMO's vType attributes where SUMO has one (``accel``, ``decel``,
``emergency_decel``, ``tau``, ``min_gap``, ``length``, ``max_speed``, ``speed_factor``,
``speed_dev``, IDM ``delta``, Krauss ``sigma``, ACC's gains; ``cf_model`` is SUMO's
``carFollowModel``). Units: m, s, m/s, m/s².
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from mobsim.errors import InputError

#: Car-following models, in the order of their codes in the kernels (``kernels.runtime.layout.CF_*``).
CF_MODELS = ("IDM", "Krauss", "ACC", "CACC")

#: The step (s) SUMO's ACC and CACC controller gains are made for: a longer step makes its control loop
#: coarser than the model assumes (a warning, as SUMO's documentation gives 0.1 s).
ACC_MAX_DT = 0.1


@dataclass(frozen=True)
class VehicleType:
    """Behaviour parameters of one vehicle type.

    Attributes
    ----------
    id: type id.
    length: vehicle length, m.
    min_gap: IDM jam distance s0 (bumper to bumper at standstill), m.
    tau: IDM desired time headway T, s.
    accel: IDM maximum acceleration a, m/s².
    decel: IDM comfortable deceleration b, m/s².
    emergency_decel: the hardest physically possible braking, m/s² (caps every deceleration).
    max_speed: the vehicle's top speed, m/s.
    speed_factor: desired speed = speed_factor × speed limit (capped by max_speed).
    speed_dev: standard deviation of the per-vehicle speed factor, relative to ``speed_factor``
        (0 = identical drivers); each driver's factor is drawn from that normal distribution and
        kept within SUMO's default bounds [0.2, 2].
    delta: IDM acceleration exponent.
    politeness: MOBIL politeness p (0 = egoistic, 1 = altruistic).
    lc_threshold: MOBIL acceleration gain threshold for a discretionary lane change, m/s².
    lc_safe_decel: MOBIL safety criterion: the most a lane change may force the new follower to brake, m/s².
    cf_model: car-following model, one of :data:`CF_MODELS`: ``"IDM"`` (mobsim's default) or
        ``"Krauss"`` (SUMO's default: the safe speed of Krauss 1998 with ``sigma`` dawdling).
    sigma: Krauss driver imperfection in [0, 1] (SUMO's ``sigma``): each step a driver may lose up
        to ``sigma · accel · dt`` of speed, drawn from the counter-based RNG. Ignored by IDM and ACC.
    sc_gain ... ca_override: the gains of ``cf_model = "ACC"`` (SUMO's ``MSCFModel_ACC``, after
        Milanés & Shladover 2014 and Xiao et al. 2017; SUMO's attribute names and defaults; see
        :mod:`mobsim.kernels.physics.acc`): ``sc_gain`` speed control (1/s, ``speedControlGain``),
        ``gcc_gain_speed``/``gcc_gain_space`` gap closing (1/s, 1/s², ``gapClosingControlGain*``),
        ``gc_gain_speed``/``gc_gain_space`` gap control (``gapControlGain*``),
        ``ca_gain_speed``/``ca_gain_space`` collision avoidance (``collisionAvoidanceGain*``),
        ``ca_override`` (m/s, ``collisionAvoidanceOverride``): how far the controller's speed may
        exceed the safe speed behind the leader before the safe speed takes over. ``tau`` is the
        controller's desired time gap (s).
    sc_gain_cacc ... sc_min_gap: the gains of ``cf_model = "CACC"`` (SUMO's ``MSCFModel_CACC``,
        :mod:`mobsim.kernels.physics.acc`; SUMO's attribute names in brackets): speed control
        (1/s, ``speedControlGainCACC``), and on the spacing error and its rate per 0.1 s step:
        gap closing ``gcc_gain_gap``/``gcc_gain_gap_dot`` (``gapClosingControlGainGap[Dot]``), gap
        control ``gc_gain_gap``/``gc_gain_gap_dot``, collision avoidance
        ``ca_gain_gap``/``ca_gain_gap_dot``; ``tau_cacc_to_acc`` (s, ``tauCACCToACC``): the time
        gap of the ACC law it falls back to behind a leader that is not CACC (with the ACC gains
        above); ``sc_min_gap`` (m, ``speedControlMinGap``): the spacing error above which speed
        control may take over. ``tau`` is the CACC time gap (s).
    """

    id: str = "car"
    length: float = 5.0
    min_gap: float = 2.5
    tau: float = 1.0
    accel: float = 2.6
    decel: float = 4.5
    emergency_decel: float = 9.0
    max_speed: float = 55.55
    speed_factor: float = 1.0
    speed_dev: float = 0.0
    delta: float = 4.0
    politeness: float = 0.2
    lc_threshold: float = 0.2
    lc_safe_decel: float = 4.0
    cf_model: str = "IDM"
    sigma: float = 0.0
    sc_gain: float = -0.4
    gcc_gain_speed: float = 0.8
    gcc_gain_space: float = 0.04
    gc_gain_speed: float = 0.07
    gc_gain_space: float = 0.23
    ca_gain_speed: float = 0.23
    ca_gain_space: float = 0.8
    ca_override: float = 2.0
    sc_gain_cacc: float = -0.4
    gcc_gain_gap: float = 0.005
    gcc_gain_gap_dot: float = 0.05
    gc_gain_gap: float = 0.45
    gc_gain_gap_dot: float = 0.0125
    ca_gain_gap: float = 0.45
    ca_gain_gap_dot: float = 0.05
    tau_cacc_to_acc: float = 1.0
    sc_min_gap: float = 1.66

    def validate(self, dt: float, source: str = "scenario") -> None:
        """Raise :class:`InputError` for out-of-range values or ones unsafe with step ``dt`` (s)."""
        el = f"vtype '{self.id}'"
        if self.cf_model not in CF_MODELS:
            raise InputError(f"cf_model={self.cf_model!r} is not a car-following model mobsim has",
                             source=source, element=el, fix=f"use one of {', '.join(CF_MODELS)}")
        for f in fields(self):
            if f.name in ("id", "cf_model"):
                continue
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise InputError(f"{f.name} must be a finite number, got {v!r}", source=source,
                                 element=el, fix=f"give {f.name} as a number")
        positive = ("length", "tau", "accel", "decel", "emergency_decel", "max_speed",
                    "speed_factor", "delta", "lc_safe_decel")
        for name in positive:
            if getattr(self, name) <= 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)}", source=source,
                                 element=el, fix=f"set {name} to a positive value")
        for name in ("min_gap", "speed_dev", "lc_threshold"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)}", source=source,
                                 element=el, fix=f"set {name} to zero or more")
        if not 0.0 <= self.politeness <= 1.0:
            raise InputError(f"politeness must be in [0, 1], got {self.politeness}", source=source,
                             element=el, fix="set politeness between 0 and 1")
        if self.tau < dt:
            raise InputError(
                f"time headway tau={self.tau} s is below the step dt={dt} s: a vehicle could not react "
                "within its own headway", source=source, element=el,
                fix=f"raise tau to at least {dt} s or lower sim.dt")
        if self.decel > self.emergency_decel:
            raise InputError(
                f"decel={self.decel} m/s² exceeds emergency_decel={self.emergency_decel} m/s²",
                source=source, element=el, fix="make emergency_decel >= decel")
        if self.lc_safe_decel > self.emergency_decel:
            raise InputError(
                f"lc_safe_decel={self.lc_safe_decel} m/s² exceeds "
                f"emergency_decel={self.emergency_decel} m/s²",
                source=source, element=el, fix="make lc_safe_decel <= emergency_decel")
        if not 0.0 <= self.sigma <= 1.0:
            raise InputError(f"sigma must be in [0, 1], got {self.sigma}", source=source, element=el,
                             fix="set sigma between 0 (perfect driver) and 1 (SUMO's default is 0.5)")
        if self.sc_gain > 0.0:
            raise InputError(f"sc_gain={self.sc_gain} 1/s would accelerate away from the desired speed",
                             source=source, element=el, fix="use a negative speed control gain (SUMO: -0.4)")
        if self.sc_gain_cacc > 0.0:
            raise InputError(f"sc_gain_cacc={self.sc_gain_cacc} 1/s would accelerate away from the desired "
                             "speed",
                             source=source, element=el, fix="use a negative speed control gain (SUMO: -0.4)")
        if self.tau_cacc_to_acc <= 0.0:
            raise InputError(f"tau_cacc_to_acc must be > 0, got {self.tau_cacc_to_acc}", source=source,
                             element=el, fix="set the ACC fallback's time gap in s (SUMO: 1.0)")
        if self.ca_override < 0.0:
            raise InputError(f"ca_override must be >= 0, got {self.ca_override}", source=source, element=el,
                             fix="set ca_override to zero or more (SUMO: 2.0 m/s)")
        if self.speed_dev >= 0.5:
            raise InputError(f"speed_dev={self.speed_dev} is implausibly large", source=source,
                             element=el, fix="use a standard deviation below 0.5 (SUMO default 0.1)")

    @classmethod
    def from_dict(cls, d: dict, source: str = "scenario") -> VehicleType:
        """Build from a mapping, rejecting unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown vehicle-type key(s) {unknown}", source=source,
                             element=f"vtype '{d.get('id', '?')}'",
                             fix=f"use only: {', '.join(sorted(known))}")
        return cls(**d)

    def as_dict(self) -> dict:
        return asdict(self)


#: Parameter columns of the compiled vehicle-type table, in order (all float64); ``cf_model`` is
#: stored as its index in :data:`CF_MODELS`.
VTYPE_PARAMS = ("length", "min_gap", "tau", "accel", "decel", "emergency_decel", "max_speed",
                "speed_factor", "speed_dev", "delta", "politeness", "lc_threshold", "lc_safe_decel",
                "cf_model", "sigma", "sc_gain", "gcc_gain_speed", "gcc_gain_space", "gc_gain_speed",
                "gc_gain_space", "ca_gain_speed", "ca_gain_space", "ca_override", "sc_gain_cacc",
                "gcc_gain_gap", "gcc_gain_gap_dot", "gc_gain_gap", "gc_gain_gap_dot", "ca_gain_gap",
                "ca_gain_gap_dot", "tau_cacc_to_acc", "sc_min_gap")


def vtype_table(vtypes: list[VehicleType]) -> np.ndarray:
    """Pack vehicle types into a ``(n_types, len(VTYPE_PARAMS))`` float64 array for the kernels."""
    def value(v: VehicleType, p: str) -> float:
        return float(CF_MODELS.index(v.cf_model)) if p == "cf_model" else getattr(v, p)

    return np.array([[value(v, p) for p in VTYPE_PARAMS] for v in vtypes], dtype=np.float64)
